// GNU patch on a scratch copy of a few files: what `verify` uses to apply the patches exactly as
// eapply does (Portage bin/phase-helpers.sh: `patch -p1 -f -g0 --no-backup-if-mismatch`, the patch on
// stdin), without unpacking a kernel tree. The files are written to a new directory below the
// temporary directory, each patch is applied there in turn (rejects discarded: `--reject-file=-`), and
// the directory is removed at the end whatever happens. Nothing outside it is touched.
//
// Paths that patch(1) must refuse (links, devices, directories in the sources) become symbolic links
// to themselves: patch says "not a regular file -- refusing to patch", as for the original, and a link
// that loops can never lead a write outside the scratch tree.
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

/**
 * One `patch` run in `cwd`, `input` on stdin; stdout and stderr together, in the order they come, as
 * latin1 (byte for byte, as the diff reader reads names). node's spawn, not execa: a patch is applied
 * per patch file, and execa's set-up doubles the cost of each run.
 */
function runPatch(cwd: string, args: string[], input: Buffer): Promise<PatchRun> {
  return new Promise((resolve, reject) => {
    // C messages (they are parsed), and nothing from the caller's environment that changes them
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: os.tmpdir(), LC_ALL: 'C' };
    const child = spawn('patch', args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => output.push(d));
    child.stderr.on('data', (d: Buffer) => output.push(d));
    child.stdin.on('error', () => undefined); // patch(1) may stop reading early: its status says why
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new ProcessError('patch is not installed', 'patch', true) : err),
    );
    child.on('close', (code) => resolve({ status: code ?? 2, output: Buffer.concat(output).toString('latin1') }));
    child.stdin.end(input);
  });
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
      patch(content, opts = {}) {
        const args = [...EAPPLY_PATCH_ARGS, '--verbose', '--reject-file=-', ...(opts.dryRun ? ['--dry-run'] : [])];
        return runPatch(tree, args, content);
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
