// Verdicts as text: one block per target, one line per patch, and for a patch that fails every hunk
// that did not apply with the line it expected and the line it found. Also the progress line shown
// on a terminal while the tarball streams.
import path from 'node:path';
import type { HunkVerdict } from './apply.js';
import type { PatchVerdict } from './files.js';
import type { Progress, Verdict } from './verify.js';

export interface TargetResult {
  /** A CPV, or the tarball/tree of an ad hoc run. */
  target: string;
  verdict: Verdict;
  /** Set when there was nothing to verify (no user patches for that version). */
  note?: string;
}

const STATUS: Record<Verdict['status'], string> = {
  applies: 'APPLIES',
  fails: 'FAILS',
  'not-verified': 'NOT VERIFIED',
};
const mb = (bytes: number): string =>
  bytes < 1e6 ? `${Math.ceil(bytes / 1e3)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
const visible = (text: string): string => text.replace(/\r/g, '\\r');
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

function patchLines(p: PatchVerdict): string[] {
  if (p.overruled) {
    // patch(1)'s verdict first; what was computed in memory only as the opinion it overruled
    const gnu = `  ${p.name}: ${p.applied ? 'applies' : 'FAILS'} (GNU patch exited ${p.overruled.status})${p.overruled.messages.length ? `: ${p.overruled.messages.join('; ')}` : ''}`;
    const mine = inMemoryLines({ ...p, applied: !p.applied });
    return [
      gnu,
      `      in memory (overruled by GNU patch):${mine[0]!.slice(`  ${p.name}:`.length)}`,
      ...mine.slice(1).map((l) => `  ${l}`),
    ];
  }
  return inMemoryLines(p);
}

function inMemoryLines(p: PatchVerdict): string[] {
  if (p.error) return [`  ${p.name}: FAILS: ${p.error.message}${p.error.line ? ` (line ${p.error.line})` : ''}`];
  const fuzzy = p.files.flatMap((f) =>
    f.hunks.filter((h) => h.applied && (h.fuzz || h.offset)).map((h) => `${f.path} ${hunkNote(h)}`),
  );
  if (p.applied) {
    const fuzz = Math.max(0, ...p.files.flatMap((f) => f.hunks.map((h) => h.fuzz)));
    const how = fuzz ? `applies with fuzz ${fuzz}` : fuzzy.length ? 'applies with offset' : 'applies';
    return [`  ${p.name}: ${how}${fuzzy.length ? `: ${fuzzy.join('; ')}` : ''}`];
  }
  const out = [`  ${p.name}: FAILS`];
  for (const f of p.files) {
    if (f.problem) out.push(`      ${f.path}: ${f.problem}`);
    for (const h of f.hunks.filter((x) => !x.applied)) {
      const m = h.mismatch;
      const why = m ? `: line ${m.line} should be ${show(m.expected)}, is ${show(m.found)}` : '';
      out.push(
        `      ${f.path}: hunk #${h.hunk} (patch line ${h.line}) FAILED at ${h.at}${why}${h.alreadyApplied ? ' (its change is already there: applied twice?)' : ''}`,
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
  if (p.overruled)
    return `${p.name}: GNU patch exited ${p.overruled.status}${p.overruled.messages.length ? `: ${p.overruled.messages.join('; ')}` : ''}`;
  if (p.error) return `${p.name}: ${p.error.message}${p.error.line ? ` (line ${p.error.line})` : ''}`;
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
    if (v.confirmed) {
      const why = v.confirmed.why === 'asked' ? 'as asked' : 'because the in-memory verdict was uncertain';
      out.push(
        v.confirmed.agrees
          ? `  GNU patch confirms this (checked ${why}).`
          : `  GNU patch was asked ${why} and differs; its verdict is shown${v.patches.some((p) => p.overruled) ? ' (in-memory lines marked as overruled)' : ''}: ${v.confirmed.differences.map(visible).join('; ')}`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/** The single updating line for a terminal. */
export function progressLine(target: string, p: Progress): string {
  if (p.phase === 'patchsets') return `${target}: reading the patches applied before the series...`;
  if (p.phase === 'tarball') return `${target}: ${mb(p.bytes)} read, ${p.kept}/${p.wanted} files kept`;
  if (p.phase === 'confirm') return `${target}: confirming with GNU patch...`;
  return `${target}: applying...`;
}
