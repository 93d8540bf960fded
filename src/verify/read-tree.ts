// Reading the files a verification needs from an unpacked kernel tree (`verify --source DIR`), and the
// patch files of a series from disk. Only reads. A symbolic link is recorded, never followed (patch(1)
// says "File X is not a regular file -- refusing to patch"), and so is anything else that is not a
// regular file; a path that climbs out of the tree is refused.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError, SourceError } from '../errors.js';
import { compareC } from '../portage/eapply-user.js';
import { splitLines } from './apply.js';
import type { Tree } from './files.js';

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

function fsError(err: unknown, file: string): FsError {
  return new FsError(`cannot read ${file}: ${(err as Error).message}`, { file, hint: 'make it readable (run as root?)', cause: err });
}

/** The regular files among `paths` below `dir` (absent ones are left out: they do not exist). */
export async function readTree(dir: string, paths: Iterable<string>): Promise<Tree> {
  const tree: Tree = new Map();
  for (const rel of paths) {
    const full = path.join(dir, rel);
    // paths come from patch names that lost any '..' (hunks.ts stripName); this is a second lock
    if (path.relative(dir, full).split(path.sep).includes('..')) throw new SourceError(`'${rel}' is outside the tree`, { file: dir });
    let st;
    try {
      st = await lstat(full);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw fsError(err, full);
    }
    if (st.isSymbolicLink()) tree.set(rel, { kind: 'special', what: 'a symbolic link' });
    else if (!st.isFile()) tree.set(rel, { kind: 'special', what: st.isDirectory() ? 'a directory' : 'not a regular file' });
    else {
      try {
        tree.set(rel, { kind: 'file', lines: splitLines((await readFile(full)).toString('latin1')) });
      } catch (err) {
        throw fsError(err, full);
      }
    }
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
      throw new FsError(`cannot read ${arg}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, { file: arg, hint: 'name patch files or directories holding *.patch files' });
    }
    const files = st.isDirectory()
      ? (await readdir(arg)).filter((n) => /\.(patch|diff)$/.test(n) && !n.startsWith('.')).sort(compareC).map((n) => path.join(arg, n))
      : [arg];
    if (st.isDirectory() && files.length === 0) {
      throw new FsError(`no *.patch or *.diff files in ${arg}`, { file: arg, hint: 'eapply would die here too: name a directory holding patches' });
    }
    for (const f of files) {
      try {
        out.push({ name: path.basename(f), path: f, content: await readFile(f) });
      } catch (err) {
        throw fsError(err, f);
      }
    }
  }
  return out;
}
