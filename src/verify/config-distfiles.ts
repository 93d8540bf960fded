// The distfiles of a dist-kernel version that decide its .config: placeholder, filled in below.
import type { Cpv } from '../portage/atom.js';
import type { Roots } from '../portage/roots.js';
import type { ConfigJob } from './config.js';
import type { KconfigArch } from './kconfig-tree.js';

export type ConfigDistfiles =
  | { found: true; job: Pick<ConfigJob, 'tarball' | 'prepatches' | 'base' | 'ebuildFragments'> }
  | { found: false; reason: string; hint: string };

export async function configDistfiles(
  _roots: Roots,
  _env: NodeJS.ProcessEnv,
  _cpv: Cpv,
  _arch: KconfigArch,
): Promise<ConfigDistfiles> {
  return {
    found: false,
    reason: "verify --config does not read a version's distfiles yet",
    hint: 'name the tarball: verify --config --tarball linux-X.Y.tar.xz [--base-config FILE]',
  };
}
