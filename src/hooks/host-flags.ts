// The GCC-only flags that break the kernel's host tools when clang builds them (toolchain = llvm).
//
// kernel-build.eclass passes HOSTCFLAGS="${BUILD_CFLAGS}" HOSTLDFLAGS="${BUILD_LDFLAGS}" on make's
// command line, and toolchain-funcs.eclass (tc-export_build_env) defaults those to make.conf's CFLAGS
// and LDFLAGS on a native build. Kbuild builds fixdep, Kconfig, objtool (with -Werror) and more with
// them. Which flags clang refuses comes from clang itself: test/distcc/host-flags.sh asked clang 14 and
// 19 about each (test/distcc/host-flags.tsv): an unknown argument is an error even at link time; an
// ignored one is a warning, an error under -Werror; -flto* makes bitcode objects a link without LTO
// cannot use. hooks/kernel-hook.bash (_kopt_host_flags, k_host_drop) carries the same table; a test
// keeps them equal. A pattern ending in `*` matches by prefix, as a bash pattern does.

export const HOST_FLAG_DROP: readonly string[] = [
  '-fgraphite-identity',
  '-floop-nest-optimize',
  '-floop-interchange',
  '-floop-strip-mine',
  '-floop-block',
  '-fipa-pta',
  '-fipa-cp-clone',
  '-fdevirtualize-at-ltrans',
  '-flto',
  '-flto=*',
  '-flto-partition=*',
  '-ffat-lto-objects',
  '-fno-fat-lto-objects',
  '-fuse-linker-plugin',
  '-mtls-dialect=gnu2',
  '-malign-data=*',
  '-fira-loop-pressure',
  '-fsched-pressure',
  '-fmodulo-sched',
  '-fgcse-las',
  '-fgcse-sm',
  '-ftracer',
  '-flive-patching',
  '-flive-patching=*',
  '-fno-tree-pre',
];

/** Replaced, not dropped: clang 19 calls -Ofast deprecated (-Wdeprecated-ofast) and advises -O3. */
export const HOST_FLAG_REPLACE: Readonly<Record<string, string>> = { '-Ofast': '-O3' };

/** Linker flags are fine in LDFLAGS, but unused at -c: an error under -Werror in CFLAGS. */
const LINKER_ONLY = /^(-Wl,|-fuse-ld=)/;

const matches = (flag: string, pattern: string): boolean =>
  pattern.endsWith('*') ? flag.startsWith(pattern.slice(0, -1)) : flag === pattern;

export type HostFlagsVar = 'CFLAGS' | 'LDFLAGS';

/** Why clang cannot take `flag` for the host tools (undefined: it can). */
export function gccOnly(flag: string, variable: HostFlagsVar): 'gcc-only' | 'replace' | 'linker-only' | undefined {
  if (HOST_FLAG_DROP.some((p) => matches(flag, p))) return 'gcc-only';
  if (flag in HOST_FLAG_REPLACE) return 'replace';
  if (variable === 'CFLAGS' && LINKER_ONLY.test(flag)) return 'linker-only';
  return undefined;
}

export interface FilteredFlags {
  /** What the hook exports as BUILD_<variable>. */
  value: string;
  /** The words it took out or replaced, in order. */
  removed: string[];
}

/** The flags as the hook passes them to the host tools (_kopt_host_flags). */
export function filterHostFlags(flags: string, variable: HostFlagsVar): FilteredFlags {
  const kept: string[] = [];
  const removed: string[] = [];
  for (const word of flags.split(/\s+/).filter(Boolean)) {
    const why = gccOnly(word, variable);
    if (why === undefined) kept.push(word);
    else {
      removed.push(word);
      if (why === 'replace') kept.push(HOST_FLAG_REPLACE[word]!);
    }
  }
  const value = kept.join(' ') || (variable === 'CFLAGS' ? '-O2' : ' ');
  return { value, removed };
}
