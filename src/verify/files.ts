// One patch file against an in-memory tree, with patch(1)'s file-level rules (GNU patch 2.7, checked
// against /usr/bin/patch by test/verify-gnu.test.ts):
//  - a section that creates a file (/dev/null or an epoch timestamp on the old side, or git's `new file
//    mode`) fails when the file exists and is not empty; a section whose only hunk is `-0,0` creates a
//    missing file even without those marks; any other section for a missing file is skipped and fails
//    ("can't find file to patch"), also a git section without hunks (a mode change); a creation without
//    hunks over an existing file, or a deletion without hunks of a missing file, applies "anyway";
//  - a section that deletes a file removes it when the hunks leave it empty, else fails ("Not deleting
//    file ... as content differs from patch"), keeping what was patched;
//  - when the old and new names differ, the one that exists is patched (fewest path components, then
//    the shortest basename, then the shortest name, when both or neither exist); git renames and copies
//    read the old name and write the new one;
//  - symbolic links and other non-regular files are refused; `GIT binary patch` sections cannot be applied.
import { SourceError } from '../errors.js';
import { applyHunks, type HunkVerdict } from './apply.js';
import { parsePatch, type FilePatch } from './hunks.js';

/** A path in the tree: a regular file's lines, or something patch(1) refuses to patch. */
export type Entry = { kind: 'file'; lines: string[] } | { kind: 'special'; what: string };
/** The files a verification knows; a path that is not in the map does not exist. */
export type Tree = Map<string, Entry>;

export type FileOp = 'modify' | 'create' | 'delete' | 'rename' | 'copy';

export interface FileVerdict {
  path: string;
  op: FileOp;
  applied: boolean;
  /** Why the whole section failed (missing file, link, binary, ...), when it did. */
  problem?: string;
  hunks: HunkVerdict[];
  /** Line where the section starts in the patch. */
  line: number;
  /** Why patch(1) might decide otherwise, when it might. */
  uncertain?: string;
}

export interface PatchVerdict {
  name: string;
  applied: boolean;
  files: FileVerdict[];
  /** The patch could not be read at all (malformed): where and why. */
  error?: { line?: number; message: string };
  /** Why this verdict might differ from patch(1)'s (CR LF line ends ...): confirm with GNU patch. */
  uncertain: string[];
  /**
   * GNU patch, asked to confirm, decided otherwise: `applied` is then its verdict (exit status), and
   * `files` are the in-memory results it overruled; `messages` are its own lines about this patch.
   */
  overruled?: { status: number; messages: string[] };
}

function opOf(f: FilePatch): FileOp {
  return f.rename ? 'rename' : f.copy ? 'copy' : f.create ? 'create' : f.delete ? 'delete' : 'modify';
}

/** GNU patch best_name: fewest components, then shortest basename, then shortest name. */
function bestName(names: string[]): string {
  const key = (n: string): [number, number, number] => [
    n.split('/').length,
    n.length - n.lastIndexOf('/') - 1,
    n.length,
  ];
  return [...names].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  })[0]!;
}

/** Which path patch(1) reads (source) and writes (target) for a section. */
function pathsFor(f: FilePatch, tree: Tree): { source?: string; target?: string } {
  if (f.rename || f.copy) return { source: f.old, target: f.new };
  if (f.create) return { target: f.new ?? f.old };
  if (f.delete) return { source: f.old, target: f.old };
  if (f.old === f.new || f.new === undefined) return { source: f.old, target: f.old };
  if (f.old === undefined) return { source: f.new, target: f.new };
  const existing = [f.old, f.new].filter((p) => tree.has(p));
  const name = bestName(existing.length > 0 ? existing : [f.old, f.new]);
  return { source: name, target: name };
}

function failAll(f: FilePatch, path: string, problem: string): FileVerdict {
  return { path, op: opOf(f), applied: false, problem, line: f.line, hunks: [] };
}

/** Applies one file section to `tree` (changing it as patch(1) would change the files). */
export function applyFile(tree: Tree, f: FilePatch): FileVerdict {
  const { source, target } = pathsFor(f, tree);
  const path = target ?? source ?? '?';
  if (f.unsafe) return failAll(f, path, f.unsafe);
  if (f.binary) return failAll(f, path, 'a binary (GIT binary patch) section: patch(1) cannot apply binary diffs');
  const from = f.create && !f.rename && !f.copy ? tree.get(path) : source === undefined ? undefined : tree.get(source);
  if (from?.kind === 'special')
    return failAll(f, path, `'${source ?? path}' is ${from.what} in the sources: patch(1) refuses to patch it`);
  let input: string[];
  // without hunks, patch(1) creates over an existing file and deletes a missing one "anyway"
  const noHunks = f.hunks.length === 0;
  if (f.create && !f.rename && !f.copy) {
    if (from && from.lines.length > 0 && !noHunks)
      return failAll(f, path, `the patch creates '${path}', which already exists`);
    input = from?.lines ?? [];
  } else if (!from) {
    const createsAnyway = !noHunks && f.hunks[0]!.oldStart === 0 && f.hunks[0]!.oldCount === 0;
    if (f.delete && noHunks) return { path, op: opOf(f), applied: true, line: f.line, hunks: [] };
    if (!createsAnyway)
      return failAll(f, path, `'${source ?? path}' is not in the sources (patch(1): can't find file to patch)`);
    input = [];
  } else input = from.lines;

  const { output, verdicts, uncertain } = applyHunks(input, f.hunks);
  const verdict: FileVerdict = {
    path,
    op: opOf(f),
    applied: verdicts.every((v) => v.applied),
    line: f.line,
    hunks: verdicts,
  };
  if (uncertain)
    verdict.uncertain =
      'a hunk was searched for before line 1 (its line numbers are out of order), where patch(1) reads outside the file';
  if (f.crlf) verdict.uncertain = 'CR LF line ends (patch(1) has heuristics for them)';
  if (f.delete) {
    if (output.length === 0) tree.delete(path);
    else {
      tree.set(path, { kind: 'file', lines: output });
      verdict.applied = false;
      verdict.problem ??= `not deleting '${path}': its content differs from the patch`;
    }
    return verdict;
  }
  if (f.rename && source !== undefined && source !== target) tree.delete(source);
  tree.set(path, { kind: 'file', lines: output });
  return verdict;
}

/** Parses and applies one patch file (as one `patch -p1 -f -g0 < FILE` run) to `tree`. */
export function applyPatchFile(tree: Tree, name: string, content: Buffer | string): PatchVerdict {
  let files: FilePatch[];
  try {
    files = parsePatch(content, name);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    return { name, applied: false, files: [], error: { line: err.line, message: err.message }, uncertain: [] };
  }
  if (files.length === 0) {
    return {
      name,
      applied: false,
      files: [],
      error: { message: 'no file section found: patch(1) says "Only garbage was found in the patch input."' },
      uncertain: [],
    };
  }
  const verdicts = files.map((f) => applyFile(tree, f));
  const uncertain = verdicts.filter((v) => v.uncertain).map((v) => `${v.path}: ${v.uncertain}`);
  return { name, applied: verdicts.every((v) => v.applied), files: verdicts, uncertain };
}
