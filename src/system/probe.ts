// Processes doctor runs, read-only: version probes of the toolchain (`clang --version`) and `bzip2 -dc`
// for the environment Portage saved in a VDB entry (environment.bz2; node:zlib has no bzip2 decoder).
// Kept apart from exec.ts (patch sources) so each module stays small.
import { execa } from 'execa';
import { ProcessError } from './exec.js';

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
  const r = await execa(file, args, { stdin: 'ignore', reject: false, timeout: timeoutMs, maxBuffer: 1 << 20, env: { LC_ALL: 'C' } });
  const code = (r as { code?: string }).code;
  const error = code === 'ENOENT' ? 'not found' : r.timedOut ? `timed out after ${timeoutMs} ms` : r.failed && r.exitCode === undefined ? (r.shortMessage ?? 'failed') : undefined;
  return { ok: !r.failed, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), ...(r.exitCode !== undefined && { exitCode: r.exitCode }), ...(error && { error }) };
}

/** The decompressed bytes of a .bz2 file, by `bzip2 -dc`. Throws ProcessError (notFound: bzip2 is missing). */
export async function bzip2Decompress(file: string): Promise<Buffer> {
  const r = await execa('bzip2', ['-dc', '--', file], { stdin: 'ignore', reject: false, encoding: 'buffer', maxBuffer: 64 << 20 });
  if (r.failed) {
    const notFound = (r as { code?: string }).code === 'ENOENT';
    const said = Buffer.from((r.stderr as unknown as Uint8Array | undefined) ?? new Uint8Array()).toString('utf8').trim();
    throw new ProcessError(notFound ? 'bzip2 is not installed' : said || r.shortMessage || 'bzip2 failed', 'bzip2 -dc', notFound);
  }
  return Buffer.from(r.stdout as unknown as Uint8Array);
}
