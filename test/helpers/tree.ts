// Throwaway file trees for tests (changesets' testdir idea): build a Gentoo root in a temp dir from
// a plain object, read a tree back byte for byte, and clean up after each test.
import { mkdtemp, mkdir, writeFile, symlink, rm, readdir, readFile, lstat, readlink, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** A file's content, or a symlink (`{ symlink: target }`), or a file with a mode. */
export type Entry = string | Buffer | { symlink: string } | { content: string | Buffer; mode: number };
export type Tree = Record<string, Entry>;

const made: string[] = [];
afterEach(async () => {
  while (made.length) await rm(made.pop()!, { recursive: true, force: true });
});

/** Creates a temp dir holding `tree` (paths relative, '/'-separated; a key ending in '/' is an empty dir). */
export async function testdir(tree: Tree = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-test-'));
  made.push(dir);
  await writeTree(dir, tree);
  return dir;
}

export async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [rel, entry] of Object.entries(tree)) {
    const full = path.join(dir, rel);
    if (rel.endsWith('/')) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(full), { recursive: true });
    if (typeof entry === 'string' || Buffer.isBuffer(entry)) await writeFile(full, entry);
    else if ('symlink' in entry) await symlink(entry.symlink, full);
    else {
      await writeFile(full, entry.content);
      await chmod(full, entry.mode);
    }
  }
}

/**
 * Reads every file, symlink and directory under `dir` into a map of relative path -> description
 * (content as base64, mode, link target): two snapshots are equal exactly when the trees are.
 */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    const full = path.join(dir, rel);
    const st = await lstat(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[rel] = `link ${await readlink(full)}`;
    else if (st.isDirectory()) {
      if (rel) out[rel + '/'] = `dir ${mode}`;
      for (const name of (await readdir(full)).sort()) await walk(rel ? `${rel}/${name}` : name);
    } else if (!st.isFile())
      out[rel] = `special ${mode} ${st.isFIFO() ? 'fifo' : st.rdev}`; // never opened: a FIFO would block
    else out[rel] = `file ${mode} ${(await readFile(full)).toString('base64')}`;
  }
  await walk('');
  return out;
}
