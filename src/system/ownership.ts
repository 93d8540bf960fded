// Owning files through the ledger (ledger.ts), the same way for every owner: what is on disk, what the
// owner wants there and what the ledger recorded decide one State (decide), from which follow the
// operations, the owner's next part of the ledger and the words a report uses (STATES). Reads the
// tree, writes nothing: the operations go to a transaction (transaction.ts), the ledger's own write
// among them.
//
// The rules: a file the ledger does not name is never modified or removed; a file of ours the user
// edited is kept and reported when the user may edit its kind (--force replaces it, after the
// transaction backed it up), replaced otherwise (a generated file); files no longer wanted are
// removed unless edited; directories an owner created go again once empty.
import { lstatSync, readdirSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { fsError, isErrno } from './fs-errors.js';
import { sha256 } from './fs.js';
import { ledgerOps, type Ledger, type LoadedLedger, type OwnedFile, type Owner, type Part } from './ledger.js';
import { assertInside } from './paths.js';
import type { Op } from './plan.js';
import { readOptionalSync } from './read.js';

/**
 * The states, and what each means: the verb a report shows (with a note where the user should look),
 * what it says of the file as it is (`is`, for status), whether the file is written, and which record
 * the ledger keeps: the new one, the old one, or none.
 */
const ROWS = {
  create: { verb: 'install', is: 'missing', writes: true, keeps: 'new' }, // nothing there
  restore: { verb: 'restore', note: 'was deleted', is: 'missing', writes: true, keeps: 'new' }, // ours, deleted since
  update: { verb: 'update', is: 'outdated', writes: true, keeps: 'new' }, // ours as we wrote it: new bytes
  // ours, the bytes wanted, but a mode or owner its readers refuse
  repair: { verb: 'repair', note: 'mode or owner', is: 'UNSAFE mode or owner', writes: true, keeps: 'new' },
  unchanged: { verb: 'unchanged', is: 'current', keeps: 'new' },
  'kept-edited': { verb: 'KEEP', note: 'edited by you', is: 'edited', keeps: 'old' }, // --force replaces it
  // edited, and replaced (--force, or a generated file), after a backup
  'replace-edited': { verb: 'replace', note: 'edited by you; backed up', is: 'edited', writes: true, keeps: 'new' },
  conflict: { verb: 'SKIP', note: 'not written by gentoo-kopt', is: 'not ours' }, // or not a regular file
  remove: { verb: 'remove', is: 'stale' }, // no longer wanted, as we wrote it (or --force, or generated)
  'kept-stale': { verb: 'KEEP', note: 'stale, but edited by you', is: 'stale, edited', keeps: 'old' }, // --force removes it
  forget: { verb: 'forget', note: 'already gone', is: 'gone' }, // no longer wanted, gone (or not a regular file)
} satisfies Record<string, { verb: string; note?: string; is: string; writes?: true; keeps?: 'new' | 'old' }>;
export type State = keyof typeof ROWS;
export const STATES: Record<State, { verb: string; note?: string; is: string; writes?: true; keeps?: 'new' | 'old' }> =
  ROWS;

/** "install", "KEEP (edited by you)", ...: a state as a report line shows it. */
export const label = (s: State): string => STATES[s].verb + (STATES[s].note ? ` (${STATES[s].note})` : '');

/** One line per change that changes something (or needs attention), and how many are already in sync. */
export function stateLines(changes: { state: State; path: string }[]): string[] {
  const shown = changes.filter((c) => c.state !== 'unchanged');
  const inSync = changes.length - shown.length;
  return [
    ...shown.map((c) => `  ${label(c.state).padEnd(9)} ${c.path}`),
    ...(inSync && shown.length ? [`  (${inSync} file(s) already in sync)`] : []),
  ];
}

/** What is at a path: its bytes, NOT_REGULAR (a link, directory, FIFO, ...: someone else's), or undefined. */
export const NOT_REGULAR = 'not a regular file';
export type Current = Buffer | typeof NOT_REGULAR | undefined;

/**
 * The one decision: what to do with a path, from what is there now, what the owner wants there
 * (undefined: nothing, for a file only the ledger names), the sha256 the ledger recorded, --force, and
 * whether the user may edit this kind of file.
 */
export function decide(c: {
  current: Current;
  desired?: Buffer;
  recorded?: string;
  force: boolean;
  editable: boolean;
}): State {
  const { current, desired, recorded } = c;
  if (desired) {
    if (current === undefined) return recorded ? 'restore' : 'create';
    if (current === NOT_REGULAR || !recorded) return 'conflict';
    if (current.equals(desired)) return 'unchanged';
    if (sha256(current) === recorded) return 'update';
    return c.editable && !c.force ? 'kept-edited' : 'replace-edited';
  }
  if (current === undefined || current === NOT_REGULAR) return 'forget';
  return sha256(current) === recorded || c.force || !c.editable ? 'remove' : 'kept-stale';
}

/** Owned files are 0644 (the build user reads patches, the hook refuses anything writable by others), root's when we are root. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const amRoot = (): boolean => process.getuid?.() === 0;
const ROOT_OWNER = { uid: 0, gid: 0 };

/**
 * What is at `rel` now (`before`: its bytes, if a regular file), and whether its mode and owner are what
 * its readers accept. Synchronous, as the VDB's reads: a plan looks at every owned file (two series for
 * twenty kernels: eighty), and eight small system calls each cost far less than eight trips through
 * the thread pool (about 40 ms against 5 for that plan).
 */
function current(configRoot: string, rel: string): { bytes: Current; before?: Buffer; safe: boolean } {
  const file = path.join(configRoot, rel);
  let st;
  try {
    st = lstatSync(file, { throwIfNoEntry: false });
  } catch (err) {
    // ENOTDIR: a file where a parent directory should be; missingDirs reports that one by name.
    if (!isErrno(err, 'ENOTDIR')) throw fsError(err, file, 'inspect');
  }
  if (!st) return { bytes: undefined, safe: true };
  if (!st.isFile()) return { bytes: NOT_REGULAR, safe: true };
  const bytes = readOptionalSync(file, 'replaced', { noFollow: true, inside: configRoot });
  return { bytes, before: bytes, safe: (st.mode & 0o7777) === FILE_MODE && (!amRoot() || st.uid === 0) };
}

/** The names in `dir`, or undefined when it cannot be listed (gone already). */
function listIfDir(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

/**
 * Missing directories between the config root and `rel` (a directory), outermost first; a
 * non-directory in the way is an error. A symbolic link to a directory is followed when it stays
 * inside the root (etc/portage kept in a git checkout under it); one leading out of it is refused,
 * naming it (paths.ts).
 */
export async function missingDirs(configRoot: string, rel: string): Promise<string[]> {
  await assertInside(configRoot, path.join(configRoot, rel), { followFinal: true });
  const parts = rel.split('/');
  const missing: string[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const full = path.join(configRoot, sub);
    const st = await lstat(full).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(err)));
    if (!st) missing.push(sub);
    else if (!st.isDirectory() && !(st.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory()))
      throw new FsError(`expected a directory, found ${st.isSymbolicLink() ? 'a symlink' : 'a file'}`, {
        file: full,
        hint: 'move it out of the way; gentoo-kopt never replaces what it does not own',
      });
  }
  return missing;
}

/** A file the owner wants: its record (with the sha256 of `content`) and its bytes. */
export interface Wanted<O extends Owner> {
  file: OwnedFile<O>;
  content: Buffer;
}

/**
 * A file the owner shares with the user (bashrc): its bytes before and after (undefined: absent), the
 * mode to write it with, and whether the owner created it (recorded while the file exists).
 */
export interface Shared {
  path: string;
  before?: Buffer;
  after?: Buffer;
  mode: number;
  created: boolean;
}

export interface OwnedChange<O extends Owner> {
  state: State;
  file: OwnedFile<O>;
  /** Bytes on disk now (for diffs), when there are any. */
  before?: Buffer;
  /** Bytes wanted, for a wanted file. */
  after?: Buffer;
}

export interface OwnedPlan<O extends Owner> {
  changes: OwnedChange<O>[];
  mkdirs: string[];
  rmdirs: string[];
  /** Every operation, the ledger's write among them; none when nothing changes. */
  ops: Op[];
  ledger: Ledger;
  /** The first release's records this plan carries over into the ledger (relative to the config root). */
  migrated: string[];
  diffs(): Promise<string[]>;
}

const depth = (rel: string): number => rel.split('/').length;

/**
 * `owner`'s files brought to `wanted`, owned through the ledger. A recorded file not wanted is removed
 * (unless `prunable` says it is not this run's to prune); `shared` files are written as given.
 */
export async function planOwned<O extends Owner>(
  roots: Roots,
  loaded: LoadedLedger,
  owner: O,
  wanted: Wanted<O>[],
  opts: {
    force?: boolean;
    editable: (f: OwnedFile<O>) => boolean;
    prunable?: (f: OwnedFile<O>) => boolean;
    shared?: Shared[];
  },
): Promise<OwnedPlan<O>> {
  const root = roots.configRoot;
  const force = opts.force ?? false;
  const shared = opts.shared ?? [];
  const part: Part<O> = loaded.ledger[owner];
  const recorded = new Map(part.files.map((f) => [f.path, f]));
  const changes: OwnedChange<O>[] = [];
  const keep: OwnedFile<O>[] = [];

  for (const w of wanted) {
    const old = recorded.get(w.file.path);
    const now = current(root, w.file.path);
    let state = decide({
      current: now.bytes,
      desired: w.content,
      recorded: old?.sha256,
      force,
      editable: opts.editable(w.file),
    });
    if (state === 'unchanged' && !now.safe) state = 'repair';
    changes.push({ state, file: w.file, before: now.before, after: w.content });
    const kept = STATES[state].keeps === 'new' ? w.file : STATES[state].keeps === 'old' ? old : undefined;
    if (kept) keep.push(kept);
  }
  const wantedPaths = new Set(wanted.map((w) => w.file.path));
  for (const old of part.files.filter((f) => !wantedPaths.has(f.path))) {
    if (opts.prunable && !opts.prunable(old)) {
      keep.push(old); // not this run's to prune: left as it is, still ours
      continue;
    }
    const now = current(root, old.path);
    const state = decide({ current: now.bytes, recorded: old.sha256, force, editable: opts.editable(old) });
    changes.push({ state, file: old, before: now.before });
    if (STATES[state].keeps) keep.push(old);
  }

  // What changes on disk: owned files written or removed, shared files as given.
  const owned = amRoot() ? { owner: ROOT_OWNER } : {};
  const edits: { path: string; before?: Buffer; after?: Buffer; mode: number; owner?: typeof ROOT_OWNER }[] = [
    ...changes
      .filter((c) => STATES[c.state].writes || c.state === 'remove')
      .map((c) => ({
        ...c,
        path: c.file.path,
        after: c.state === 'remove' ? undefined : c.after,
        mode: FILE_MODE,
        ...owned,
      })),
    ...shared.filter((s) => (s.before || s.after) && !(s.before && s.after?.equals(s.before))),
  ];
  // Directories: made for what is written, removed (deepest first) when the owner made them and
  // nothing is left in them or wanted below them.
  const mkdirs: string[] = [];
  for (const e of edits.filter((e) => e.after))
    for (const d of await missingDirs(root, path.posix.dirname(e.path))) if (!mkdirs.includes(d)) mkdirs.push(d);
  const removed = new Set(edits.filter((e) => !e.after).map((e) => e.path));
  const needed = [...wantedPaths, ...shared.filter((s) => s.after).map((s) => s.path)];
  const rmdirs: string[] = [];
  const gone = new Set<string>();
  for (const dir of part.dirs.filter((d) => !mkdirs.includes(d)).sort((a, b) => depth(b) - depth(a))) {
    const names = listIfDir(path.join(root, dir));
    if (!names)
      gone.add(dir); // gone already: forgotten
    else if (
      names.every((n) => removed.has(`${dir}/${n}`) || rmdirs.includes(`${dir}/${n}`)) &&
      !needed.some((r) => r.startsWith(`${dir}/`))
    )
      rmdirs.push(dir);
  }

  const next: Ledger = {
    ...loaded.ledger,
    [owner]: {
      files: keep,
      dirs: [...part.dirs.filter((d) => !rmdirs.includes(d) && !gone.has(d)), ...mkdirs],
      created: shared.filter((s) => s.created && s.after).map((s) => s.path),
    },
  };
  const abs = (rel: string): string => path.join(root, rel);
  const ops: Op[] = [
    ...mkdirs.map((d): Op => ({ kind: 'mkdir', path: abs(d), mode: DIR_MODE })),
    ...edits.map(
      ({ path: rel, after, mode, owner: o }): Op =>
        after
          ? { kind: 'write', path: abs(rel), content: after, mode, ...(o && { owner: o }) }
          : { kind: 'remove', path: abs(rel) },
    ),
    ...rmdirs.map((d): Op => ({ kind: 'rmdir', path: abs(d) })),
    ...ledgerOps(roots, loaded, next),
  ];
  const diffs = async (): Promise<string[]> => {
    const { createTwoFilesPatch } = await import('diff'); // only --pretend shows diffs
    return edits.map((e) => unifiedDiff(createTwoFilesPatch, e.path, e.before, e.after));
  };
  return { changes, mkdirs, rmdirs, ops, ledger: next, migrated: loaded.legacy, diffs };
}

/** A unified diff of `rel` from `before` to `after` (undefined: absent), as --pretend shows it. */
function unifiedDiff(
  createTwoFilesPatch: typeof import('diff').createTwoFilesPatch,
  rel: string,
  before: Buffer | undefined,
  after: Buffer | undefined,
): string {
  return createTwoFilesPatch(
    before ? `a/${rel}` : '/dev/null',
    after ? `b/${rel}` : '/dev/null',
    before?.toString('utf8') ?? '',
    after?.toString('utf8') ?? '',
    '',
    '',
    { context: 3 },
  );
}
