// Reading the files a verification needs from an unpacked kernel tree (`verify --source DIR`), and the
// patch files of a series from disk. Only reads. A symbolic link is recorded, never followed (patch(1)
// says "File X is not a regular file -- refusing to patch"), and so is anything else that is not a
// regular file; a path that climbs out of the tree is refused. Every file is read through the bounded
// reader: a source file of at most LIMITS.source, a patch of at most LIMITS.patch; a FIFO named on the
// command line is an error naming it, not a hang.
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError, SourceError } from '../errors.js';
import { compareC } from '../portage/eapply-user.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { readBounded } from '../system/read.js';
import type { Sources } from './apply.js';

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The regular files among `paths` below `dir` (absent ones are left out: they do not exist). */
export async function readTree(dir: string, paths: Iterable<string>): Promise<Sources> {
  const tree: Sources = { files: new Map(), special: new Map() };
  for (const rel of paths) {
    const full = path.join(dir, rel);
    // paths come from patch names that lost any '..' (hunks.ts stripName); this is a second lock
    if (path.relative(dir, full).split(path.sep).includes('..'))
      throw new SourceError(`'${rel}' is outside the tree`, { file: dir });
    let st;
    try {
      st = await lstat(full);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) continue;
      throw fsError(err, full, 'inspect');
    }
    if (st.isSymbolicLink()) tree.special.set(rel, 'a symbolic link');
    else if (!st.isFile()) tree.special.set(rel, st.isDirectory() ? 'a directory' : 'not a regular file');
    else tree.files.set(rel, await readBounded(full, 'source', { noFollow: true }));
  }
  return tree;
}

/**
 * The patches named on the command line, in order: a file as it is; a directory the way eapply reads
 * one (its *.patch and *.diff entries, C order, not recursing).
 */
export async function readPatchArgs(args: string[]): Promise<{ name: string; path: string; content: Buffer }[]> {
  const out: { name: string; path: string; content: Buffer }[] = [];
  for (const arg of args) {
    let st;
    try {
      st = await stat(arg);
    } catch (err) {
      const e = fsError(err, arg, 'read');
      if (e instanceof FsError && isErrno(err, 'ENOENT'))
        throw new FsError(e.message, {
          file: arg,
          hint: 'name patch files or directories holding *.patch files',
          cause: err,
        });
      throw e;
    }
    let names: string[] = [];
    if (st.isDirectory()) names = await readdir(arg).catch((err: unknown) => Promise.reject(fsError(err, arg, 'list')));
    const files = st.isDirectory()
      ? names
          .filter((n) => /\.(patch|diff)$/.test(n) && !n.startsWith('.'))
          .sort(compareC)
          .map((n) => path.join(arg, n))
      : [arg];
    if (st.isDirectory() && files.length === 0) {
      throw new FsError(`no *.patch or *.diff files in ${arg}`, {
        file: arg,
        hint: 'eapply would die here too: name a directory holding patches',
      });
    }
    for (const f of files) out.push({ name: path.basename(f), path: f, content: await readBounded(f, 'patch') });
  }
  return out;
}
