// `gentoo-kopt hooks install|uninstall|status [--pretend]`: the plan (src/hooks/install-plan.ts) in one
// transaction (backed up, undone by `gentoo-kopt rollback`), never touching a byte of bashrc outside
// the block or a file gentoo-kopt does not own. The hook is copied, not linked: removing the npm
// package cannot break emerge (the hook then only warns that it cannot sync patches).
import { planHooks, type HooksOptions, type HooksReport } from '../hooks/install-plan.js';
import { STATES, stateLines } from '../system/ownership.js';
import { ewarn, PLAIN, type Style } from '../output.js';
import type { CommandContext, CommandResult } from './types.js';

export type { HooksOptions, HooksReport } from '../hooks/install-plan.js';

export async function hooksCommand(ctx: CommandContext, opts: HooksOptions): Promise<CommandResult<HooksReport>> {
  const { roots } = ctx;
  const write = opts.action !== 'status' && !opts.pretend;
  // The lock and the transaction (backup, journal, recovery) only when writing: status loads neither.
  const tx = write ? await import('../system/transaction.js') : undefined;
  const lock = write ? await (await import('../system/lock.js')).acquireLock(roots, `hooks ${opts.action}`) : undefined;
  try {
    await tx?.recoverIncomplete(roots);
    const { data, ops } = await planHooks(roots, opts);
    if (ops.length) {
      if (!tx) throw new Error(`hooks ${opts.action}: a plan with changes when nothing may be written`);
      const done = await tx.commitTransaction(roots, ops, { command: `hooks ${opts.action}` });
      data.transaction = done.id;
      data.warnings.push(...done.notes);
    }
    const exitCode = opts.action === 'status' && data.overall !== 'current' ? 1 : 0;
    return { data, text: render(data, ctx.style), exitCode };
  } finally {
    await lock?.release();
  }
}

const OVERALL: Record<HooksReport['overall'], string> = {
  current: 'installed and current',
  outdated: 'installed but OUTDATED (run: gentoo-kopt hooks install)',
  'not-installed': 'not installed',
};

export function render(r: HooksReport, style: Style = PLAIN): string {
  const out: string[] = [];
  if (r.action === 'status') {
    out.push(`gentoo-kopt hooks: ${OVERALL[r.overall]}`);
    out.push(`  bashrc block  ${r.bashrc.block.padEnd(9)} ${r.bashrc.path}`);
    for (const f of r.files) out.push(`  ${f.role.padEnd(13)} ${STATES[f.state].is.padEnd(9)} ${f.path}`);
  } else {
    out.push(r.pretend ? 'Would change:' : 'Changes:');
    out.push(`  ${r.bashrc.action.padEnd(9)} gentoo-kopt block in ${r.bashrc.path}`);
    out.push(...stateLines(r.files));
    if (r.migrated.length)
      out.push(`  ${r.pretend ? 'would carry' : 'carried'} ${r.migrated.join(', ')} over into the ledger`);
    if (!r.changed) out.push('  nothing to do');
  }
  for (const w of r.warnings) out.push(...ewarn(style, w));
  if (r.transaction) out.push('', `Transaction ${r.transaction} applied; undo it with: gentoo-kopt rollback`);
  if (r.pretend && r.changed && r.diffs)
    out.push('', 'Nothing was written (--pretend). The changes as a diff:', '', ...r.diffs);
  return out.join('\n');
}
