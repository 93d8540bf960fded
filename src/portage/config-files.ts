// Reading Portage's config paths: a path that may be a file or a directory of files (repos.conf,
// make.conf, ...), walked as Portage's _recursive_file_list (lib/portage/util/__init__.py) does:
// depth first, entries sorted by name with files and directories together, names starting with '.'
// or ending in '~' skipped, VCS directories skipped, non-regular files skipped.
// Where Portage silently ignores a broken path, we stop with an FsError naming it: a dangling symlink,
// a non-directory in the middle of a path, or a permission problem is a broken config, not an absent one.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';

// lib/portage/const.py VCS_DIRS
const VCS_DIRS = new Set(['CVS', 'RCS', 'SCCS', '.bzr', '.git', '.hg', '.svn']);

const wanted = (name: string): boolean => !name.startsWith('.') && !name.endsWith('~');

const ERRNO_TEXT: Record<string, { message: string; hint?: string }> = {
  EACCES: { message: 'permission denied', hint: 'run as root, or make it readable' },
  EPERM: { message: 'operation not permitted', hint: 'run as root, or make it readable' },
  ENOTDIR: { message: 'a component of the path is not a directory', hint: 'replace the file in the way by a directory' },
  EISDIR: { message: 'is a directory where a file is expected' },
  ELOOP: { message: 'too many levels of symbolic links', hint: 'fix the symlink loop' },
  ENOENT: { message: 'no such file or directory' },
};

/** Turns a Node fs error into an FsError naming `file`. Anything that is not an fs error is rethrown. */
export function fsError(err: unknown, file: string): FsError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') throw err;
  const known = ERRNO_TEXT[code];
  return new FsError(known?.message ?? `${code}: ${(err as Error).message}`, { file, hint: known?.hint, cause: err });
}

export const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** The file's text, or undefined when it does not exist. Other failures throw FsError. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw fsError(err, file);
  }
}

async function statOrMissing(p: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(p);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw fsError(err, p);
    // stat() says missing: fine unless a symlink is there pointing nowhere.
    const link = await lstat(p).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new FsError('is a dangling symlink', { file: p, hint: 'point the symlink at an existing file or remove it' });
    }
    return undefined;
  }
}

/**
 * The regular files that make up the config at `p`, in the order Portage reads them: `[p]` for a file,
 * the sorted recursive walk for a directory, `[]` when nothing is there.
 */
export async function recursiveFileList(p: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(full: string): Promise<void> {
    const name = path.basename(full);
    const st = await statOrMissing(full);
    if (!st) return;
    if (st.isDirectory()) {
      if (VCS_DIRS.has(name) || !wanted(name)) return;
      let children: string[];
      try {
        children = await readdir(full);
      } catch (err) {
        throw fsError(err, full);
      }
      for (const child of children.sort()) await walk(path.join(full, child));
    } else if (st.isFile() && wanted(name)) {
      out.push(full);
    }
  }
  await walk(p);
  return out;
}
