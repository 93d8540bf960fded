// GNU patch on a scratch copy of a few files: what `verify` uses to apply the patches exactly as
// eapply does (Portage bin/phase-helpers.sh: `patch -p1 -f -g0 --no-backup-if-mismatch`, the patch on
// stdin), without unpacking a kernel tree. The files are written to a new directory below the
// temporary directory, each patch is applied there in turn (rejects discarded: `--reject-file=-`), and
// the directory is removed at the end whatever happens. Nothing outside it is touched.
//
// Paths that patch(1) must refuse (links, devices, directories in the sources) become symbolic links
// to themselves: patch says "not a regular file -- refusing to patch", as for the original, and a link
// that loops can never lead a write outside the scratch tree.
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SourceError } from '../errors.js';
import { ProcessError } from './exec.js';
import { errnoOf } from './fs-errors.js';

/** The options eapply passes to patch(1) (Portage bin/phase-helpers.sh, eapply). */
export const EAPPLY_PATCH_ARGS = ['-p1', '-f', '-g0', '--no-backup-if-mismatch'];

export interface PatchRun {
  /** patch(1)'s exit status: 0 applied, 1 some hunks failed, 2 trouble. */
  status: number;
  /** What it printed with --verbose (stdout and stderr, interleaved), in the C locale. */
  output: string;
}

export interface ScratchTree {
  /** Applies one patch file as eapply does (`dryRun`: checks only; for the last patch of a series). */
  patch(content: Buffer, opts?: { dryRun?: boolean }): Promise<PatchRun>;
  /** A file's bytes now; null when it is absent or not a regular file. */
  read(rel: string): Promise<Buffer | null>;
}

async function put(tree: string, rel: string, write: (full: string) => Promise<void>): Promise<void> {
  const full = path.join(tree, rel);
  if (!full.startsWith(tree + path.sep)) throw new Error(`refusing to write outside the scratch tree: ${rel}`);
  // A hostile tarball can hold both 'x' and 'x/y': an error naming the path, not Node's EEXIST.
  try {
    await mkdir(path.dirname(full), { recursive: true });
    await write(full);
  } catch (err) {
    throw new SourceError(
      `cannot copy '${rel}' to the scratch tree GNU patch runs in: ${errnoOf(err) ?? (err as Error).message}`,
      { hint: 'the sources hold a file where another one needs a directory: they are not a kernel tree', cause: err },
    );
  }
}

/** Writes `files` and `refused` to a new scratch tree, hands it to `use`, and removes it. */
export async function withScratchTree<T>(
  files: ReadonlyMap<string, Buffer>,
  refused: Iterable<string>,
  use: (tree: ScratchTree) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-verify-'));
  try {
    const tree = path.join(dir, 'tree');
    await mkdir(tree);
    for (const [rel, data] of files) await put(tree, rel, (full) => writeFile(full, data));
    for (const rel of refused) await put(tree, rel, (full) => symlink(path.basename(full), full));
    return await use({
      async patch(content, opts = {}) {
        const args = [...EAPPLY_PATCH_ARGS, '--verbose', '--reject-file=-', ...(opts.dryRun ? ['--dry-run'] : [])];
        const sub = await execa('patch', args, {
          cwd: tree,
          input: content,
          reject: false,
          all: true,
          // C messages (they are parsed), and nothing from the caller's environment that changes them
          extendEnv: false,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: os.tmpdir(), LC_ALL: 'C' },
          stripFinalNewline: false,
        });
        if ((sub as { code?: string }).code === 'ENOENT')
          throw new ProcessError('patch is not installed', 'patch', true);
        return { status: sub.exitCode ?? 2, output: sub.all ?? '' };
      },
      async read(rel) {
        const full = path.join(tree, rel);
        const st = await lstat(full).catch(() => undefined);
        return st?.isFile() ? readFile(full) : null;
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
