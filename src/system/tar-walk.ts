// Walking a tarball as a stream: .tar, .tar.gz/.tgz (node:zlib), .tar.xz/.txz (`xz -dc`) or .tar.bz2 (`bzip2 -dc`, see
// src/system/exec.ts), parsed by tar-stream. A visitor sees every member's header and decides whether
// its bytes are wanted; unwanted members are drained without copying, so memory stays at a few
// buffers whatever the tarball's size. Nothing is ever written to disk. Used by the patch sources
// (src/patches/source.ts) and by `verify` for kernel tarballs and patchsets (src/verify/).
//
// Errors are classified so callers can word them: the decompressor failing comes first (what a
// damaged stream yielded before xz noticed proves nothing), then whatever the visitor threw or walkTar
// refused, then a read error, then a corrupt or truncated archive.
//
// Decompressed data is input like any other: a member whose bytes are kept may not be larger than
// `maxMember` (checked against its header, before anything is buffered), the whole stream may not
// decompress to more than `maxTotal` (the decompressor is stopped there, not drained), and a member of
// a type tar-stream does not name (GNU sparse 'S', volume headers, ...) or with GNU.sparse.* pax
// attributes is refused: its bytes are not the file's bytes, and taking it for a file would be wrong.
import { constants, createReadStream } from 'node:fs';
import { open as fsOpen } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { decompressStream, ProcessError, xzThreadArgs } from './exec.js';
import { fsError, isErrno } from './fs-errors.js';
import { kindOf } from './read.js';

export type TarKind = 'tar' | 'gzip' | 'xz' | 'bzip2';

const KINDS: [RegExp, TarKind][] = [
  [/\.(tar\.gz|tgz)$/, 'gzip'],
  [/\.(tar\.xz|txz)$/, 'xz'],
  [/\.(tar\.bz2|tbz2)$/, 'bzip2'],
  [/\.tar$/, 'tar'],
];

/** The kind of tarball a file name says it is, or undefined. */
export function tarKindOf(file: string): TarKind | undefined {
  return KINDS.find(([re]) => re.test(file))?.[1];
}

export interface TarMember {
  /** The name as stored (long names and pax paths applied). */
  name: string;
  /** tar-stream's type: 'file', 'directory', 'symlink', 'link', 'character-device', ... */
  type: string;
  size: number;
  /** Permission bits as stored (tar-stream's header mode). */
  mode?: number;
  linkname?: string;
}

export interface WalkOptions {
  /** Called for every member, in order; true: `onData` receives its bytes. May throw to stop. */
  visit(member: TarMember): boolean;
  /** The bytes of a member `visit` wanted. May throw to stop. */
  onData(member: TarMember, data: Buffer): void;
  /** Decompressed bytes read so far, called as they arrive (cheap: one call per chunk). */
  progress?: (bytes: number) => void;
  /** Let xz decompress with several threads (multi-block .xz files only; memory stays bounded). */
  threads?: boolean;
  /** The largest member `onData` may receive, with what such a member is (for the message). */
  maxMember: { max: number; what: string };
  /** The most bytes the archive may decompress to. */
  maxTotal: number;
}

/** 'refused': a member or the archive is not something gentoo-kopt reads (type, size); the message says which. */
export type TarFailure = 'decompress' | 'read' | 'corrupt' | 'refused';

/** The archive itself could not be read: `reason` says why; `notFound` when xz is missing. */
export class TarWalkError extends Error {
  constructor(
    readonly reason: TarFailure,
    message: string,
    readonly notFound = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Opened {
  input: Readable;
  done: Promise<void>;
  /** Stops reading and decompressing at once (a cap was hit); `done`'s failure is then not reported. */
  abort(): void;
}

async function open(file: string, kind: TarKind, threads: boolean): Promise<Opened> {
  // A file that cannot be opened is a read error, not a damaged archive (xz would only say "No such file").
  // Non-blocking, and a regular file only: a FIFO given as --tarball must not wait forever for a writer.
  const name = file.replace(/^.*\//, '');
  const fh = await fsOpen(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: unknown) => {
    throw new TarWalkError(
      'read',
      `cannot read ${name}: ${isErrno(err, 'ENOENT') ? 'no such file' : errnoText(err, file)}`,
      false,
      { cause: err },
    );
  });
  const st = await fh.stat().finally(() => fh.close());
  if (!st.isFile()) throw new TarWalkError('read', `cannot read ${name}: it is ${kindOf(st)}, not a regular file`);
  if (kind === 'xz' || kind === 'bzip2') {
    const proc = decompressStream(kind, file, { args: kind === 'xz' && threads ? await xzThreadArgs() : [] });
    return {
      input: proc.stdout,
      done: proc.done,
      abort: () => {
        proc.kill();
        proc.stdout.destroy();
      },
    };
  }
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  const input = kind === 'gzip' ? pipeline(raw, createGunzip(), () => undefined) : raw;
  return { input, done: Promise.resolve(), abort: () => void input.destroy() };
}

/** What the errno table says of `err` ("permission denied (EACCES)"), for a message of our own. */
function errnoText(err: unknown, file: string): string {
  const e = fsError(err, file, 'read');
  return e instanceof Error ? e.message.replace(/^cannot read: /, '') : String(e);
}

const SPARSE_PAX = /^GNU\.sparse\./;

/** Why walkTar refuses a member whatever the visitor says, or undefined. */
function refusal(h: { type?: string | null; pax?: unknown }): string | undefined {
  // tar-stream's types say `type` is always set; for a typeflag it does not know it is null.
  if (h.type === null || h.type === undefined)
    return 'is of a type gentoo-kopt does not read (a GNU sparse file, a volume header or another non-POSIX kind)';
  if (Object.keys((h.pax as object | null) ?? {}).some((k) => SPARSE_PAX.test(k)))
    return 'is a GNU sparse file (GNU.sparse.* pax attributes)';
  return undefined;
}

/** Streams `file` through `opts.visit`/`opts.onData`; see the header for the error order. */
export async function walkTar(file: string, kind: TarKind, opts: WalkOptions): Promise<void> {
  const { input, done, abort } = await open(file, kind, opts.threads ?? false);
  const extract = tar.extract();
  const name = file.replace(/^.*\//, '');
  let bytes = 0;
  let readError: unknown;
  let visitorError: unknown;
  let parseError: unknown;
  let aborted = false;

  // When the parser stops early (a visitor refused a member, a bad header), the rest is read and
  // discarded, so that xz exits on its own terms and reports its own errors.
  const stop = (): void => {
    input.unpipe(extract);
    extract.destroy();
    input.resume();
  };
  input.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    opts.progress?.(bytes);
    if (bytes > opts.maxTotal && !aborted) {
      aborted = true;
      visitorError ??= new TarWalkError(
        'refused',
        `${name} decompresses to more than ${opts.maxTotal} bytes: refusing to read more`,
      );
      input.unpipe(extract);
      extract.destroy();
      abort();
    }
  });
  const inputDone = new Promise<void>((resolve) => {
    input.once('end', resolve);
    input.once('close', resolve);
    input.on('error', (err) => {
      readError = err;
      extract.destroy();
      resolve();
    });
  });
  const parsed = new Promise<void>((resolve) => {
    extract.once('finish', resolve);
    extract.once('close', resolve);
    extract.on('error', (err) => {
      parseError ??= err;
      stop();
      resolve();
    });
  });
  // Event style rather than async iteration: one member costs a header decode and a callback.
  extract.on('entry', (h, entry, next) => {
    // A corrupt archive destroys the current member with the parser's error, which is handled there.
    entry.on('error', () => undefined);
    const refused = refusal(h);
    if (refused) {
      visitorError = new TarWalkError('refused', `tarball member '${h.name}' ${refused}`);
      return stop();
    }
    const member: TarMember = {
      name: h.name,
      type: h.type,
      size: h.size ?? 0,
      ...(h.mode !== undefined && h.mode !== null ? { mode: h.mode } : {}),
      ...(h.linkname ? { linkname: h.linkname } : {}),
    };
    let keep = false;
    try {
      keep = opts.visit(member);
      const { max, what } = opts.maxMember;
      if (keep && !(member.size <= max)) {
        throw new TarWalkError(
          'refused',
          `tarball member '${member.name}' is ${member.size} bytes: ${what} may be at most ${max} bytes`,
        );
      }
    } catch (err) {
      visitorError = err;
      return stop();
    }
    if (!keep) {
      entry.once('end', () => next());
      entry.resume(); // drained: no copies, no chunk list
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c) => void chunks.push(c as Buffer));
    entry.once('end', () => {
      try {
        opts.onData(member, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (err) {
        visitorError = err;
        return stop();
      }
      next();
    });
  });
  input.pipe(extract);
  await Promise.all([inputDone, parsed]);
  let processError: unknown;
  await done.catch((err: unknown) => (processError = err));

  // Killed by us at the cap: its failure is ours, not a damaged file.
  if (processError instanceof ProcessError && !aborted) {
    throw new TarWalkError('decompress', `cannot decompress ${name}: ${processError.message}`, processError.notFound, {
      cause: processError,
    });
  }
  if (visitorError !== undefined) throw visitorError;
  if ((readError as NodeJS.ErrnoException | undefined)?.syscall) {
    throw new TarWalkError('read', `cannot read ${name}: ${errnoText(readError, file)}`, false, { cause: readError });
  }
  const failure = readError ?? parseError;
  if (failure) {
    throw new TarWalkError(
      'corrupt',
      `cannot read ${name}: corrupt or truncated archive (${(failure as Error).message})`,
      false,
      { cause: failure },
    );
  }
}
