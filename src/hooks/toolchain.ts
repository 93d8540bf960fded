// The kernel toolchain variables as a table: what the hook exports for toolchain = llvm, what the
// GNU toolchain uses instead, and how a value is classified when looking for a mixed toolchain.
//
// kernel-build.eclass builds make's command line from these variables (tc-getCC, tc-getLD, ...,
// tc-getBUILD_CC for HOSTCC), and a command-line CC= beats Kbuild's LLVM=1, so all of them must name
// tools of one toolchain, and for LLVM of one slot (/usr/lib/llvm/<N>/bin: llvm-core/clang, lld and
// llvm install there). hooks/kernel-hook.bash carries the same table in bash; a test keeps them equal.
// Used by the hook tests, the real-Kbuild test and doctor.

export type Family = 'llvm' | 'gnu' | 'other';

export interface ToolRow {
  /** The make / environment variable. */
  variable: string;
  /** Its tool in an LLVM slot's bin directory. */
  llvm: string;
  /** The GNU tool (kernel-build.eclass default: ${CHOST}-<tool>, ${CBUILD}-<tool> for HOST*). */
  gnu: string;
  /** Builds programs that run on the build host. */
  host: boolean;
}

export const TOOLCHAIN: readonly ToolRow[] = [
  { variable: 'CC', llvm: 'clang', gnu: 'gcc', host: false },
  { variable: 'CXX', llvm: 'clang++', gnu: 'g++', host: false },
  { variable: 'LD', llvm: 'ld.lld', gnu: 'ld', host: false },
  { variable: 'AR', llvm: 'llvm-ar', gnu: 'ar', host: false },
  { variable: 'NM', llvm: 'llvm-nm', gnu: 'nm', host: false },
  { variable: 'STRIP', llvm: 'llvm-strip', gnu: 'strip', host: false },
  { variable: 'OBJCOPY', llvm: 'llvm-objcopy', gnu: 'objcopy', host: false },
  { variable: 'OBJDUMP', llvm: 'llvm-objdump', gnu: 'objdump', host: false },
  { variable: 'READELF', llvm: 'llvm-readelf', gnu: 'readelf', host: false },
  { variable: 'HOSTCC', llvm: 'clang', gnu: 'gcc', host: true },
  { variable: 'HOSTCXX', llvm: 'clang++', gnu: 'g++', host: true },
  { variable: 'HOSTAR', llvm: 'llvm-ar', gnu: 'ar', host: true },
  { variable: 'HOSTLD', llvm: 'ld.lld', gnu: 'ld', host: true },
];

/** Exported next to the tools for toolchain = llvm (Kbuild: LLVM=1 picks LLVM for anything not passed). */
const LLVM_MARKERS: Readonly<Record<string, string>> = { LLVM: '1', LLVM_IAS: '1' };

/**
 * Variables toolchain-funcs.eclass (tc-getBUILD_PROG) prefers over HOSTCC & co. The hook never sets
 * them; one naming a tool of the other toolchain is a conflict.
 */
export const SHADOW_VARIABLES: readonly string[] = [
  'BUILD_CC',
  'CC_FOR_BUILD',
  'BUILD_CXX',
  'CXX_FOR_BUILD',
  'BUILD_LD',
  'LD_FOR_BUILD',
  'BUILD_AR',
  'AR_FOR_BUILD',
];

/** The tools an LLVM slot must have to be usable (each once). */
export const LLVM_SLOT_TOOLS: readonly string[] = [...new Set(TOOLCHAIN.map((r) => r.llvm))];

/** Where an LLVM slot's tools live under BROOT (EPREFIX). */
export function llvmSlotBin(broot: string, slot: number): string {
  return `${broot.replace(/\/+$/, '')}/usr/lib/llvm/${slot}/bin`;
}

/** The environment the hook exports for toolchain = llvm with the given slot. */
export function llvmEnv(broot: string, slot: number): Record<string, string> {
  const bin = llvmSlotBin(broot, slot);
  return { ...Object.fromEntries(TOOLCHAIN.map((r) => [r.variable, `${bin}/${r.llvm}`])), ...LLVM_MARKERS };
}

/** make command-line arguments as kernel-build.eclass passes them, for the GNU tools of `chost`. */
export function gnuMakeArgs(chost: string): Record<string, string> {
  return Object.fromEntries(TOOLCHAIN.map((r) => [r.variable, `${chost}-${r.gnu}`]));
}

// Tool names by family, after stripping directory, target prefix and version suffix.
const FAMILY_NAMES: Record<Exclude<Family, 'other'>, ReadonlySet<string>> = {
  llvm: new Set(['clang', 'clang++', 'clang-cpp', 'ld.lld', 'lld']),
  gnu: new Set([
    'gcc',
    'g++',
    'cpp',
    'ld',
    'ld.bfd',
    'ld.gold',
    'gold',
    'as',
    'ar',
    'gcc-ar',
    'nm',
    'gcc-nm',
    'ranlib',
    'gcc-ranlib',
    'strip',
    'objcopy',
    'objdump',
    'readelf',
  ]),
};
const WRAPPERS = new Set(['ccache', 'distcc', 'sccache', 'icecc']);

/**
 * The toolchain a variable's value names, as the hook decides it (_kopt_family): the first word after
 * a compiler-cache wrapper, without directory, `${chost}-` prefix or `-<version>` suffix.
 */
export function toolFamily(value: string, chost = ''): Family {
  const words = value.trim().split(/\s+/);
  let word = words.find((w) => !WRAPPERS.has(w.slice(w.lastIndexOf('/') + 1))) ?? '';
  word = word.slice(word.lastIndexOf('/') + 1);
  if (chost && word.startsWith(`${chost}-`)) word = word.slice(chost.length + 1);
  word = word.replace(/^(.+)-[0-9].*$/, '$1'); // the last -<digit>, as bash's ${name%-[0-9]*}
  if (FAMILY_NAMES.llvm.has(word) || word.startsWith('llvm-')) return 'llvm';
  if (FAMILY_NAMES.gnu.has(word)) return 'gnu';
  return 'other';
}
