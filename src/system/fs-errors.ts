// One errno -> message table for every file gentoo-kopt reads or writes: "EACCES" becomes a sentence
// that says what it means for the path and what the user can do. Reads and writes differ only in the
// hint (a file we cannot read must be made readable; a tree we cannot write wants root or --root).
import { FsError } from '../errors.js';

export type FsAction =
  | 'read'
  | 'write'
  | 'inspect'
  | 'list'
  | 'create directory'
  | 'remove'
  | 'remove directory'
  | 'create lock';

const ROOT_HINT = 'run as root, or use --root DIR to act on a tree you own';
const READ_HINT = 'run as root, or make it readable';

interface Meaning {
  what: string;
  /** The hint for a read (list, inspect) and for a write; one string when both are the same. */
  hint?: string | { read: string; write: string };
}

const ERRNO: Record<string, Meaning> = {
  ENOENT: { what: 'no such file or directory' },
  EACCES: { what: 'permission denied', hint: { read: READ_HINT, write: ROOT_HINT } },
  EPERM: {
    what: 'operation not permitted',
    hint: { read: READ_HINT, write: `${ROOT_HINT} (an immutable file needs chattr -i)` },
  },
  EROFS: { what: 'read-only file system', hint: 'remount it read-write, or use --root DIR' },
  ENOTDIR: {
    what: 'a component of the path is not a directory',
    hint: 'a file stands where a directory is expected: move it aside',
  },
  EISDIR: { what: 'is a directory (expected a file)', hint: 'move the directory in the way aside' },
  ENOSPC: { what: 'no space left on device', hint: 'free some space and run again' },
  EDQUOT: { what: 'disk quota exceeded', hint: 'free some space and run again' },
  ELOOP: { what: 'too many levels of symbolic links', hint: 'fix the symbolic link loop' },
  ENAMETOOLONG: { what: 'file name too long' },
  EIO: { what: 'input/output error', hint: 'the disk or file system reports an error: check dmesg' },
  EMFILE: { what: 'too many open files' },
  ENFILE: { what: 'too many open files in the system' },
  ENXIO: { what: 'no such device or address' },
  EXDEV: { what: 'crosses a file system boundary' },
};

export const errnoOf = (err: unknown): string | undefined => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

export const isErrno = (err: unknown, ...codes: string[]): boolean => codes.includes(errnoOf(err) ?? '');

/** "cannot read: permission denied (EACCES)" for `file`, with the hint; undefined for codes not in the table. */
export function describeErrno(err: unknown, file: string, action: FsAction): FsError | undefined {
  const code = errnoOf(err);
  const known = code ? ERRNO[code] : undefined;
  if (!known) return undefined;
  const reading = action === 'read' || action === 'inspect' || action === 'list';
  const hint = typeof known.hint === 'object' ? (reading ? known.hint.read : known.hint.write) : known.hint;
  return new FsError(`cannot ${action}: ${known.what} (${code})`, { file, hint, cause: err });
}

/** Maps a Node fs error for `file` to an FsError; anything else is returned unchanged (for `throw fsError(...)`). */
export function fsError(err: unknown, file: string, action: FsAction): unknown {
  if (err instanceof FsError) return err;
  const known = describeErrno(err, file, action);
  if (known) return known;
  const code = errnoOf(err);
  // An errno the table does not know: still name the file, with the system's own words.
  return code
    ? new FsError(`cannot ${action}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`, { file, cause: err })
    : err;
}
