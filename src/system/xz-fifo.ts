// `xz --decompress --stdout` for the tar walker, read into one reused buffer. A child's stdout pipe in
// node allocates a new buffer for every read (a kernel tarball: 1.3 GB in about 50,000 reads), and
// the dead ones pile up as external memory between collections: about 60 MB more peak RSS and twice
// the CPU of the reads themselves. net.Socket's `onread` reads into one buffer instead, but it takes
// a descriptor, which node cannot make a pipe for: so xz writes into a FIFO made by mkfifo(1) in a
// new private directory (mode 0700, the FIFO 0600, both removed as soon as both ends are open).
import { spawn } from 'node:child_process';
import { close as closeCb, constants, open as openCb } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProcessError } from './exec.js';

export interface XzRead {
  /** Resolves when xz's output ended (or was closed by `kill`); rejects on a read error. */
  ended: Promise<void>;
  /** Resolves when xz exits 0; rejects with a ProcessError otherwise. Never unhandled. */
  done: Promise<void>;
  /** Stops xz and the reading at once. */
  kill(): void;
}

// Plain descriptors, not FileHandles: the socket owns the read end, and a FileHandle would close it
// when collected.
const open = promisify(openCb);
const close = promisify(closeCb);

const BUFFER = 256 * 1024;
/** What of xz's stderr is kept for the message (it says one line). */
const STDERR_MAX = 64 * 1024;

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * A FIFO's two ends, opened; undefined when none can be made (no mkfifo(1), a temporary directory
 * that cannot be written): the caller then uses a pipe, as before, rather than fail.
 */
async function fifo(): Promise<{ read: number; write: number } | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-xz-')).catch(() => undefined);
  if (!dir) return undefined;
  try {
    const at = path.join(dir, 'out');
    if ((await run('mkfifo', ['-m', '600', '--', at]).catch(() => 1)) !== 0) return undefined;
    // Non-blocking: opening the read end must not wait for a writer (there is none yet).
    const read = await open(at, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
    if (read === undefined) return undefined;
    const write = await open(at, constants.O_WRONLY).catch(() => undefined);
    if (write === undefined) await close(read);
    return write === undefined ? undefined : { read, write };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs xz on `file` and hands `onChunk` its output, chunk by chunk, in a buffer that is reused after
 * the call returns. Undefined when no FIFO could be made.
 */
export async function xzReadFifo(
  file: string,
  args: string[],
  onChunk: (chunk: Buffer) => void,
): Promise<XzRead | undefined> {
  const ends = await fifo();
  if (!ends) return undefined;
  const argv = [...args, '--decompress', '--stdout', '--', file];
  const command = `xz ${argv.slice(0, -2).join(' ')}`;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn('xz', argv, { stdio: ['ignore', ends.write, 'pipe'] });
  } catch (err) {
    await Promise.all([close(ends.read), close(ends.write)]);
    throw err;
  }
  // Everything below is attached before the next await: the child's events must not come first.
  const stderr: Buffer[] = [];
  let kept = 0;
  child.stderr?.on('data', (d: Buffer) => {
    if (kept < STDERR_MAX) stderr.push(d);
    kept += d.length;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ProcessError(err.code === 'ENOENT' ? 'xz is not installed' : err.message, command, err.code === 'ENOENT'),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const said = Buffer.concat(stderr).toString('utf8').trimEnd();
      reject(new ProcessError(said || `xz ended with ${signal ?? `status ${code}`}`, command, false));
    });
  });
  done.catch(() => undefined); // callers await it; this only keeps an early failure from being "unhandled"
  const buffer = Buffer.allocUnsafe(BUFFER);
  // node 20's net.Socket constructor reads `onread` (documented there since 2024); @types/node 20
  // declares it for connect() only.
  const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
    fd: ends.read,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (n) => {
        onChunk(buffer.subarray(0, n));
        return true;
      },
    },
  };
  const socket = new net.Socket(options);
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
  // Only xz may hold the write end: the reading ends when xz does.
  await close(ends.write);
  return {
    ended,
    done,
    kill: () => {
      child.kill('SIGKILL');
      socket.destroy();
    },
  };
}
