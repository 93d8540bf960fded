// The one way gentoo-kopt reads a file. Everything it reads is input, its own state included, and it
// runs as root: a FIFO in place of kopt.conf must not hang an emerge, /dev/zero must not grow the
// process to gigabytes, a symlinked state file must not make it read /etc/shadow. So every read:
//  - is of a regular file only (checked with stat before opening, so a device is never opened, and
//    again with fstat on the open descriptor); a FIFO, device, socket or directory is an error naming
//    it; `/dev/null` reads as empty where Portage allows it (`devNull`);
//  - is capped by the kind of file it is (LIMITS), with a clear message, also when the file grows or
//    lies about its size (/proc files say 0);
//  - optionally refuses a final symlink (`noFollow`: gentoo-kopt's own state files) and requires every
//    directory on the way to resolve inside a root (`inside`, see paths.ts).
// Decompressed data is capped the same way while it streams (`cappedStream`).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { ConfigError, FsError } from '../errors.js';
import { fsError, isErrno } from './fs-errors.js';
import { assertInside, assertInsideSync } from './paths.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The kinds of file gentoo-kopt reads, and how large each may be. */
export const LIMITS = {
  /** kopt.conf, catalogs, make.conf, package.env and env files, repos.conf, bashrc, hook settings. */
  config: { max: 4 * MiB, what: 'a config file' },
  /** journal.json, history.json and the ownership ledger under var/lib/gentoo-kopt. */
  state: { max: 64 * MiB, what: 'a gentoo-kopt state file' },
  lock: { max: 64 * KiB, what: 'a lock file' },
  /** One file of an installed package's VDB entry (SLOT, USE, metadata, ...). */
  vdb: { max: 16 * MiB, what: 'a VDB file' },
  /** Ebuilds, md5-cache entries, profiles/repo_name. */
  repository: { max: 4 * MiB, what: 'a repository file' },
  /** A patch file: series files, user patches, patches given to verify. */
  patch: { max: 64 * MiB, what: 'a patch file' },
  /** A backup tarball of a transaction (patch files and config files). */
  backup: { max: 1024 * MiB, what: 'a backup tarball' },
  /** A file a transaction replaces or removes, read into its backup. */
  replaced: { max: 64 * MiB, what: 'a file gentoo-kopt replaces or removes' },
  /** A kernel .config, a config.d fragment, a source tree's dist-kernel file. */
  'kernel-config': { max: 8 * MiB, what: 'a kernel config file' },
  /** /proc/meminfo, /proc/cpuinfo and the like. */
  proc: { max: 4 * MiB, what: 'a /proc file' },
  /** Files of gentoo-kopt's own installation (the hook it installs, package.json). */
  program: { max: 4 * MiB, what: 'a file of gentoo-kopt itself' },
  /** A file of a kernel source tree that verify reads (--source DIR, or a tarball member it keeps). */
  source: { max: 64 * MiB, what: 'a kernel source file' },
  /** A kernel profile: a .gcda from debugfs (st_size says 0: read to the end) or the store, an AutoFDO profile. */
  profile: { max: 256 * MiB, what: 'a kernel profile file' },
} as const;

export type FileKind = keyof typeof LIMITS;

export interface ReadOptions {
  /** The file itself may not be a symbolic link (gentoo-kopt's own state files). */
  noFollow?: boolean;
  /** `/dev/null` (or a link to it) reads as empty, as Portage reads it for config files. */
  devNull?: boolean;
  /** Every directory on the way (and the file, unless noFollow) must resolve inside this root. */
  inside?: string;
}

const KIND_NAMES: [(st: Stats) => boolean, string][] = [
  [(st) => st.isDirectory(), 'a directory'],
  [(st) => st.isFIFO(), 'a FIFO (named pipe)'],
  [(st) => st.isCharacterDevice(), 'a character device'],
  [(st) => st.isBlockDevice(), 'a block device'],
  [(st) => st.isSocket(), 'a socket'],
  [(st) => st.isSymbolicLink(), 'a symbolic link'],
];

/** "a FIFO (named pipe)", "a directory", ...: what a non-regular file is. */
export function kindOf(st: Stats): string {
  return KIND_NAMES.find(([test]) => test(st))?.[1] ?? 'not a regular file';
}

let devNullRdev: number | undefined;
function isDevNull(st: Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  devNullRdev ??= statSync('/dev/null').rdev;
  return st.rdev === devNullRdev;
}

function notRegular(file: string, st: Stats, kind: FileKind): FsError {
  return new FsError(`is ${kindOf(st)}, not a regular file`, {
    file,
    hint: `gentoo-kopt reads ${LIMITS[kind].what} only from a regular file: replace it with one`,
  });
}

export function tooLarge(file: string, kind: FileKind, size?: number): FsError {
  const { max, what } = LIMITS[kind];
  return new FsError(
    `is too large${size === undefined ? '' : ` (${size} bytes)`}: ${what} may be at most ${max} bytes`,
    {
      file,
      hint: 'is this the right file? gentoo-kopt refuses to read more',
    },
  );
}

function symlinkRefused(file: string): FsError {
  return new FsError('is a symbolic link: gentoo-kopt does not follow links for its own state files', {
    file,
    hint: 'replace the link with the file it points to (or remove it), then run gentoo-kopt again',
  });
}

function changed(file: string): FsError {
  return new FsError('was replaced while it was being read', { file, hint: 'run gentoo-kopt again' });
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Checks the stat of the path: undefined when missing, 'empty' for an allowed /dev/null. */
function checkStat(file: string, st: Stats, kind: FileKind, opts: ReadOptions): 'empty' | undefined {
  if (opts.noFollow && st.isSymbolicLink()) throw symlinkRefused(file);
  if (!st.isFile()) {
    if (opts.devNull && isDevNull(st)) return 'empty';
    throw notRegular(file, st, kind);
  }
  if (st.size > LIMITS[kind].max) throw tooLarge(file, kind, st.size);
  return undefined;
}

/** The first buffer of a read: the size stat gave plus one (to see the end), or 64 KiB for size 0. */
const firstBuffer = (kind: FileKind, size: number): Buffer =>
  Buffer.allocUnsafe(Math.min(LIMITS[kind].max + 1, size > 0 ? size + 1 : 64 * KiB));

/** `buf` when it has room past `used`, else a copy twice as large (never past the limit + 1). */
function room(buf: Buffer, used: number, file: string, kind: FileKind): Buffer {
  if (used < buf.length) return buf;
  const max = LIMITS[kind].max;
  if (used > max) throw tooLarge(file, kind);
  const bigger = Buffer.allocUnsafe(Math.min(max + 1, buf.length * 2));
  buf.copy(bigger, 0, 0, used);
  return bigger;
}

/** Reads from `fd` until end of file, failing past the kind's limit. `size` is the size stat reported. */
function readAllSync(fd: number, file: string, kind: FileKind, size: number): Buffer {
  const max = LIMITS[kind].max;
  let buf = firstBuffer(kind, size);
  let used = 0;
  for (;;) {
    buf = room(buf, used, file, kind);
    const n = readSync(fd, buf, used, buf.length - used, null);
    if (n === 0) break;
    used += n;
    // The size fstat gave is read, as readFileSync reads it: one more read(2) per file would only say
    // "end of file" (the VDB reads thousands). A size of 0 (/proc files) is read to the end.
    if (size > 0 && used >= size) break;
  }
  if (used > max) throw tooLarge(file, kind);
  return buf.subarray(0, used);
}

async function readAll(
  fh: Awaited<ReturnType<typeof open>>,
  file: string,
  kind: FileKind,
  size: number,
): Promise<Buffer> {
  const max = LIMITS[kind].max;
  let buf = firstBuffer(kind, size);
  let used = 0;
  for (;;) {
    buf = room(buf, used, file, kind);
    const { bytesRead } = await fh.read(buf, used, buf.length - used, null);
    if (bytesRead === 0) break;
    used += bytesRead;
    if (size > 0 && used >= size) break; // as in readAllSync
  }
  if (used > max) throw tooLarge(file, kind);
  return buf.subarray(0, used);
}

const sameFile = (a: Stats, b: Stats): boolean => a.ino === b.ino && a.dev === b.dev;

/** The file's bytes, or undefined when nothing is there (ENOENT). Every other problem is an FsError naming it. */
export async function readOptional(file: string, kind: FileKind, opts: ReadOptions = {}): Promise<Buffer | undefined> {
  if (opts.inside) await assertInside(opts.inside, file, { followFinal: !opts.noFollow });
  let st: Stats;
  try {
    st = opts.noFollow ? await lstat(file) : await stat(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      // stat() says missing: a symlink pointing nowhere is a broken config, not an absent one.
      if (!opts.noFollow && (await lstat(file).catch(() => undefined))?.isSymbolicLink()) {
        throw new FsError('is a symbolic link to nothing', {
          file,
          hint: 'point the link at an existing file, or remove it',
        });
      }
      return undefined;
    }
    throw fsError(err, file, 'read');
  }
  if (checkStat(file, st, kind, opts) === 'empty') return Buffer.alloc(0);
  let fh;
  try {
    fh = await open(file, OPEN_FLAGS | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    throw isErrno(err, 'ELOOP') && opts.noFollow ? symlinkRefused(file) : fsError(err, file, 'read');
  }
  try {
    const now = await fh.stat();
    if (!now.isFile() || !sameFile(now, st)) throw changed(file);
    return await readAll(fh, file, kind, now.size);
  } catch (err) {
    throw fsError(err, file, 'read');
  } finally {
    await fh.close();
  }
}

/** readOptional, where the file must exist. */
export async function readBounded(file: string, kind: FileKind, opts: ReadOptions = {}): Promise<Buffer> {
  const bytes = await readOptional(file, kind, opts);
  if (bytes === undefined) throw fsError(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }), file, 'read');
  return bytes;
}

/** readOptional for the synchronous readers (the VDB: thousands of one-line files). */
export function readOptionalSync(file: string, kind: FileKind, opts: ReadOptions = {}): Buffer | undefined {
  if (opts.inside) assertInsideSync(opts.inside, file, { followFinal: !opts.noFollow });
  let st: Stats | undefined;
  try {
    // No exception for a missing file: the VDB asks for many (fields kept only in `metadata`).
    st = opts.noFollow ? lstatSync(file, { throwIfNoEntry: false }) : statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    throw fsError(err, file, 'read');
  }
  if (st === undefined) {
    if (!opts.noFollow && isLink(file))
      throw new FsError('is a symbolic link to nothing', {
        file,
        hint: 'point the link at an existing file, or remove it',
      });
    return undefined;
  }
  if (checkStat(file, st, kind, opts) === 'empty') return Buffer.alloc(0);
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    throw isErrno(err, 'ELOOP') && opts.noFollow ? symlinkRefused(file) : fsError(err, file, 'read');
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile() || !sameFile(now, st)) throw changed(file);
    return readAllSync(fd, file, kind, now.size);
  } catch (err) {
    throw fsError(err, file, 'read');
  } finally {
    closeSync(fd);
  }
}

/** readOptionalSync, where the file must exist. */
export function readBoundedSync(file: string, kind: FileKind, opts: ReadOptions = {}): Buffer {
  const bytes = readOptionalSync(file, kind, opts);
  if (bytes === undefined) throw fsError(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }), file, 'read');
  return bytes;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false;
  }
}

/** Bytes as UTF-8 text; bytes that are not UTF-8 are a ConfigError naming the file (never echoed). */
export function utf8(bytes: Buffer, file: string, what = 'the file'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(`${what} is not valid UTF-8 text`, { file, cause: err });
  }
}

/**
 * A pass-through stream that fails once more than `max` bytes went through it: put it after a
 * decompressor (bzip2, xz, gunzip) so a small file that expands to gigabytes stops at the cap.
 */
export function cappedStream(max: number, onExceeded: (bytes: number) => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(onExceeded(seen));
      else done(null, chunk);
    },
  });
}
