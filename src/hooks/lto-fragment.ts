// kopt.conf's `lto` as a kernel config fragment in ${PORTAGE_CONFIGROOT}/etc/kernel/config.d/.
//
// kernel-build.eclass (kernel-build_merge_configs) merges every ${BROOT}/etc/kernel/config.d/*.config
// into the .config of every dist-kernel it builds (on a native build BROOT is EPREFIX, the config root
// of an unprefixed system is /), after its own configs, then runs olddefconfig, which silently drops an
// option the toolchain cannot satisfy. Hence:
//  - one fragment for every kernel: per-package lto values are refused (a fragment cannot name a
//    package), and the toolchain of every configured package must suit it: Clang LTO (thin, full)
//    needs toolchain = llvm (clang and ld.lld, which the hook exports); GCC LTO needs toolchain = gnu
//    and a gcc-lto patch series (the Kconfig option LTO_GCC exists only in patched kernels);
//  - lto = none writes nothing (the dist-kernel configs default to LTO_NONE); a fragment written
//    earlier is removed.
// Kconfig symbols: LTO_NONE, LTO_CLANG_FULL, LTO_CLANG_THIN (arch/Kconfig, the "Link Time
// Optimization (LTO)" choice); LTO_GCC and LTO_CP_CLONE come with the GCC LTO series.
import { ConfigError } from '../errors.js';
import { settingsFor, whereIs, type KoptConfig, type Lto, type Toolchain } from '../config/kopt-conf.js';

export const LTO_FRAGMENT_NAME = '50-gentoo-kopt-lto.config';
/** Relative to the config root. */
export const LTO_FRAGMENT_REL = `etc/kernel/config.d/${LTO_FRAGMENT_NAME}`;

interface LtoRow {
  toolchain: Toolchain;
  what: string;
  lines: string[];
}

const LTO: Record<Exclude<Lto, 'none'>, LtoRow> = {
  thin: {
    toolchain: 'llvm',
    what: 'Clang ThinLTO',
    lines: ['# CONFIG_LTO_NONE is not set', '# CONFIG_LTO_CLANG_FULL is not set', 'CONFIG_LTO_CLANG_THIN=y'],
  },
  full: {
    toolchain: 'llvm',
    what: 'Clang full LTO',
    lines: ['# CONFIG_LTO_NONE is not set', 'CONFIG_LTO_CLANG_FULL=y', '# CONFIG_LTO_CLANG_THIN is not set'],
  },
  gcc: {
    toolchain: 'gnu',
    what: 'GCC LTO (needs the gcc-lto patch series)',
    lines: ['# CONFIG_LTO_NONE is not set', 'CONFIG_LTO_GCC=y', '# CONFIG_LTO_CP_CLONE is not set'],
  },
};

/** A series that provides GCC LTO: `gcc-lto`, or a name starting with it (the hook checks the same). */
export const isGccLtoSeries = (name: string): boolean => name.startsWith('gcc-lto');

/**
 * The one lto value of the configuration, checked against every configured package: the same lto
 * everywhere, a toolchain that suits it, and a gcc-lto series for lto = gcc. Errors name the line.
 */
export function checkLto(config: KoptConfig): Lto {
  const lto = config.global.lto;
  for (const cpn of config.global.packages) {
    const s = settingsFor(config, cpn);
    if (s.lto !== lto) {
      throw new ConfigError(`lto = ${s.lto} for ${cpn} differs from lto = ${lto} for the other kernels`, {
        ...whereIs(config, 'lto', cpn),
        hint: `kernel config fragments in /etc/kernel/config.d apply to every dist-kernel: set lto once, in the global part`,
      });
    }
    if (lto === 'none') continue;
    const row = LTO[lto];
    if (s.toolchain !== row.toolchain) {
      const explicit = config.sections.get(cpn)?.lines.toolchain ?? config.lines.toolchain;
      throw new ConfigError(
        `lto = ${lto} needs toolchain = ${row.toolchain}, but ${cpn} has toolchain = ${s.toolchain}`,
        {
          ...(explicit !== undefined ? whereIs(config, 'toolchain', cpn) : whereIs(config, 'lto')),
          hint:
            row.toolchain === 'llvm'
              ? 'Clang LTO needs clang and ld.lld: set toolchain = llvm, or lto = gcc / none'
              : 'GCC LTO needs GCC: set toolchain = gnu, or lto = thin / full / none',
        },
      );
    }
    if (lto === 'gcc' && !s.series.some(isGccLtoSeries)) {
      throw new ConfigError(
        `lto = gcc needs the gcc-lto patch series, but ${cpn} has ${s.series.length ? `series = ${s.series.join(' ')}` : 'no series'}`,
        {
          ...whereIs(config, 'lto'),
          hint: 'add gcc-lto to series (the LTO_GCC option exists only in patched kernels)',
        },
      );
    }
  }
  return lto;
}

/** The fragment for the configuration's lto, or undefined for lto = none. Throws like checkLto. */
export function ltoFragment(config: KoptConfig): { rel: string; content: string } | undefined {
  const lto = checkLto(config);
  if (lto === 'none') return undefined;
  const row = LTO[lto];
  const content = [
    `# ${row.what}: written by \`gentoo-kopt hooks install\` from kopt.conf (lto = ${lto}).`,
    '# kernel-build.eclass merges this into the .config of every dist-kernel; olddefconfig drops it silently',
    '# when the toolchain cannot do it. Change lto in kopt.conf instead of editing here (an edited copy is',
    '# kept and no longer updated); `gentoo-kopt hooks uninstall` or lto = none removes it.',
    ...row.lines,
    '',
  ].join('\n');
  return { rel: LTO_FRAGMENT_REL, content };
}
