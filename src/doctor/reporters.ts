// Reporters (pkgcheck's reporters.py): the same results as text grouped by check (coloured on a
// terminal unless NO_COLOR or Portage's NOCOLOR says otherwise) or as JSON lines, one object per line:
// a "check" line, then its "finding" lines, then one "summary" line. Nothing here decides anything.
import { formatWhere } from '../errors.js';
import { LEVELS, type Level } from './finding.js';
import type { Check, CheckResult } from './check.js';

export type ExitPolicy = 'error' | 'warning';

export interface Summary {
  error: number;
  warning: number;
  info: number;
  ok: number;
  skipped: number;
  failed: number;
}

export interface DoctorReport {
  root: string;
  configRoot: string;
  exit: ExitPolicy;
  exitCode: number;
  summary: Summary;
  checks: CheckResult[];
}

/** NO_COLOR (any non-empty value, no-color.org) and Portage's NOCOLOR (yes/true) turn colour off. */
export function useColor(tty: boolean, env: NodeJS.ProcessEnv): boolean {
  const nocolor = (env.NOCOLOR ?? '').toLowerCase();
  return tty && !env.NO_COLOR && !['yes', 'true', '1'].includes(nocolor);
}

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
type Style = keyof typeof SGR;
const LEVEL_STYLE: Record<Level, Style> = { error: 'red', warning: 'yellow', info: 'cyan' };
const STATUS_STYLE: Record<CheckResult['status'], Style> = {
  ok: 'green',
  findings: 'bold',
  skipped: 'dim',
  failed: 'red',
};

function painter(color: boolean): (style: Style, s: string) => string {
  return color ? (style, s) => `\x1b[${SGR[style]}m${s}\x1b[0m` : (_style, s) => s;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 || word === 'info' ? '' : 's'}`;

function counts(r: CheckResult): string {
  return [...LEVELS]
    .reverse()
    .map((l) => [l, r.findings.filter((f) => f.level === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => plural(n, l))
    .join(', ');
}

function summaryLine(s: Summary): string {
  const checks = [`${plural(s.ok, 'check')} ok`, s.skipped && `${s.skipped} skipped`, s.failed && `${s.failed} failed`]
    .filter(Boolean)
    .join(', ');
  return `${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${s.info} info; ${checks}`;
}

export function renderText(report: DoctorReport, color: boolean): string {
  const paint = painter(color);
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const out = [`gentoo-kopt doctor: ROOT=${report.root} PORTAGE_CONFIGROOT=${report.configRoot}`, ''];
  for (const c of report.checks) {
    const status = c.status === 'findings' ? counts(c) : c.status === 'ok' ? 'ok' : `${c.status}: ${c.reason}`;
    out.push(`${paint('bold', c.id.padEnd(width))}  ${paint(STATUS_STYLE[c.status], status)}`);
    for (const f of c.findings) {
      const where = formatWhere(f.where);
      out.push(`  ${paint(LEVEL_STYLE[f.level], f.level.padEnd(7))}  ${where || '(this system)'}`);
      out.push(`           ${f.message}`);
      out.push(`           ${paint('bold', 'fix:')} ${f.fix}`);
    }
  }
  out.push('', `${summaryLine(report.summary)} (exit ${report.exitCode}: --exit ${report.exit})`);
  return out.join('\n');
}

export function renderJsonLines(report: DoctorReport): string {
  const lines: unknown[] = [];
  for (const c of report.checks) {
    lines.push({
      type: 'check',
      check: c.id,
      status: c.status,
      ...(c.reason !== undefined && { reason: c.reason }),
      findings: c.findings.length,
    });
    for (const f of c.findings) lines.push({ type: 'finding', ...f });
  }
  lines.push({
    type: 'summary',
    root: report.root,
    configRoot: report.configRoot,
    ...report.summary,
    exit: report.exit,
    exitCode: report.exitCode,
  });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

export function renderList(checks: readonly Check[], color: boolean): string {
  const paint = painter(color);
  const width = Math.max(...checks.map((c) => c.id.length));
  return checks
    .map(
      (c) =>
        `${paint('bold', c.id.padEnd(width))}  ${c.describe}\n${' '.repeat(width + 2)}findings: ${c.kinds.join(', ')}`,
    )
    .join('\n');
}

export function listJsonLines(checks: readonly Check[]): string {
  return (
    checks.map((c) => JSON.stringify({ type: 'check', check: c.id, describe: c.describe, kinds: c.kinds })).join('\n') +
    '\n'
  );
}
