// Processes doctor runs, read-only: version probes of the toolchain (`clang --version`) and `bzip2 -dc`
// for the environment Portage saved in a VDB entry (environment.bz2; node:zlib has no bzip2 decoder).
// Kept apart from exec.ts (patch sources) so each module stays small.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { FsError } from '../errors.js';
import { runCapped } from './exec.js';
import { fsError, isErrno } from './fs-errors.js';
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

/** Runs `file args` with no stdin, a timeout and an output limit, in the C locale. Never throws. */
export async function probe(file: string, args: string[], timeoutMs = 5000): Promise<ProbeResult> {
  const r = await execa(file, args, {
    stdin: 'ignore',
    reject: false,
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
    env: { LC_ALL: 'C' },
  });
  const code = (r as { code?: string }).code;
  const error =
    code === 'ENOENT'
      ? 'not found'
      : r.timedOut
        ? `timed out after ${timeoutMs} ms`
        : r.failed && r.exitCode === undefined
          ? (r.shortMessage ?? 'failed')
          : undefined;
  return {
    ok: !r.failed,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
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
