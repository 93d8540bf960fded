// Processes gentoo-kopt runs (only src/system/ spawns). For now: `xz -dc`, to stream .tar.xz patch
// sources, since node:zlib has no xz/lzma decoder.
import type { Readable } from 'node:stream';
import { execa, type ExecaError } from 'execa';

/** A process that failed: its command, and what it said on stderr (or why it did not start). */
export class ProcessError extends Error {
  constructor(
    message: string,
    readonly command: string,
    /** The program was not found (ENOENT): say which package to install. */
    readonly notFound: boolean,
  ) {
    super(message);
  }
}

export interface ProcessStream {
  /** The decompressed bytes. Read it to the end (or call drain) or the process blocks on a full pipe. */
  stdout: Readable;
  /** Resolves when the process exits 0; rejects with a ProcessError otherwise. Never unhandled. */
  done: Promise<void>;
}

/** Streams the decompressed contents of an .xz file; nothing is written to disk. */
export function xzDecompressStream(file: string): ProcessStream {
  const command = 'xz --decompress --stdout';
  const sub = execa('xz', ['--decompress', '--stdout', '--', file], {
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
  return { stdout: sub.stdout, done };
}
