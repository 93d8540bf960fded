// gentoo-kopt init: a first kopt.conf for this system, every key of the schema with its description as
// a comment; set from what is installed: `packages` = the source-built dist-kernels in the VDB, and
// with a complete LLVM slot in the VDB (clang, lld and llvm of one major) toolchain = llvm,
// llvm-slot = that slot and lto = thin, else toolchain = gnu and lto = none. An owned write (ledger
// owner `init`, src/system/ownership.ts) in one transaction (`gentoo-kopt rollback` undoes it);
// --pretend shows it as a diff. An existing kopt.conf, whoever wrote it, is never overwritten.
import path from 'node:path';
import { KEYS } from '../config/schema.js';
import { KoptError } from '../errors.js';
import { LLVM_PACKAGES } from '../doctor/shared.js';
import { einfo, PLAIN, type Style } from '../output.js';
import { koptConfigPath, type Roots } from '../portage/roots.js';
import { readInstalled } from '../portage/vdb.js';
import { lstatIfExists, sha256 } from '../system/fs.js';
import { readLedger } from '../system/ledger.js';
import { acquireLock } from '../system/lock.js';
import { planOwned, stateLines, type State } from '../system/ownership.js';
import { commitTransaction, recoverIncomplete } from '../system/transaction.js';
import type { CommandContext, CommandResult } from './types.js';

/** Dist-kernels built from source (gentoo-kernel-bin is prebuilt: patches and flags do nothing for it). */
export const DIST_KERNELS: readonly string[] = ['sys-kernel/gentoo-kernel', 'sys-kernel/vanilla-kernel'];
const KOPT_CONF_REL = 'etc/gentoo-kopt/kopt.conf';

export interface InitFacts {
  /** The installed dist-kernel packages (category/package). */
  kernels: string[];
  /** The newest LLVM major with clang, lld and llvm installed. */
  llvmSlot?: number;
}

export interface InitReport {
  pretend: boolean;
  file: string;
  facts: InitFacts;
  /** The values init sets (the rest stay commented out, at their defaults). */
  values: Record<string, string>;
  changes: { state: State; path: string }[];
  transaction?: string;
  diffs?: string[];
}

/** What init reads: installed dist-kernels and complete LLVM slots, from the VDB. */
export async function initFacts(roots: Roots): Promise<InitFacts> {
  const required = LLVM_PACKAGES.filter((p) => p.required && p.perSlot);
  const cpns = [...DIST_KERNELS, ...required.flatMap((p) => [p.current, p.old])];
  const { packages } = await readInstalled(roots, { cpns });
  const kernels = DIST_KERNELS.filter((k) => packages.some((p) => p.cpv.cpn === k));
  const slotsOf = (row: (typeof required)[number]): Set<number> =>
    new Set(
      packages
        .filter((p) => p.cpv.cpn === row.current || p.cpv.cpn === row.old)
        .map((p) => Number(p.slot))
        .filter((n) => Number.isInteger(n) && n > 0),
    );
  const [first, ...rest] = required.map(slotsOf);
  const complete = [...(first ?? [])].filter((n) => rest.every((s) => s.has(n)));
  return { kernels, ...(complete.length ? { llvmSlot: Math.max(...complete) } : {}) };
}

/** The values init sets for these facts. */
export function initValues(facts: InitFacts): Record<string, string> {
  return {
    ...(facts.kernels.length ? { packages: facts.kernels.join(' ') } : {}),
    ...(facts.llvmSlot !== undefined
      ? { toolchain: 'llvm', 'llvm-slot': String(facts.llvmSlot), lto: 'thin' }
      : { toolchain: 'gnu', lto: 'none' }),
  };
}

/** Why each value was chosen, as the comment above it. */
function why(key: string, facts: InitFacts): string | undefined {
  const slot = facts.llvmSlot;
  const kernels = facts.kernels.join(', ');
  const reasons: Record<string, string> = {
    packages: kernels ? `init found these dist-kernels installed: ${kernels}` : '',
    toolchain:
      slot !== undefined
        ? `init found LLVM ${slot} complete: clang, lld and llvm of slot ${slot}`
        : 'init found no complete LLVM slot (clang, lld and llvm of one major)',
    'llvm-slot': 'the newest complete slot; empty follows the newest one the hook finds at build time',
    lto:
      slot !== undefined ? 'Clang ThinLTO: built into the kernel by its LTO_CLANG_THIN option' : 'no LTO without LLVM',
  };
  return reasons[key] || undefined;
}

/** The text of the kopt.conf: every key, with its description; those init sets set, the others commented out. */
export function initText(facts: InitFacts): string {
  const values = initValues(facts);
  const out = [
    '# gentoo-kopt configuration, written by `gentoo-kopt init` for this system. It is yours now: edit it',
    '# (init never overwrites it), then run `gentoo-kopt hooks install` and `gentoo-kopt doctor`.',
    '# Syntax: `key = value`, one per line; comments take a whole line. A [category/package] section at',
    '# the end overrides keys for one package. Every key is listed, commented out at its default.',
  ];
  for (const k of KEYS) {
    out.push('', `# ${k.description}${k.globalOnly ? ' (global only)' : ''}`);
    const reason = why(k.name, facts);
    if (reason && values[k.name] !== undefined) out.push(`# (${reason})`);
    out.push(values[k.name] !== undefined ? `${k.name} = ${values[k.name]}` : `#${k.name} = ${k.default}`.trimEnd());
  }
  return `${out.join('\n')}\n`;
}

export async function init(ctx: CommandContext, opts: { pretend: boolean }): Promise<InitReport> {
  const { roots } = ctx;
  const file = koptConfigPath(roots, 'kopt.conf');
  const refuse = (): never => {
    throw new KoptError('kopt.conf exists: init never overwrites it', {
      file,
      hint: 'edit it (every key: etc-portage/kopt.conf in gentoo-kopt), or move it away and run gentoo-kopt init again',
    });
  };
  if (await lstatIfExists(file)) refuse();
  const lock = opts.pretend ? undefined : await acquireLock(roots, 'init');
  try {
    if (!opts.pretend) await recoverIncomplete(roots);
    if (await lstatIfExists(file)) refuse(); // written while we waited for the lock
    const facts = await initFacts(roots);
    const content = Buffer.from(initText(facts));
    const plan = await planOwned(
      roots,
      await readLedger(roots),
      'init',
      [{ file: { path: KOPT_CONF_REL, sha256: sha256(content) }, content }],
      { editable: () => true, prunable: () => false },
    );
    const report: InitReport = {
      pretend: opts.pretend,
      file,
      facts,
      values: initValues(facts),
      changes: plan.changes.map((c) => ({ state: c.state, path: c.file.path })),
    };
    if (opts.pretend) report.diffs = await plan.diffs();
    else if (plan.ops.length) report.transaction = (await commitTransaction(roots, plan.ops, { command: 'init' })).id;
    return report;
  } finally {
    await lock?.release();
  }
}

export function renderInit(r: InitReport, style: Style = PLAIN): string {
  const out = [r.pretend ? 'Would change:' : 'Changes:', ...stateLines(r.changes), ''];
  for (const [k, v] of Object.entries(r.values)) out.push(...einfo(style, `${k} = ${v}`));
  if (r.transaction)
    out.push(
      '',
      `Transaction ${r.transaction} applied; undo it with: gentoo-kopt rollback`,
      ...einfo(style, `next: review ${path.basename(r.file)}, then run: gentoo-kopt hooks install`),
    );
  if (r.pretend && r.diffs) out.push('', 'Nothing was written (--pretend). The file as a diff:', '', ...r.diffs);
  return out.join('\n');
}

export async function initCommand(ctx: CommandContext, opts: { pretend: boolean }): Promise<CommandResult<InitReport>> {
  const report = await init(ctx, opts);
  return { data: report, text: renderInit(report, ctx.style), exitCode: 0 };
}
