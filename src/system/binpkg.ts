// The environment a binary package was built with (its environment.bz2), read without unpacking the
// package: a kernel's binary package is 100 MB and more, its metadata a few KB. Two formats
// (Portage's lib/portage/gpkg.py and lib/portage/xpak.py):
//  - GPKG (`.gpkg.tar`): a plain tar of <name>/gpkg-1, <name>/metadata.tar[.<compression>],
//    <name>/image.tar[...] and signatures; the metadata tar holds metadata/environment.bz2. Only the
//    outer tar's headers are read, and the metadata member's bytes.
//  - XPAK (`.tbz2`, `.xpak`): the compressed image, then an XPAK segment, its length (4 bytes, big
//    endian) and "STOP". The segment: "XPAKPACK", index length, data length, the index (name length,
//    name, offset, length per entry), the data, "XPAKSTOP".
// Every read is bounded (LIMITS.vdb for the metadata and for what it decompresses to) and of a
// regular file; decompressors run capped (runCapped). Errors are FsError (the file) or ProcessError.
import { open, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { FsError } from '../errors.js';
import { runCapped } from './probe.js';
import { TarReader } from './tar-reader.js';
import { fsError } from './fs-errors.js';
import { kindOf, LIMITS } from './read.js';

const MAX = LIMITS.vdb.max;
const TIMEOUT_MS = 30_000;

const corrupt = (file: string, why: string): FsError =>
  new FsError(`is not a readable binary package: ${why}`, {
    file,
    hint: 'Portage writes binary packages whole: rebuild it (emerge --buildpkg) or delete it',
  });

async function readAt(fd: import('node:fs/promises').FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fd.read(buf, 0, length, pos);
  return buf.subarray(0, bytesRead);
}

/** A decompressor for a metadata tar by its suffix ('' = none). */
async function decompress(data: Buffer, suffix: string, what: string): Promise<Buffer> {
  const capped = { input: data, max: MAX, timeoutMs: TIMEOUT_MS, what };
  switch (suffix) {
    case '':
      return data;
    case '.gz':
      return gunzipSync(data, { maxOutputLength: MAX });
    case '.bz2':
      return runCapped('bzip2', ['-dc'], capped);
    case '.xz':
      return runCapped('xz', ['-dc'], capped);
    case '.zst':
      return runCapped('zstd', ['-dc'], capped);
    case '.lz4':
      return runCapped('lz4', ['-dc'], capped);
    default:
      throw new Error(`unknown compression ${suffix}`);
  }
}

const octal = (b: Buffer): number => parseInt(b.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);

/** The metadata member of a GPKG: its name and bytes. */
async function gpkgMetadata(file: string, size: number): Promise<{ name: string; data: Buffer }> {
  const fd = await open(file, 'r');
  try {
    let pos = 0;
    let longName: string | undefined;
    while (pos + 512 <= size) {
      const h = await readAt(fd, pos, 512);
      if (h.every((b) => b === 0)) break;
      const type = String.fromCharCode(h[156]!);
      const len = octal(h.subarray(124, 136));
      const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
      const base = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const name = longName ?? (prefix ? `${prefix}/${base}` : base);
      longName = undefined;
      const data = pos + 512;
      pos = data + Math.ceil(len / 512) * 512;
      if (type === 'L') {
        if (len > 4096) throw corrupt(file, 'a tar member name longer than 4 KiB');
        longName = (await readAt(fd, data, len)).toString('utf8').replace(/\0.*$/s, '');
      } else if (/^[^/]+\/metadata\.tar(\.[a-z0-9]+)?$/.test(name) && (type === '0' || type === '\0')) {
        if (len > MAX) throw corrupt(file, `its metadata is larger than ${MAX} bytes`);
        return { name, data: await readAt(fd, data, len) };
      }
    }
    throw corrupt(file, 'no <name>/metadata.tar member (not a GPKG)');
  } finally {
    await fd.close();
  }
}

/** One file of a tar held in memory (TarFormatError when it is not a tar). */
function tarMember(bytes: Buffer, wanted: string): Buffer | undefined {
  let found: Buffer | undefined;
  const reader = new TarReader({
    entry: (h) => h.name === wanted && h.type === 'file',
    body: (_h, data) => {
      found = data;
    },
  });
  reader.push(bytes);
  reader.end();
  return found;
}

/** The environment.bz2 bytes of an XPAK segment at the end of the file. */
async function xpakEnvironment(file: string, size: number): Promise<Buffer | undefined> {
  const fd = await open(file, 'r');
  try {
    const tail = await readAt(fd, size - 8, 8);
    if (size < 8 || tail.subarray(4).toString('latin1') !== 'STOP') throw corrupt(file, 'no XPAK trailer');
    const len = tail.readUInt32BE(0);
    if (len > MAX || len + 8 > size) throw corrupt(file, 'its XPAK segment is larger than the file allows');
    const x = await readAt(fd, size - 8 - len, len);
    if (x.subarray(0, 8).toString('latin1') !== 'XPAKPACK' || x.subarray(-8).toString('latin1') !== 'XPAKSTOP')
      throw corrupt(file, 'its XPAK segment has no XPAKPACK/XPAKSTOP marks');
    const indexLen = x.readUInt32BE(8);
    const dataStart = 16 + indexLen;
    for (let p = 16; p + 4 <= 16 + indexLen; ) {
      const nameLen = x.readUInt32BE(p);
      const name = x.subarray(p + 4, p + 4 + nameLen).toString('utf8');
      const off = x.readUInt32BE(p + 4 + nameLen);
      const l = x.readUInt32BE(p + 8 + nameLen);
      p += 12 + nameLen;
      if (name !== 'environment.bz2') continue;
      if (dataStart + off + l > x.length - 8) throw corrupt(file, 'an XPAK entry runs past its segment');
      return x.subarray(dataStart + off, dataStart + off + l);
    }
    return undefined;
  } finally {
    await fd.close();
  }
}

/**
 * The saved environment (the text of environment.bz2) of a binary package, or undefined when the
 * package has none. Throws FsError for a file that is not a regular file or not a binary package.
 */
export async function binpkgEnvironment(file: string): Promise<string | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    throw fsError(err, file, 'read');
  }
  if (!st.isFile()) throw new FsError(`is ${kindOf(st)}, not a regular file`, { file });
  let env: Buffer | undefined;
  if (file.endsWith('.gpkg.tar')) {
    const meta = await gpkgMetadata(file, st.size);
    const suffix = /metadata\.tar(\.[a-z0-9]+)?$/.exec(meta.name)?.[1] ?? '';
    let inner: Buffer;
    try {
      inner = await decompress(meta.data, suffix, `${meta.name} in ${file}`);
    } catch (err) {
      if (err instanceof Error && /unknown compression/.test(err.message)) throw corrupt(file, err.message);
      throw err;
    }
    try {
      env = tarMember(inner, 'metadata/environment.bz2');
    } catch {
      throw corrupt(file, `${meta.name} is not a tar`);
    }
  } else {
    env = await xpakEnvironment(file, st.size);
  }
  if (env === undefined) return undefined;
  const text = await runCapped('bzip2', ['-dc'], {
    input: env,
    max: MAX,
    timeoutMs: TIMEOUT_MS,
    what: `environment.bz2 of ${file}`,
  });
  return text.toString('utf8');
}
