// What a killed run leaves in the state directory, and its removal. A run killed at any point (the
// OOM killer, a reboot, ^C of emerge) may leave: the temp file its lock was made from
// (`lock.<pid>.<token>`, and for a takeover `lock.takeover.<pid>.<token>`), the temp files of atomic
// writes (`.journal.json.kopt-tmp-<pid>-<random>`, ... for the lock, history, the ownership records
// and a backup), a takeover guard `lock.takeover`, and a backup tarball the journal was never written
// for. Every one of these names carries the pid of its writer; the next run that holds the lock
// removes those whose writer is dead (a pid alive in this PID namespace may be another run, trying
// for the lock: kept), and never a name that is not gentoo-kopt's own. A run in another PID namespace
// (Portage's pid-sandbox) that is still trying for the lock may lose its lock.<pid>.<token> file this
// way: its link() then fails with ENOENT and it simply tries again.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Roots } from '../portage/roots.js';
import { statePath } from './paths.js';
import { BACKUP_NAME } from './areas.js';
import { removeFile, TEMP_MARK, tempWriter } from './fs.js';
import { readHistory, readJournal, type TxRecord } from './journal.js';
import { staleTakeoverGuard } from './lock.js';

/** The files gentoo-kopt writes in the state directory (atomic writes leave temps of these). */
const STATE_FILES = ['journal.json', 'history.json', 'ledger.json', 'managed.json', 'hooks.json'];

/** `lock.<pid>.<token>` and `lock.takeover.<pid>.<token>`: the files a lock is linked from (lock.ts). */
const LOCK_TEMP = /^lock(?:\.takeover)?\.([0-9]{1,10})\.[0-9a-f]{16}$/;

/** The writer's pid when `name` (in the state directory) is litter of gentoo-kopt's; undefined otherwise. */
function stateLitter(name: string): number | undefined {
  const lockTemp = LOCK_TEMP.exec(name);
  if (lockTemp) return Number(lockTemp[1]);
  const writer = tempWriter(name);
  if (writer === undefined) return undefined;
  const of = name.slice(1, name.lastIndexOf(TEMP_MARK));
  return STATE_FILES.includes(of) || LOCK_TEMP.test(of) ? writer : undefined;
}

/** In backups/: a temp of a tarball, or a tarball no record refers to (its id holds the writer's pid). */
function backupLitter(name: string, wanted: Set<string>): number | undefined {
  const writer = tempWriter(name);
  if (writer !== undefined) return BACKUP_NAME.test(name.slice(1, name.lastIndexOf(TEMP_MARK))) ? writer : undefined;
  if (!BACKUP_NAME.test(name) || wanted.has(name)) return undefined;
  return Number(name.split('-')[1]);
}

/** Whether `pid` names a live process in this PID namespace (EPERM: alive, someone else's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The writer of a name is gone: dead, or this very process (which holds the lock and wrote it before). */
const writerGone = (pid: number): boolean => pid === process.pid || !pidAlive(pid);

/**
 * The backups (and their temp files) in backups/ that neither a kept history record nor a pending
 * journal refers to and whose writer is gone. With `temps: false` (after a commit) only tarballs.
 */
async function unwantedBackups(roots: Roots, opts: { temps: boolean }, records?: Records): Promise<string[]> {
  const dir = statePath(roots, 'backups');
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.length === 0) return []; // nothing to judge: the records are not needed
  const journal = records ? records.journal : await readJournal(roots);
  const history = records?.history ?? (await readHistory(roots));
  const wanted = new Set(history.map((t) => t.backup && path.basename(t.backup)).filter((b): b is string => !!b));
  if (journal?.backup && journal.state === 'applying') wanted.add(path.basename(journal.backup));
  const out: string[] = [];
  for (const name of names) {
    const pid = backupLitter(name, wanted);
    if (pid !== undefined && (opts.temps || !name.startsWith('.')) && writerGone(pid)) out.push(path.join(dir, name));
  }
  return out;
}

/**
 * Deletes the backups no kept history record refers to (pruned, undone or recovered transactions):
 * what commitTransaction does once the journal says 'done'.
 */
export async function pruneBackups(roots: Roots): Promise<void> {
  for (const file of await unwantedBackups(roots, { temps: false }))
    await removeFile(file, { inside: roots.configRoot });
}

/** The journal as the caller read (and checked) it, and the history when it read that too. */
interface Records {
  journal: TxRecord | undefined;
  history?: TxRecord[];
}

/**
 * Removes what dead runs left in the state directory and backups/ (see the header); returns the
 * paths removed. The caller holds the lock and has recovered an interrupted transaction first.
 */
export async function removeLitter(roots: Roots, records?: Records): Promise<string[]> {
  const dir = statePath(roots);
  const doomed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = stateLitter(name);
    if (pid !== undefined && writerGone(pid)) doomed.push(path.join(dir, name));
  }
  doomed.push(...(await unwantedBackups(roots, { temps: true }, records)));
  // A takeover guard whose holder died in the middle of taking over a stale lock.
  if (await staleTakeoverGuard(roots)) doomed.push(statePath(roots, 'lock.takeover'));

  for (const file of doomed) await removeFile(file, { inside: roots.configRoot });
  return doomed;
}
