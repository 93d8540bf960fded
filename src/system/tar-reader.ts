// A push parser for tar archives (POSIX ustar, pax, GNU long names), fed the decompressed stream chunk
// by chunk: it keeps one 512-byte header block across chunk boundaries and, of a member's body, only
// what the caller asked for. A member that is not wanted is skipped by counting bytes, so a kernel
// tarball (1.3 GB, 84,000 members) costs one header decode per member and nothing per byte.
//
// It reads what tar-stream read, the same way (tar-walk.ts used it before; its headers.js is the
// reference for the checksum, the octal and base-256 numbers, the GNU and ustar magic, the typeflags,
// and the order in which GNU long names and pax records override a header), so the walker's refusals
// did not change with it: a typeflag it does not name is type null, pax records are returned for the
// sparse check. Every header must carry a valid checksum, every size must be a whole number of bytes,
// a long name or pax record may be at most 4 MiB, a directory has no data, and the stream must not end
// inside a member.
export class TarFormatError extends Error {}

export interface TarHeader {
  /** As stored, with a GNU long name or a pax path applied (UTF-8, as tar-stream decoded it). */
  name: string;
  /** 'file', 'directory', 'symlink', ...; null for a typeflag this reader does not name. */
  type: string | null;
  size: number;
  /** Permission bits as stored (the mode field, masked to 0o7777). */
  mode: number;
  linkname?: string;
  /** The member's pax records (with the global ones, when it has records of its own). */
  pax?: Readonly<Record<string, string>>;
  /** The global pax records in force (for checks that must see them whatever the member says). */
  paxGlobal?: Readonly<Record<string, string>>;
}

export interface TarSink {
  /** A member's header, in order; true: `body` receives its bytes. May throw to stop. */
  entry(header: TarHeader): boolean;
  /** The whole body of a member `entry` wanted (a copy: the chunks pushed may be reused buffers). */
  body(header: TarHeader, data: Buffer): void;
}

/** The typeflags tar-stream names (headers.js toType); the others are null. */
const TYPES: Record<string, string> = {
  '\0': 'file',
  '0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
  x: 'pax-header',
  g: 'pax-global-header',
  K: 'gnu-long-link-path',
  L: 'gnu-long-path',
  N: 'gnu-long-path',
};
/** Headers that describe the next member rather than being one. */
const LONG = new Set(['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path']);
const MAX_LONG = 4 * 1024 * 1024;
const BLOCK = 512;

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** The bytes of `b` from `start` up to the first NUL before `end`. */
function str(b: Buffer, start: number, end: number): string {
  let i = start;
  while (i < end && b[i] !== 0) i++;
  return b.toString('utf8', start, i);
}

/** A numeric field: base-256 when its first byte has the high bit, else octal (tar-stream's decodeOct). */
function num(b: Buffer, start: number, length: number): number {
  const end = start + length;
  if (b[start]! & 0x80) {
    const positive = b[start] === 0x80;
    if (!positive && b[start] !== 0xff) return Number.NaN;
    let sum = 0;
    for (let i = start + 1; i < end; i++) sum = sum * 256 + (positive ? b[i]! : 0xff - b[i]!);
    return positive ? sum : -sum;
  }
  let i = start;
  while (i < end && b[i] === 32) i++;
  let stop = i;
  while (stop < end && b[stop] !== 32) stop++;
  while (i < stop && b[i] === 0) i++;
  return i === stop ? 0 : Number.parseInt(b.toString('latin1', i, stop), 8);
}

/** pax extended header records, `LEN key=value\n` (tar-stream's decodePax), without a prototype. */
function paxRecords(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  let at = 0;
  while (at < buf.length) {
    let sp = at;
    while (sp < buf.length && buf[sp] !== 32) sp++;
    const len = Number.parseInt(buf.toString('latin1', at, sp), 10);
    if (!len) break;
    const record = buf.toString('utf8', sp + 1, Math.min(at + len - 1, buf.length));
    const eq = record.indexOf('=');
    if (eq === -1) break;
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

const isUstar = (b: Buffer): boolean =>
  b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72 && b[262] === 0;
const isGnu = (b: Buffer): boolean =>
  b[257] === 0x75 &&
  b[258] === 0x73 &&
  b[259] === 0x74 &&
  b[260] === 0x61 &&
  b[261] === 0x72 &&
  b[262] === 0x20 &&
  b[263] === 0x20 &&
  b[264] === 0;

interface Collecting {
  header: TarHeader;
  data: Buffer;
  filled: number;
}

export class TarReader {
  /** A header block split across chunks. */
  private readonly partial = Buffer.alloc(BLOCK);
  private filled = 0;
  /** Bytes to pass over: an unwanted body, padding. */
  private skip = 0;
  private collecting: Collecting | undefined;
  private pax: Record<string, string> | undefined;
  private paxGlobal: Record<string, string> | undefined;
  private longPath: string | undefined;
  private longLink: string | undefined;

  constructor(private readonly sink: TarSink) {}

  /**
   * The next chunk of the archive, read during this call only (the caller may reuse it). Throws
   * TarFormatError on a corrupt header, or what the sink threw.
   */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - i);
        this.skip -= k;
        i += k;
      } else if (this.collecting) {
        const c = this.collecting;
        const k = Math.min(c.data.length - c.filled, n - i);
        chunk.copy(c.data, c.filled, i, i + k);
        c.filled += k;
        i += k;
        if (c.filled === c.data.length) this.collected(c);
      } else if (this.filled === 0 && n - i >= BLOCK) {
        this.header(chunk, i);
        i += BLOCK;
      } else {
        const k = Math.min(BLOCK - this.filled, n - i);
        chunk.copy(this.partial, this.filled, i, i + k);
        this.filled += k;
        i += k;
        if (this.filled === BLOCK) {
          this.filled = 0;
          this.header(this.partial, 0);
        }
      }
    }
  }

  /** The archive ended: throws when it ended inside a header or a member. */
  end(): void {
    if (this.skip > 0 || this.collecting || this.filled > 0)
      throw new TarFormatError('unexpected end of data inside a member');
  }

  private header(b: Buffer, at: number): void {
    const block = at === 0 && b.length === BLOCK ? b : b.subarray(at, at + BLOCK);
    let sum = 8 * 32;
    for (let i = 0; i < 148; i++) sum += block[i]!;
    for (let i = 156; i < BLOCK; i++) sum += block[i]!;
    if (sum === 8 * 32) return; // a zero block: end-of-archive padding (tar-stream reads on, as here)
    if (sum !== num(block, 148, 8)) throw new TarFormatError('invalid tar header: bad checksum');
    const ustar = isUstar(block);
    if (!ustar && !isGnu(block)) throw new TarFormatError('invalid tar header: unknown format');

    const flag = String.fromCharCode(block[156]!);
    let name = str(block, 0, 100);
    if (ustar && block[345] !== 0) name = `${str(block, 345, 500)}/${name}`;
    let type = TYPES[flag] ?? null;
    if (type === 'file' && name.endsWith('/')) type = 'directory';
    let size = num(block, 124, 12);
    let linkname = block[157] === 0 ? undefined : str(block, 157, 257);

    if (type !== null && LONG.has(type)) {
      if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`invalid size in a ${type} header`);
      if (size > MAX_LONG) throw new TarFormatError(`a ${type} header of ${size} bytes: more than ${MAX_LONG}`);
      this.begin({ name, type, size, mode: 0 }, size);
      return;
    }
    if (this.longPath !== undefined) name = this.longPath;
    if (this.longLink !== undefined) linkname = this.longLink;
    this.longPath = this.longLink = undefined;
    const pax = this.pax;
    this.pax = undefined;
    if (pax) {
      if (pax.path) name = pax.path;
      if (pax.linkpath) linkname = pax.linkpath;
      if (pax.size) size = Number.parseInt(pax.size, 10);
    }
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`invalid size in the header of '${name}'`);
    const mode = num(block, 100, 8);
    const header: TarHeader = {
      name,
      type,
      size,
      mode: Number.isSafeInteger(mode) && mode >= 0 ? mode & 0o7777 : 0,
      ...(linkname ? { linkname } : {}),
      ...(pax ? { pax } : {}),
      ...(this.paxGlobal ? { paxGlobal: this.paxGlobal } : {}),
    };
    // Readers disagree on whether a directory's size counts data blocks (tar-stream read none and then
    // stalled): where the next member starts would be a guess.
    if (type === 'directory' && size > 0)
      throw new TarFormatError(`the directory '${name}' has a size of ${size} bytes: where its data ends is unclear`);
    if (this.sink.entry(header)) this.begin(header, size);
    else this.skip = size + padding(size);
  }

  /** Collects a body the sink wanted (its size checked by then) or a long header (at most MAX_LONG). */
  private begin(header: TarHeader, size: number): void {
    const c = { header, data: Buffer.allocUnsafe(size), filled: 0 };
    if (size === 0) this.collected(c);
    else this.collecting = c;
  }

  private collected(c: Collecting): void {
    this.collecting = undefined;
    this.skip = padding(c.header.size);
    const data = c.data;
    switch (c.header.type) {
      case 'pax-header':
        this.pax = Object.assign(Object.create(null), this.paxGlobal, paxRecords(data));
        return;
      case 'pax-global-header':
        this.paxGlobal = paxRecords(data);
        return;
      case 'gnu-long-path':
        this.longPath = str(data, 0, data.length);
        return;
      case 'gnu-long-link-path':
        this.longLink = str(data, 0, data.length);
        return;
      default:
        this.sink.body(c.header, data);
    }
  }
}
