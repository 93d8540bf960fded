// Reading Portage's config paths: a path that may be a file or a directory of files (repos.conf,
// make.conf, ...), walked as Portage's _recursive_file_list (lib/portage/util/__init__.py) does:
// depth first, entries sorted by name with files and directories together, names starting with '.'
// or ending in '~' skipped, VCS directories skipped.
// Where Portage silently ignores a broken path, we stop with an FsError naming it: a dangling symlink,
// a non-directory in the middle of a path, a permission problem, or a FIFO, device or socket where a
// file should be (Portage skips those; reading one would hang or never end) is a broken config, not an
// absent one. `/dev/null` reads as empty, as Portage reads it. Every file is read through the bounded
// reader (src/system/read.ts), as text the way Portage decodes it (UTF-8, bad bytes replaced).
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { readBounded, readOptionalSync } from '../system/read.js';

// lib/portage/const.py VCS_DIRS
const VCS_DIRS = new Set(['CVS', 'RCS', 'SCCS', '.bzr', '.git', '.hg', '.svn']);

const wanted = (name: string): boolean => !name.startsWith('.') && !name.endsWith('~');

/** A config file's text (it must exist): regular, at most LIMITS.config, or /dev/null. */
export async function readConfigFile(file: string): Promise<string> {
  return (await readBounded(file, 'config', { devNull: true })).toString('utf8');
}

/** readConfigFile for the synchronous readers; undefined when the file does not exist. */
export function readConfigFileSync(file: string): string | undefined {
  return readOptionalSync(file, 'config', { devNull: true })?.toString('utf8');
}

/**
 * `'name'` when `name` is a plain identifier that may be shown in a message; undefined otherwise.
 * Errors about a file gentoo-kopt did not write quote nothing else of it: a line or a value might
 * be a secret (make.conf sourcing /etc/shadow), so they say file:line and, at most, the name.
 */
export function quotedName(name: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_.+-]{0,63}$/.test(name) ? `'${name}'` : undefined;
}

async function statOrMissing(p: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(p);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, p, 'inspect');
    // stat() says missing: fine unless a symlink is there pointing nowhere.
    const link = await lstat(p).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new FsError('is a symbolic link to nothing', {
        file: p,
        hint: 'point the link at an existing file, or remove it',
      });
    }
    return undefined;
  }
}

/**
 * The files that make up the config at `p`, in the order Portage reads them: `[p]` for a file, the
 * sorted recursive walk for a directory, `[]` when nothing is there. Anything that is not a directory
 * is listed, FIFOs and devices included, so that reading it says what it is (or, for /dev/null, that
 * it is empty).
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
        throw fsError(err, full, 'list');
      }
      for (const child of children.sort()) await walk(path.join(full, child));
    } else if (wanted(name)) {
      out.push(full);
    }
  }
  await walk(p);
  return out;
}
