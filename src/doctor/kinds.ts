// The table of finding kinds: for each, its level (fixed or computed from the fields), a one-line
// summary (for `doctor --list` and the docs), and how its message and fix hint are made from its
// fields. Checks only fill in fields; nothing else in doctor formats a finding.
// Facts cited: the Gentoo wiki's Kernel/Optimization flag table (-O3, -Ofast, -flto), arch/x86/Makefile
// (-mno-sse -mno-mmx -mno-sse2 -mno-3dnow -mno-avx, -fno-PIE via KBUILD_CFLAGS), kernel-build.eclass
// (make's command-line CC= LD= ..., olddefconfig after merging /etc/kernel/config.d), profiles/updates/4Q-2024.
import path from 'node:path';
import type { FindingWhere, Level } from './finding.js';

type Located = { where: FindingWhere };

export interface KindSpec<F> {
  level: Level | ((f: F & Located) => Level);
  /** When the level is computed: which level when, for the docs (README's tables). */
  levels?: string;
  summary: string;
  message(f: F & Located): string;
  fix(f: F & Located): string;
  /** Type-level only: the kind's fields. */
  readonly fields?: F;
}

const kind = <F extends object = Record<never, never>>(spec: KindSpec<F>): KindSpec<F> => spec;

/** "a", "a and b", "a, b and c" */
export function and(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

const file = (f: Located): string => f.where.file ?? '?';
type Lto = string;
const LTO_NEEDS: Record<string, string> = { thin: 'Clang ThinLTO', full: 'Clang full LTO', gcc: 'GCC LTO' };
/** kopt.conf calls it kcflags; make.conf and env files KCFLAGS. */
const removeFlag = (f: { flag: string } & Located): string =>
  `remove ${f.flag} from ${file(f).endsWith('kopt.conf') ? 'kcflags' : 'KCFLAGS'} in ${file(f)}`;
/** The catalog.d directory beside kopt.conf (where a series finding points). */
const catalogD = (f: Located): string => `${path.dirname(file(f))}/catalog.d/`;
const forPackages = (p: string[]): string => (p.length ? ` (${and(p)})` : '');

export const KINDS = {
  // inputs ----------------------------------------------------------------------------------------
  'file-unreadable': kind<{ message: string; hint?: string }>({
    level: 'error',
    summary: 'a file doctor (and Portage) must read cannot be read',
    message: (f) => (/^(cannot|is) /.test(f.message) ? f.message : `cannot read: ${f.message}`),
    fix: (f) => f.hint ?? `make ${file(f)} readable`,
  }),
  'file-malformed': kind<{ message: string; hint?: string }>({
    level: 'error',
    summary:
      'a config file does not parse (kopt.conf, make.conf, package.env, an env file, repos.conf, a catalog, the ownership ledger)',
    message: (f) => f.message,
    fix: (f) => f.hint ?? `correct ${file(f)}${f.where.line ? ` at line ${f.where.line}` : ''}`,
  }),
  'vdb-corrupt': kind<{ message: string; cpv?: string }>({
    level: 'warning',
    summary: 'an installed-package (VDB) entry is unusable: Portage and doctor leave it out',
    message: (f) => f.message,
    fix: (f) =>
      f.cpv
        ? `re-merge it: emerge --ask --oneshot =${f.cpv}`
        : `move ${file(f)} out of the VDB (it is not a package entry)`,
  }),
  'vdb-merging': kind({
    level: 'info',
    summary: 'a -MERGING- directory: a merge in progress, or one that was interrupted',
    message: () =>
      'a merge in progress, or an interrupted one (Portage ignores this entry); if no emerge is running, it is debris',
    fix: (f) => `rm -r '${file(f)}'`,
  }),
  'package-env-missing': kind<{ atom: string; name: string; path: string }>({
    level: 'warning',
    summary: 'package.env names an env file that does not exist (Portage ignores the name)',
    message: (f) => `'${f.atom}' names the env file '${f.name}', and ${f.path} does not exist: Portage ignores it`,
    fix: (f) => `create ${f.path}, or remove '${f.name}' from this line`,
  }),
  'repo-ignored': kind<{ name: string; reason: string; location?: string }>({
    level: 'warning',
    summary: 'a repository in repos.conf that Portage drops (no location, or not an existing directory)',
    message: (f) => `repository '${f.name}'${f.location ? ` at ${f.location}` : ''} is ignored: ${f.reason}`,
    fix: (f) =>
      `emerge --sync ${f.name} (it creates the repository), or point its location = at the right directory in repos.conf`,
  }),

  // llvm-packages ---------------------------------------------------------------------------------
  'llvm-incomplete': kind<{ slot?: number; missing: string[]; packages: string[] }>({
    level: 'error',
    summary: 'no LLVM slot has clang, llvm and lld installed together',
    message: (f) =>
      f.slot === undefined
        ? `toolchain = llvm${forPackages(f.packages)}, but clang, llvm and lld are not installed`
        : `toolchain = llvm${forPackages(f.packages)}, but no LLVM slot has clang, llvm and lld together: slot ${f.slot} lacks ${and(f.missing)}` +
          ' (one slot of clang with another slot of lld fails at link time with LTO)',
    fix: (f) =>
      `emerge --ask --noreplace ${f.missing.map((p) => (f.slot === undefined ? p : `${p}:${f.slot}`)).join(' ')}`,
  }),
  'llvm-slot-missing': kind<{ slot: number; missing: string[]; installed: number[] }>({
    level: 'error',
    summary: 'the LLVM slot kopt.conf pins (llvm-slot) is not complete',
    message: (f) =>
      `llvm-slot = ${f.slot}, but LLVM ${f.slot} lacks ${and(f.missing)}` +
      (f.installed.length ? ` (complete slots: ${f.installed.join(', ')})` : ' (no LLVM slot is complete)'),
    fix: (f) =>
      `emerge --ask --noreplace ${f.missing.map((p) => `${p}:${f.slot}`).join(' ')}` +
      (f.installed.length ? `, or set llvm-slot = ${f.installed.at(-1)} in ${file(f)}` : ''),
  }),
  'llvm-optional-missing': kind<{ slot: number; missing: string[] }>({
    level: 'info',
    summary: 'compiler-rt / libunwind (listed by the wiki) are not installed: optional, a kernel links neither',
    message: (f) =>
      `${and(f.missing)} ${f.missing.length > 1 ? 'are' : 'is'} not installed for LLVM ${f.slot}: the wiki lists them, but a kernel build needs neither (it links no runtime library)`,
    fix: (f) =>
      `nothing to do for the kernel; for userland builds with clang: emerge --ask --noreplace ${f.missing.join(' ')}`,
  }),
  'llvm-old-names': kind<{ packages: string[] }>({
    level: 'info',
    summary: 'LLVM packages recorded under their pre-2024 names (sys-devel/clang, ...)',
    message: (f) =>
      `installed under the names used before the 4Q-2024 move: ${and(f.packages)} (now llvm-core/* and llvm-runtimes/*)`,
    fix: () => 'emaint --fix moveinst',
  }),

  // llvm-binaries ---------------------------------------------------------------------------------
  'llvm-tool-missing': kind<{ slot?: number; tools: string[]; packages: string[] }>({
    level: 'error',
    summary: 'a tool the hook exports is missing or not executable in /usr/lib/llvm/<N>/bin',
    message: (f) =>
      f.slot === undefined
        ? `no LLVM slot under ${file(f)} has every tool the hook exports (missing everywhere: ${and(f.tools)})`
        : `${file(f)} lacks ${and(f.tools)} (missing or not executable): the hook cannot use LLVM ${f.slot}`,
    fix: (f) =>
      `emerge --ask --oneshot ${f.packages.map((p) => (f.slot === undefined ? p : `${p}:${f.slot}`)).join(' ')}`,
  }),
  'llvm-version-mismatch': kind<{ tool: string; slot: number; reported: string }>({
    level: 'error',
    summary: 'a tool in /usr/lib/llvm/<N>/bin reports another major version than N',
    message: (f) =>
      `${f.tool} reports version ${f.reported}, not ${f.slot}.x: the files in this slot are not what Portage installed`,
    fix: (f) =>
      `emerge --ask --oneshot llvm-core/${f.tool.startsWith('clang') ? 'clang' : f.tool === 'ld.lld' ? 'lld' : 'llvm'}:${f.slot}`,
  }),
  'llvm-linker-older': kind<{ slot: number; clang: string; lld: string; source: string; lto: Lto }>({
    level: (f) => (f.lto === 'thin' || f.lto === 'full' ? 'error' : 'warning'),
    levels: 'error with lto = thin or full, else warning',
    summary: 'ld.lld is older than clang in the slot the hook uses (LTO bitcode from a newer clang does not link)',
    message: (f) =>
      `ld.lld ${f.lld} is older than clang ${f.clang} in LLVM ${f.slot} (${f.source === 'vdb' ? 'installed versions' : '--version'}):` +
      ' an LTO link reads bitcode from the compiler, and an older linker may not understand it',
    fix: (f) => `emerge --ask --oneshot llvm-core/lld:${f.slot}`,
  }),
  'llvm-version-unchecked': kind<{ slot: number; reason: string }>({
    level: 'info',
    summary: 'the LLVM tools could not be run here, so their versions were not checked',
    message: (f) => `the versions of the LLVM ${f.slot} tools were not checked: ${f.reason}`,
    fix: () => 'run gentoo-kopt doctor on the system itself (inside the chroot) to check them',
  }),

  // mixed-toolchain -------------------------------------------------------------------------------
  'toolchain-conflict': kind<{
    package: string;
    variable: string;
    value: string;
    want: string;
    got: string;
    mixed: string;
  }>({
    level: (f) => (f.mixed === 'warn' ? 'warning' : 'error'),
    levels: 'error with mixed-toolchain = die (the default), warning with warn',
    summary: 'make.conf or package.env sets a tool of the other toolchain than kopt.conf asks for',
    message: (f) =>
      `${f.variable}=${f.value} is a ${f.got === 'llvm' ? 'LLVM' : 'GNU'} tool, but kopt.conf says toolchain = ${f.want} for ${f.package}: ` +
      (f.mixed === 'warn'
        ? 'the hook replaces it and warns (mixed-toolchain = warn)'
        : 'the hook stops the emerge (mixed-toolchain = die)'),
    fix: (f) => `remove ${f.variable} from ${file(f)} (for ${f.package}), or set toolchain = ${f.got} in kopt.conf`,
  }),
  'toolchain-mixed': kind<{ package: string; llvm: string[]; gnu: string[] }>({
    level: 'error',
    summary: 'without the hook, a kernel package would be built with both GNU and LLVM tools',
    message: (f) =>
      `without the gentoo-kopt hook, ${f.package} is built with LLVM for ${and(f.llvm)} but GNU for ${and(f.gnu)}` +
      " (kernel-build.eclass passes every tool on make's command line, GNU by default): GNU and LLVM binutils do not mix",
    fix: () =>
      'set toolchain = llvm in kopt.conf and run gentoo-kopt hooks install (the hook sets every tool of one LLVM slot)',
  }),
  'llvm-variable-ignored': kind<{ package: string; value: string }>({
    level: 'warning',
    summary: 'LLVM=1 set for a dist-kernel without the hook: it does nothing there',
    message: (f) =>
      `LLVM=${f.value} for ${f.package} does nothing: kernel-build.eclass passes CC=, LD=, AR=, ... (GNU by default) on make's command line, and those beat LLVM=1`,
    fix: () => 'set toolchain = llvm in kopt.conf and run gentoo-kopt hooks install, and remove LLVM= from here',
  }),

  // flags -----------------------------------------------------------------------------------------
  'kcflags-o3': kind<{ flag: string; packages: string[] }>({
    level: 'warning',
    summary: '-O3 in KCFLAGS: rejected upstream for lack of numbers, no measurable gain in published benchmarks',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: Linus rejected -O3 for the kernel until someone shows performance numbers for a real load,` +
      " and Phoronix's -O3 kernel benchmarks found no measurable gain for nearly every program tested",
    fix: (f) => `${removeFlag(f)} (the kernel's own -O2 applies)`,
  }),
  'kcflags-ofast': kind<{ flag: string; packages: string[] }>({
    level: 'warning',
    summary: '-Ofast in KCFLAGS: its extra optimizations are about floating point, which the kernel does not have',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: it adds floating-point shortcuts (-ffast-math) to -O3, and the kernel has no floating point: no effect, or unsafe where it does use the FPU`,
    fix: removeFlag,
  }),
  'kcflags-fast-math': kind<{ flag: string; packages: string[] }>({
    level: 'warning',
    summary: '-ffast-math and friends in KCFLAGS: no effect on kernel code, unsafe where it does use the FPU',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: the kernel has no floating point to speed up, and the few places that use the FPU (e.g. amdgpu display code) rely on IEEE semantics`,
    fix: removeFlag,
  }),
  'kcflags-lto': kind<{ flag: string; packages: string[] }>({
    level: 'error',
    summary: '-flto* in KCFLAGS: LTO comes from the kernel config, not KCFLAGS',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: LTO is not "KCFLAGS=-flto"; it is a kernel config choice (CONFIG_LTO_*) with its own link step, and -flto here breaks the build`,
    fix: (f) => `${removeFlag(f)} and set lto = thin, full or gcc in kopt.conf`,
  }),
  'kcflags-simd': kind<{ flag: string; packages: string[] }>({
    level: 'error',
    summary:
      'SIMD -m flags in KCFLAGS (-mavx2, -msse4.2, ...): the kernel is built without SIMD on purpose (-march=... is fine)',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: the kernel builds with -mno-sse -mno-mmx -mno-avx ... because kernel code may not touch vector registers` +
      ' outside kernel_fpu_begin(); KCFLAGS comes last, so this turns SIMD back on: a failed build or corrupted user registers',
    fix: (f) =>
      `${removeFlag(f)} (-march=... is fine: the kernel's explicit -mno-* flags override what -march implies)`,
  }),
  'kcflags-pie': kind<{ flag: string; packages: string[] }>({
    level: 'error',
    summary: 'PIE/PIC flags in KCFLAGS: the kernel is built -fno-PIE with its own code model',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)}: the kernel is compiled -fno-PIE with its own code model and relocation handling; position-independent code here breaks the build or the boot`,
    fix: removeFlag,
  }),
  'kcflags-native-binpkg': kind<{ flag: string; packages: string[]; reason: string }>({
    level: 'warning',
    summary: '-march=native while this host builds binary packages for other machines',
    message: (f) =>
      `${f.flag} in KCFLAGS${forPackages(f.packages)} while this host builds binary packages (${f.reason}): the packaged kernel runs only on CPUs like this one`,
    fix: (f) =>
      `use a portable level such as -march=x86-64-v3 in kcflags (${file(f)}), or keep -march=native and do not share the kernel's binary package`,
  }),

  // hooks -----------------------------------------------------------------------------------------
  'hooks-not-installed': kind({
    level: 'warning',
    summary: 'the gentoo-kopt block is not in /etc/portage/bashrc',
    message: (f) =>
      `the gentoo-kopt block is not in ${file(f)}: emerge builds kernels without kopt.conf's flags and toolchain, and without syncing their patch series first`,
    fix: () => 'gentoo-kopt hooks install',
  }),
  'hooks-block-outdated': kind({
    level: 'warning',
    summary: 'the gentoo-kopt block in bashrc is not the one this version installs',
    message: () =>
      'the gentoo-kopt block differs from the one this version of gentoo-kopt installs (edited, or from an older version)',
    fix: () => 'gentoo-kopt hooks install',
  }),
  'hooks-block-broken': kind<{ message: string; hint?: string }>({
    level: 'error',
    summary: 'the block markers in bashrc are broken (a begin without end, two blocks)',
    message: (f) => f.message,
    fix: (f) => f.hint ?? 'repair the block markers, then run gentoo-kopt hooks install',
  }),
  'hooks-code-after-block': kind({
    level: 'warning',
    summary: 'bashrc has code after the gentoo-kopt block, which can override what the hook exports',
    message: () => 'code after the gentoo-kopt block runs later and can override what the hook exports',
    fix: (f) => `move the lines after '# <<< gentoo-kopt <<<' in ${file(f)} above the block (the block must stay last)`,
  }),
  'hooks-file-missing': kind<{ role: string }>({
    level: 'error',
    summary: 'the block is installed but the hook, its settings or the LTO fragment is missing',
    message: (f) =>
      `the bashrc block is installed, but this ${ROLE[f.role] ?? f.role} is missing${f.role === 'lto-fragment' ? ': the kernel config does not ask for LTO' : f.role === 'config-fragment' ? ': kernels are built without what it asks for' : ': the hook does nothing'}`,
    fix: () => 'gentoo-kopt hooks install',
  }),
  'hooks-file-outdated': kind<{ role: string }>({
    level: 'warning',
    summary: 'the installed hook, compiled settings or LTO fragment differ from what kopt.conf and this version give',
    message: (f) => OUTDATED[f.role] ?? `this ${f.role} is outdated`,
    fix: () => 'gentoo-kopt hooks install',
  }),
  'hooks-program-missing': kind<{ program: string }>({
    level: 'error',
    summary: 'the program the hook runs for sync-patches is gone (node or gentoo-kopt moved)',
    message: (f) =>
      `the hook runs ${f.program} to sync patches before each kernel build, and it is not there: kernels are built without syncing`,
    fix: () => 'gentoo-kopt hooks install (with the gentoo-kopt and node you use now)',
  }),
  'hooks-unsafe-mode': kind<{ mode: string; effect?: UnsafeEffect }>({
    level: 'error',
    summary:
      'a file or directory that root sources, trusts or runs during an emerge is writable by group or others (the hook then refuses it)',
    message: (f) =>
      `mode ${f.mode}: writable by group or others, so anyone in them could make root run code during an emerge${f.effect ? ` (${EFFECT[f.effect]})` : ''}`,
    fix: (f) => `chmod go-w '${file(f)}'`,
  }),
  'hooks-unsafe-owner': kind<{ uid: number; expected: number; expectedName: string; effect?: UnsafeEffect }>({
    level: 'error',
    summary:
      'a file or directory that root sources, trusts or runs during an emerge is not owned by root (the hook then refuses it)',
    message: (f) =>
      `owned by uid ${f.uid}, not ${f.expectedName}: that user could make root run code during an emerge${f.effect ? ` (${EFFECT[f.effect]})` : ''}`,
    fix: (f) => `chown ${f.expected === 0 ? 'root' : String(f.expected)} '${file(f)}'`,
  }),

  // patches ---------------------------------------------------------------------------------------
  'patches-out-of-sync': kind<{ target: string; files: string[] }>({
    level: 'warning',
    summary: "a target kernel's series files are missing or outdated in /etc/portage/patches",
    message: (f) => `${f.files.length} series file(s) for ${f.target} are missing or outdated: ${and(f.files)}`,
    fix: () => 'gentoo-kopt sync-patches',
  }),
  'patches-edited': kind<{ target: string; series: string }>({
    level: 'warning',
    summary: 'a patch file sync-patches installed was edited since',
    message: (f) =>
      `edited since sync-patches installed it (series ${f.series}, ${f.target}): it is kept as it is and not updated`,
    fix: () => 'if the edit is not wanted: gentoo-kopt sync-patches --force (the edited file is backed up)',
  }),
  'patches-stale': kind<{ target: string; edited: boolean }>({
    level: 'info',
    summary:
      'a managed patch file for a kernel version that is no longer a target (not installed, not available at or above the oldest installed)',
    message: (f) =>
      `left over for ${f.target}, which is no longer a target (not installed, and not an available version at or above the oldest installed one)${f.edited ? '; edited by you, so kept' : ''}`,
    fix: (f) =>
      f.edited ? 'gentoo-kopt sync-patches --force (removes it after a backup)' : 'gentoo-kopt sync-patches',
  }),
  'patches-conflict': kind<{ target: string; series: string }>({
    level: 'warning',
    summary: 'a file gentoo-kopt does not own sits where a series file goes',
    message: (f) =>
      `a file gentoo-kopt did not write has the name of a series file (${f.series}, ${f.target}): the series is not installed there`,
    fix: (f) => `move '${file(f)}' aside, then run gentoo-kopt sync-patches`,
  }),
  'patches-versionless': kind<{ package: string; dir: string; target: string }>({
    level: 'warning',
    summary: 'a user patch in a version-less sys-kernel/<PN>/ directory applies to every future version',
    message: (f) =>
      `a patch in the version-less directory of ${f.package} applies to every future version of it, so a kernel bump can break the emerge`,
    fix: (f) => `mkdir -p '${f.dir}' && mv '${file(f)}' '${f.dir}/'`,
  }),
  'patches-no-series': kind<{ target: string; kernel: string; series: string; lto: Lto }>({
    level: (f) => (f.lto === 'gcc' && f.series.startsWith('gcc-lto') ? 'error' : 'info'),
    levels: 'error with lto = gcc and a gcc-lto series, else info',
    summary: 'a target kernel has no entry in a configured series (an error when lto = gcc needs it)',
    message: (f) =>
      f.lto === 'gcc' && f.series.startsWith('gcc-lto')
        ? `lto = gcc, but the series ${f.series} has no entry for kernel ${f.kernel} (${f.target}): it is built WITHOUT LTO (olddefconfig drops CONFIG_LTO_GCC)`
        : `the series ${f.series} has no entry for kernel ${f.kernel} (${f.target}): nothing from it is applied to that version`,
    fix: (f) =>
      f.lto === 'gcc' && f.series.startsWith('gcc-lto')
        ? `stay on a kernel line the series covers, add a catalog entry in ${catalogD(f)}, or set lto = none`
        : `add a catalog entry for the ${f.kernel.split('.').slice(0, 2).join('.')} line in ${catalogD(f)}, or ignore this`,
  }),
  'patches-unavailable': kind<{ message: string; hint?: string }>({
    level: 'error',
    summary: 'the configured series cannot be read (unknown series, patch source missing or failing its checksums)',
    message: (f) => `the patch series cannot be worked out: ${f.message}`,
    fix: (f) => f.hint ?? 'check series and patch-source in kopt.conf',
  }),
  'catalog-overlap': kind<{ series: string; a: string; b: string }>({
    level: 'error',
    summary: 'two entries of one catalog series claim the same kernel versions',
    message: (f) =>
      `entries [${f.series} ${f.a}] and [${f.series} ${f.b}] both match some kernel versions: sync-patches stops for those`,
    fix: () => 'narrow one of the two kernel ranges: each kernel version may match at most one entry of a series',
  }),

  // kernel-config ---------------------------------------------------------------------------------
  'fragment-lto-unsatisfiable': kind<{ option: string; needs: string; packages: string[] }>({
    level: 'error',
    summary: 'a config.d fragment asks for an LTO the toolchain cannot do (olddefconfig drops it)',
    message: (f) =>
      `${f.option}=y needs ${f.needs}, which ${and(f.packages)} ${f.packages.length > 1 ? 'do' : 'does'} not have: olddefconfig silently drops it`,
    fix: (f) => `set lto in kopt.conf and run gentoo-kopt hooks install (or remove ${f.option} from ${file(f)})`,
  }),
  'fragment-lto-overridden': kind<{ option: string; wanted: string; lto: Lto }>({
    level: 'error',
    summary: 'a later config.d fragment undoes the LTO choice of kopt.conf',
    message: (f) =>
      `the merged config.d fragments end with ${f.option} here, so the kernel does not get ${f.wanted}=y (lto = ${f.lto})`,
    fix: (f) => `remove the CONFIG_LTO_* lines from ${file(f)} (kopt.conf's lto decides), or change lto in kopt.conf`,
  }),
  'fragment-gcov-debugfs': kind({
    level: 'error',
    summary: 'a fragment enables GCOV kernel profiling while DEBUG_FS is off (the profile is read through debugfs)',
    message: () =>
      'CONFIG_GCOV_KERNEL=y, but the fragments turn CONFIG_DEBUG_FS off: the profile data is only reachable through /sys/kernel/debug/gcov',
    fix: (f) => `set CONFIG_DEBUG_FS=y in ${file(f)}`,
  }),
  'kernel-config-lto-dropped': kind<{ package: string; option: string; lto: Lto }>({
    level: 'error',
    summary: "an installed kernel's .config lacks the LTO kopt.conf asks for (olddefconfig dropped it)",
    message: (f) =>
      `lto = ${f.lto}, but ${f.package} was built without ${LTO_NEEDS[f.lto] ?? 'LTO'}: its .config has no ${f.option}=y (olddefconfig dropped it, or lto changed since)`,
    fix: (f) => `make the toolchain ready (see the other findings), then: emerge --ask --oneshot =${f.package}`,
  }),
  'kernel-config-compiler': kind<{ package: string; want: string; got: string }>({
    level: 'warning',
    summary: "an installed kernel was built by another compiler than kopt.conf's toolchain",
    message: (f) =>
      `${f.package} was built with ${f.got === 'llvm' ? 'clang (CONFIG_CC_IS_CLANG=y)' : 'GCC (CONFIG_CC_IS_GCC=y)'}, but kopt.conf says toolchain = ${f.want}`,
    fix: (f) => `emerge --ask --oneshot =${f.package}`,
  }),
  'kernel-config-absent': kind<{ package: string }>({
    level: 'info',
    summary: 'an installed kernel has no /usr/src/linux-<version>/.config to verify',
    message: (f) =>
      `no /usr/src/linux-*/ tree records ${f.package} (its dist-kernel file), so its .config cannot be checked`,
    fix: (f) => `nothing, or re-merge it to restore its tree: emerge --ask --oneshot =${f.package}`,
  }),

  // rebuild-needed --------------------------------------------------------------------------------
  'rebuild-needed': kind<{
    package: string;
    cpv: string;
    changes: { variable: string; built: string; now: string }[];
    slotOnly: boolean;
  }>({
    level: (f) => (f.slotOnly ? 'info' : 'warning'),
    levels: 'warning; info when only the LLVM slot changed',
    summary: 'an installed kernel was built with other KCFLAGS/toolchain than configured now',
    message: (f) =>
      `${f.cpv} was built with ${f.changes.map((c) => `${c.variable}=${c.built === '' ? '(unset)' : `'${c.built}'`} (now ${c.now === '' ? 'unset' : `'${c.now}'`})`).join(', ')}: rebuild ${f.package} to apply`,
    fix: (f) => `emerge --ask --oneshot ${f.package}`,
  }),

  // resources -------------------------------------------------------------------------------------
  'lto-low-memory': kind<{ lto: Lto; memMiB: number; source: string }>({
    level: 'warning',
    summary: 'full LTO with less than ~16 GB of RAM (a full-LTO kernel link peaks above 10 GB)',
    message: (f) =>
      `lto = ${f.lto} with ${(f.memMiB / 1024).toFixed(1)} GiB of RAM (${f.source}): linking a full-LTO kernel peaks above 10 GB, so the build swaps hard or is killed`,
    fix: () =>
      'set lto = thin in kopt.conf (ThinLTO links in parallel pieces and needs far less memory), or add RAM or swap',
  }),
  'lto-32bit': kind<{ lto: Lto; chost: string }>({
    level: 'warning',
    summary: 'LTO on a 32-bit system (the link can exceed a 32-bit address space)',
    message: (f) =>
      `lto = ${f.lto} on a 32-bit system (${f.chost}): the LTO link's memory use can exceed what a 32-bit process can address (the wiki advises disabling it)`,
    fix: () => 'set lto = none in kopt.conf',
  }),

  // host-flags -------------------------------------------------------------------------------------
  'host-flags-gcc-only': kind<{
    variable: string;
    build: string;
    flags: string[];
    packages: string[];
    filtered: boolean;
    suggested: string;
  }>({
    level: (f) => (f.filtered ? 'info' : 'warning'),
    levels: 'info when the hook is installed (it drops them from kernel builds), else warning',
    summary:
      "GCC-only flags in make.conf's CFLAGS/LDFLAGS reach clang as the kernel's HOSTCFLAGS with toolchain = llvm",
    message: (f) =>
      `${f.variable} has GCC-only ${and(f.flags)}: with toolchain = llvm${forPackages(f.packages)} kernel-build.eclass passes them to clang as the host tools' flags (${f.build === 'BUILD_CFLAGS' ? 'HOSTCFLAGS' : 'HOSTLDFLAGS'} from ${f.build}), and clang rejects them or objtool's -Werror does` +
      (f.filtered
        ? '; the hook drops them from kernel builds and says so in the build log'
        : '; the host tools (fixdep, Kconfig, objtool) fail to build'),
    fix: (f) =>
      `give the kernel its own host flags: ${f.build}="${f.suggested}" in an env file that package.env maps to ${and(f.packages)}, or remove ${and(f.flags)} from ${f.variable} in ${file(f)}${f.where.line ? ` at line ${f.where.line}` : ''}`,
  }),

  // modules ----------------------------------------------------------------------------------------
  'module-llvm-missing': kind<{
    slot: number;
    modules: string[];
    releases: string[];
    missing: string[];
    gone: boolean;
  }>({
    level: 'error',
    summary: 'out-of-tree modules (linux-mod-r1) belong to a kernel built with an LLVM slot that is no longer complete',
    message: (f) =>
      `${and(f.modules)} ${f.modules.length > 1 ? 'are' : 'is'} built for kernel ${and(f.releases)}, which clang ${f.slot} built; linux-mod-r1 rebuilds modules with that kernel's LLVM (/usr/lib/llvm/${f.slot}/bin), which ${f.gone ? 'is gone' : `lacks ${and(f.missing)}`}: the next module rebuild fails`,
    fix: (f) =>
      `emerge --ask --noreplace llvm-core/clang:${f.slot} llvm-core/llvm:${f.slot} llvm-core/lld:${f.slot} (or rebuild the kernel with the LLVM you have, then emerge @module-rebuild)`,
  }),
  'module-llvm-unprotected': kind<{ slot: number; modules: string[]; releases: string[]; packages: string[] }>({
    level: 'warning',
    summary:
      'the LLVM slot out-of-tree modules need is not in the world file (nor a dependency of a package in it): emerge --depclean removes it',
    message: (f) =>
      `${and(f.modules)} need${f.modules.length > 1 ? '' : 's'} LLVM ${f.slot} (kernel ${and(f.releases)} was built by clang ${f.slot}), but neither the world file nor the RDEPEND/DEPEND/BDEPEND of a package it names asks for ${and(f.packages)}: emerge --depclean removes ${f.packages.length > 1 ? 'them' : 'it'}, and the next module rebuild fails`,
    fix: (f) => `emerge --ask --noreplace ${f.packages.join(' ')}`,
  }),
  'module-kernel-old': kind<{ module: string; releases: string[]; newest: string; kernel: string }>({
    level: 'warning',
    summary: 'out-of-tree modules are installed for another kernel than the newest installed one',
    message: (f) =>
      `${f.module} is installed for kernel ${and(f.releases)}, not for ${f.newest} (${f.kernel}, the newest installed kernel): booting it, the module is missing`,
    fix: () => 'emerge --ask @module-rebuild',
  }),

  // binhost ----------------------------------------------------------------------------------------
  'binpkg-settings-differ': kind<{
    package: string;
    cpv: string;
    changes: { variable: string; built: string; now: string }[];
  }>({
    level: 'warning',
    summary:
      "a kernel's binary package (FEATURES=buildpkg) was built with other KCFLAGS or another toolchain than kopt.conf gives now",
    message: (f) =>
      `the binary package of ${f.cpv} was built with ${f.changes.map((c) => `${c.variable}=${c.built === '' ? '(unset)' : `'${c.built}'`} (kopt.conf now: ${c.now === '' ? 'unset' : `'${c.now}'`})`).join(', ')}: the machines that install it get that build`,
    fix: (f) => `emerge --ask --oneshot --buildpkg =${f.cpv} (the rebuild replaces the package the clients get)`,
  }),

  // kernel-presets --------------------------------------------------------------------------------
  'kernel-config-dropped': kind<{
    package: string;
    requested: number;
    dropped: { option: string; requested: string; actual: string; why?: string }[];
  }>({
    level: 'warning',
    summary:
      "options kopt.conf's config fragments ask for are not in an installed kernel's .config (olddefconfig dropped them)",
    message: (f) =>
      `${f.dropped.length} of the ${f.requested} options gentoo-kopt's fragments ask for are not in ${f.package}'s .config: ${f.dropped
        .map(
          (d) =>
            `${d.option}=${d.requested} (${d.actual === '' ? 'absent' : `is ${d.actual}`}${d.why ? `; ${d.why}` : ''})`,
        )
        .join(', ')}`,
    fix: (f) =>
      `olddefconfig drops what the kernel or toolchain cannot do: meet the dependency (enable = ... in kopt.conf) and rebuild (emerge --ask --oneshot =${f.package}), or take the option out (disable/enable, or a lower harden)`,
  }),
  'kernel-config-before-presets': kind<{ package: string; fragments: string[] }>({
    level: 'info',
    summary: "an installed kernel's .config is older than gentoo-kopt's config fragments: built without them",
    message: (f) =>
      `${f.package} was built before ${and(f.fragments)} changed: its .config cannot show what they do until it is rebuilt`,
    fix: (f) => `emerge --ask --oneshot =${f.package}`,
  }),
  'harden-gentoo-compare': kind<{
    package: string;
    harden: string;
    agree: number;
    differ: { option: string; gentoo: string; kopt: string }[];
    gentooOnly: string[];
    koptOnly: number;
  }>({
    level: 'info',
    summary: "gentoo-kernel's USE=hardened and kopt.conf's harden: where the two agree and differ",
    message: (f) =>
      `${f.package} has USE=hardened: Gentoo's hardened fragments and harden = ${f.harden} agree on ${f.agree} option(s)${
        f.differ.length
          ? ` and differ on ${f.differ.length}: ${f.differ.map((d) => `${d.option} (Gentoo ${d.gentoo}, gentoo-kopt ${d.kopt})`).join(', ')}; /etc/kernel/config.d is merged last, so gentoo-kopt's value is the one the build asks for`
          : ''
      }; harden = ${f.harden} adds ${f.koptOnly} option(s) Gentoo's do not set; Gentoo's set ${f.gentooOnly.length} that harden = ${f.harden} leaves alone${f.gentooOnly.length ? `: ${f.gentooOnly.join(', ')}` : ''}`,
    fix: () =>
      "nothing to do; to keep Gentoo's value of an option, name it in kopt.conf's enable or disable (those fragments come after harden's)",
  }),
  'hardening-checker-report': kind<{ package: string; checked: number; failed: string[]; inHarden: string[] }>({
    level: 'info',
    summary: 'kernel-hardening-checker (when installed) finds options of an installed kernel below its recommendations',
    message: (f) =>
      `kernel-hardening-checker: ${f.failed.length} of ${f.checked} kconfig checks fail for ${f.package}: ${f.failed.slice(0, 20).join(', ')}${
        f.failed.length > 20 ? `, and ${f.failed.length - 20} more` : ''
      }${f.inHarden.length ? ` (harden = strict would ask for ${f.inHarden.length} of them: ${f.inHarden.join(', ')})` : ''}`,
    fix: (f) =>
      `read its whole report: kernel-hardening-checker -c ${file(f)} -m show_fail (its advice goes beyond gentoo-kopt's harden table, some of it on purpose: README, "harden")`,
  }),
  'hardening-checker-failed': kind<{ package: string; reason: string }>({
    level: 'warning',
    summary: 'kernel-hardening-checker is installed but gave no usable JSON report for an installed kernel',
    message: (f) => `kernel-hardening-checker -m json on ${f.package}'s .config: ${f.reason}`,
    fix: () =>
      'run it by hand to see why; re-merge it if it is broken: emerge --ask --oneshot app-admin/kernel-hardening-checker',
  }),
  // pgo -------------------------------------------------------------------------------------------
  'pgo-instrumented-running': kind<{ package: string; pv: string }>({
    level: 'warning',
    summary: 'the running kernel is still gcov-instrumented (slower, larger) though its profile is in use',
    message: (f) =>
      `the running kernel is gcov-instrumented (${file(f)} exists), slower and larger than it needs to be: ${f.package} uses its profile now`,
    fix: (f) => `build the profiled kernel: emerge --ask --oneshot =${f.package}-${f.pv}, then reboot into it`,
  }),
  'pgo-profile-broken': kind<{ package: string; problem: string }>({
    level: 'error',
    summary: 'the profile a package uses is missing or damaged (its next build gets none)',
    message: (f) => `${f.package} uses the profile ${file(f)}, which ${f.problem}`,
    fix: (f) =>
      `stop using it: gentoo-kopt pgo off --package ${f.package} (or record it again: boot the instrumented kernel and run gentoo-kopt pgo collect)`,
  }),
  'pgo-profile-other-line': kind<{ package: string; pv: string; installed: string }>({
    level: 'warning',
    summary: 'the profile in use was recorded on another kernel line than the installed kernel (not applied)',
    message: (f) =>
      `${f.package}'s profile is for ${f.pv}, but the installed kernel is ${f.installed}, another kernel line: the hook applies a profile to its own version only, so the next build gets none`,
    fix: (f) => `record a new profile on ${f.installed}: gentoo-kopt pgo instrument --package ${f.package}`,
  }),
  'pgo-vmlinux-missing': kind<{ package: string; pgoKind: string; packageUse: string }>({
    level: 'error',
    summary:
      'a package is instrumented for AutoFDO/Propeller, and its installed kernel has no vmlinux (dist-kernels install it with USE=debug only)',
    message: (f) =>
      `${f.package} is instrumented for ${f.pgoKind}, and pgo convert needs the kernel's vmlinux, but ${file(f)} does not exist: a dist-kernel installs it only with USE=debug`,
    fix: (f) =>
      `enable USE=debug for it and build it again: mkdir -p ${path.dirname(f.packageUse)} && echo '${f.package} debug' >> ${f.packageUse} && emerge --ask --oneshot ${f.package} (then boot it and run gentoo-kopt pgo record)`,
  }),
  'pgo-tool-missing': kind<{
    package: string;
    pgoKind: string;
    tools: string[];
    packages: string[];
    unpackaged: boolean;
  }>({
    level: 'error',
    summary:
      "a package is instrumented for AutoFDO/Propeller, and perf, the LLVM slot's llvm-profgen or (Propeller) create_llvm_prof is missing",
    message: (f) =>
      `${f.package} is instrumented for ${f.pgoKind}: pgo record and pgo convert need ${and(f.tools)}, which ${f.tools.length > 1 ? 'are' : 'is'} missing or not executable`,
    fix: (f) => {
      const own =
        'build create_llvm_prof from google/autofdo, a release newer than v0.30.1, and install it in /usr/local/bin: no distribution packages it';
      const perf = f.packages.filter((p) => p === 'dev-util/perf');
      const llvm = f.packages.filter((p) => p !== 'dev-util/perf');
      const emerge = [
        ...(perf.length ? [`emerge --ask ${perf.join(' ')}`] : []),
        ...(llvm.length ? [`emerge --ask --oneshot ${llvm.join(' ')}`] : []),
      ].join(' && ');
      if (!emerge) return own;
      return `${emerge}${f.unpackaged ? ` (and ${own})` : ''}`;
    },
  }),
  'pgo-no-branch-sampling': kind<{ package: string; pgoKind: string; reason: string }>({
    level: 'warning',
    summary:
      'a package is instrumented for AutoFDO/Propeller, and this CPU offers no branch sampling (Intel LBR, AMD BRS or LbrExtV2)',
    message: (f) => `${f.package} is instrumented for ${f.pgoKind}, but ${f.reason}`,
    fix: () =>
      'record the profile on a machine whose CPU samples branches (Intel with LBR; AMD Zen 3 with BRS, Zen 4 and newer with LbrExtV2), running this kernel; in a virtual machine, pass LBR through to the guest',
  }),
} as const;

/** What gentoo-kopt does about an unsafe file, so what the finding costs (none: bashrc, kopt.conf). */
export type UnsafeEffect = 'settings-ignored' | 'hook-not-read' | 'not-run';
const EFFECT: Record<UnsafeEffect, string> = {
  'settings-ignored': 'the hook ignores this file, so kopt.conf is not applied',
  'hook-not-read': 'the bashrc block does not read the hook then, so kopt.conf is not applied',
  'not-run': 'the hook does not run it then, so kernels are built without syncing their patches',
};
const ROLE: Record<string, string> = {
  hook: 'hook script',
  settings: 'compiled settings file',
  'lto-fragment': 'LTO config fragment',
  'config-fragment': 'config fragment',
};
const OUTDATED: Record<string, string> = {
  hook: 'the installed hook script differs from the one this version of gentoo-kopt ships',
  settings:
    'the compiled settings differ from kopt.conf (kopt.conf changed since the last hooks install): emerge still uses the old ones',
  'lto-fragment': "the LTO config fragment differs from what kopt.conf's lto asks for",
  'config-fragment':
    'the config fragment differs from what kopt.conf asks for (optimize, harden, native, disable, enable): run gentoo-kopt hooks install',
};
