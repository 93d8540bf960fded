// The kernel config fragment pgo owns: ${PORTAGE_CONFIGROOT}/etc/kernel/config.d/60-gentoo-kopt-pgo.config.
// kernel-build.eclass merges every config.d fragment into every dist-kernel it builds, last, then runs
// olddefconfig, which drops an option whose dependencies are not met without a word. So the fragment
// follows the whole state, not one package:
//  - gcov, instrument: DEBUG_FS (the data is read through debugfs), GCOV_KERNEL, GCOV_PROFILE_ALL
//    (kernel/gcov/Kconfig: GCOV_KERNEL depends on DEBUG_FS; GCOV_PROFILE_ALL on ARCH_HAS_GCOV_PROFILE_ALL
//    and !COMPILE_TEST). Removed by `pgo use`: the profiled build must not be instrumented.
//  - autofdo / propeller: AUTOFDO_CLANG (clang 17+, kernel 6.13+), PROPELLER_CLANG (clang 19+, x86_64):
//    kept while the profile is used, as scripts/Makefile.autofdo and Makefile.propeller need the
//    options both to record and to use a profile.
import type { PgoEntry, PgoState } from './store.js';

const LINES: Record<'gcov' | 'autofdo' | 'propeller', string[]> = {
  gcov: ['CONFIG_DEBUG_FS=y', 'CONFIG_GCOV_KERNEL=y', 'CONFIG_GCOV_PROFILE_ALL=y'],
  autofdo: ['CONFIG_AUTOFDO_CLANG=y'],
  propeller: ['CONFIG_AUTOFDO_CLANG=y', 'CONFIG_PROPELLER_CLANG=y'],
};

/** Whether an entry needs the fragment's options in the kernel it builds. */
const needs = (e: PgoEntry): boolean => e.kind !== 'gcov' || e.mode === 'instrument';

/** The fragment for the whole pgo state, or undefined when no package needs one. */
export function pgoFragment(state: PgoState): string | undefined {
  const entries = Object.entries(state.packages).filter(([, e]) => needs(e));
  if (!entries.length) return undefined;
  const lines = [...new Set(entries.flatMap(([, e]) => LINES[e.kind]))];
  const why = entries.map(([cpn, e]) => `${cpn}: ${e.kind} ${e.mode}`).join(', ');
  return [
    `# Written by \`gentoo-kopt pgo\` (${why}).`,
    '# kernel-build.eclass merges this into the .config of EVERY dist-kernel it builds; olddefconfig drops',
    '# what the toolchain or kernel cannot do. `gentoo-kopt pgo off` removes it; an edited copy is kept.',
    ...lines,
    '',
  ].join('\n');
}
