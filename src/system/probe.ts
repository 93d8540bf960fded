// Processes doctor runs, read-only: version probes of the toolchain (`clang --version`), and the
// decompressors for the environment Portage saved in a VDB entry or a binary package (environment.bz2,
// a GPKG's metadata.tar.<compression>; node:zlib has no bzip2, xz, zstd or lz4 decoder).
// node's spawn, not execa: doctor runs a few short processes, and loading execa cost it more than
// running them (about a hundred modules, ~100 ms).
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { fsError, isErrno } from './fs-errors.js';
import { ProcessError } from './process-error.js';
import { kindOf, LIMITS } from './read.js';

/** What a probe saw: its output, or why it did not run. */
export interface ProbeResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode?: number;
  /** Why it failed to start or finish (not found, timed out, killed). */
  error?: string;
}

interface Ran {
  stdout: Buffer;
  stderr: Buffer;
  exitCode?: number;
  signal?: string;
  /** Why it did not start (ENOENT, EACCES, ...). */
  startError?: NodeJS.ErrnoException;
  timedOut: boolean;
  /** stdout passed `max` bytes: the process was killed. */
  over: boolean;
}

/** What stderr may hold before the rest is dropped: enough for any message worth showing. */
const STDERR_MAX = 64 * 1024;

/**
 * Runs `file args` with `input` (or nothing) on stdin, in the C locale (the rest of the environment as it is), keeping at
 * most `max` bytes of stdout: past that, or after `timeoutMs`, the process is killed. Never rejects.
 */
function run(file: string, args: string[], opts: { max: number; timeoutMs: number; input?: Buffer }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } });
    // stdin is `input`, or empty. EPIPE when the process exits (or is killed at the cap) before reading
    // all of it: its exit says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let over = false;
    let timedOut = false;
    let startError: NodeJS.ErrnoException | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (over) return;
      outSize += d.length;
      if (outSize > opts.max) {
        over = true;
        child.kill('SIGKILL');
      } else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (errSize < STDERR_MAX) err.push(d);
      errSize += d.length;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      startError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).subarray(0, STDERR_MAX),
        ...(code !== null && { exitCode: code }),
        ...(signal !== null && { signal }),
        ...(startError && { startError }),
        timedOut,
        over,
      });
    });
  });
}

/** Runs `file args` with no stdin, a timeout and an output limit, in the C locale. Never throws. */
export async function probe(file: string, args: string[], timeoutMs = 5000): Promise<ProbeResult> {
  const r = await run(file, args, { max: 1 << 20, timeoutMs });
  const error =
    r.startError?.code === 'ENOENT'
      ? 'not found'
      : r.timedOut
        ? `timed out after ${timeoutMs} ms`
        : r.over
          ? 'printed more than 1 MiB'
          : r.startError
            ? r.startError.message
            : r.exitCode === undefined
              ? `killed by ${r.signal}`
              : undefined;
  return {
    ok: error === undefined && r.exitCode === 0,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    ...(r.exitCode !== undefined && { exitCode: r.exitCode }),
    ...(error && { error }),
  };
}

/** How long `bzip2 -dc` may take for one VDB environment (a real one takes milliseconds). */
const BZIP2_TIMEOUT_MS = 30_000;

/**
 * The decompressed bytes of a .bz2 file, by `bzip2 -dc`, at most `max` of them (a VDB file's limit by
 * default): past that bzip2 is killed. Undefined when the file does not exist. Throws FsError when it
 * is not a regular file (bzip2 would wait forever on a FIFO), ProcessError when bzip2 fails or is
 * missing (notFound) or the output is too large.
 */
export async function bzip2Decompress(file: string, max: number = LIMITS.vdb.max): Promise<Buffer | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw fsError(err, file, 'read');
  }
  if (!st.isFile())
    throw new FsError(`is ${kindOf(st)}, not a regular file`, {
      file,
      hint: 'Portage writes environment.bz2 as a regular file: re-merge the package',
    });
  return runCapped('bzip2', ['-dc', '--', file], { max, timeoutMs: BZIP2_TIMEOUT_MS, what: path.basename(file) });
}

/**
 * Runs `command args` with no stdin (or `input`) and returns its stdout, at most `max` bytes of it: past
 * that the process is killed and a ProcessError says so (a 1 KB .bz2 of 150 MB of zeros must not fill
 * memory). Also killed after `timeoutMs`. A non-zero exit is a ProcessError with what the process said on
 * stderr; a missing program is one with notFound. `what` names the data in the messages.
 */
export async function runCapped(
  command: string,
  args: string[],
  opts: { max: number; timeoutMs: number; what: string; input?: Buffer },
): Promise<Buffer> {
  const shown = `${command} ${args.filter((a) => a !== '--').join(' ')}`;
  const r = await run(command, args, opts);
  if (r.over)
    throw new ProcessError(
      `${opts.what} decompresses to more than ${opts.max} bytes: refusing to read more`,
      shown,
      false,
    );
  if (r.startError?.code === 'ENOENT') throw new ProcessError(`${command} is not installed`, shown, true);
  if (r.timedOut) throw new ProcessError(`${command} did not finish within ${opts.timeoutMs} ms`, shown, false);
  if (r.startError || r.exitCode !== 0) {
    const said = r.stderr.toString('utf8').trim();
    const why = r.startError?.message ?? (r.exitCode === undefined ? `killed by ${r.signal}` : `exited ${r.exitCode}`);
    throw new ProcessError(said || `${command} failed: ${why}`, shown, false);
  }
  return r.stdout;
}
