// The tar reader (src/system/tar-reader.ts) against tar-stream, the parser it replaced, and GNU tar:
// the same members, names, types, sizes, link names and bytes, whatever the chunk sizes; and the
// refusals: bad checksum, unknown format, truncation, oversized long headers, directories with data.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { TarFormatError, type TarHeader, TarReader } from '../src/system/tar-reader.js';
import { walkTar } from '../src/system/tar-walk.js';
import { compress, tarOf } from './helpers/kernel-tarball.js';
import { testdir } from './helpers/tree.js';

interface Seen {
  name: string;
  type: string | null;
  size: number;
  linkname?: string;
  data?: string;
}

/** Every member through TarReader, `chunk` bytes at a time from one reused buffer; bodies of all kept. */
function read(archive: Buffer, chunk: number, keep = (_h: TarHeader) => true): Seen[] {
  const out: Seen[] = [];
  const reader = new TarReader({
    entry: (h) => {
      out.push({ name: h.name, type: h.type, size: h.size, ...(h.linkname ? { linkname: h.linkname } : {}) });
      return keep(h);
    },
    body: (_h, data) => {
      out.at(-1)!.data = data.toString('latin1');
    },
  });
  const reused = Buffer.alloc(chunk);
  for (let at = 0; at < archive.length; at += chunk) {
    const n = archive.copy(reused, 0, at, at + chunk);
    reader.push(reused.subarray(0, n));
    reused.fill(0xee); // what was kept must not change with the caller's buffer
  }
  reader.end();
  return out;
}

/** The same through tar-stream. */
async function readTarStream(archive: Buffer): Promise<Seen[]> {
  const out: Seen[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => void chunks.push(c as Buffer));
    stream.on('end', () => {
      const seen: Seen = {
        name: h.name,
        type: h.type,
        size: h.size ?? 0,
        data: Buffer.concat(chunks).toString('latin1'),
      };
      if (h.linkname) seen.linkname = h.linkname;
      out.push(seen);
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(archive);
  });
  return out;
}

const LONG = `linux-6.1/${'drivers/'.repeat(20)}long-name.c`; // > 155 + 100: a pax path
const MIDDLE = `linux-6.1/${'d/'.repeat(60)}x.c`; // > 100: ustar prefix + name

async function sample(): Promise<Buffer> {
  return tarOf([
    { name: 'linux-6.1/', type: 'directory' },
    { name: 'linux-6.1/Makefile', content: 'VERSION = 6\n'.repeat(100) },
    { name: 'linux-6.1/empty', content: '' },
    { name: MIDDLE, content: 'middle\n' },
    { name: LONG, content: Buffer.alloc(1025, 'x') },
    { name: 'linux-6.1/link', type: 'symlink', linkname: `../${'target/'.repeat(30)}t` },
    { name: 'linux-6.1/hard', type: 'link', linkname: 'linux-6.1/Makefile' },
  ]);
}

/** Sets a header field of the member named `member` (its first header), with the checksum redone. */
function patchHeader(archive: Buffer, member: string, at: number, bytes: string): Buffer {
  const out = Buffer.from(archive);
  for (let h = 0; h + 512 <= out.length; h += 512) {
    if (out.toString('latin1', h, h + member.length + 1) !== `${member}\0`) continue;
    out.write(bytes, h + at, 'latin1');
    out.fill(' ', h + 148, h + 156);
    let sum = 0;
    for (let i = h; i < h + 512; i++) sum += out[i]!;
    out.write(`${sum.toString(8).padStart(6, '0')}\0 `, h + 148, 'latin1');
    return out;
  }
  throw new Error(`no header for ${member}`);
}

describe('what tar-stream read, read the same', () => {
  it.each([1, 7, 511, 512, 513, 4096, 1 << 20])('in chunks of %i bytes', async (chunk) => {
    const archive = await sample();
    const expected = await readTarStream(archive);
    expect(expected.map((m) => m.name)).toContain(LONG);
    expect(read(archive, chunk)).toEqual(expected);
  });

  it('members not kept are passed over, the next header found', async () => {
    const archive = await sample();
    const names = read(archive, 300, (h) => h.name === 'linux-6.1/empty');
    expect(names.map((m) => [m.name, m.data])).toEqual([
      ['linux-6.1/', undefined],
      ['linux-6.1/Makefile', undefined],
      ['linux-6.1/empty', ''],
      [MIDDLE, undefined],
      [LONG, undefined],
      ['linux-6.1/link', undefined],
      ['linux-6.1/hard', undefined],
    ]);
  });

  it("GNU tar's own formats (gnu long names, pax, ustar): the tree GNU tar wrote", async () => {
    const dir = await testdir();
    const deep = path.join(dir, 'src', 'a'.repeat(90), 'b'.repeat(90));
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(deep, `${'c'.repeat(120)}.c`), 'int x;\n');
    await symlink('c'.repeat(150), path.join(dir, 'src', 'dangling'));
    for (const format of ['gnu', 'pax', 'posix']) {
      const file = path.join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '--sort=name', '-cf', file, '-C', dir, 'src']);
      const seen = read(await readFile(file), 1000);
      expect(seen.map((m) => [m.name, m.type, m.linkname])).toEqual([
        ['src/', 'directory', undefined],
        [`src/${'a'.repeat(90)}/`, 'directory', undefined],
        [`src/${'a'.repeat(90)}/${'b'.repeat(90)}/`, 'directory', undefined],
        [`src/${'a'.repeat(90)}/${'b'.repeat(90)}/${'c'.repeat(120)}.c`, 'file', undefined],
        ['src/dangling', 'symlink', 'c'.repeat(150)],
      ]);
      expect(seen[3]!.data).toBe('int x;\n');
    }
  });
});

describe('refused: a TarFormatError, never a guess', () => {
  const refused = (archive: Buffer, chunk = 512): unknown => {
    try {
      read(archive, chunk);
    } catch (err) {
      return err;
    }
    throw new Error('read it');
  };

  it('a bad checksum', async () => {
    const archive = await sample();
    archive[600] = archive[600]! ^ 1; // the second header's name
    expect(refused(archive)).toBeInstanceOf(TarFormatError);
  });

  it('a header that is neither ustar nor GNU', async () => {
    expect(refused(patchHeader(await sample(), 'linux-6.1/Makefile', 257, 'xxxxx'))).toMatchObject({
      message: 'invalid tar header: unknown format',
    });
  });

  it.each([
    ['inside a header', 512 + 100],
    ['inside a body', 512 * 2 + 10],
    ['inside the padding after a body', 512 * 2 + 1200],
  ])('an archive that ends %s', async (_what, length) => {
    const err = refused((await sample()).subarray(0, length), 64);
    expect(err).toMatchObject({ message: 'unexpected end of data inside a member' });
  });

  it('a directory with a size (where its data ends is unclear)', async () => {
    const archive = patchHeader(await sample(), 'linux-6.1/', 124, '00000001000\0');
    expect(refused(archive)).toMatchObject({
      message: "the directory 'linux-6.1/' has a size of 512 bytes: where its data ends is unclear",
    });
  });

  it('a size that is not a number', async () => {
    const huge = `\x80${'\xff'.repeat(11)}`; // base-256, beyond 2^53
    const archive = patchHeader(await sample(), 'linux-6.1/Makefile', 124, huge);
    expect(refused(archive)).toBeInstanceOf(TarFormatError);
  });

  it('a pax header of more than 4 MiB', async () => {
    const big = await tarOf([{ name: 'pax', content: Buffer.alloc(4 * 1024 * 1024 + 1, 'a') }]);
    expect(refused(patchHeader(big, 'pax', 156, 'x'))).toMatchObject({
      message: 'a pax-header header of 4194305 bytes: more than 4194304',
    });
  });
});

it("a typeflag it does not name ('S', GNU sparse) is type null (walkTar refuses those: hostile-input.test.ts)", async () => {
  const archive = patchHeader(await sample(), 'linux-6.1/Makefile', 156, 'S');
  expect(read(archive, 512).find((m) => m.name === 'linux-6.1/Makefile')?.type).toBeNull();
});

it('global GNU.sparse.* pax records: walkTar refuses the members after them', async () => {
  const dir = await testdir();
  const file = path.join(dir, 'g.tar');
  const record = (kv: string): string => `${kv.length + 4} ${kv}\n`; // a length of two digits
  const global = Buffer.from(record('GNU.sparse.major=1') + record('GNU.sparse.minor=0'));
  // written as a file, then its typeflag made 'g' (tar-stream's packer writes no global headers)
  const archive = await tarOf([
    { name: 'pax_global_header', content: global },
    { name: 'x.bin', content: 'x' },
  ]);
  await writeFile(file, patchHeader(archive, 'pax_global_header', 156, 'g'));
  const walk = walkTar(file, 'tar', {
    maxMember: { max: 100, what: 'a file' },
    maxTotal: 1 << 20,
    visit: () => true,
    onData: () => undefined,
  });
  await expect(walk).rejects.toMatchObject({
    reason: 'refused',
    message: "tarball member 'x.bin' is a GNU sparse file (GNU.sparse.* pax attributes)",
  });
});

describe('walkTar on .tar.xz: xz writes into a FIFO read into one buffer, or a pipe without mkfifo', () => {
  async function xzTarball(): Promise<string> {
    const dir = await testdir();
    const file = path.join(dir, 't.tar.xz');
    await writeFile(file, compress(await sample(), 'xz'));
    return file;
  }
  const names = async (file: string): Promise<string[]> => {
    const seen: string[] = [];
    await walkTar(file, 'xz', {
      maxMember: { max: 1 << 20, what: 'a file' },
      maxTotal: 1 << 20,
      visit: (m) => void seen.push(m.name) === undefined,
      onData: () => undefined,
    });
    return seen;
  };

  it('xz ending at once is seen ending, every time (its events are awaited from the start)', async () => {
    const file = await xzTarball();
    for (let i = 0; i < 30; i++) expect(await names(file)).toHaveLength(7);
  });

  it('without mkfifo in PATH: the same members, through a pipe', async () => {
    const file = await xzTarball();
    const bin = await testdir();
    const xzPath = execFileSync('sh', ['-c', 'command -v xz'], { encoding: 'utf8' }).trim();
    await symlink(xzPath, path.join(bin, 'xz'));
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      expect(await names(file)).toEqual((await readTarStream(await sample())).map((m) => m.name));
    } finally {
      process.env.PATH = saved;
    }
  });

  it('a temporary directory that cannot be used: the same members, through a pipe', async () => {
    const file = await xzTarball();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = path.join(await testdir(), 'missing');
    try {
      expect(await names(file)).toHaveLength(7);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
