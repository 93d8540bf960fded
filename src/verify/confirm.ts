// A second opinion from GNU patch itself: the files a verification kept are written to a scratch tree
// (src/system/exec.ts runPatchSeries), the same patches are applied there with eapply's options in the
// same order, and patch(1)'s verdicts (its exit status and its `--verbose` hunk lines) and the resulting
// files are compared with what was computed in memory. Used with --confirm, and whenever the in-memory
// verdict is marked uncertain.
import { runPatchSeries, type PatchRun } from '../system/exec.js';
import type { Tree, PatchVerdict } from './files.js';

export interface GnuHunk {
  hunk: number;
  applied: boolean;
  at: number;
  fuzz: number;
  offset: number;
}

export interface GnuFile {
  path: string;
  hunks: GnuHunk[];
  /** patch(1)'s file-level complaints (missing file, not deleting, already exists, ...). */
  notes: string[];
}

const HUNK_LINE =
  /^Hunk #(\d+) (succeeded|FAILED|ignored) at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?(?: \(different line endings\))?\.$/;
const FILE_LINE = /^(?:patching|checking) file (.*)$/;
const NOTES = [
  /^can't find file to patch/,
  /^Not deleting file/,
  /^The next patch would create the file/,
  /git binary diffs are not supported/,
  /^File .* is not a regular file/,
  /^Only garbage was found/,
  /malformed patch/,
];

/** Reads `patch --verbose` output (C locale) into files and hunks. */
export function parsePatchOutput(output: string): GnuFile[] {
  const files: GnuFile[] = [];
  let pendingNotes: string[] = [];
  for (const line of output.split('\n')) {
    const file = FILE_LINE.exec(line);
    if (file) {
      files.push({ path: file[1]!.replace(/^'(.*)'$/, '$1'), hunks: [], notes: pendingNotes });
      pendingNotes = [];
      continue;
    }
    const h = HUNK_LINE.exec(line);
    if (h && files.length > 0) {
      files[files.length - 1]!.hunks.push({
        hunk: Number(h[1]),
        applied: h[2] === 'succeeded',
        at: Number(h[3]),
        fuzz: Number(h[4] ?? 0),
        offset: Number(h[5] ?? 0),
      });
      continue;
    }
    if (NOTES.some((re) => re.test(line))) {
      // A missing file is reported before (and instead of) "patching file"; the others after it.
      if (/^can't find file/.test(line)) files.push({ path: '?', hunks: [], notes: [line] });
      else if (files.length > 0 && !/^The next patch/.test(line)) files[files.length - 1]!.notes.push(line);
      else pendingNotes.push(line);
    }
  }
  return files;
}

const VERDICT_LINE =
  /FAILED|can't find file|No file to patch|Not deleting|already exists|does not exist|malformed|garbage|not supported|not a regular file|unexpected end/;

/** patch(1)'s lines that say why a patch failed (or applied anyway), for a report. */
export function verdictLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => VERDICT_LINE.test(l))
    .map((l) => l.trim())
    .slice(0, 8);
}

/**
 * Where patch(1)'s exit status contradicts an in-memory verdict, makes it the verdict shown (eapply
 * acts on it) and keeps the in-memory one as overruled.
 */
export function applyOverrules(ours: PatchVerdict[], runs: PatchRun[]): void {
  for (const [i, run] of runs.entries()) {
    const mine = ours[i];
    if (!mine || (run.status === 0) === mine.applied) continue;
    mine.applied = run.status === 0;
    mine.overruled = { status: run.status, messages: verdictLines(run.output) };
  }
}

export interface Confirmation {
  /** patch(1) agrees with every in-memory verdict and produced the same files. */
  agrees: boolean;
  differences: string[];
  runs: PatchRun[];
}

const latin1 = (lines: string[]): Buffer => Buffer.from(lines.join(''), 'latin1');

/** Applies `patches` with GNU patch to a scratch copy of `before` and compares with `ours` and `after`. */
export async function confirmWithGnuPatch(
  before: Tree,
  patches: { name: string; content: Buffer }[],
  ours: PatchVerdict[],
  after: Tree,
): Promise<Confirmation> {
  const files = new Map<string, Buffer>();
  for (const [p, e] of before) if (e.kind === 'file') files.set(p, latin1(e.lines));
  const touched = [
    ...new Set([...before.keys(), ...after.keys(), ...ours.flatMap((v) => v.files.map((f) => f.path))]),
  ].filter((p) => p !== '?');
  const { runs, after: gnuAfter } = await runPatchSeries(files, patches, touched);
  const differences: string[] = [];
  for (const [i, run] of runs.entries()) {
    const mine = ours[i];
    if (!mine) continue;
    if ((run.status === 0) !== mine.applied) {
      differences.push(
        `${run.name}: patch(1) exited ${run.status}, in memory it ${mine.applied ? 'applied' : 'failed'}`,
      );
    }
    const gnuFiles = parsePatchOutput(run.output);
    for (const [j, f] of mine.files.entries()) {
      const g = gnuFiles[j];
      if (!g) continue;
      for (const h of f.hunks) {
        const gh = g.hunks.find((x) => x.hunk === h.hunk);
        if (!gh) continue;
        // patch(1) prints offset and fuzz only for hunks it applied
        const same =
          gh.applied === h.applied && gh.at === h.at && (!h.applied || (gh.fuzz === h.fuzz && gh.offset === h.offset));
        if (!same) {
          const say = (x: { applied: boolean; at: number; fuzz: number; offset: number }): string =>
            `${x.applied ? 'applied' : 'FAILED'} at ${x.at} fuzz ${x.fuzz} offset ${x.offset}`;
          differences.push(`${run.name}: ${f.path} hunk #${h.hunk}: patch(1) ${say(gh)}, in memory ${say(h)}`);
        }
      }
    }
  }
  for (const p of touched) {
    const mine = after.get(p);
    const theirs = gnuAfter.get(p) ?? null;
    const mineBytes = mine?.kind === 'file' ? latin1(mine.lines) : null;
    if (mine?.kind === 'special') continue;
    if ((mineBytes === null) !== (theirs === null) || (mineBytes && theirs && !mineBytes.equals(theirs))) {
      differences.push(`${p}: the file patch(1) produced differs from the one computed in memory`);
    }
  }
  return { agrees: differences.length === 0, differences, runs };
}
