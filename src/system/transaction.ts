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
//  5. finish: append the record to history.json (last HISTORY_KEEP kept, older backups pruned), then
//     mark the journal 'done'.
// An exception in 4 restores every changed path from the backup, puts the journal back as it was,
// removes the backup and
// rethrows. A crash in 4 or 5 leaves the journal 'applying'; recoverIncomplete() (every writing command
// calls it after taking the lock) restores the before-state, drops the record from the history and marks
// the journal 'recovered'. Restoring is idempotent, so a crash during recovery is recovered next time.
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
import { statePath, type Roots } from '../portage/roots.js';
import { resolveAreaLinks } from './areas.js';
import { changedSince, packBackup, readBackup, restoreOps, type Member } from './backup.js';
import { ensureDir, removeEmptyDir, removeFile, strayTemps, writeFileAtomic } from './fs.js';
import { journalFile, pruneBackups, readHistory, readJournal, readStateBytes, writeHistory, writeJournal, writeState, type TxRecord } from './journal.js';
import { Planner, runOp, type Op } from './plan.js';

export type { Op } from './plan.js';
export { HISTORY_KEEP, readHistory, readJournal, type TxRecord } from './journal.js';

export interface TxMeta {
  command: string;
  /** Test hook (GENTOO_KOPT_FAULT_AFTER, see faultFromEnv): fail after this many operations changed something. */
  faultAfter?: number;
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

/** GENTOO_KOPT_FAULT_AFTER=N or N:exit, for tests of the crash paths; the CLI passes it into TxMeta. */
export function faultFromEnv(env: NodeJS.ProcessEnv): Pick<TxMeta, 'faultAfter' | 'faultMode'> {
  const m = /^(\d+)(?::(throw|exit))?$/.exec(env.GENTOO_KOPT_FAULT_AFTER ?? '');
  return m ? { faultAfter: Number(m[1]), faultMode: (m[2] as 'throw' | 'exit' | undefined) ?? 'throw' } : {};
}

function newId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/** Applies `ops` all or nothing (see the protocol above). The caller holds the lock. */
export async function commitTransaction(roots: Roots, ops: Op[], meta: TxMeta): Promise<TxResult> {
  const pending = await readJournal(roots);
  // Overwriting the journal of an interrupted transaction would lose the only record of how to undo it.
  if (pending?.state === 'applying') throw new Error(`transaction ${pending.id} was interrupted: call recoverIncomplete() before planning`);
  const id = newId();
  const planner = new Planner(roots, await resolveAreaLinks(roots.configRoot));
  const steps: Op[][] = [];
  for (const op of ops) steps.push(await planner.plan(op));
  const { changes, members } = planner.changes();
  const notes = planner.notes;
  if (!changes.length && !meta.undoes) return { id, applied: 0, notes };

  const record: TxRecord = { format: 1, id, command: meta.command, started: new Date().toISOString(), state: 'applying', changes, undoes: meta.undoes };
  const inside = { inside: roots.configRoot };
  let backup: string | undefined;
  const previousJournal = await readStateBytes(roots, journalFile(roots));
  const madeDirs: string[] = [];
  if (members.length) {
    backup = statePath(roots, 'backups', `${id}.tar`);
    madeDirs.push(...(await ensureDir(statePath(roots), 0o755, inside)));
    madeDirs.push(...(await ensureDir(path.dirname(backup), 0o700, inside))); // copies of /etc files: root's eyes only
    await writeFileAtomic(backup, await packBackup(members), 0o600, inside);
    record.backup = path.relative(roots.configRoot, backup);
  }
  await writeJournal(roots, record);

  let applied = 0;
  const fault = (): void => {
    if (meta.faultAfter !== undefined && applied >= meta.faultAfter) injectFault(meta, applied);
  };
  try {
    for (const group of steps.filter((g) => g.length)) {
      fault();
      for (const step of group) await runOp(roots.configRoot, step, notes);
      applied++;
    }
    fault(); // faultAfter = every operation: fail between applying and finishing
  } catch (err) {
    // Undo from the tarball just written: the same path crash recovery takes.
    const restore = async (): Promise<void> => undo(roots, record, backup ? await readBackup(backup, roots.configRoot) : new Map(), []);
    await restore().catch((undoErr: unknown) => {
      throw new FsError(`applying transaction ${id} failed (${(err as Error).message}) and undoing it failed too: ${(undoErr as Error).message}`, {
        file: journalFile(roots),
        hint: 'the next gentoo-kopt run retries the undo; the old files are in the backup tarball',
        cause: err,
      });
    });
    // Undone completely: leave the state directory as it was too (the error says what happened).
    if (previousJournal) await writeState(roots, journalFile(roots), previousJournal);
    else await removeFile(journalFile(roots), inside);
    if (backup) await removeFile(backup, inside);
    for (const dir of madeDirs.reverse()) await removeEmptyDir(dir, inside);
    throw err;
  }

  record.finished = new Date().toISOString();
  record.state = 'done';
  const history = await readHistory(roots);
  for (const t of history) if (t.id === meta.undoes) t.rolledBackBy = id;
  await writeHistory(roots, [...history, record]);
  await writeJournal(roots, record);
  await pruneBackups(roots);
  return { id, backup, applied, notes };
}

function injectFault(meta: TxMeta, applied: number): never {
  if (meta.faultMode === 'exit') process.kill(process.pid, 'SIGKILL'); // a crash: no cleanup, no finally
  throw new Error(`injected fault after ${applied} operation(s) (GENTOO_KOPT_FAULT_AFTER test hook)`);
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

/** If the last transaction was interrupted (journal still 'applying'), restores its before-state. */
export async function recoverIncomplete(roots: Roots): Promise<{ recovered: boolean; id?: string }> {
  // Both records are read (and checked) before anything is touched.
  const record = await readJournal(roots);
  const history = await readHistory(roots);
  if (record?.state !== 'applying') return { recovered: false };
  const backup = record.backup ? await readBackup(path.join(roots.configRoot, record.backup), roots.configRoot) : new Map<string, Member>();
  await undo(roots, record, backup, []);
  // A crash after the history was written but before the journal said 'done': forget the record.
  if (history.some((t) => t.id === record.id || t.rolledBackBy === record.id)) {
    for (const t of history) if (t.rolledBackBy === record.id) delete t.rolledBackBy;
    await writeHistory(roots, history.filter((t) => t.id !== record.id));
  }
  record.state = 'recovered';
  await writeJournal(roots, record);
  return { recovered: true, id: record.id };
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
export async function rollbackLast(roots: Roots, opts: { force?: boolean } & Pick<TxMeta, 'faultAfter' | 'faultMode'> = {}): Promise<RollbackPlan | undefined> {
  const t = await target(roots);
  if (!t) return undefined;
  const { conflicts } = t.plan;
  if (conflicts.length && !opts.force)
    throw new FsError(`cannot roll back transaction ${t.record.id} (${t.record.command}): ${conflicts.length} path(s) changed since: ${conflicts.join(', ')}`, {
      file: conflicts[0],
      hint: 'look at them first; rollback --force overwrites them (the current files are backed up as a new transaction)',
    });
  await commitTransaction(roots, t.ops, { command: 'rollback', undoes: t.record.id, faultAfter: opts.faultAfter, faultMode: opts.faultMode });
  return t.plan;
}
