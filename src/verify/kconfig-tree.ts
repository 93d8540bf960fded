// What `make olddefconfig` reads of a kernel tree, so `verify --config` keeps only that out of the
// tarball stream (6.1: ~2,150 of 80,000 members, 12 MB of 1.3 GB; 6.12: ~2,330). Found by tracing
// `make O=<dir> olddefconfig` on Debian's linux-source-6.1 and 6.12 (test/kconfig/run.sh gets the
// same .config from this subset as from the whole tree): the top Makefile, scripts/ (Kbuild's make
// fragments, the kconfig sources conf is built from, the toolchain probes Kconfig.include runs),
// the arch's Makefiles and defconfigs, and every Kconfig* file of the tree.
import path from 'node:path';
import type { WantedPaths } from './extract.js';

export interface KconfigArch {
  /** Portage's ARCH keyword. */
  keyword: string;
  /** node's process.arch. */
  node: string;
  /** The kernel's ARCH (what make gets) and SRCARCH (the arch/ directory). */
  arch: string;
  srcarch: string;
  /** The tree's defconfig: the base config of an ad hoc run without --base-config. */
  defconfig: string;
  /** The arch in the name of Fedora's config, which gentoo-kernel and vanilla-kernel start from. */
  fedora: string;
}

/** The architectures verify --config knows; data, so adding one is a line. */
export const KCONFIG_ARCHES: readonly KconfigArch[] = [
  {
    keyword: 'amd64',
    node: 'x64',
    arch: 'x86_64',
    srcarch: 'x86',
    defconfig: 'arch/x86/configs/x86_64_defconfig',
    fedora: 'x86_64',
  },
  {
    keyword: 'arm64',
    node: 'arm64',
    arch: 'arm64',
    srcarch: 'arm64',
    defconfig: 'arch/arm64/configs/defconfig',
    fedora: 'aarch64',
  },
];

/** The architecture of this machine, or undefined when verify --config does not know it. */
export function hostArch(nodeArch: string = process.arch): KconfigArch | undefined {
  return KCONFIG_ARCHES.find((a) => a.node === nodeArch);
}

/** The members of a kernel tree (paths below its top directory) that olddefconfig reads, as a rule. */
export function kconfigMembers(a: KconfigArch): WantedPaths {
  const archDir = `arch/${a.srcarch}/`;
  return {
    size: 0,
    has(p: string): boolean {
      if (p === 'Makefile' || p.startsWith('scripts/')) return true;
      if (path.posix.basename(p).startsWith('Kconfig')) return true;
      if (!p.startsWith(archDir)) return false;
      const rest = p.slice(archDir.length);
      return (rest.startsWith('Makefile') && !rest.includes('/')) || /^configs\/[^/]+$/.test(rest);
    },
  };
}
