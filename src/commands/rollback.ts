// `gentoo-kopt rollback [--pretend]`: undo the last transaction (see src/system/transaction.ts for
// which one that is and how). --pretend takes no lock and writes nothing, not even crash recovery.
import { readJournal } from '../system/journal.js';
import { acquireLock } from '../system/lock.js';
import {
  faultFromEnv,
  planRollback,
  recoverIncomplete,
  rollbackLast,
  type RollbackPlan,
} from '../system/transaction.js';
import type { CommandContext, CommandResult } from './types.js';

export interface RollbackReport {
  pretend: boolean;
  /** The transaction rolled back (or that would be), or null when there is none. */
  rollback: RollbackPlan | null;
  /** An interrupted transaction that was (pretend: will be) undone first. */
  recovered?: string;
}

export async function rollbackCommand(
  ctx: CommandContext,
  opts: { pretend: boolean; force?: boolean },
): Promise<CommandResult<RollbackReport>> {
  const { roots } = ctx;
  let report: RollbackReport;
  if (opts.pretend) {
    // The journal is checked like the history: a damaged one is an error naming it, here too.
    const journal = await readJournal(roots);
    const pending = journal?.state === 'applying' ? journal.id : undefined;
    report = {
      pretend: true,
      rollback: (await planRollback(roots)) ?? null,
      ...(pending ? { recovered: pending } : {}),
    };
  } else {
    const lock = await acquireLock(roots, 'rollback');
    try {
      const recovered = await recoverIncomplete(roots);
      const plan = await rollbackLast(roots, { force: opts.force, ...faultFromEnv(ctx.env) });
      report = { pretend: false, rollback: plan ?? null, ...(recovered.id ? { recovered: recovered.id } : {}) };
    } finally {
      await lock.release();
    }
  }
  return { data: report, text: render(report), exitCode: 0 };
}

export function render(r: RollbackReport): string {
  const out: string[] = [];
  if (r.recovered) out.push(`${r.pretend ? 'would first undo' : 'undid'} interrupted transaction ${r.recovered}`);
  const p = r.rollback;
  if (!p) return [...out, 'nothing to roll back'].join('\n');
  out.push(`${r.pretend ? 'would roll back' : 'rolled back'} transaction ${p.id} (${p.command}, ${p.when})`);
  const verb = (done: string, would: string): string => (r.pretend ? would : done).padEnd(13);
  for (const f of p.restore) out.push(`  ${verb('restored', 'would restore')} ${f}`);
  for (const f of p.remove) out.push(`  ${verb('removed', 'would remove')} ${f}`);
  if (!p.restore.length && !p.remove.length) out.push('  every file is already as it was before it');
  if (p.conflicts.length) {
    out.push(
      r.pretend
        ? 'changed since (rollback refuses unless forced):'
        : 'changed since (overwritten, previous content backed up):',
    );
    for (const f of p.conflicts) out.push(`  ${f}`);
  }
  return out.join('\n');
}
