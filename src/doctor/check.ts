// A check and the runner (pkgcheck's checks + pipeline): a check is `{id, describe, kinds, run(ctx)}`
// returning findings; one that cannot run throws SkipCheck(reason). The runner never lets a check
// crash doctor: an unexpected error becomes a "failed" check with the error, and counts as an error.
import { render, SkipCheck, type Finding, type Kind, type RenderedFinding } from './finding.js';
import type { DoctorContext } from './context.js';

export interface Check {
  /** Stable id for --check and JSON. */
  id: string;
  /** One line, printed by --list. */
  describe: string;
  /** The finding kinds this check can report (for --list, the docs and the fixture test). */
  kinds: readonly Kind[];
  run(ctx: DoctorContext): Promise<Finding[]>;
}

export type CheckStatus = 'ok' | 'findings' | 'skipped' | 'failed';

export interface CheckResult {
  id: string;
  describe: string;
  status: CheckStatus;
  /** Why it was skipped, or the internal error it failed with. */
  reason?: string;
  findings: RenderedFinding[];
}

async function runOne(check: Check, ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: check.id, describe: check.describe };
  try {
    const findings = (await check.run(ctx)).map((f) => render(check.id, f));
    return { ...base, status: findings.length ? 'findings' : 'ok', findings };
  } catch (err) {
    if (err instanceof SkipCheck) return { ...base, status: 'skipped', reason: err.reason, findings: [] };
    const e = err as Error;
    return { ...base, status: 'failed', reason: `internal error: ${e?.stack ?? String(err)}`, findings: [] };
  }
}

/** Runs the checks concurrently (they share the context's loads); results in the checks' order. */
export function runChecks(checks: readonly Check[], ctx: DoctorContext): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => runOne(c, ctx)));
}
