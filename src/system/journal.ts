// The transaction records under statePath(roots): journal.json (the current or last transaction,
// with its state) and history.json (the last HISTORY_KEEP finished ones, for rollback). Both are
// replaced atomically; backups/ holds the tarballs they refer to.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { statePath, type Roots } from '../portage/roots.js';
import type { Change } from './backup.js';
import { ensureDir, removeFile, toFsError, writeFileAtomic } from './fs.js';

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

export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toFsError(err, file, 'read');
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new FsError('is not valid JSON', { file, hint: 'gentoo-kopt writes it atomically, so it was edited by hand; restore or remove it' });
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await ensureDir(path.dirname(file));
  await writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n', 0o644);
}

export async function readHistory(roots: Roots): Promise<TxRecord[]> {
  return (await readJson<{ transactions: TxRecord[] }>(historyFile(roots)))?.transactions ?? [];
}

export async function writeHistory(roots: Roots, transactions: TxRecord[]): Promise<void> {
  await writeJson(historyFile(roots), { format: 1, transactions: transactions.slice(-HISTORY_KEEP) });
}

/**
 * Deletes backups no kept history record refers to (pruned, undone or recovered transactions). Runs
 * only once the journal says 'done': an interrupted transaction's backup is kept until it is recovered.
 */
export async function pruneBackups(roots: Roots): Promise<void> {
  const wanted = new Set((await readHistory(roots)).map((t) => t.backup && path.basename(t.backup)));
  const dir = statePath(roots, 'backups');
  for (const name of await readdir(dir).catch(() => [] as string[])) if (name.endsWith('.tar') && !wanted.has(name)) await removeFile(path.join(dir, name));
}
