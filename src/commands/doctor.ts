// gentoo-kopt doctor [--check ID]... [--list] [--exit error|warning] [--json]: runs the checks of
// src/doctor/checks/registry.ts against the roots, reads everything and writes nothing, and returns the
// results as data, text grouped by check, and JSON lines. Exit status: 1 when a finding at or above
// the --exit level exists (or a check failed internally), else 0; skipped checks do not count.
import { UsageError } from '../errors.js';
import { closest } from '../config/ini-lines.js';
import { CHECKS } from '../doctor/checks/registry.js';
import { runChecks, type Check } from '../doctor/check.js';
import { createContext, type DoctorOptions } from '../doctor/context.js';
import { levelRank } from '../doctor/finding.js';
import {
  listJsonLines,
  renderJsonLines,
  renderList,
  renderText,
  useColor,
  type DoctorReport,
  type ExitPolicy,
  type Summary,
} from '../doctor/reporters.js';
import type { CommandContext, CommandResult } from './types.js';

export type { DoctorReport, ExitPolicy } from '../doctor/reporters.js';

export interface DoctorCommandOptions {
  /** Check ids to run (default: all). */
  checks?: string[];
  /** Only list the checks. */
  list: boolean;
  exit: ExitPolicy;
  /** For tests and the bench: the machine's meminfo, the process runner. */
  doctor?: DoctorOptions;
}

/** The result, plus the pre-rendered JSON lines that `--json` prints instead of one JSON document. */
export type DoctorResult = CommandResult<
  DoctorReport | { checks: { id: string; describe: string; kinds: readonly string[] }[] }
> & { jsonText: string };

function selectChecks(ids: string[] | undefined): readonly Check[] {
  if (!ids || ids.length === 0) return CHECKS;
  const known = CHECKS.map((c) => c.id);
  for (const id of ids) {
    if (!known.includes(id)) {
      const near = closest(id, known);
      throw new UsageError(`unknown check '${id}'`, {
        hint: near ? `did you mean '${near}'? (gentoo-kopt doctor --list)` : `checks: ${known.join(', ')}`,
      });
    }
  }
  return CHECKS.filter((c) => ids.includes(c.id));
}

export async function doctorCommand(ctx: CommandContext, opts: DoctorCommandOptions): Promise<DoctorResult> {
  const checks = selectChecks(opts.checks);
  const color = useColor(ctx.tty, ctx.env);
  if (opts.list) {
    const data = { checks: checks.map((c) => ({ id: c.id, describe: c.describe, kinds: c.kinds })) };
    return { data, text: renderList(checks, color), jsonText: listJsonLines(checks), exitCode: 0 };
  }
  const results = await runChecks(checks, createContext(ctx.roots, ctx.env, opts.doctor));
  const all = results.flatMap((r) => r.findings);
  const summary: Summary = {
    error: all.filter((f) => f.level === 'error').length,
    warning: all.filter((f) => f.level === 'warning').length,
    info: all.filter((f) => f.level === 'info').length,
    ok: results.filter((r) => r.status === 'ok').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
  };
  const threshold = levelRank(opts.exit);
  const exitCode = summary.failed > 0 || all.some((f) => levelRank(f.level) >= threshold) ? 1 : 0;
  const report: DoctorReport = {
    root: ctx.roots.root,
    configRoot: ctx.roots.configRoot,
    exit: opts.exit,
    exitCode,
    summary,
    checks: results,
  };
  return { data: report, text: renderText(report, color), jsonText: renderJsonLines(report), exitCode };
}
