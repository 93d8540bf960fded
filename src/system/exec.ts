// Processes gentoo-kopt runs (only src/system/ spawns): `xz -dc`, to stream .tar.xz patch sources and
// kernel tarballs, since node:zlib has no xz/lzma decoder. GNU patch runs on a scratch tree
// (scratch-tree.ts); doctor's probes and bzip2 run through probe.ts.
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
  const args = [...(opts.args ?? []), '--decompress', '--stdout'];
  const command = `xz ${args.join(' ')}`;
  const sub = execa('xz', [...args, '--', file], {
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    stripFinalNewline: true,
  });
  const done = sub.then(
    () => undefined,
    (err: ExecaError) => {
      const notFound = (err as { code?: string }).code === 'ENOENT';
      const said = typeof err.stderr === 'string' && err.stderr ? err.stderr : err.shortMessage;
      throw new ProcessError(notFound ? 'xz is not installed' : said, command, notFound);
    },
  );
  done.catch(() => undefined); // callers await it; this only keeps an early failure from being "unhandled"
  return { stdout: sub.stdout, done, kill: () => void sub.kill('SIGKILL') };
}
