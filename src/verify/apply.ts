// Applying one file's hunks the way `patch -p1 -f -g0` does (GNU patch 2.7: patch.c locate_hunk,
// patch_match, apply_hunk), in memory. Every hunk is searched for in the ORIGINAL file, starting at
// its line number shifted by the offset the previous hunks were found at, then alternately below and
// above, first with all its context (fuzz 0), then ignoring up to one and then two context lines at its
// ends (fuzz 1, 2; never more than its longest context run). A hunk with less context at its start
// than at its end must match at the start of the file (and vice versa at the end), the rule that
// keeps a hunk written against line 1 from sliding. A hunk may not reach back before the last line an
// earlier hunk changed. Context lines keep the file's own text; `-` lines go, `+` lines come from the
// patch. With -f, patch(1) never guesses that a patch is reversed: such hunks simply fail (we say so).
import type { Hunk } from './hunks.js';

export interface HunkVerdict {
  /** 1-based, in the file section. */
  hunk: number;
  /** Line of its `@@` header in the patch. */
  line: number;
  applied: boolean;
  /** Where patch(1) reports it: its line in the patched file, or where it was expected when it failed. */
  at: number;
  /** Lines away from where the hunk said (cumulative over the file's hunks, as patch(1) prints it). */
  offset: number;
  fuzz: number;
  /** For a failed hunk: the first line that differs where it was expected. */
  mismatch?: { line: number; expected: string; found?: string };
  /** A failed hunk whose new text is already there: the patch (or one like it) was applied before. */
  alreadyApplied?: boolean;
}

interface Shape {
  pattern: string[];
  prefix: number;
  suffix: number;
  first: number;
}

/** The old side of a hunk and its context runs, as GNU patch's pch_* accessors see them. */
function shape(h: Hunk): Shape {
  const pattern: string[] = [];
  for (let i = 0; i < h.lines.length; i++) if (h.ops[i] !== '+') pattern.push(h.lines[i]!);
  let prefix = 0;
  while (prefix < h.ops.length && h.ops[prefix] === ' ') prefix++;
  let suffix = 0;
  while (suffix < h.ops.length - prefix && h.ops[h.ops.length - 1 - suffix] === ' ') suffix++;
  return { pattern, prefix, suffix, first: h.oldCount === 0 ? h.oldStart + 1 : h.oldStart };
}

function matches(input: string[], pattern: string[], where: number, prefixFuzz: number, suffixFuzz: number): boolean {
  const end = pattern.length - suffixFuzz;
  for (let p = prefixFuzz, i = where - 1 + prefixFuzz; p < end; p++, i++) {
    if ((input[i] ?? '') !== pattern[p]) return false; // GNU ifetch: a line outside the file is empty
  }
  return true;
}

interface Search {
  inOffset: number;
  lastFrozen: number;
  /** The search reached before line 1, where patch(1) 2.7 reads outside the file: not modelled. */
  outside?: boolean;
}

/** GNU locate_hunk: the 1-based line where the pattern starts, or 0; updates the running offset. */
function locate(input: string[], s: Shape, fuzz: number, st: Search): number {
  const n = input.length;
  const patLines = s.pattern.length;
  const context = Math.max(s.prefix, s.suffix);
  let prefixFuzz = fuzz + s.prefix - context;
  const suffixFuzz = fuzz + s.suffix - context;
  const firstGuess = s.first + st.inOffset;
  const maxWhere = n - (patLines - suffixFuzz) + 1;
  const minWhere = st.lastFrozen + 1;
  const maxPos = maxWhere - firstGuess;
  let maxNeg = firstGuess - minWhere;
  const maxOffset = Math.max(maxPos, maxNeg);
  if (patLines === 0) return firstGuess; // an empty old side matches anywhere: where it says
  if (firstGuess <= maxNeg) maxNeg = firstGuess - 1; // never line 0 or before
  const found = (offset: number): number => {
    st.inOffset += offset;
    return firstGuess + offset;
  };

  if (prefixFuzz < 0 && s.first <= 1) {
    // Less context before than after, at line 1: can only match the start of the file.
    if (suffixFuzz < 0 && (patLines !== n || s.prefix < st.lastFrozen)) return 0; // ... or all of it
    const offset = 1 - firstGuess;
    return st.lastFrozen <= s.prefix &&
      offset <= maxPos &&
      matches(input, s.pattern, firstGuess + offset, 0, suffixFuzz)
      ? found(offset)
      : 0;
  }
  if (prefixFuzz < 0) prefixFuzz = 0;
  if (suffixFuzz < 0) {
    // Less context after than before: can only match the end of the file.
    const offset = firstGuess - (n - patLines + 1);
    return offset <= maxNeg && matches(input, s.pattern, firstGuess - offset, prefixFuzz, 0) ? found(-offset) : 0;
  }
  // Outward from the expected line; when that is outside the allowed range, from the nearest end of it.
  const minOffset = maxPos < 0 ? firstGuess - maxWhere : maxNeg < 0 ? firstGuess - minWhere : 0;
  for (let offset = minOffset; offset <= maxOffset; offset++) {
    if (offset <= maxPos && firstGuess + offset < 1) st.outside = true;
    if (offset <= maxPos && matches(input, s.pattern, firstGuess + offset, prefixFuzz, suffixFuzz))
      return found(offset);
    if (offset <= maxNeg && matches(input, s.pattern, firstGuess - offset, prefixFuzz, suffixFuzz))
      return found(-offset);
  }
  return 0;
}

/** How many of a failed hunk's old lines firstMismatch scores: the work is quadratic in it. */
const MISMATCH_SCORED = 200;

/**
 * For the report on a failed hunk: near where it was expected, the position where most of its old
 * lines match (the nearest on a tie), and the first line there that differs. Only the first
 * MISMATCH_SCORED old lines are scored, so a hunk of a million lines costs no more than a long one.
 */
function firstMismatch(input: string[], pattern: string[], expected: number): HunkVerdict['mismatch'] {
  const scored = Math.min(pattern.length, MISMATCH_SCORED);
  const reach = scored + 20;
  let best = { where: expected, score: -1, distance: 0 };
  for (let d = 0; d <= reach; d++) {
    for (const where of d === 0 ? [expected] : [expected + d, expected - d]) {
      if (where < 1 || where > input.length) continue;
      let score = 0;
      for (let p = 0; p < scored; p++) if (input[where - 1 + p] === pattern[p]) score++;
      if (score > best.score) best = { where, score, distance: d };
    }
  }
  for (let p = 0; p < pattern.length; p++) {
    const found = input[best.where - 1 + p];
    if (found !== pattern[p])
      return { line: best.where + p, expected: pattern[p]!, ...(found === undefined ? {} : { found }) };
  }
  return undefined;
}

/** Old lines (context and removed) among the first `k` lines of a hunk. */
function countOld(ops: string, k: number): number {
  let n = 0;
  for (let i = 0; i < k; i++) if (ops[i] !== '+') n++;
  return n;
}

/** Is the new side of the hunk already in the file? (Only informative: -f never reverses a patch.) */
function alreadyThere(input: string[], h: Hunk): boolean {
  const reversed: Hunk = {
    ...h,
    oldStart: h.newStart,
    oldCount: h.newCount,
    ops: [...h.ops].map((o) => (o === '+' ? '-' : o === '-' ? '+' : o)).join(''),
  };
  const s = shape(reversed);
  if (s.pattern.length === 0) return false;
  return locate(input, s, 0, { inOffset: 0, lastFrozen: 0 }) > 0;
}

/**
 * Applies `hunks` to `input` (lines ending in '\n', the last one maybe not) as patch(1) would:
 * failed hunks are skipped (they would go to a .rej file), the others applied.
 */
export function applyHunks(
  input: string[],
  hunks: Hunk[],
  maxFuzz = 2,
): { output: string[]; verdicts: HunkVerdict[]; uncertain: boolean } {
  const out: string[] = [];
  const st: Search = { inOffset: 0, lastFrozen: 0 };
  let outOffset = 0;
  const verdicts: HunkVerdict[] = [];
  // patch(1) ends a last line that had no newline when it writes anything after it
  const emit = (line: string): void => {
    const last = out.length - 1;
    if (last >= 0 && !out[last]!.endsWith('\n')) out[last] += '\n';
    out.push(line);
  };
  const copyTill = (line: number): void => {
    while (st.lastFrozen < line) {
      const text = input[st.lastFrozen++];
      if (text !== undefined) emit(text); // lines past the end (a fuzzed hunk hanging over it) are empty
    }
  };

  for (const [i, h] of hunks.entries()) {
    const s = shape(h);
    const mymaxfuzz = Math.min(maxFuzz, Math.max(s.prefix, s.suffix));
    let where = 0;
    let fuzz = 0;
    for (; fuzz <= mymaxfuzz; fuzz++) {
      where = locate(input, s, fuzz, st);
      if (where) break;
    }
    // A hunk found before lines an earlier hunk already changed cannot be applied ("misordered hunks").
    const firstChange = h.ops.search(/[-+]/);
    const misordered = where > 0 && firstChange >= 0 && where + countOld(h.ops, firstChange) - 1 < st.lastFrozen;
    if (!where || misordered) {
      const expected = s.first + st.inOffset;
      verdicts.push({
        hunk: i + 1,
        line: h.line,
        applied: false,
        at: (where || s.first) + outOffset,
        offset: st.inOffset,
        fuzz: 0,
        mismatch: firstMismatch(input, s.pattern, expected),
        ...(alreadyThere(input, h) ? { alreadyApplied: true } : {}),
      });
      continue;
    }
    // apply_hunk: copy up to each change; deleted lines are skipped, added ones written.
    let old = 1;
    // Only the added lines after the last context line go through patch(1)'s "end the previous line" step.
    const lastContext = h.ops.lastIndexOf(' ');
    for (let k = 0; k < h.ops.length; k++) {
      const op = h.ops[k];
      if (op === ' ') old++;
      else if (op === '-') {
        copyTill(where + old - 2);
        st.lastFrozen++;
        old++;
      } else {
        copyTill(where + old - 2);
        if (k > lastContext) emit(h.lines[k]!);
        else out.push(h.lines[k]!);
      }
    }
    verdicts.push({ hunk: i + 1, line: h.line, applied: true, at: where + outOffset, offset: st.inOffset, fuzz });
    outOffset += h.newCount - h.oldCount;
  }
  copyTill(input.length);
  return { output: out, verdicts, uncertain: st.outside === true };
}

/** Splits file content (latin1) into lines that keep their '\n'. */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl + 1;
    lines.push(text.slice(at, end));
    at = end;
  }
  return lines;
}
