// File primitives for the only layer that writes: atomic replace (temp file in the same directory,
// fsync, exact mode, rename, fsync the directory), directory creation that reports what it made,
// and the errno -> FsError mapping that turns "EACCES" into a sentence saying what to do next.
// Everything here acts on one path; transactions (transaction.ts) compose these into undoable changes.
//
// Every primitive takes the root it must stay inside (`inside`) and checks, right before it acts, that
// every directory on the way resolves inside it (assertInside, paths.ts): a symlinked directory that
// leads out of the root is refused by name, whoever the caller is.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rmdir,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { fsError, isErrno, type FsAction } from './fs-errors.js';
import { assertInside } from './paths.js';

/** Who should own a file we write; applied only when we run as root (anyone else cannot chown). */
export interface Owner {
  uid: number;
  gid: number;
}

export interface WriteOptions {
  /** The root every directory on the way must resolve inside (PORTAGE_CONFIGROOT). */
  inside: string;
  owner?: Owner;
}

const ROOT_HINT = 'run as root, or use --root DIR to act on a tree you own';

/** errno -> what it means for the path and what the user can do. Codes not listed pass through unchanged. */
const ERRNO: Record<string, { what: string; hint: string }> = {
  EACCES: { what: 'permission denied', hint: ROOT_HINT },
  EPERM: { what: 'operation not permitted', hint: `${ROOT_HINT} (an immutable file needs chattr -i)` },
  EROFS: { what: 'read-only file system', hint: 'remount it read-write, or use --root DIR' },
  ENOTDIR: { what: 'not a directory (expected a directory)', hint: 'move the file in the way aside' },
  EISDIR: { what: 'is a directory (expected a file)', hint: 'move the directory in the way aside' },
  ENOSPC: { what: 'no space left on device', hint: 'free some space and run again' },
};

/**
 * Maps a Node fs error for `file` to an FsError, in the words above for what a writer meets most, else
 * from the one errno table (fs-errors.ts: EIO, EDQUOT, ...); returns anything else unchanged (for
 * `throw toFsError(...)`).
 */
export function toFsError(err: unknown, file: string, action: FsAction): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = code ? ERRNO[code] : undefined;
  if (!known) return code === 'ENOENT' ? err : fsError(err, file, action);
  return new FsError(`cannot ${action}: ${known.what} (${code})`, { file, hint: known.hint, cause: err });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const TEMP_MARK = '.kopt-tmp-';

/** Temp names beside `file` start with this: a dotfile (eapply_user ignores one if left), within NAME_MAX. */
const tempPrefix = (file: string): string => `.${path.basename(file).slice(0, 200)}${TEMP_MARK}`;

/** `.<name>.kopt-tmp-<pid>-<random>`: the writer's pid tells crash recovery whether it is still running. */
function tempName(file: string): string {
  return path.join(path.dirname(file), `${tempPrefix(file)}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The pid of the writer of a temp file named by tempName (undefined for any other name). */
export function tempWriter(name: string): number | undefined {
  const m = /\.kopt-tmp-([0-9]{1,10})-[0-9a-f]{8}$/.exec(name);
  return name.startsWith('.') && m ? Number(m[1]) : undefined;
}

/** Temp files a killed writer left beside `file` (crash recovery removes them). */
export async function strayTemps(file: string): Promise<string[]> {
  const prefix = tempPrefix(file);
  const names = await readdir(path.dirname(file)).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(prefix) && tempWriter(n) !== undefined)
    .map((n) => path.join(path.dirname(file), n));
}

/** fsync a directory so a rename or unlink in it survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}

const amRoot = (): boolean => process.getuid?.() === 0;

/** Replaces `file` with `data` atomically: readers see the old or the new bytes, never a mix. */
export async function writeFileAtomic(
  file: string,
  data: Buffer | string,
  mode: number,
  opts: WriteOptions,
): Promise<void> {
  await assertInside(opts.inside, file);
  const tmp = tempName(file);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode); // exact mode: open() would apply the umask
      if (opts.owner && amRoot()) await fh.chown(opts.owner.uid, opts.owner.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw toFsError(err, isErrno(err, 'ENOTDIR') ? await inTheWay(file) : file, 'write');
  }
  await syncDir(path.dirname(file));
}

/** Creates or replaces the symlink `file` -> `target` atomically. */
export async function writeSymlinkAtomic(file: string, target: string, opts: WriteOptions): Promise<void> {
  await assertInside(opts.inside, file);
  const tmp = tempName(file);
  try {
    await symlink(target, tmp);
    if (opts.owner && amRoot()) await lchown(tmp, opts.owner.uid, opts.owner.gid);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw toFsError(err, isErrno(err, 'ENOTDIR') ? await inTheWay(file) : file, 'write');
  }
  await syncDir(path.dirname(file));
}

/** For ENOTDIR: the nearest ancestor of `file` that exists but is not a directory (the one to name). */
async function inTheWay(file: string): Promise<string> {
  for (let cur = path.dirname(file); path.dirname(cur) !== cur; cur = path.dirname(cur)) {
    const st = await stat(cur).catch(() => undefined);
    if (st && !st.isDirectory()) return cur;
  }
  return file;
}

/**
 * Makes `dir` and any missing parents, each with exactly `mode`; returns the directories it created,
 * outermost first (so a transaction can record, and later remove, only what it made).
 */
export async function ensureDir(dir: string, mode: number, opts: WriteOptions): Promise<string[]> {
  await assertInside(opts.inside, dir, { followFinal: true });
  const missing: string[] = [];
  for (let cur = path.resolve(dir); ; cur = path.dirname(cur)) {
    const st = await stat(cur).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      if (isErrno(err, 'ENOTDIR')) return null; // a file further up: reported when we reach it
      throw toFsError(err, cur, 'inspect');
    });
    if (st?.isDirectory()) break;
    if (st)
      throw new FsError(`${cur} is not a directory (expected a directory)`, { file: cur, hint: ERRNO.ENOTDIR!.hint });
    missing.unshift(cur);
    if (path.dirname(cur) === cur) break;
  }
  const created: string[] = [];
  for (const d of missing) {
    try {
      // Made with the mode asked for (the umask can only take bits away), so a crash before the
      // chmod never leaves a directory more open than wanted (backups/ is 0700).
      await mkdir(d, mode);
    } catch (err) {
      if (isErrno(err, 'EEXIST') && (await stat(d)).isDirectory()) continue; // made by someone else meanwhile
      throw toFsError(err, d, 'create directory');
    }
    await chmod(d, mode); // exact mode, whatever the umask
    if (opts.owner && amRoot()) await chown(d, opts.owner.uid, opts.owner.gid);
    created.push(d);
  }
  if (created.length) await syncDir(path.dirname(created[0]!));
  return created;
}

/** Removes a file or symlink; false when it was not there. */
export async function removeFile(file: string, opts: Pick<WriteOptions, 'inside'>): Promise<boolean> {
  await assertInside(opts.inside, file);
  try {
    await unlink(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw toFsError(err, file, 'remove');
  }
  await syncDir(path.dirname(file));
  return true;
}

/** Removes a directory if it is empty; false when it was missing or not empty. */
export async function removeEmptyDir(dir: string, opts: Pick<WriteOptions, 'inside'>): Promise<boolean> {
  await assertInside(opts.inside, dir);
  try {
    await rmdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) return false;
    throw toFsError(err, dir, 'remove directory');
  }
  await syncDir(path.dirname(dir));
  return true;
}

/** lstat, or undefined when nothing is there. */
export async function lstatIfExists(file: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw toFsError(err, file, 'inspect');
  }
}
