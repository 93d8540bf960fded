// Processes gentoo-kopt runs (only src/system/ spawns): `xz -dc`, to stream .tar.xz patch sources and
// kernel tarballs, since node:zlib has no xz/lzma decoder. GNU patch runs on a scratch tree
// (scratch-tree.ts); doctor's probes and the capped decompressors (bzip2, binary package metadata) run through probe.ts.
import type { Readable } from 'node:stream';
import { execa, type ExecaError } from 'execa';
import { ProcessError } from './process-error.js';

export { ProcessError } from './process-error.js';

export interface ProcessStream {
  /** The decompressed bytes. Read it to the end (or call drain) or the process blocks on a full pipe. */
  stdout: Readable;
  /** Resolves when the process exits 0; rejects with a ProcessError otherwise. Never unhandled. */
  done: Promise<void>;
  /** Kills the process (when its output is no longer wanted: a cap was hit); `done` then rejects. */
  kill(): void;
}

/**
 * The memory xz may use for threaded decompression: enough for two threads on the 24 MiB blocks that
 * multi-threaded xz writes; a file whose blocks need more is decompressed with one thread (xz falls
 * back by itself), so memory stays bounded whatever the file.
 */
export const XZ_MT_MEMLIMIT = '80MiB';

let xzThreading: Promise<string[]> | undefined;

/**
 * The options that let `xz -d` use threads, when the installed xz can (5.4 and later decompress
 * multi-block files in parallel; older ones do not know --memlimit-mt-decompress). Asked once.
 */
export function xzThreadArgs(): Promise<string[]> {
  xzThreading ??= execa('xz', ['--version'], { reject: false }).then(
    (r) => {
      const m = /(\d+)\.(\d+)\.\d+/.exec(String(r.stdout ?? ''));
      const modern = m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 4));
      return modern ? ['-T0', `--memlimit-mt-decompress=${XZ_MT_MEMLIMIT}`] : [];
    },
    () => [],
  );
  return xzThreading;
}

/** Streams the decompressed contents of an .xz file; nothing is written to disk. `args`: extra xz options. */
export function xzDecompressStream(file: string, opts: { args?: string[] } = {}): ProcessStream {
  return decompressStream('xz', file, opts);
}

/**
 * The same for xz or bzip2 (both take `--decompress --stdout`): Gentoo's kernel config snapshots are
 * .tar.bz2 distfiles.
 */
export function decompressStream(program: 'xz' | 'bzip2', file: string, opts: { args?: string[] } = {}): ProcessStream {
  const args = [...(opts.args ?? []), '--decompress', '--stdout'];
  const command = `${program} ${args.join(' ')}`;
  const sub = execa(program, [...args, '--', file], {
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    stripFinalNewline: true,
  });
  const done = sub.then(
    () => undefined,
    (err: ExecaError) => {
      const notFound = (err as { code?: string }).code === 'ENOENT';
      const said = typeof err.stderr === 'string' && err.stderr ? err.stderr : err.shortMessage;
      throw new ProcessError(notFound ? `${program} is not installed` : said, command, notFound);
    },
  );
  done.catch(() => undefined); // callers await it; this only keeps an early failure from being "unhandled"
  return { stdout: sub.stdout, done, kill: () => void sub.kill('SIGKILL') };
}

/**
 * Runs `command args` with the terminal's stdin, stdout and stderr (perf record running the user's
 * workload); resolves to its exit status. A program that is not there is a ProcessError (notFound).
 */
export async function runInteractive(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const r = await execa(command, args, { stdio: 'inherit', reject: false, env: opts.env, extendEnv: !opts.env });
  if ((r as { code?: string }).code === 'ENOENT') throw new ProcessError(`${command} is not installed`, command, true);
  return r.exitCode ?? 1;
}

/** Runs `command args` to the end; stdout and stderr as text (capped by `max` bytes each), and the exit status. */
export async function runText(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number; max?: number },
): Promise<{ status: number; stdout: string; stderr: string }> {
  const r = await execa(command, args, {
    stdin: 'ignore',
    reject: false,
    timeout: opts.timeoutMs,
    maxBuffer: opts.max ?? 16 * 1024 * 1024,
    env: opts.env,
    extendEnv: !opts.env,
  });
  if ((r as { code?: string }).code === 'ENOENT') throw new ProcessError(`${command} is not installed`, command, true);
  return { status: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Runs a program that writes its results into files: `args(dir)` names them in a fresh scratch
 * directory; after a zero exit, the files `outputs` are read (bounded: each at most `max` bytes) and the
 * directory is removed, whatever happened (`inspect` runs first, on the directory, after a zero exit).
 */
export async function runToFiles(
  command: string,
  args: (dir: string) => string[],
  outputs: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number; max: number; inspect?: (dir: string) => Promise<void> },
): Promise<{ status: number; stderr: string; files: Map<string, Buffer> }> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readOptional } = await import('./read.js');
  const dir = await mkdtemp(join(tmpdir(), 'gentoo-kopt-'));
  try {
    const r = await runText(command, args(dir), opts);
    const files = new Map<string, Buffer>();
    if (r.status === 0)
      for (const name of outputs) {
        const bytes = await readOptional(join(dir, name), 'profile', { noFollow: true });
        if (bytes && bytes.length > opts.max)
          throw new ProcessError(`${command} wrote more than ${opts.max} bytes to ${name}`, command, false);
        if (bytes) files.set(name, bytes);
      }
    if (r.status === 0) await opts.inspect?.(dir);
    return { status: r.status, stderr: r.stderr, files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
