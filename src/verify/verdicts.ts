// GNU patch's verdict on one patch file, read from what it prints with --verbose in the C locale
// (GNU patch 2.7, patch.c and pch.c): every file section starts with a line "Hmm..." ("Looks like a
// unified diff to me...", or a warning such as "The next patch would create the file X,"), then
// "patching file X" (or "checking file X" with --dry-run) and one line per hunk: "Hunk #N succeeded at
// L with fuzz F (offset K lines).", "Hunk #N FAILED at L." or, for a file it skipped, "Hunk #N ignored
// at L."; other lines in a section say why a file was skipped or refused; "patch: **** X" is a fatal
// error (a malformed patch). The sections are those the diff reader found (hunks.ts), in the same
// order, so each verdict is matched with its section: the file, the line of each hunk in the patch,
// and for a failed hunk, from the file as patch(1) saw it, the first line that differs where the hunk
// was expected and whether the hunk's change is already there.
import type { FilePatch, Hunk } from './hunks.js';

export interface HunkVerdict {
  /** 1-based, in the file section. */
  hunk: number;
  /** Line of its `@@` header in the patch (unknown when the diff reader could not read the patch). */
  line?: number;
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

export type FileOp = 'modify' | 'create' | 'delete' | 'rename' | 'copy';

export interface FileVerdict {
  path: string;
  op: FileOp;
  applied: boolean;
  /** Why patch(1) skipped or refused the whole section (missing file, link, binary, ...), when it did. */
  problem?: string;
  hunks: HunkVerdict[];
  /** Line where the section starts in the patch (unknown when the diff reader could not read it). */
  line?: number;
}

export interface PatchVerdict {
  name: string;
  /** patch(1) exited 0. */
  applied: boolean;
  files: FileVerdict[];
  /** The patch could not be read (GNU patch's fatal error, or the diff reader's): where and why. */
  error?: { line?: number; message: string };
}

interface Block {
  path?: string;
  hunks: { hunk: number; applied: boolean; ignored: boolean; at: number; fuzz: number; offset: number }[];
  notes: string[];
}

const HUNK =
  /^Hunk #(\d+) (succeeded|FAILED|ignored) at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?(?: \(different line endings\))?\.$/;
const FILE = /^(?:patching|checking) file (.*?)(?: \((?:renamed|copied) from .*\))?$/;
const FATAL = /^patch: \*{4} (.*)$/;
const END = /^(?:Ignoring the trailing garbage|I can't seem to find a patch in there anywhere)\.$/;
/** Lines that say nothing about the verdict. */
const NOISE =
  /^(?:\||-{26}$|The text leading up to this was:|Using Plan A|Perhaps you used the wrong|\d+ out of \d+ hunks? (?:FAILED|ignored)|done$|Removing file |which (?:already exists|does not exist)!| *Looks like |The next patch looks like |$)/;
/** patch(1)'s notes on a section, as the report says them (`path`: its file; '' says nothing more). */
const NOTES: [RegExp, (path: string, note: string, special?: string) => string][] = [
  [/^can't find file to patch/, (p, n) => `'${p}' is not in the sources (patch: ${n})`],
  [/^No file to patch/, () => ''],
  [/git binary diffs are not supported/, (_, n) => `a binary (GIT binary patch) section: patch says "${n}"`],
  [
    /is not a regular file/,
    (p, n, what) => (what ? `'${p}' is ${what} in the sources: patch(1) refuses to patch it` : n),
  ],
  [/^The next patch would create the file/, (p) => `the patch creates '${p}', which already exists`],
  [/^Not deleting file|dangerous file name|Invalid file name|skipping patch/i, (_, n) => n],
];
/** The notes that mean patch(1) did not apply the section (its hunks say the rest). */
const SKIPPED =
  /^can't find file|^No file to patch|git binary diffs|is not a regular file|^Not deleting|skipping patch/i;

/** Reads patch(1)'s --verbose output into one block per file section, and its fatal error if any. */
function readOutput(output: string): { blocks: Block[]; fatal?: string } {
  const blocks: Block[] = [];
  let fatal: string | undefined;
  let block: Block | undefined;
  for (const line of output.split('\n')) {
    const f = FATAL.exec(line);
    if (f) {
      fatal ??= f[1]!;
      continue;
    }
    if (line.startsWith('Hmm...')) {
      // pch.c there_is_another_patch: "Hmm..." starts each section, or says there is none left
      const said = line.slice('Hmm...'.length).trim();
      block = END.test(said) ? undefined : { hunks: [], notes: NOISE.test(said) ? [] : [said] };
      if (block) blocks.push(block);
      continue;
    }
    if (!block || NOISE.test(line)) continue;
    const file = FILE.exec(line);
    const h = HUNK.exec(line);
    if (file) block.path = file[1]!.replace(/^'(.*)'$/, '$1');
    else if (h)
      block.hunks.push({
        hunk: Number(h[1]),
        applied: h[2] === 'succeeded',
        ignored: h[2] === 'ignored',
        at: Number(h[3]),
        fuzz: Number(h[4] ?? 0),
        offset: Number(h[5] ?? 0),
      });
    else block.notes.push(line.trim());
  }
  return { blocks, ...(fatal ? { fatal } : {}) };
}

/** Splits latin1 text into lines that keep their '\n'. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const side = (h: Hunk, skip: string): string[] => h.lines.filter((_, i) => h.ops[i] !== skip);

/** How many of a failed hunk's old lines firstMismatch scores: the work is quadratic in it. */
const MISMATCH_SCORED = 200;

/**
 * Near where a failed hunk was expected, the position where most of its old lines match (the nearest
 * on a tie), and the first line there that differs. Only the first MISMATCH_SCORED old lines are
 * scored, so a hunk of a million lines costs no more than a long one.
 */
function firstMismatch(input: string[], pattern: string[], expected: number): HunkVerdict['mismatch'] {
  const scored = Math.min(pattern.length, MISMATCH_SCORED);
  let best = { where: expected, score: -1 };
  for (let d = 0; d <= scored + 20; d++) {
    for (const where of d === 0 ? [expected] : [expected + d, expected - d]) {
      if (where < 1 || where > input.length) continue;
      let score = 0;
      for (let p = 0; p < scored; p++) if (input[where - 1 + p] === pattern[p]) score++;
      if (score > best.score) best = { where, score };
    }
  }
  for (let p = 0; p < pattern.length; p++) {
    const found = input[best.where - 1 + p];
    if (found !== pattern[p])
      return { line: best.where + p, expected: pattern[p]!, ...(found === undefined ? {} : { found }) };
  }
  return undefined;
}

/** Is the hunk's new side somewhere in the file, whole lines? (Only informative: -f never reverses.) */
function alreadyThere(text: string, h: Hunk): boolean {
  const wanted = side(h, '-').join('');
  if (wanted === '') return false;
  const at = `\n${text}`.indexOf(`\n${wanted}`);
  return at >= 0 && (wanted.endsWith('\n') || at + wanted.length === text.length);
}

/** The details of a failed hunk, from the file as patch(1) saw it (undefined: it did not exist). */
function failureDetail(content: Buffer | undefined, h: Hunk, inOffset: number): Partial<HunkVerdict> {
  if (!content) return {};
  const text = content.toString('latin1');
  const first = (h.oldCount === 0 ? h.oldStart + 1 : h.oldStart) + inOffset;
  const mismatch = firstMismatch(splitLines(text), side(h, '+'), first);
  return { ...(mismatch ? { mismatch } : {}), ...(alreadyThere(text, h) ? { alreadyApplied: true } : {}) };
}

function opOf(f: FilePatch): FileOp {
  return f.rename ? 'rename' : f.copy ? 'copy' : f.create ? 'create' : f.delete ? 'delete' : 'modify';
}

/** What a section reads: its old name, unless it creates the file. */
export const sourceOf = (f: FilePatch): string | undefined => (f.create && !f.rename && !f.copy ? f.new : f.old);

export interface Seen {
  /** A file's bytes before this patch ran (undefined: absent). */
  content(path: string): Buffer | undefined;
  /** What a path that patch(1) refuses is in the sources ('a symbolic link', ...). */
  special(path: string): string | undefined;
}

function fileVerdict(block: Block, section: FilePatch | undefined, seen: Seen): FileVerdict {
  const path = block.path ?? (section && (sourceOf(section) ?? section.new)) ?? '?';
  const said = block.notes.flatMap((n) => NOTES.find(([re]) => re.test(n))?.[1](path, n, seen.special(path)) ?? []);
  const binary = section?.binary && !block.notes.some((n) => /git binary/.test(n));
  const problem = [...(binary ? ['a binary (GIT binary patch) section, which patch(1) cannot apply'] : []), ...said]
    .filter(Boolean)
    .join('; ');
  let inOffset = 0;
  const hunks = block.hunks.map((b): HunkVerdict => {
    const h = section?.hunks[b.hunk - 1];
    if (b.applied) inOffset = b.offset;
    const offset = b.applied ? b.offset : inOffset;
    const v: HunkVerdict = {
      hunk: b.hunk,
      ...(h ? { line: h.line } : {}),
      applied: b.applied,
      at: b.at,
      offset,
      fuzz: b.fuzz,
    };
    const source = section && sourceOf(section);
    return b.applied || b.ignored || !h || !source ? v : { ...v, ...failureDetail(seen.content(source), h, inOffset) };
  });
  return {
    path,
    op: section ? opOf(section) : 'modify',
    applied: !block.notes.some((n) => SKIPPED.test(n)) && hunks.every((h) => h.applied),
    ...(problem ? { problem } : {}),
    hunks,
    ...(section ? { line: section.line } : {}),
  };
}

/**
 * One patch file's verdict: patch(1)'s exit status and output, matched with the sections the diff
 * reader found (undefined when it could not read the patch; `readerError` then says why).
 */
export function patchVerdict(
  name: string,
  run: { status: number; output: string },
  sections: FilePatch[] | undefined,
  seen: Seen,
  readerError?: { line?: number; message: string },
): PatchVerdict {
  const { blocks, fatal } = readOutput(run.output);
  // The reader and patch(1) see the same sections; if not, the blocks are shown without details.
  const matched = sections && (blocks.length === sections.length || (fatal && blocks.length <= sections.length));
  const files = blocks
    .map((b, i) => fileVerdict(b, matched ? sections[i] : undefined, seen))
    .filter((f) => f.path !== '?' || f.hunks.length > 0 || f.problem);
  const at = fatal ? /at line (\d+)/.exec(fatal) : null;
  const error = fatal ? { ...(at ? { line: Number(at[1]) } : {}), message: fatal } : readerError;
  return { name, applied: run.status === 0, files, ...(error ? { error } : {}) };
}
