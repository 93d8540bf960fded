// Downloads one file the way Portage's fetch() does (lib/portage/package/ebuild/fetch.py): the user's
// FETCHCOMMAND (RESUMECOMMAND for a partial file at least PORTAGE_FETCH_RESUME_MIN_SIZE long) writes
// `<file>.__download__`, run as an argv (src/portage/fetch-command.ts), never through a shell; the
// result is checked against its sha256 and only then renamed to `<file>`. A file with the wrong
// checksum, downloaded or found, is renamed aside to `<file>._checksum_failure_.<random>` (Portage's
// name for it) and never used. A body larger than `max` is cut (the fetcher is killed) and refused.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../errors.js';
import type { FetchVars } from '../portage/fetch-command.js';
import { isErrno } from './fs-errors.js';
import { sha256 } from './fs.js';
import { readOptional } from './read.js';

export const DOWNLOAD_SUFFIX = '.__download__';
export const CHECKSUM_FAILURE = '._checksum_failure_.';

/** A download that failed: the message names the URL; the hint says what to do next. */
export class DownloadError extends KoptError {}

export interface DownloadRequest {
  url: string;
  /** Where the verified file goes; it is written as `<file>.__download__` first. */
  file: string;
  sha256: string;
  /** FETCHCOMMAND (or RESUMECOMMAND, `resume`) as an argv for these variables, and its name for messages. */
  command(resume: boolean, vars: FetchVars): { name: string; argv: string[] };
  /** A partial file at least this long is resumed; a shorter one is fetched again (PORTAGE_FETCH_RESUME_MIN_SIZE). */
  resumeMinSize: number;
  /** The fetcher's environment (proxies, locale). */
  env: NodeJS.ProcessEnv;
  /** The most bytes the file may have. */
  max: number;
  /** The fetcher is killed after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Bytes written so far, while the fetcher runs. */
  onProgress?: (bytes: number) => void;
  /** The argv about to run (for --verbose). */
  onCommand?: (argv: string[]) => void;
}

export interface Downloaded {
  /** `cached`: the file was there with the right checksum; nothing ran. */
  status: 'cached' | 'fetched';
  resumed: boolean;
  bytes: number;
  /** A file found with the wrong checksum, moved here before downloading again. */
  keptAside?: string;
}

const POLL_MS = 50;
const TAIL = 8192;

/** What wget's exit statuses mean (wget(1), EXIT STATUS). */
const WGET_STATUS: Record<number, string> = {
  1: 'generic error',
  2: 'parse error in its options',
  3: 'file I/O error',
  4: 'network failure',
  5: 'SSL verification failure',
  6: 'authentication failure',
  7: 'protocol error',
  8: 'the server answered with an error',
};

/** Renames `file` to `<file>._checksum_failure_.<random>` beside it; returns the new name. */
async function keepAside(file: string): Promise<string> {
  const base = file.endsWith(DOWNLOAD_SUFFIX) ? file.slice(0, -DOWNLOAD_SUFFIX.length) : file;
  const aside = `${base}${CHECKSUM_FAILURE}${randomBytes(4).toString('hex')}`;
  await rename(file, aside);
  return aside;
}

const sizeOf = async (file: string): Promise<{ size: number; regular: boolean } | undefined> => {
  const st = await lstat(file).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(err)));
  return st && { size: st.size, regular: st.isFile() };
};

/** The lines of the fetcher's output worth quoting: its errors, else its last line. */
function said(output: string): string {
  const lines = output
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Giving up\.?$/.test(l));
  const errors = lines.filter((l) => /error|fail|refused|exceeded|unable|cannot|not found|denied|timed out/i.test(l));
  const pick = (errors.length ? errors : lines).slice(-2);
  return pick.join('; ').slice(0, 400);
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  notFound: boolean;
  over: boolean;
  timedOut: boolean;
}

function run(argv: string[], req: DownloadRequest, partial: string): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    let over = false;
    let timedOut = false;
    let settled = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...req.env, LC_ALL: 'C' },
    });
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-TAIL);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = (): void => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
    const poll = setInterval(() => {
      void sizeOf(partial)
        .then((s) => {
          if (!s || settled) return;
          req.onProgress?.(s.size);
          if (s.size > req.max && !over) {
            over = true;
            stop();
          }
        })
        .catch(() => undefined);
    }, POLL_MS);
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, req.timeoutMs ?? 600_000);
    const finish = (r: Omit<RunResult, 'output' | 'over' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ ...r, output, over, timedOut });
    };
    child.on('error', (err) => finish({ code: null, signal: null, notFound: isErrno(err, 'ENOENT', 'EACCES') }));
    child.on('close', (code, signal) => finish({ code, signal, notFound: false }));
  });
}

/** Downloads `req.url` to `req.file` unless it is there with the right checksum; see the header. */
export async function download(req: DownloadRequest): Promise<Downloaded> {
  const { url, file } = req;
  const fail = (message: string, hint: string): DownloadError =>
    new DownloadError(`${url}: ${message}`, { file, hint });
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });

  let keptAside: string | undefined;
  const existing = await sizeOf(file);
  if (existing) {
    if (!existing.regular) throw fail('the cache holds something other than a regular file there', 'remove it');
    const bytes = existing.size <= req.max ? await readOptional(file, 'patch', { noFollow: true }) : undefined;
    if (bytes && sha256(bytes) === req.sha256) return { status: 'cached', resumed: false, bytes: bytes.length };
    keptAside = await keepAside(file);
  }

  const partial = file + DOWNLOAD_SUFFIX;
  const before = await sizeOf(partial);
  if (before && !before.regular) throw fail(`${partial} is not a regular file`, 'remove it');
  const resumed = !!before && before.size > 0 && before.size >= req.resumeMinSize && before.size <= req.max;
  if (before && !resumed) await unlink(partial);
  const { name, argv } = req.command(resumed, {
    URI: url,
    FILE: path.basename(partial),
    DISTDIR: path.dirname(file),
    DIGESTS: `sha256:${req.sha256}`,
  });
  req.onCommand?.(argv);
  const r = await run(argv, req, partial);
  const after = await sizeOf(partial);
  const discard = async (): Promise<void> => {
    if (after) await unlink(partial).catch(() => undefined);
  };

  if (r.notFound) {
    throw fail(
      `${name} runs '${argv[0]}', which is not installed or not executable`,
      `install it (net-misc/wget for Portage's default), or set ${name} in make.conf`,
    );
  }
  if (r.over || (after && after.size > req.max)) {
    await discard();
    throw fail(
      `the file is larger than ${req.max} bytes: cut there and refused`,
      "check the catalog entry's origin: no patch file is that large",
    );
  }
  if (r.timedOut) {
    throw fail(
      `${argv[0]} did not finish within ${Math.round((req.timeoutMs ?? 600_000) / 1000)} s`,
      'check the network and try again; the partial file is resumed',
    );
  }
  if (r.code !== 0) {
    if (after && after.size === 0) await discard();
    const status = r.code === null ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
    const meaning =
      r.code !== null && path.basename(argv[0]!) === 'wget' && WGET_STATUS[r.code] ? ` (${WGET_STATUS[r.code]})` : '';
    const words = said(r.output);
    throw fail(
      `download failed: ${argv[0]} ${status}${meaning}${words ? `: ${words}` : ''}`,
      after && after.size > 0
        ? 'try again: the partial file is resumed'
        : 'check the URL, the network and the proxy settings',
    );
  }
  if (!after?.regular || after.size === 0) {
    await discard();
    throw fail(
      `${name} reported success but wrote no file at \${DISTDIR}/\${FILE} (${partial})`,
      'see make.conf(5): the command must write to "${DISTDIR}/${FILE}"',
    );
  }
  const bytes = (await readOptional(partial, 'patch', { noFollow: true })) ?? Buffer.alloc(0);
  const actual = sha256(bytes);
  if (actual !== req.sha256) {
    const aside = await keepAside(partial);
    throw fail(
      `checksum mismatch: expected sha256 ${req.sha256}, got ${actual}; the file is kept aside as ${aside} and not used`,
      'the server holds another version of this file: check the catalog entry (origin and sha256)',
    );
  }
  await rename(partial, file);
  return { status: 'fetched', resumed, bytes: bytes.length, ...(keptAside ? { keptAside } : {}) };
}
