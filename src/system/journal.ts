// The transaction records under statePath(roots): journal.json (the current or last transaction,
// with its state) and history.json (the last HISTORY_KEEP finished ones, for rollback). Both are
// replaced atomically; backups/ holds the tarballs they refer to.
//
// Both are input: crash recovery and rollback act on the paths they name, as root. So they are read
// with the bounded reader (a regular file, not a link, in a state directory that resolves inside the
// root) and checked field by field: every path must be relative, normalised and in an area gentoo-kopt
// writes (areas.ts), every state a kind that area holds. Anything else is a ConfigError naming the
// file and the field, raised before anything is touched.
import path from 'node:path';
import type { Roots } from '../portage/roots.js';
import { statePath } from './paths.js';
import { areaPath, kindsClaimable, resolveAreaLinks, type AreaLinks } from './areas.js';
import type { Change, PathState } from './backup.js';
import { ensureDir, writeFileAtomic } from './fs.js';
import {
  array,
  int,
  object,
  oneOf,
  optional,
  parseState,
  quote,
  ShapeError,
  str,
  tagged,
  type Shape,
} from './json-shape.js';
import { readOptional } from './read.js';

export interface TxRecord {
  format: 1;
  id: string;
  command: string;
  started: string;
  finished?: string;
  state: 'applying' | 'done' | 'recovered';
  /** Relative to the config root, like every path in `changes`. */
  backup?: string;
  changes: Change[];
  undoes?: string;
  rolledBackBy?: string;
}

/** How many transactions (and their backups) history.json keeps. */
export const HISTORY_KEEP = 10;

export const journalFile = (roots: Roots): string => statePath(roots, 'journal.json');
export const historyFile = (roots: Roots): string => statePath(roots, 'history.json');

/** `20250101T120000Z-1234-abcd`: when, which process, and a random part. */
export const TX_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9]{1,10}-[0-9a-f]{4}$/;

const MAX_CHANGES = 100_000;
const MAX_TRANSACTIONS = 1_000;

const mode = int(0, 0o7777);
const id = int(0, 2 ** 32 - 1);
const sha = str(64, /^[0-9a-f]{64}$/, 'a sha256 (64 hex digits)');
const txId = str(64, TX_ID, 'a transaction id');
const time = str(64);

const pathState: Shape<PathState> = tagged<PathState>('kind', {
  absent: object<{ kind: 'absent' }>({ kind: oneOf('absent') }),
  file: object<Extract<PathState, { kind: 'file' }>>({
    kind: oneOf('file'),
    mode,
    sha256: sha,
    uid: optional(id),
    gid: optional(id),
  }),
  symlink: object<Extract<PathState, { kind: 'symlink' }>>({
    kind: oneOf('symlink'),
    target: str(4096, /^[^\0]+$/, 'a link target'),
    uid: optional(id),
    gid: optional(id),
  }),
  dir: object<Extract<PathState, { kind: 'dir' }>>({ kind: oneOf('dir'), mode, uid: optional(id), gid: optional(id) }),
});

function change(links: AreaLinks): Shape<Change> {
  const shape = object<Change>({ path: areaPath('transaction', { links }), before: pathState, after: pathState });
  return (v, at) => {
    const c = shape(v, at);
    // An area's files are files (or a link the user had there), the directories on the way directories.
    const kinds = kindsClaimable(c.path, 'transaction', links);
    for (const side of ['before', 'after'] as const) {
      const k = c[side].kind;
      if (k !== 'absent' && !kinds.has(k === 'dir' ? 'dir' : 'file'))
        throw new ShapeError(`${at}.${side}.kind`, `gentoo-kopt never has a ${k} at ${quote(c.path)}`);
    }
    return c;
  };
}

function txRecord(links: AreaLinks): Shape<TxRecord> {
  const shape = object<TxRecord>({
    format: oneOf(1),
    id: txId,
    command: str(4096),
    started: time,
    finished: optional(time),
    state: oneOf('applying', 'done', 'recovered'),
    backup: optional(areaPath('backup', { kind: 'file' })),
    changes: array(change(links), MAX_CHANGES),
    undoes: optional(txId),
    rolledBackBy: optional(txId),
  });
  return (v, at) => {
    const r = shape(v, at);
    if (r.backup !== undefined && path.posix.basename(r.backup) !== `${r.id}.tar`)
      throw new ShapeError(`${at ? `${at}.` : ''}backup`, `is not the backup of transaction ${r.id}`);
    const seen = new Set<string>();
    for (const [i, c] of r.changes.entries()) {
      if (seen.has(c.path))
        throw new ShapeError(`${at ? `${at}.` : ''}changes[${i}].path`, `${quote(c.path)} appears twice`);
      seen.add(c.path);
    }
    return r;
  };
}

const stateRead = (roots: Roots) => ({ noFollow: true, inside: roots.configRoot });

/** journal.json, checked (see the header); undefined when there is none. */
export async function readJournal(roots: Roots): Promise<TxRecord | undefined> {
  const file = journalFile(roots);
  const bytes = await readOptional(file, 'state', stateRead(roots));
  if (bytes === undefined) return undefined;
  return parseState(bytes, file, txRecord(await resolveAreaLinks(roots.configRoot)), 'gentoo-kopt journal');
}

/** history.json's transactions, oldest first, checked (see the header). */
export async function readHistory(roots: Roots): Promise<TxRecord[]> {
  const file = historyFile(roots);
  const bytes = await readOptional(file, 'state', stateRead(roots));
  if (bytes === undefined) return [];
  const links = await resolveAreaLinks(roots.configRoot);
  const shape = object<{ format: 1; transactions: TxRecord[] }>({
    format: oneOf(1),
    transactions: array(txRecord(links), MAX_TRANSACTIONS),
  });
  return parseState(bytes, file, shape, 'gentoo-kopt history').transactions;
}

/** The bytes of a state file as they are (to put them back exactly after a failure); undefined when absent. */
export async function readStateBytes(roots: Roots, file: string): Promise<Buffer | undefined> {
  return readOptional(file, 'state', stateRead(roots));
}

/** Writes a state file under statePath(roots) atomically, its directory resolving inside the root. */
export async function writeState(roots: Roots, file: string, data: Buffer | string): Promise<void> {
  await ensureDir(path.dirname(file), 0o755, { inside: roots.configRoot });
  await writeFileAtomic(file, data, 0o644, { inside: roots.configRoot });
}

export async function writeJournal(roots: Roots, record: TxRecord): Promise<void> {
  await writeState(roots, journalFile(roots), JSON.stringify(record, null, 1) + '\n');
}

export async function writeHistory(roots: Roots, transactions: TxRecord[]): Promise<void> {
  await writeState(
    roots,
    historyFile(roots),
    JSON.stringify({ format: 1, transactions: transactions.slice(-HISTORY_KEEP) }, null, 1) + '\n',
  );
}
