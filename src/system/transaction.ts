// Transactions: the only way gentoo-kopt changes files. A list of operations is applied all or
// nothing, and the last transactions can be undone exactly (bytes, mode, owner).
//
// Protocol (all state under statePath(roots): var/lib/gentoo-kopt/ in the config root; the caller holds
// the lock from lock.ts):
//  1. plan: walk the operations against a virtual view of the tree, so each path's state *before the
//     transaction* is read once, no-op operations are dropped (same bytes and mode, directory already
//     there, nothing to remove), and anything impossible (a file where a directory must be) fails here,
//     before anything is touched. The result is one Change per touched path: {path, before, after}.
//  2. backup: every file or symlink that existed before goes into backups/<id>.tar, written atomically.
//  3. journal: journal.json = the record (id, command, time, changes, backup) with state 'applying',
//     written atomically. From here on, a crash is recoverable.
//  4. apply the operations in order, each one atomic (fs.ts).
//  5. finish: append the record to history.json (last HISTORY_KEEP kept), then mark the journal
//     'done'; then prune the backups no history record refers to any more.
// An exception in 2 to 5 (ENOSPC while writing history.json is one) restores every changed path from
// the backup, puts history.json and the journal back byte for byte, removes the backup and the
// directories made for it, and rethrows: the tree and the state directory end as they were. A crash
// in 4 or 5 leaves the journal 'applying'; recoverIncomplete() (every writing command calls it after
// taking the lock) restores the before-state, drops the record from the history and marks the journal
// 'recovered'; then it removes what killed runs left in the state directory (litter.ts). Restoring is
// idempotent, so a crash during recovery is recovered next time.
//
// The journal and the history are input (journal.ts checks them): recovery and rollback act only on
// paths in gentoo-kopt's areas (areas.ts), and check every one before they touch anything.
//
// rollbackLast() undoes the newest transaction in the history that is neither a rollback nor rolled
// back already; repeated rollbacks walk further back. It is itself a transaction (command 'rollback',
// `undoes: <id>`), so what it overwrites is backed up too. It refuses when a path the transaction
// changed has been changed since (someone's edit would be lost), unless `force` is given.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { statePath } from './paths.js';
import { resolveAreaLinks } from './areas.js';
import { changedSince, packBackup, readBackup, restoreOps, type Member } from './backup.js';
import { ensureDir, removeEmptyDir, removeFile, strayTemps, writeFileAtomic } from './fs.js';
import {
  historyFile,
  journalFile,
  readHistory,
  readJournal,
  readStateBytes,
  writeHistory,
  writeJournal,
  writeState,
  type TxRecord,
} from './journal.js';
import { pruneBackups, removeLitter } from './litter.js';
import { Planner, runOp, type Op } from './plan.js';

export type { Op } from './plan.js';
export { HISTORY_KEEP, readHistory, readJournal, type TxRecord } from './journal.js';

/** Where a test makes a transaction fail: after N operations, or once history.json is written. */
export type FaultPoint = number | 'history';

export interface TxMeta {
  command: string;
  /** Test hook (GENTOO_KOPT_FAULT_AFTER, see faultFromEnv): fail after this many operations changed something, or after writing history.json. */
  faultAfter?: FaultPoint;
  /** 'throw' (default): an exception, undone at once. 'exit': SIGKILL ourselves, as a crash would. */
  faultMode?: 'throw' | 'exit';
  /** Set by rollbackLast: the transaction this one undoes. */
  undoes?: string;
}

export interface TxResult {
  id: string;
  /** The backup tarball (absent when nothing that existed was replaced or removed). */
  backup?: string;
  /** Operations that changed something. */
  applied: number;
  /** Things worth telling the user (directories kept because they were not empty, ...). */
  notes: string[];
}

/** GENTOO_KOPT_FAULT_AFTER=N, N:exit, history or history:exit, for tests of the crash paths; the CLI passes it into TxMeta. */
export function faultFromEnv(env: NodeJS.ProcessEnv): Pick<TxMeta, 'faultAfter' | 'faultMode'> {
  const m = /^(\d+|history)(?::(throw|exit))?$/.exec(env.GENTOO_KOPT_FAULT_AFTER ?? '');
  if (!m) return {};
  return {
    faultAfter: m[1] === 'history' ? 'history' : Number(m[1]),
    faultMode: (m[2] as 'throw' | 'exit' | undefined) ?? 'throw',
  };
}

function newId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/** Applies `ops` all or nothing (see the protocol above). The caller holds the lock. */
export async function commitTransaction(roots: Roots, ops: Op[], meta: TxMeta): Promise<TxResult> {
  const pending = await readJournal(roots);
  // Overwriting the journal of an interrupted transaction would lose the only record of how to undo it.
  if (pending?.state === 'applying')
    throw new Error(`transaction ${pending.id} was interrupted: call recoverIncomplete() before planning`);
  const id = newId();
  const planner = new Planner(roots, await resolveAreaLinks(roots.configRoot));
  const steps: Op[][] = [];
  for (const op of ops) steps.push(await planner.plan(op));
  const { changes, members } = planner.changes();
  const notes = planner.notes;
  if (!changes.length && !meta.undoes) return { id, applied: 0, notes };

  const record: TxRecord = {
    format: 1,
    id,
    command: meta.command,
    started: new Date().toISOString(),
    state: 'applying',
    changes,
    undoes: meta.undoes,
  };
  const inside = { inside: roots.configRoot };
  // What the state directory holds now, to put back exactly if anything below fails.
  const previous = {
    journal: await readStateBytes(roots, journalFile(roots)),
    history: await readStateBytes(roots, historyFile(roots)),
  };
  const history = await readHistory(roots);
  const madeDirs: string[] = [];
  let backup: string | undefined;
  let journalWritten = false;
  let applied = 0;
  const fault = (point: FaultPoint): void => {
    if (
      meta.faultAfter === point ||
      (typeof point === 'number' && typeof meta.faultAfter === 'number' && point >= meta.faultAfter)
    )
      injectFault(meta, point);
  };
  try {
    if (members.length) {
      const file = statePath(roots, 'backups', `${id}.tar`);
      madeDirs.push(...(await ensureDir(statePath(roots), 0o755, inside)));
      madeDirs.push(...(await ensureDir(path.dirname(file), 0o700, inside))); // copies of /etc files: root's eyes only
      await writeFileAtomic(file, await packBackup(members), 0o600, inside);
      backup = file;
      record.backup = path.relative(roots.configRoot, file);
    }
    // Set before the write: a failure in it may or may not have replaced the journal. Undoing is
    // harmless when no operation ran (every path is still in its before-state).
    journalWritten = true;
    await writeJournal(roots, record);

    for (const group of steps.filter((g) => g.length)) {
      fault(applied);
      for (const step of group) await runOp(roots.configRoot, step, notes);
      applied++;
    }
    fault(applied); // faultAfter = every operation: fail between applying and finishing

    record.finished = new Date().toISOString();
    record.state = 'done';
    for (const t of history) if (t.id === meta.undoes) t.rolledBackBy = id;
    await writeHistory(roots, [...history, record]);
    fault('history');
    await writeJournal(roots, record);
  } catch (err) {
    await undoFailed(roots, { ...record, state: 'applying' }, { backup, journalWritten, previous, madeDirs }, err);
    throw err;
  }
  // Done: pruning is tidying, and a backup it cannot remove now is removed by a later run (litter.ts).
  await pruneBackups(roots).catch(
    (err: unknown) => void notes.push(`old backups not pruned: ${(err as Error).message}`),
  );
  return { id, backup, applied, notes };
}

/**
 * After a failure anywhere from the backup to the journal's 'done': the tree back from the backup
 * (the same path crash recovery takes), then history.json and the journal byte for byte, then the
 * backup and the directories made for it. The history goes back before the journal: if putting it
 * back fails, the journal still says 'applying' and the next run's recovery finishes the job.
 */
async function undoFailed(
  roots: Roots,
  record: TxRecord,
  done: {
    backup?: string;
    journalWritten: boolean;
    previous: { journal?: Buffer; history?: Buffer };
    madeDirs: string[];
  },
  err: unknown,
): Promise<void> {
  const inside = { inside: roots.configRoot };
  const putBack = async (file: string, bytes: Buffer | undefined): Promise<void> => {
    const now = await readStateBytes(roots, file).catch(() => null); // unreadable: write it anyway
    if (now !== null && (now === undefined ? bytes === undefined : bytes !== undefined && now.equals(bytes))) return;
    if (bytes === undefined) await removeFile(file, inside);
    else await writeState(roots, file, bytes);
  };
  try {
    if (done.journalWritten)
      await undo(
        roots,
        record,
        record.backup ? await readBackup(path.join(roots.configRoot, record.backup), roots.configRoot) : new Map(),
        [],
      );
    await putBack(historyFile(roots), done.previous.history);
    await putBack(journalFile(roots), done.previous.journal);
    if (done.backup) await removeFile(done.backup, inside);
    for (const dir of [...done.madeDirs].reverse()) await removeEmptyDir(dir, inside);
  } catch (undoErr) {
    throw new FsError(
      `transaction ${record.id} failed (${(err as Error).message}) and undoing it failed too: ${(undoErr as Error).message}`,
      {
        file: journalFile(roots),
        hint: 'the next gentoo-kopt run retries the undo; the old files are in the backup tarball',
        cause: err,
      },
    );
  }
}

function injectFault(meta: TxMeta, at: FaultPoint): never {
  if (meta.faultMode === 'exit') process.kill(process.pid, 'SIGKILL'); // a crash: no cleanup, no finally
  const where = at === 'history' ? 'after writing history.json' : `after ${at} operation(s)`;
  throw new Error(`injected fault ${where} (GENTOO_KOPT_FAULT_AFTER test hook)`);
}

/**
 * Returns every path of `record` to its before-state; removes temp files a killed writer left beside
 * them. Every path is checked (areas, inside the root) and every operation planned before the first
 * one is carried out.
 */
async function undo(roots: Roots, record: TxRecord, backup: Map<string, Member>, notes: string[]): Promise<void> {
  const backupFile = record.backup ? path.join(roots.configRoot, record.backup) : '(none)';
  const ops = await restoreOps(roots.configRoot, record.changes, backup, backupFile);
  const temps: string[] = [];
  for (const c of record.changes) temps.push(...(await strayTemps(path.join(roots.configRoot, c.path))));
  for (const t of temps) await removeFile(t, { inside: roots.configRoot });
  for (const op of ops) await runOp(roots.configRoot, op, notes);
}

/**
 * If the last transaction was interrupted (journal still 'applying'), restores its before-state; then
 * removes what killed runs left in the state directory. The caller holds the lock.
 */
export async function recoverIncomplete(roots: Roots): Promise<{ recovered: boolean; id?: string }> {
  // The records are read (and checked) before anything is touched: the journal always, the history
  // when a transaction is undone (and by removeLitter when there are backups to judge).
  const record = await readJournal(roots);
  let history: TxRecord[] | undefined;
  let result: { recovered: boolean; id?: string } = { recovered: false };
  if (record?.state === 'applying') {
    history = await readHistory(roots);
    const backup = record.backup
      ? await readBackup(path.join(roots.configRoot, record.backup), roots.configRoot)
      : new Map<string, Member>();
    await undo(roots, record, backup, []);
    // A crash after the history was written but before the journal said 'done': forget the record.
    if (history.some((t) => t.id === record.id || t.rolledBackBy === record.id)) {
      for (const t of history) if (t.rolledBackBy === record.id) delete t.rolledBackBy;
      history = history.filter((t) => t.id !== record.id);
      await writeHistory(roots, history);
    }
    record.state = 'recovered';
    await writeJournal(roots, record);
    result = { recovered: true, id: record.id };
  }
  await removeLitter(roots, { journal: record, history });
  return result;
}

export interface RollbackPlan {
  id: string;
  command: string;
  when: string;
  /** Absolute paths put back (directories end in '/'). */
  restore: string[];
  /** Absolute paths removed because the transaction created them (directories end in '/'). */
  remove: string[];
  /** Paths changed since the transaction; rollbackLast refuses unless forced. */
  conflicts: string[];
}

async function target(roots: Roots): Promise<{ record: TxRecord; ops: Op[]; plan: RollbackPlan } | undefined> {
  const record = (await readHistory(roots)).filter((t) => t.state === 'done' && !t.undoes && !t.rolledBackBy).at(-1);
  if (!record) return undefined;
  const backupFile = record.backup ? path.join(roots.configRoot, record.backup) : '(none)';
  const backup = record.backup ? await readBackup(backupFile, roots.configRoot) : new Map<string, Member>();
  const ops = await restoreOps(roots.configRoot, record.changes, backup, backupFile);
  const shown = (op: Op): string => op.path + (op.kind === 'mkdir' || op.kind === 'rmdir' ? '/' : '');
  const plan: RollbackPlan = {
    id: record.id,
    command: record.command,
    when: record.started,
    restore: ops.filter((o) => o.kind === 'mkdir' || o.kind === 'write' || o.kind === 'symlink').map(shown),
    remove: ops.filter((o) => o.kind === 'remove' || o.kind === 'rmdir').map(shown),
    conflicts: await changedSince(roots.configRoot, record.changes),
  };
  return { record, ops, plan };
}

/** What rollbackLast would do, without doing it. */
export async function planRollback(roots: Roots): Promise<RollbackPlan | undefined> {
  return (await target(roots))?.plan;
}

/** Undoes the newest undoable transaction (see the header); undefined when there is none. */
export async function rollbackLast(
  roots: Roots,
  opts: { force?: boolean } & Pick<TxMeta, 'faultAfter' | 'faultMode'> = {},
): Promise<RollbackPlan | undefined> {
  const t = await target(roots);
  if (!t) return undefined;
  const { conflicts } = t.plan;
  if (conflicts.length && !opts.force)
    throw new FsError(
      `cannot roll back transaction ${t.record.id} (${t.record.command}): ${conflicts.length} path(s) changed since: ${conflicts.join(', ')}`,
      {
        file: conflicts[0],
        hint: 'look at them first; rollback --force overwrites them (the current files are backed up as a new transaction)',
      },
    );
  await commitTransaction(roots, t.ops, {
    command: 'rollback',
    undoes: t.record.id,
    faultAfter: opts.faultAfter,
    faultMode: opts.faultMode,
  });
  return t.plan;
}
