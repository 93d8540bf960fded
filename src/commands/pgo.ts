// `gentoo-kopt pgo instrument|collect|use|status|off`: profile-guided kernels through emerge (the wiki's
// gcov recipe for dist-kernels; Clang AutoFDO and Propeller). Every write is one transaction (undone by
// `gentoo-kopt rollback`, shown first by --pretend): pgo's own files (state.json, the config fragment,
// the profile store) owned through the ledger as owner `pgo`, and the hook settings recompiled with
// the pgo keys (owner `hooks`), so the next emerge of the package gets them from the installed hook.
import path from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { loadConfig, settingsFor } from '../config/kopt-conf.js';
import { planHooks } from '../hooks/install-plan.js';
import { parseSettings, SETTINGS_REL } from '../hooks/settings.js';
import { parseCpv } from '../portage/atom.js';
import { kernelVersion } from '../portage/kernel-version.js';
import type { Roots } from '../portage/roots.js';
import { sha256 } from '../system/fs.js';
import { acquireLock } from '../system/lock.js';
import { LEDGER_REL, readLedger, type LoadedLedger, type OwnedFile, type PgoRole } from '../system/ledger.js';
import { planOwned, stateLines, STATES, type State, type Wanted } from '../system/ownership.js';
import type { Op } from '../system/plan.js';
import { readOptional } from '../system/read.js';
import { commitTransaction, faultFromEnv, recoverIncomplete } from '../system/transaction.js';
import { readGcovTree } from '../pgo/collect.js';
import { detectSampling, pvOfRelease, recordArgs, samplingName, vmlinuxPath } from '../pgo/autofdo.js';
import { ProcessError, runInteractive, runText, runToFiles } from '../system/exec.js';
import { lstatIfExists } from '../system/fs.js';
import os from 'node:os';
import { pgoFragment } from '../pgo/fragment.js';
import { listProfiles, checkProfile, type StoredProfile } from '../pgo/profiles.js';
import {
  FRAGMENT_REL,
  gcdaName,
  GCOV_PROFILE_ALL_ARCHES,
  hostArch,
  profileRel,
  readPgoState,
  serializeMeta,
  serializeState,
  STATE_REL,
  type PgoEntry,
  type PgoKind,
  type PgoState,
  type ProfileMeta,
} from '../pgo/store.js';
import type { CommandContext, CommandResult } from './types.js';

export type PgoAction = 'instrument' | 'collect' | 'use' | 'status' | 'off' | 'record' | 'convert';

export interface PgoOptions {
  action: PgoAction;
  pretend: boolean;
  /** instrument, use, off: category/pn; collect: category/pn-PV (default: from the build directory). */
  package?: string;
  kind?: PgoKind;
  /** collect: the gcov tree (default: ${ROOT}/sys/kernel/debug/gcov). */
  from?: string;
  /** use: the profile, category/pn-PV (default: the package's newest). */
  cpv?: string;
  /** use: apply the profile to builds of this PV instead of its own (same kernel line). */
  forPv?: string;
  force?: boolean;
  /** record: the workload; its perf.data goes to `perfData`. */
  command?: string[];
  /** record, convert: the perf.data file (default: ./perf.data). */
  perfData?: string;
  /** convert: the running kernel's vmlinux (default: ${ROOT}/usr/src/linux-<release>/vmlinux). */
  vmlinux?: string;
}

export interface PgoReport {
  action: PgoAction;
  pretend: boolean;
  package?: string;
  /** What was done or found, one line each. */
  summary: string[];
  files: { path: string; state: State }[];
  warnings: string[];
  /** What to do next. */
  next: string[];
  state: PgoState;
  profiles: (ProfileMeta & { path: string })[];
  changed: boolean;
  transaction?: string;
  diffs?: string[];
}

const file = (rel: string, role: PgoRole, content: string | Buffer): Wanted<'pgo'> => ({
  file: { path: rel, role, sha256: sha256(content) },
  content: Buffer.from(content),
});
const editable = (f: OwnedFile<'pgo'>): boolean => f.role === 'fragment';

/** The package an action is about: --package, else kopt.conf's only package. */
async function packageOf(roots: Roots, given: string | undefined): Promise<string> {
  const config = await loadConfig(roots);
  const packages = config.global.packages;
  const cpn = given ?? (packages.length === 1 ? packages[0] : undefined);
  if (!cpn) throw new UsageError(`kopt.conf manages ${packages.join(', ')}: name one with --package CATEGORY/PN`);
  if (!packages.includes(cpn))
    throw new ConfigError(`${cpn} is not a package kopt.conf manages (packages = ${packages.join(' ')})`, {
      file: config.file,
      hint: `add ${cpn} to packages in kopt.conf, then run gentoo-kopt hooks install`,
    });
  return cpn;
}

/** instrument's prerequisites: the toolchain of the package and the architecture suit the kind. */
async function checkInstrument(roots: Roots, cpn: string, kind: PgoKind, warnings: string[]): Promise<void> {
  const config = await loadConfig(roots);
  const s = settingsFor(config, cpn);
  const arch = hostArch();
  if (kind === 'gcov') {
    if (s.toolchain !== 'gnu')
      throw new ConfigError(`gcov profiles are GCC's: ${cpn} has toolchain = ${s.toolchain}`, {
        file: config.file,
        hint: 'with toolchain = llvm use Clang AutoFDO: gentoo-kopt pgo instrument --autofdo',
      });
    if (!GCOV_PROFILE_ALL_ARCHES.has(arch))
      throw new UsageError(`the kernel cannot profile itself on ${arch}: it has no ARCH_HAS_GCOV_PROFILE_ALL`);
    return;
  }
  const need = kind === 'propeller' ? 19 : 17;
  if (s.toolchain !== 'llvm')
    throw new ConfigError(`${kind === 'propeller' ? 'Propeller' : 'AutoFDO'} needs Clang: ${cpn} has toolchain = gnu`, {
      file: config.file,
      hint: 'set toolchain = llvm in kopt.conf (then gentoo-kopt hooks install), or use gcov: gentoo-kopt pgo instrument',
    });
  if (s.llvmSlot !== undefined && s.llvmSlot < need)
    throw new ConfigError(`${kind} needs clang ${need} or newer: ${cpn} has llvm-slot = ${s.llvmSlot}`, {
      file: config.file,
      hint: `set llvm-slot to ${need} or newer (or leave it empty for the newest)`,
    });
  if (arch !== 'x86' || (kind === 'propeller' && process.arch !== 'x64'))
    throw new UsageError(`${kind} kernels are built on x86${kind === 'propeller' ? '_64' : ''} only (this is ${arch})`);
  warnings.push(
    `AUTOFDO_CLANG${kind === 'propeller' ? ' and PROPELLER_CLANG' : ''} exist from kernel 6.13: olddefconfig drops them from older kernels without a word`,
  );
}

interface Planned {
  ops: Op[];
  files: { path: string; state: State }[];
  diffs: string[];
  warnings: string[];
}

/**
 * pgo's files brought to `next` (state.json and the fragment; `profiles` replace the store directory
 * `replace`), then the hook settings recompiled on the ledger that leaves, all in one list of operations.
 */
async function plan(
  roots: Roots,
  opts: PgoOptions,
  next: PgoState,
  profiles?: { dir: string; files: Wanted<'pgo'>[] },
): Promise<Planned> {
  const loaded = await readLedger(roots);
  const stateText = serializeState(next);
  const fragment = pgoFragment(next);
  const wanted = profiles
    ? profiles.files
    : [
        ...(stateText ? [file(STATE_REL, 'state', stateText)] : []),
        ...(fragment ? [file(FRAGMENT_REL, 'fragment', fragment)] : []),
      ];
  const own = await planOwned(roots, loaded, 'pgo', wanted, {
    force: opts.force,
    editable,
    prunable: profiles
      ? (f) => f.role === 'profile' && f.path.startsWith(`${profiles.dir}/`)
      : (f) => f.role !== 'profile',
  });
  const conflict = own.changes.find((c) => c.state === 'conflict');
  if (conflict)
    throw new UsageError(
      `a file gentoo-kopt did not write is in the way: ${path.join(roots.configRoot, conflict.file.path)}; nothing was changed`,
      {
        hint: 'move it aside, then run the command again',
      },
    );
  const warnings = own.changes
    .filter((c) => c.state === 'kept-edited' || c.state === 'kept-stale')
    .map((c) => `${path.join(roots.configRoot, c.file.path)}: edited by you, so kept as it is (${STATES[c.state].is})`);
  const files = own.changes.map((c) => ({ path: path.join(roots.configRoot, c.file.path), state: c.state }));
  const diffs = profiles ? [] : await own.diffs();
  if (profiles) return { ops: own.ops, files, diffs, warnings };

  const hooksInstalled = loaded.ledger.hooks.files.some((f) => f.path === SETTINGS_REL);
  if (!hooksInstalled) {
    if (Object.keys(next.packages).length)
      throw new UsageError(
        'pgo reaches the build through the kernel hook, which is not installed: nothing was changed',
        {
          hint: 'run: gentoo-kopt hooks install, then this command again',
        },
      );
    return { ops: own.ops, files, diffs, warnings };
  }
  // The hooks' plan starts from the ledger pgo's plan leaves; its ledger write then carries both parts.
  const ledgerPaths = new Set([LEDGER_REL, ...loaded.legacy].map((r) => path.join(roots.configRoot, r)));
  const after: LoadedLedger = { ...loaded, ledger: own.ledger };
  // The program the hook runs stays the one `hooks install` compiled in.
  const settings = parseSettings(
    (await readOptional(path.join(roots.configRoot, SETTINGS_REL), 'config', { inside: roots.configRoot }))?.toString(
      'utf8',
    ) ?? '',
  );
  const node = settings.get('node');
  const bin = settings.get('bin');
  const program = node && bin ? { node, bin } : undefined;
  const hooks = await planHooks(roots, {
    action: 'install',
    pretend: opts.pretend,
    pgo: next,
    ledger: after,
    ...(program && { program }),
  });
  const hookOps = opts.pretend ? [] : hooks.ops;
  const changed = hooks.data.files.filter((f) => f.state !== 'unchanged');
  return {
    ops: [...own.ops.filter((o) => !ledgerPaths.has(o.path)), ...hookOps],
    files: [...files, ...changed.map((f) => ({ path: f.path, state: f.state }))],
    diffs: [...diffs, ...(hooks.data.diffs ?? [])],
    warnings: [...warnings, ...hooks.data.warnings],
  };
}

/** The emerge that builds the package again. */
const emergeLine = (cpn: string, pv?: string): string => `emerge --ask --oneshot ${pv ? `=${cpn}-${pv}*` : cpn}`;

async function instrument(roots: Roots, opts: PgoOptions, r: PgoReport): Promise<PgoState> {
  const cpn = await packageOf(roots, opts.package);
  const kind = opts.kind ?? 'gcov';
  await checkInstrument(roots, cpn, kind, r.warnings);
  r.package = cpn;
  const next: PgoState = { packages: { ...r.state.packages, [cpn]: { mode: 'instrument', kind } } };
  r.summary.push(`${cpn}: the next build is instrumented for ${kind} profiles`);
  if (kind === 'gcov')
    r.next.push(
      `${emergeLine(cpn)}   (an instrumented kernel is slower and larger: use it only to record the profile)`,
      'boot it, run your usual work for a while (the longer and more varied, the better the profile)',
      'gentoo-kopt pgo collect   (copies /sys/kernel/debug/gcov into the profile store)',
      'gentoo-kopt pgo use, then emerge the same version again and reboot into it',
    );
  else
    r.next.push(
      `${emergeLine(cpn)}   (with USE=debug: pgo convert needs the kernel's vmlinux)`,
      'boot it, then: gentoo-kopt pgo record -- <your workload>',
      'gentoo-kopt pgo convert, gentoo-kopt pgo use, then emerge it again and reboot',
    );
  return next;
}

async function use(roots: Roots, opts: PgoOptions, r: PgoReport): Promise<PgoState> {
  const given = opts.cpv ? parseCpv(opts.cpv) : undefined;
  const cpn = given?.cpn ?? (await packageOf(roots, opts.package));
  if (given) await packageOf(roots, given.cpn);
  r.package = cpn;
  const stored = await listProfiles(roots, cpn);
  const chosen = given ? stored.find((p) => p.meta.pv === given.pv) : stored.at(-1);
  if (!chosen)
    throw new UsageError(
      given
        ? `no profile for ${cpn}-${given.pv} in the store${stored.length ? ` (there are: ${stored.map((p) => p.meta.pv).join(', ')})` : ''}`
        : `no profile for ${cpn} in the store`,
      { hint: 'record one first: gentoo-kopt pgo instrument, emerge, boot, work, gentoo-kopt pgo collect' },
    );
  await checkProfile(roots, chosen);
  const config = await loadConfig(roots);
  const tc = settingsFor(config, cpn).toolchain;
  if (chosen.meta.kind !== 'gcov' && tc !== 'llvm')
    throw new ConfigError(`${chosen.rel} is a Clang ${chosen.meta.kind} profile, but ${cpn} has toolchain = ${tc}`, {
      file: config.file,
      hint: 'set toolchain = llvm for it (then gentoo-kopt hooks install)',
    });
  if (chosen.meta.kind === 'gcov' && tc !== 'gnu')
    throw new ConfigError(`${chosen.rel} is a GCC (gcov) profile, but ${cpn} has toolchain = ${tc}`, {
      file: config.file,
      hint: 'set toolchain = gnu for it, or record an AutoFDO profile',
    });
  if (chosen.meta.arch !== hostArch())
    throw new ConfigError(`was recorded on ${chosen.meta.arch}; this machine builds ${hostArch()} kernels`, {
      file: path.join(roots.configRoot, chosen.rel, 'profile.json'),
      hint: 'record a profile on a kernel of this architecture',
    });
  let pv = chosen.meta.pv;
  if (opts.forPv) {
    const line = (v: string): string => kernelVersion(v).split('.').slice(0, 2).join('.');
    if (line(opts.forPv) !== line(pv))
      throw new UsageError(`--for ${opts.forPv}: the profile was recorded on ${pv}, another kernel line`, {
        hint: 'record a new profile on that kernel: gentoo-kopt pgo instrument',
      });
    if (opts.forPv !== pv)
      r.warnings.push(
        `the profile of ${pv} is applied to ${opts.forPv}: functions whose code changed lose their profile, and a function added before others shifts the ids of those after it (they may take another function's counts); record a new profile soon`,
      );
    pv = opts.forPv;
  }
  const entry: PgoEntry = { mode: 'use', kind: chosen.meta.kind, pv, profile: chosen.rel };
  r.summary.push(
    `${cpn}-${pv}: its next build uses the ${chosen.meta.kind} profile ${path.join(roots.configRoot, chosen.rel)}`,
  );
  if (chosen.meta.kind === 'gcov')
    r.summary.push('the instrumentation fragment goes (the profiled kernel is not instrumented)');
  r.next.push(
    `${emergeLine(cpn, pv)}   (the hook adds the profile to that version's build only)`,
    'reboot into the new kernel',
  );
  return { packages: { ...r.state.packages, [cpn]: entry } };
}

async function off(_roots: Roots, opts: PgoOptions, r: PgoReport): Promise<PgoState> {
  const cpn =
    opts.package ?? (Object.keys(r.state.packages).length === 1 ? Object.keys(r.state.packages)[0] : undefined);
  if (!cpn) {
    if (!Object.keys(r.state.packages).length) r.summary.push('pgo is off for every package');
    else throw new UsageError(`pgo is set for ${Object.keys(r.state.packages).join(', ')}: name one with --package`);
    return r.state;
  }
  r.package = cpn;
  const { [cpn]: was, ...rest } = r.state.packages;
  r.summary.push(was ? `${cpn}: pgo off (was ${was.kind} ${was.mode})` : `${cpn}: pgo was not set`);
  if (was) r.next.push(`${emergeLine(cpn)}   (builds it without instrumentation or profile)`);
  r.summary.push('the profile store is kept');
  return { packages: rest };
}

async function collect(roots: Roots, opts: PgoOptions, r: PgoReport): Promise<{ dir: string; files: Wanted<'pgo'>[] }> {
  const debugfs = path.join(roots.root, 'sys/kernel/debug');
  const from = opts.from ?? path.join(debugfs, 'gcov');
  const tree = await readGcovTree(from, opts.from ? {} : { debugfs });
  const cpv = opts.package ? parseCpv(opts.package) : tree.cpv;
  if (!cpv)
    throw new UsageError(`cannot tell which package the build directory ${tree.buildDir ?? from} belongs to`, {
      hint: 'name it: --package CATEGORY/PN-PV (the version the instrumented kernel was built from)',
    });
  await packageOf(roots, cpv.cpn);
  r.package = cpv.cpn;
  const dir = profileRel(cpv.cpn, cpv.pv);
  const meta: ProfileMeta = {
    kind: 'gcov',
    cpv: `${cpv.category}/${cpv.pf}`,
    pv: cpv.pv,
    ...(tree.buildDir && { buildDir: tree.buildDir }),
    arch: hostArch(),
    gccMajor: tree.gccMajor,
    files: tree.files.length,
    sumMax: tree.sumMax,
    collected: new Date().toISOString(),
  };
  r.summary.push(
    `${tree.files.length} object profiles (${tree.ran} ran) from ${tree.buildDir ?? tree.from}, GCC ${tree.gccMajor}`,
    `object summary added to ${tree.summarised} of them (runs 1, sum_max ${tree.sumMax}): the kernel writes none, and GCC ignores a profile without it`,
    `into ${path.join(roots.configRoot, dir)} (${meta.cpv})`,
  );
  const state = r.state.packages[cpv.cpn];
  r.next.push(
    state?.mode === 'use' && state.profile === dir
      ? `${emergeLine(cpv.cpn, state.pv)}   (the profile in use was replaced)`
      : `gentoo-kopt pgo use${opts.package ? ` ${opts.package}` : ''}`,
  );
  return {
    dir,
    files: [
      file(`${dir}/profile.json`, 'profile', serializeMeta(meta)),
      ...tree.files.map((f) => file(`${dir}/gcov/${gcdaName(f.rel)}`, 'profile', f.bytes)),
    ],
  };
}

/** The package AutoFDO/Propeller is set up for (pgo instrument --autofdo), and its kind. */
function clangEntry(r: PgoReport, given?: string): { cpn: string; kind: PgoKind } {
  const entries = Object.entries(r.state.packages).filter(([n, e]) => e.kind !== 'gcov' && (!given || n === given));
  if (entries.length !== 1)
    throw new UsageError(
      entries.length
        ? 'several packages are set up for AutoFDO: name one with --package'
        : 'no package is set up for AutoFDO or Propeller',
      {
        hint: 'run: gentoo-kopt pgo instrument --autofdo (or --propeller), emerge the kernel with USE=debug and boot it',
      },
    );
  return { cpn: entries[0]![0], kind: entries[0]![1].kind };
}

async function record(ctx: CommandContext, opts: PgoOptions, r: PgoReport): Promise<number> {
  const sampling = await detectSampling(ctx.roots);
  const out = path.resolve(opts.perfData ?? 'perf.data');
  const plan = recordArgs(sampling, out, opts.command ?? []);
  if ('refused' in plan)
    throw new UsageError(plan.refused, { hint: 'gentoo-kopt doctor lists what AutoFDO needs on this machine' });
  if (!opts.command?.length) throw new UsageError('name the workload to record: gentoo-kopt pgo record -- COMMAND...');
  r.summary.push(`perf ${plan.args.join(' ')}   (${samplingName(sampling)}, the whole system, kernel branches)`);
  if (opts.pretend) return 0;
  const status = await runInteractive('perf', plan.args, { env: ctx.env }).catch((err: unknown) => {
    if (err instanceof ProcessError && err.notFound)
      throw new UsageError('perf is not installed', { hint: 'emerge --ask dev-util/perf' });
    throw err;
  });
  if (status !== 0)
    throw new UsageError(`perf record failed with exit status ${status}`, { hint: 'see what perf said above' });
  r.summary.push(`recorded into ${out}`);
  r.next.push(`gentoo-kopt pgo convert --perf-data ${out}`);
  return status;
}

async function convert(
  ctx: CommandContext,
  opts: PgoOptions,
  r: PgoReport,
): Promise<{ dir: string; files: Wanted<'pgo'>[] }> {
  const { roots } = ctx;
  const given = opts.package ? parseCpv(opts.package) : undefined;
  const { cpn, kind } = clangEntry(r, given?.cpn);
  r.package = cpn;
  const release = os.release();
  const pv = given?.pv ?? pvOfRelease(release);
  if (!pv)
    throw new UsageError(`cannot tell the version of the running kernel ${release}: pass --package CATEGORY/PN-PV`);
  const vmlinux = opts.vmlinux ?? vmlinuxPath(roots, release);
  if (!(await lstatIfExists(vmlinux))?.isFile())
    throw new UsageError(`no vmlinux at ${vmlinux}: a dist-kernel installs it only with USE=debug`, {
      hint: `rebuild the kernel with it: echo '${cpn} debug' >> /etc/portage/package.use/gentoo-kopt-pgo, emerge --ask --oneshot =${cpn}-${pv}, reboot into it and record again (or name it with --vmlinux)`,
    });
  const perfData = path.resolve(opts.perfData ?? 'perf.data');
  if (!(await lstatIfExists(perfData))?.isFile())
    throw new UsageError(`no perf data at ${perfData}`, { hint: 'record it: gentoo-kopt pgo record -- COMMAND' });
  const tool = async (
    command: string,
    hint: string,
    run: () => Promise<{ status: number; stderr: string; files: Map<string, Buffer> }>,
  ) =>
    run().catch((err: unknown) => {
      throw err instanceof ProcessError && err.notFound ? new UsageError(`${command} is not installed`, { hint }) : err;
    });
  const limits = { timeoutMs: 60 * 60 * 1000, max: 256 * 1024 * 1024, env: ctx.env };
  // Validated before it is stored: llvm-profdata must read it back as a sample profile.
  let invalid = '';
  const validate = async (d: string): Promise<void> => {
    const show = await runText('llvm-profdata', ['show', '--sample', path.join(d, 'kernel.afdo')], limits);
    if (show.status !== 0) invalid = show.stderr.trim().split('\n').slice(-2).join(' ') || `exit status ${show.status}`;
  };
  const gen = await tool('llvm-profgen', 'emerge --ask llvm-core/llvm (19 or newer: llvm-profgen --kernel)', () =>
    runToFiles(
      'llvm-profgen',
      (d) => ['--kernel', `--binary=${vmlinux}`, `--perfdata=${perfData}`, `--output=${path.join(d, 'kernel.afdo')}`],
      ['kernel.afdo'],
      { ...limits, inspect: validate },
    ),
  );
  if (invalid)
    throw new UsageError(`llvm-profgen wrote a profile llvm-profdata cannot read: ${invalid}`, {
      hint: 'record again (pgo record), on the kernel of this vmlinux',
    });
  const afdo = gen.files.get('kernel.afdo');
  if (gen.status !== 0 || !afdo?.length)
    throw new UsageError(
      `llvm-profgen failed (exit status ${gen.status}): ${gen.stderr.trim().split('\n').slice(-3).join(' ')}`,
      {
        hint: 'the perf data must be recorded on the kernel this vmlinux belongs to, with branch stacks (pgo record)',
      },
    );
  const files = new Map([['kernel.afdo', afdo]]);
  if (kind === 'propeller') {
    const prop = await tool(
      'create_llvm_prof',
      'build create_llvm_prof from google/autofdo (newer than v0.30.1): no distribution packages it',
      () =>
        runToFiles(
          'create_llvm_prof',
          (d) => [
            '--format=propeller',
            `--binary=${vmlinux}`,
            `--profile=${perfData}`,
            `--out=${path.join(d, 'propeller_cc_profile.txt')}`,
            `--propeller_symorder=${path.join(d, 'propeller_ld_profile.txt')}`,
          ],
          ['propeller_cc_profile.txt', 'propeller_ld_profile.txt'],
          limits,
        ),
    );
    if (prop.status !== 0 || prop.files.size !== 2)
      throw new UsageError(
        `create_llvm_prof failed (exit status ${prop.status}): ${prop.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
    for (const [n, b] of prop.files) files.set(n, b);
  }
  const dir = profileRel(cpn, pv);
  const meta: ProfileMeta = {
    kind,
    cpv: `${cpn}-${pv}`,
    pv,
    arch: hostArch(),
    files: files.size,
    collected: new Date().toISOString(),
  };
  r.summary.push(
    `${kind} profile of ${cpn}-${pv} from ${perfData} and ${vmlinux}: ${[...files.keys()].join(', ')}`,
    `into ${path.join(roots.configRoot, dir)}`,
  );
  r.next.push(`gentoo-kopt pgo use ${cpn}-${pv}`);
  return {
    dir,
    files: [
      file(`${dir}/profile.json`, 'profile', serializeMeta(meta)),
      ...[...files].map(([n, b]) => file(`${dir}/${n}`, 'profile', b)),
    ],
  };
}

export async function pgoCommand(ctx: CommandContext, opts: PgoOptions): Promise<CommandResult<PgoReport>> {
  const { roots } = ctx;
  const write = opts.action !== 'status' && !opts.pretend;
  const lock = write ? await acquireLock(roots, `pgo ${opts.action}`) : undefined;
  try {
    if (write) await recoverIncomplete(roots);
    const r: PgoReport = {
      action: opts.action,
      pretend: opts.pretend,
      summary: [],
      files: [],
      warnings: [],
      next: [],
      state: await readPgoState(roots),
      profiles: [],
      changed: false,
    };
    let planned: Planned | undefined;
    let exitCode = 0;
    if (opts.action === 'collect') planned = await plan(roots, opts, r.state, await collect(roots, opts, r));
    else if (opts.action === 'convert') planned = await plan(roots, opts, r.state, await convert(ctx, opts, r));
    else if (opts.action === 'record') exitCode = await record(ctx, opts, r);
    else if (opts.action !== 'status') {
      const act = { instrument, use, off }[opts.action];
      const next = await act(roots, opts, r);
      planned = await plan(roots, opts, next);
      r.state = next;
    }
    if (planned) {
      r.files = planned.files.filter((f) => f.state !== 'unchanged');
      r.warnings.push(...planned.warnings);
      r.changed = planned.ops.length > 0 || (opts.pretend && r.files.length > 0);
      if (opts.pretend) r.diffs = planned.diffs;
      else if (planned.ops.length) {
        const tx = await commitTransaction(roots, planned.ops, {
          command: `pgo ${opts.action}`,
          ...faultFromEnv(ctx.env),
        });
        r.transaction = tx.id;
        r.warnings.push(...tx.notes);
      }
    }
    for (const cpn of new Set([...Object.keys(r.state.packages), ...(r.package ? [r.package] : [])]))
      for (const p of await listProfiles(roots, cpn))
        r.profiles.push({ ...p.meta, path: path.join(roots.configRoot, p.rel) });
    return { data: r, text: render(r), exitCode };
  } finally {
    await lock?.release();
  }
}

export function render(r: PgoReport): string {
  const out: string[] = [];
  if (r.action === 'status') {
    const names = Object.keys(r.state.packages);
    out.push(names.length ? 'gentoo-kopt pgo:' : 'gentoo-kopt pgo: off');
    for (const n of names) {
      const e = r.state.packages[n]!;
      out.push(`  ${n}: ${e.kind} ${e.mode}${e.mode === 'use' ? ` for ${e.pv}, profile ${e.profile}` : ''}`);
    }
    out.push(r.profiles.length ? 'profiles in the store:' : 'no profile in the store');
    for (const p of r.profiles)
      out.push(`  ${p.cpv} (${p.kind}, ${p.arch}, ${p.files} files, collected ${p.collected}): ${p.path}`);
  } else {
    out.push(...r.summary);
    if (r.files.length) out.push(r.pretend ? 'Would change:' : 'Changes:', ...stateLines(r.files).slice(0, 12));
    if (r.files.length > 12) out.push(`  ... and ${r.files.length - 12} more`);
    if (!r.files.length) out.push('  nothing to change');
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.transaction) out.push('', `Transaction ${r.transaction} applied; undo it with: gentoo-kopt rollback`);
  if (r.next.length && !r.pretend) out.push('', 'Next:', ...r.next.map((n, i) => `  ${i + 1}. ${n}`));
  if (r.pretend && r.changed && r.diffs?.length)
    out.push('', 'Nothing was written (--pretend). The changes as a diff:', '', ...r.diffs);
  else if (r.pretend) out.push('', 'Nothing was written (--pretend).');
  return out.join('\n');
}

export type { StoredProfile };
