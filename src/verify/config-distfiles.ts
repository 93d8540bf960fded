// The distfiles that decide a dist-kernel's .config before the user's fragments, found without running
// the ebuild (gentoo repository: kernel-build.eclass, sys-kernel/gentoo-kernel and vanilla-kernel
// 6.1 and 6.12 ebuilds): the kernel tarball and what is applied to it (distfiles.ts), Fedora's config
// for the arch as the base (`kernel-<arch>-fedora.config.<ver>`, or the member
// `<top>/kernel-<arch>-fedora.config` of the newer `kernel-<ver>.tar.bz2` snapshot), then the
// ebuild's fragments from gentoo-kernel-config (`gentoo-kernel-config-g<N>.tar.*`), in its order:
// base.config, 6.12+.config (6.12 and later), no-debug.config (USE=-debug), and with USE=hardened
// hardened-base.config, hardened-gcc-plugins.config (GCC only) and hardened-<ARCH>.config.
// USE is the VDB's for an installed version, else the IUSE defaults of the metadata cache (package.use
// is not read: say so). Left out, as they do not touch what presets ask for: version.config
// (LOCALVERSION), secureboot, zboot, big-endian, modules-sign and module-compress fragments.
import path from 'node:path';
import type { Cpv } from '../portage/atom.js';
import { availableVersions } from '../portage/repo-index.js';
import { loadReposConf } from '../portage/repos-conf.js';
import { vdbPath, type Roots } from '../portage/roots.js';
import { readVdbField } from '../portage/vdb.js';
import { readBounded } from '../system/read.js';
import type { ConfigJob, NamedText } from './config.js';
import { findDistfiles } from './distfiles.js';
import { extractWanted } from './extract.js';
import type { KconfigArch } from './kconfig-tree.js';
import { fileExists } from './read-tree.js';

/** The USE flags the ebuild's fragments were chosen by, and where they come from. */
export interface KernelUse {
  debug: boolean;
  hardened: boolean;
  from: 'vdb' | 'iuse-defaults';
}

export type ConfigDistfiles =
  | { found: true; job: Pick<ConfigJob, 'tarball' | 'prepatches' | 'base' | 'ebuildFragments'>; use: KernelUse }
  | { found: false; reason: string; hint: string };

const fedoraPlain = (a: KconfigArch) => new RegExp(`^kernel-${a.fedora}-fedora\\.config\\.`);
const FEDORA_SNAPSHOT = /^kernel-\d[^/]*\.tar\.bz2$/;
const GENTOO_CONFIG = /^gentoo-kernel-config-g\d+\.tar\.(gz|bz2|xz)$/;

/** The ebuild's fragments of gentoo-kernel-config, in its order, for a version, USE and toolchain. */
export function ebuildFragmentNames(
  pv: string,
  use: { debug: boolean; hardened: boolean },
  portageArch: string,
  gcc: boolean,
): string[] {
  const [major = 0, minor = 0] = pv.split(/[._]/).map(Number);
  return [
    'base.config',
    ...(major > 6 || (major === 6 && minor >= 12) ? ['6.12+.config'] : []),
    ...(use.debug ? [] : ['no-debug.config']),
    ...(use.hardened
      ? ['hardened-base.config', ...(gcc ? ['hardened-gcc-plugins.config'] : []), `hardened-${portageArch}.config`]
      : []),
  ];
}

async function useOf(roots: Roots, cpv: Cpv): Promise<KernelUse> {
  const installed = await readVdbField(vdbPath(roots, cpv.category, cpv.pf), 'USE');
  if (installed !== undefined) {
    const flags = new Set(installed.split(/\s+/));
    return { debug: flags.has('debug'), hardened: flags.has('hardened'), from: 'vdb' };
  }
  const repos = await loadReposConf(roots);
  const { packages } = await availableVersions(repos.repos, cpv.cpn);
  const iuse = (packages.find((p) => p.cpv.pf === cpv.pf)?.metadata?.get('IUSE') ?? '').split(/\s+/);
  return { debug: iuse.includes('+debug'), hardened: iuse.includes('+hardened'), from: 'iuse-defaults' };
}

/** The members named `wanted` (below the top directory) of a small config tarball. */
async function members(file: string, wanted: string[]): Promise<Map<string, Buffer>> {
  return (await extractWanted(file, new Set(wanted), { threads: false })).files;
}

/** The distfiles of `cpv` as a ConfigJob's sources; without them, why not and what to do. */
export async function configDistfiles(
  roots: Roots,
  env: NodeJS.ProcessEnv,
  cpv: Cpv,
  arch: KconfigArch,
  gcc: boolean,
): Promise<ConfigDistfiles> {
  const found = await findDistfiles(roots, env, cpv);
  if (!found.found) return { found: false, reason: found.reason, hint: found.hint };
  const name = `${cpv.category}/${cpv.pf}`;
  const fetch = `fetch them first: emerge --fetchonly =${name}`;
  const fedora =
    found.fetched.find((f) => fedoraPlain(arch).test(f)) ?? found.fetched.find((f) => FEDORA_SNAPSHOT.test(f));
  const gentoo = found.fetched.find((f) => GENTOO_CONFIG.test(f));
  if (!fedora || !gentoo)
    return {
      found: false,
      reason: `${name} fetches no ${fedora ? 'gentoo-kernel-config' : `Fedora ${arch.fedora} config`}: its base config is not known`,
      hint: 'verify against a base config you name: verify --config --tarball linux-X.Y.tar.xz --base-config FILE',
    };
  const missing: string[] = [];
  for (const f of [fedora, gentoo]) if (!(await fileExists(path.join(found.distdir, f)))) missing.push(f);
  if (missing.length)
    return {
      found: false,
      reason: `distfiles not downloaded: ${missing.join(', ')} (in ${found.distdir})`,
      hint: fetch,
    };

  const fedoraFile = path.join(found.distdir, fedora);
  const member = `kernel-${arch.fedora}-fedora.config`;
  const base: NamedText = FEDORA_SNAPSHOT.test(fedora)
    ? { name: `${fedora}: ${member}`, content: (await members(fedoraFile, [member])).get(member)! }
    : { name: fedora, content: await readBounded(fedoraFile, 'kernel-config') };
  if (!base.content)
    return {
      found: false,
      reason: `${fedora} has no ${member}`,
      hint: 'verify against a base config you name: --tarball with --base-config FILE',
    };
  const use = await useOf(roots, cpv);
  const names = ebuildFragmentNames(cpv.pv, use, arch.keyword, gcc);
  const inGentoo = await members(path.join(found.distdir, gentoo), names);
  // hardened-<arch>.config exists for some arches only; the ebuild merges it when it is there
  const ebuildFragments = names
    .filter((n) => inGentoo.has(n))
    .map((n) => ({ name: `${gentoo}: ${n}`, content: inGentoo.get(n)! }));
  if (!inGentoo.has('base.config'))
    return { found: false, reason: `${gentoo} has no base.config`, hint: 'download it again: emerge --fetchonly' };
  return {
    found: true,
    use,
    job: {
      tarball: found.files.base,
      prepatches: {
        ...(found.files.incremental ? { incremental: found.files.incremental } : {}),
        patchsets: found.files.patchsets,
      },
      base,
      ebuildFragments,
    },
  };
}
