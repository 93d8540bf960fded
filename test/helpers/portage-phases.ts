// A small emulation of how Portage runs an ebuild's phases around /etc/portage/bashrc, for testing the
// real hook in real bash without Portage (CI has none; checks against the real Portage are run by hand,
// as test/eapply-user-portage.sh does for eapply_user). Per phase, as bin/ebuild.sh does:
//  - a fresh bash, started with only the environment Portage passes (env -i);
//  - except in depend: the environment saved by the previous phase is sourced first (${T}/environment);
//  - bashrc is sourced; the phase's hook functions are called (pre_pkg_setup, ...) if defined;
//  - the environment is saved again: variables (declare -p) and functions (declare -f), without the
//    per-phase Portage variables, bash's own, and the emulator's functions (einfo & co, as Portage
//    filters its own). die ends the phase with status 1, like Portage's die.
// The emulator records `declare -p` / `declare -F` just before and after sourcing bashrc, `export -p`
// after the phase, and every einfo/ewarn/eerror/die message.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PHASES = ['setup', 'unpack', 'prepare', 'configure', 'compile', 'install'] as const;
/**
 * Phases run on their own: a merge's, an unmerge's, pkg_pretend (run before setup), clean, package
 * (FEATURES=buildpkg), and '' for Portage's misc-functions.sh, which sources bashrc after install,
 * preinst and postinst with EBUILD_PHASE unset (lib/_emerge/MiscFunctionsProcess.py).
 */
export type OtherPhase =
  | 'pretend'
  | 'preinst'
  | 'postinst'
  | 'prerm'
  | 'postrm'
  | 'config'
  | 'info'
  | 'clean'
  | 'package'
  | '';
export type Phase = (typeof PHASES)[number] | OtherPhase | 'depend';

const HOOKS: Record<Phase, string> = {
  depend: '',
  pretend: 'pkg_pretend',
  setup: 'pkg_setup',
  unpack: 'src_unpack',
  prepare: 'src_prepare',
  configure: 'src_configure',
  compile: 'src_compile',
  install: 'src_install',
  preinst: 'pkg_preinst',
  postinst: 'pkg_postinst',
  prerm: 'pkg_prerm',
  postrm: 'pkg_postrm',
  config: 'pkg_config',
  info: 'pkg_info',
  clean: '',
  package: '',
  '': '',
};

const RUNNER = fileURLToPath(new URL('../../examples/portage-sim/phase-runner.sh', import.meta.url));
export interface Package {
  category: string;
  pn: string;
  pv: string;
  pr?: string;
}

export interface PhaseOptions {
  configRoot: string;
  /** T (and where the emulator keeps its files). */
  tmp: string;
  eprefix?: string;
  /** BROOT (default: EPREFIX); null: unset. */
  broot?: string | null;
  root?: string;
  /** Extra variables in the process environment of every phase (package.env, make.conf). */
  env?: Record<string, string>;
  /** Run with `set -x` into ${T}/xtrace.<phase> around the bashrc sourcing. */
  xtrace?: boolean;
  /** MERGE_TYPE (default source; binary: a binary package's phases, EMERGE_FROM=binary). */
  mergeType?: 'source' | 'binary';
  /** Kill a phase that runs longer (a hang then fails the test instead of blocking it): status -1. */
  timeoutMs?: number;
  /** The working directory of every phase (default: the test runner's). */
  cwd?: string;
}

export interface PhaseResult {
  phase: Phase;
  status: number;
  stderr: string;
}

/** The variables Portage gives a phase (bin/ebuild.sh's environment from doebuild.py). */
export function portageEnv(pkg: Package, phase: Phase, o: PhaseOptions): Record<string, string> {
  const pr = pkg.pr ?? 'r0';
  const p = `${pkg.pn}-${pkg.pv}`;
  const pf = pr === 'r0' ? p : `${p}-${pr}`;
  const env: Record<string, string> = {
    CATEGORY: pkg.category,
    PN: pkg.pn,
    PV: pkg.pv,
    PR: pr,
    PVR: pr === 'r0' ? pkg.pv : `${pkg.pv}-${pr}`,
    P: p,
    PF: pf,
    CHOST: 'x86_64-pc-linux-gnu',
    EBUILD_PHASE: phase,
    PORTAGE_CONFIGROOT: o.configRoot.replace(/\/?$/, '/'),
    ROOT: (o.root ?? '/').replace(/\/?$/, '/'),
    T: o.tmp,
    PORTAGE_BUILDDIR: path.dirname(o.tmp),
    MERGE_TYPE: o.mergeType ?? 'source',
    EMERGE_FROM: o.mergeType === 'binary' ? 'binary' : 'ebuild',
  };
  if (phase !== 'depend') {
    env.SLOT = pkg.category === 'sys-kernel' ? pkg.pv : '0';
    env.EPREFIX = o.eprefix ?? '';
    if (o.broot !== null) env.BROOT = o.broot ?? o.eprefix ?? '';
  }
  return env;
}

/** Runs one phase in a fresh bash; see the header. */
export async function runPhase(pkg: Package, phase: Phase, o: PhaseOptions): Promise<PhaseResult> {
  await mkdir(o.tmp, { recursive: true });
  const penv = portageEnv(pkg, phase, o);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: o.tmp,
    ...o.env,
    ...penv,
    KOPT_TEST_MSGS: path.join(o.tmp, 'messages'),
    KOPT_TEST_HOOK: HOOKS[phase],
    KOPT_TEST_FILTER: Object.keys(penv).join(' '),
    ...(o.xtrace ? { KOPT_TEST_XTRACE: '1' } : {}),
  };
  const r = spawnSync('bash', ['--noprofile', '--norc', RUNNER], {
    env,
    encoding: 'utf8',
    killSignal: 'SIGKILL',
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
  });
  return { phase, status: r.status ?? -1, stderr: r.stderr };
}

/** Runs the phases in order, stopping at the first that dies. */
export async function runPhases(
  pkg: Package,
  o: PhaseOptions,
  phases: readonly Phase[] = PHASES,
): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const phase of phases) {
    const r = await runPhase(pkg, phase, o);
    out.push(r);
    if (r.status !== 0) break;
  }
  return out;
}

const DYNAMIC =
  /^declare -[-a-zA-Z]* (_|BASH_LINENO|BASH_SOURCE|BASH_ARGC|BASH_ARGV|BASH_COMMAND|LINENO|RANDOM|SECONDS|SRANDOM|EPOCHREALTIME|EPOCHSECONDS|PIPESTATUS)(=|$)/;

/** `declare -p` or `declare -F` output recorded by the emulator, without bash's ever-changing variables. */
export async function recorded(
  tmp: string,
  what: 'vars.before' | 'vars.after' | 'funcs.before' | 'funcs.after' | 'exports',
  phase: Phase,
): Promise<string[]> {
  const text = await readFile(path.join(tmp, `${what}.${phase}`), 'utf8');
  return text.split('\n').filter((l) => l !== '' && !DYNAMIC.test(l));
}

/** Exported variables after a phase as name -> value (declare -x NAME="value"). */
export async function exported(tmp: string, phase: Phase): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of await recorded(tmp, 'exports', phase)) {
    const m = /^declare -[-a-zA-Z]* ([A-Za-z_][A-Za-z0-9_]*)(?:="(.*)")?$/.exec(line);
    if (m) out.set(m[1]!, (m[2] ?? '').replace(/\\(["\\$`])/g, '$1'));
  }
  return out;
}

/** einfo/ewarn/eerror/die lines, as 'INFO text' etc. */
export async function messages(tmp: string): Promise<string[]> {
  const text = await readFile(path.join(tmp, 'messages'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}
