// Verdicts as text: one block per target, one line per patch, and for a patch that fails every hunk
// that did not apply with the line it expected and the line it found. Also the progress line shown
// on a terminal while the tarball streams.
import path from 'node:path';
import type { HunkVerdict, PatchVerdict } from './verdicts.js';
import type { Progress, SeriesPatch, Verdict } from './verify.js';

export interface TargetResult {
  /** A CPV, or the tarball/tree of an ad hoc run. */
  target: string;
  verdict: Verdict;
  /** Set when there was nothing to verify (no user patches for that version). */
  note?: string;
}

/** The verdict for a series that could not be checked: why, and what to do. */
export function notVerified(reason: string, hint: string, patches: SeriesPatch[] = []): Verdict {
  return {
    status: 'not-verified',
    reason,
    hint,
    before: [],
    patches: patches.map((p) => ({ name: p.name, applied: false, files: [] })),
    stats: { bytes: 0, members: 0, kept: 0, ms: 0 },
  };
}

const STATUS: Record<Verdict['status'], string> = {
  applies: 'APPLIES',
  fails: 'FAILS',
  'not-verified': 'NOT VERIFIED',
};
const mb = (bytes: number): string =>
  bytes < 1e6 ? `${Math.ceil(bytes / 1e3)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
const show = (line: string | undefined): string =>
  line === undefined
    ? 'end of file'
    : `'${line.replace(/\n$/, '').replace(/\t/g, '\\t').replace(/\r/g, '\\r').slice(0, 70)}'`;

function hunkNote(h: HunkVerdict): string {
  const parts = [
    h.fuzz ? `fuzz ${h.fuzz}` : '',
    h.offset ? `offset ${h.offset} line${Math.abs(h.offset) === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return `hunk #${h.hunk} at ${h.at} (${parts.join(', ')})`;
}

const problem = (e: NonNullable<PatchVerdict['error']>): string =>
  `${e.message}${e.line && !e.message.includes(`line ${e.line}`) ? ` (line ${e.line})` : ''}`;

function patchLines(p: PatchVerdict): string[] {
  const fuzzy = p.files.flatMap((f) =>
    f.hunks.filter((h) => h.applied && (h.fuzz || h.offset)).map((h) => `${f.path} ${hunkNote(h)}`),
  );
  if (p.applied) {
    const fuzz = Math.max(0, ...p.files.flatMap((f) => f.hunks.map((h) => h.fuzz)));
    const how = fuzz ? `applies with fuzz ${fuzz}` : fuzzy.length ? 'applies with offset' : 'applies';
    const unread = p.error ? `; the diff reader refused it (no details): ${problem(p.error)}` : '';
    return [`  ${p.name}: ${how}${fuzzy.length ? `: ${fuzzy.join('; ')}` : ''}${unread}`];
  }
  const out = [`  ${p.name}: FAILS${p.error ? `: ${problem(p.error)}` : ''}`];
  for (const f of p.files) {
    if (f.problem) out.push(`      ${f.path}: ${f.problem}`);
    for (const h of f.hunks.filter((x) => !x.applied)) {
      const m = h.mismatch;
      const why = m ? `: line ${m.line} should be ${show(m.expected)}, is ${show(m.found)}` : '';
      out.push(
        `      ${f.path}: hunk #${h.hunk}${h.line ? ` (patch line ${h.line})` : ''} FAILED at ${h.at}${why}${h.alreadyApplied ? ' (its change is already there: applied twice?)' : ''}`,
      );
    }
  }
  return out;
}

/** One line for a warning (sync-patches): the first patch that fails and why. */
export function failureSummary(v: Verdict): string {
  if (v.status === 'not-verified') return `not verified: ${v.reason}`;
  const p = v.patches.find((x) => !x.applied);
  if (!p) return 'applies';
  if (p.error) return `${p.name}: ${problem(p.error)}`;
  const f = p.files.find((x) => !x.applied);
  const h = f?.hunks.find((x) => !x.applied);
  return `${p.name}: ${f ? `${f.path}: ${f.problem ?? `hunk #${h?.hunk} FAILED at ${h?.at}`}` : 'FAILS'}`;
}

export function renderResults(results: TargetResult[]): string {
  const out: string[] = [];
  for (const { target, verdict: v, note } of results) {
    if (note) {
      out.push(`${target}: ${note}`, '');
      continue;
    }
    const a = v.against;
    const against = a
      ? [a.base, a.incremental, ...(a.patchsets ?? [])]
          .filter((x): x is string => !!x)
          .map((f) => path.basename(f))
          .join(' + ')
      : '';
    const stats = v.stats.bytes
      ? `; ${v.stats.kept} file(s) kept of ${mb(v.stats.bytes)} in ${(v.stats.ms / 1000).toFixed(1)} s`
      : '';
    out.push(`${target}: ${STATUS[v.status]}${against ? ` (against ${against}${stats})` : ''}`);
    if (v.status === 'not-verified') {
      out.push(`  ${v.reason}`, `  hint: ${v.hint}`, '');
      continue;
    }
    for (const b of v.before.filter((x) => !x.applied))
      out.push(`  warning: ${b.name}, which the ebuild applies first, does not apply: ${b.problems.join('; ')}`);
    const firstChanges = v.before.filter((b) => b.applied).map((b) => b.name);
    if (firstChanges.length) out.push(`  applied first (to the files the series touches): ${firstChanges.join(', ')}`);
    for (const p of v.patches) out.push(...patchLines(p));
    if (v.patches.some((p) => !p.applied)) out.push('  eapply_user stops the emerge at the first patch that fails.');
    out.push('');
  }
  return out.join('\n');
}

/** The single updating line for a terminal. */
export function progressLine(target: string, p: Progress): string {
  if (p.phase === 'patchsets') return `${target}: reading the patches applied before the series...`;
  if (p.phase === 'tarball') return `${target}: ${mb(p.bytes)} read, ${p.kept}/${p.wanted} files kept`;
  return `${target}: applying with GNU patch...`;
}
