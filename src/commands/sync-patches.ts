// gentoo-kopt sync-patches: the patch series matching each target kernel, in its exact-version
// directory under /etc/portage/patches, verified, with stale ones pruned: one transaction, or nothing.
import { formatWhere, KoptError } from '../errors.js';
import { loadConfig } from '../config/kopt-conf.js';
import { loadCatalog } from '../patches/catalog.js';
import { findTargets } from '../patches/targets.js';
import { repoIndex } from '../portage/repo-index.js';
import { cacheDir, fetchItem, loadFetcher } from '../patches/fetch.js';
import { desiredFiles, type TargetPlan } from '../patches/desired.js';
import { planPatches } from '../patches/plan.js';
import { verifyDesired, type TargetVerdict } from '../patches/verify-series.js';
import { readLedger } from '../system/ledger.js';
import { acquireLock } from '../system/lock.js';
import { label, stateLines, type State } from '../system/ownership.js';
import { commitTransaction, faultFromEnv, recoverIncomplete } from '../system/transaction.js';
import { einfo, ewarn, PLAIN, type Style } from '../output.js';
import type { CommandContext, CommandResult } from './types.js';

export interface SyncOptions {
  pretend: boolean;
  force: boolean;
  packages: string[];
  /** Dry-run each series against the kernel sources when they are downloaded (default on; --no-verify). */
  verify?: boolean;
  /**
   * Download what no patch source or the cache has, before the transaction (default on; --no-fetch).
   * Never with --pretend, and never inside an emerge (EBUILD_PHASE set: the hook's just-in-time sync).
   */
  fetch?: boolean;
}

export interface SyncReport {
  pretend: boolean;
  targets: TargetPlan[];
  /** The dry run of each target's series against its kernel sources (empty with --no-verify). */
  verdicts: TargetVerdict[];
  changes: { state: State; path: string; target: string; series: string; entry: string }[];
  mkdirs: string[];
  rmdirs: string[];
  /** The first release's records carried over into the ledger (or that would be, with --pretend). */
  migrated: string[];
  warnings: string[];
  ignored: string[];
  /** The URLs downloaded into the cache first (fetch.ts). */
  fetched?: string[];
  changed: boolean;
  transaction?: string;
  recovered?: string;
}

const LOCK_WAIT_MS = 60_000;

/** The dry run's verdict as a target line shows it. */
const DRY_RUN: Record<TargetVerdict['status'], string> = {
  applies: 'applies to its sources',
  fails: 'DOES NOT APPLY',
  'not-verified': 'not verified',
};

/** States a warning names, with what the user can do. */
const ATTENTION: Partial<Record<State, string>> = {
  'kept-edited': '--force replaces it, after a backup',
  'kept-stale': '--force removes it, after a backup',
  conflict: 'move it aside to let gentoo-kopt install its own',
};

export async function syncPatches(
  ctx: CommandContext,
  opts: SyncOptions,
): Promise<{ report: SyncReport; diffs: string[] }> {
  const { roots } = ctx;
  const config = await loadConfig(roots);
  if (!config.exists) {
    // Without kopt.conf nothing is wanted, so every managed file would be pruned: a deleted or
    // mistyped config root must not do that. Say so and change nothing.
    const report: SyncReport = {
      pretend: opts.pretend,
      targets: [],
      verdicts: [],
      changes: [],
      mkdirs: [],
      rmdirs: [],
      migrated: [],
      ignored: [],
      changed: false,
      warnings: [
        `${config.file} does not exist: gentoo-kopt is not configured here, nothing was done (an example: etc-portage/kopt.conf)`,
      ],
    };
    return { report, diffs: [] };
  }
  const catalog = await loadCatalog(roots);
  // Two kernels built at once (emerge --jobs) each run sync-patches from the hook: wait for the other
  // run rather than fail and build without the series.
  const lock = opts.pretend ? undefined : await acquireLock(roots, 'sync-patches', { waitMs: LOCK_WAIT_MS });
  try {
    const recovered = opts.pretend ? undefined : await recoverIncomplete(roots);
    // the targets and then their distfiles ask the repositories: one index, so each is read once
    const index = repoIndex(roots);
    const found = await findTargets(roots, config.global.packages, opts.packages, index);
    const fetched: string[] = [];
    const fetching = opts.fetch !== false && !opts.pretend && !ctx.env.EBUILD_PHASE;
    const fetcher = fetching ? await loadFetcher(roots, ctx.env) : undefined;
    const desired = await desiredFiles(config, catalog, found.targets, {
      cache: await cacheDir(roots, ctx.env, config),
      ...(fetcher && {
        fetchMissing: async (items) => {
          for (const item of items) {
            const r = await fetchItem(fetcher, item);
            if (r.status === 'fetched') fetched.push(item.url);
          }
        },
      }),
    });
    const located = (p: { file: string; line?: number; message: string }): string => `${formatWhere(p)}: ${p.message}`;
    const warnings = [...found.problems.map(located), ...found.skipped.map(located), ...desired.warnings];

    const strictMisses = desired.targets.filter((t) => t.strict && t.series.some((s) => !s.entry));
    if (strictMisses.length > 0) {
      throw new KoptError(
        `strict: no matching series entry for ${strictMisses.map((t) => `${t.target} (kernel ${t.kernel})`).join(', ')}; nothing was changed`,
        { file: config.file, hint: 'add a catalog entry for that kernel line, or set strict = no' },
      );
    }
    const verdicts =
      opts.verify !== false ? await verifyDesired(roots, ctx.env, desired, warnings, config.file, index) : [];

    // A target list read with problems may be missing versions: pruning on it could delete patches
    // still wanted, so nothing is pruned then. A just-in-time run (--package, from the hook) prunes
    // only the versions it was asked for: another kernel built at the same time may be about to apply
    // what it would remove.
    const loaded = await readLedger(roots);
    if (found.problems.length > 0)
      warnings.push('problems while reading installed or available versions: nothing is pruned this run');
    const requested = new Set(
      found.targets.filter((t) => t.reasons.includes('requested')).map((t) => `${t.cpv.category}/${t.cpv.p}`),
    );
    const prunable = (target: string): boolean =>
      found.problems.length === 0 && (opts.packages.length === 0 || requested.has(target));
    const plan = await planPatches(roots, desired.files, loaded, { force: opts.force, prunable });
    for (const c of plan.changes)
      if (ATTENTION[c.state]) warnings.push(`${c.file.path}: ${label(c.state)}: ${ATTENTION[c.state]}`);
    const { ops } = plan;
    let transaction: string | undefined;
    if (!opts.pretend && ops.length > 0) {
      const tx = await commitTransaction(roots, ops, {
        command: `sync-patches${opts.packages.map((p) => ` --package ${p}`).join('')}`,
        ...faultFromEnv(ctx.env),
      });
      transaction = tx.id;
    }

    const report: SyncReport = {
      pretend: opts.pretend,
      targets: desired.targets,
      verdicts,
      changes: plan.changes.map(({ state, file }) => ({
        state,
        path: file.path,
        target: file.target,
        series: file.series,
        entry: file.entry,
      })),
      mkdirs: plan.mkdirs,
      rmdirs: plan.rmdirs,
      migrated: plan.migrated,
      warnings,
      ignored: found.ignored,
      ...(fetched.length ? { fetched } : {}),
      changed: ops.length > 0,
      ...(transaction ? { transaction } : {}),
      ...(recovered?.recovered && recovered.id ? { recovered: recovered.id } : {}),
    };
    return { report, diffs: opts.pretend ? await plan.diffs() : [] };
  } finally {
    await lock?.release();
  }
}

export function renderSync(report: SyncReport, diffs: string[], style: Style = PLAIN): string {
  const out: string[] = [];
  out.push(`Targets (${report.targets.length}):`);
  const verdictOf = new Map(report.verdicts.map((v) => [v.target, v]));
  for (const t of report.targets) {
    const series =
      t.series.length === 0
        ? 'no series configured'
        : t.series.map((s) => (s.entry ? `${s.series} ${s.entry}` : `${s.series}: no match`)).join(', ');
    const v = verdictOf.get(t.target);
    const dry = v ? `  ${DRY_RUN[v.status]}` : '';
    out.push(`  ${t.target.padEnd(40)} kernel ${t.kernel.padEnd(12)} ${series}  [${t.reasons.join(', ')}]${dry}`);
  }
  const unverified = report.verdicts.filter((v) => v.status === 'not-verified');
  if (unverified.length > 0) {
    out.push(
      `  (${unverified.length} not dry-run against their sources: ${unverified[0]!.summary.replace(/^not verified: /, '')}${unverified.length > 1 ? ', ...' : ''}; see gentoo-kopt verify)`,
    );
  }
  for (const url of report.fetched ?? []) out.push(`  fetched ${url}`);
  out.push('', report.pretend ? 'Would change:' : 'Changes:');
  for (const d of report.mkdirs) out.push(`  mkdir     ${d}/`);
  out.push(...stateLines(report.changes));
  for (const d of report.rmdirs) out.push(`  rmdir     ${d}/`);
  if (report.migrated.length)
    out.push(`  ${report.pretend ? 'would carry' : 'carried'} ${report.migrated.join(', ')} over into the ledger`);
  if (!report.changed) out.push('  nothing to do: every target is in sync');
  for (const i of report.ignored)
    out.push(...einfo(style, `${i} is not in 'packages' of kopt.conf: nothing done for it`));
  if (report.recovered)
    out.push(...einfo(style, `an interrupted transaction (${report.recovered}) was rolled back first`));
  for (const w of report.warnings) out.push(...ewarn(style, w));
  if (report.transaction) out.push('', `Transaction ${report.transaction} applied; undo it with: gentoo-kopt rollback`);
  if (report.pretend && report.changed)
    out.push('', 'Nothing was written (--pretend). The changes as a diff:', '', ...diffs);
  return out.join('\n');
}

export async function syncPatchesCommand(ctx: CommandContext, opts: SyncOptions): Promise<CommandResult<SyncReport>> {
  const { report, diffs } = await syncPatches(ctx, opts);
  return { data: report, text: renderSync(report, diffs, ctx.style), exitCode: 0 };
}
