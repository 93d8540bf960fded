import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tarOf, xz, type Member } from './helpers/kernel-tarball.js';
import { SourceError } from '../src/errors.js';
import type { CatalogFile } from '../src/patches/catalog.js';
import { readPatchFiles, type SourceRef } from '../src/patches/source.js';
import { snapshot, testdir } from './helpers/tree.js';

const CAT = '/usr/share/gentoo-kopt/patches/catalog.ini';
const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const A = '--- a/Makefile\n+++ b/Makefile\n@@ -1 +1 @@\n-x\n+y\n';
const B = '--- a/Kconfig\n+++ b/Kconfig\n@@ -1 +1 @@\n-p\n+q\n';
const FILES: CatalogFile[] = [
  { path: '6.1/misc/0001-a.patch', sha256: sha(A), line: 7 },
  { path: '6.1/misc/0002-b.patch', sha256: sha(B), line: 8 },
];
const EXPECTED = new Map([
  ['6.1/misc/0001-a.patch', Buffer.from(A)],
  ['6.1/misc/0002-b.patch', Buffer.from(B)],
]);

const flipByte = (data: Buffer, at: number) => {
  const copy = Buffer.from(data);
  copy.writeUInt8(copy.readUInt8(copy.length + at) ^ 0xff, copy.length + at);
  return copy;
};
const ofA = (prefix = '') => [
  { name: `${prefix}6.1/misc/`, type: 'directory' as const },
  { name: `${prefix}6.1/misc/0001-a.patch`, content: A },
  { name: `${prefix}6.1/misc/0002-b.patch`, content: B },
  { name: `${prefix}README`, content: 'not wanted' },
];

async function failure(sources: SourceRef[], files: CatalogFile[] = FILES): Promise<SourceError> {
  const err = await readPatchFiles(sources, files, CAT).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('directory sources', () => {
  it('reads the files in catalog order and verifies them; writes nothing', async () => {
    const dir = await testdir({ '6.1/misc/0002-b.patch': B, '6.1/misc/0001-a.patch': A, 'other.patch': 'x' });
    const before = await snapshot(dir);
    const got = await readPatchFiles([{ spec: dir }], FILES, CAT);
    expect(got).toEqual(EXPECTED);
    expect([...got.keys()]).toEqual(FILES.map((f) => f.path));
    expect(await snapshot(dir)).toEqual(before);
  });

  it('takes each file from the first source that has it', async () => {
    const first = await testdir({ '6.1/misc/0002-b.patch': B });
    const second = await testdir({ '6.1/misc/0001-a.patch': A, '6.1/misc/0002-b.patch': 'tampered' });
    expect(await readPatchFiles([{ spec: first }, { spec: second }], FILES, CAT)).toEqual(EXPECTED);
  });

  it('follows a symlink that stays inside the source', async () => {
    const dir = await testdir({
      'store/a': A,
      '6.1/misc/0001-a.patch': { symlink: '../../store/a' },
      '6.1/misc/0002-b.patch': B,
    });
    expect(await readPatchFiles([{ spec: dir }], FILES, CAT)).toEqual(EXPECTED);
  });

  it.each<[string, Record<string, string | { symlink: string }>, RegExp]>([
    [
      'a symlink pointing outside',
      { '6.1/misc/0001-a.patch': { symlink: '/etc/hostname' } },
      /'6.1\/misc\/0001-a.patch' is a symbolic link pointing outside the source/,
    ],
    [
      'a symlink climbing out',
      { '6.1/misc/0001-a.patch': { symlink: '../../../x' } },
      /broken symbolic link|pointing outside/,
    ],
    ['a broken symlink', { '6.1/misc/0001-a.patch': { symlink: 'nowhere' } }, /is a broken symbolic link/],
    [
      'a directory where the file should be',
      { '6.1/misc/0001-a.patch/': '' },
      /'6.1\/misc\/0001-a.patch' is not a regular file/,
    ],
  ])('refuses %s', async (_, tree, message) => {
    const dir = await testdir({ ...tree, '6.1/misc/0002-b.patch': B });
    const err = await failure([{ spec: dir, file: '/etc/gentoo-kopt/kopt.conf', line: 4 }]);
    expect(err.message).toMatch(message);
    expect(err).toMatchObject({ file: '/etc/gentoo-kopt/kopt.conf', line: 4 });
  });
});

describe('tarball sources', () => {
  it.each<[string, (tar: Buffer) => Buffer]>([
    ['t.tar', (t) => t],
    ['t.tar.gz', (t) => gzipSync(t)],
    ['t.tgz', (t) => gzipSync(t)],
    ['t.tar.xz', xz],
    ['t.txz', xz],
  ])('%s: streams the requested members', async (name, compress) => {
    const dir = await testdir({ [name]: compress(await tarOf(ofA())) });
    const before = await snapshot(dir);
    expect(await readPatchFiles([{ spec: `${dir}/${name}` }], FILES, CAT)).toEqual(EXPECTED);
    expect(await snapshot(dir)).toEqual(before);
  });

  it.each<[string, Member[]]>([
    ['a leading ./', ofA('./')],
    [
      'a GitHub-style top-level directory',
      [{ name: 'kernel-patches-b3d6841/', type: 'directory' }, ...ofA('kernel-patches-b3d6841/')],
    ],
    ['./ and a top-level directory', ofA('./top/')],
  ])('member names with %s match', async (_, members) => {
    const dir = await testdir({ 't.tar': await tarOf(members) });
    expect(await readPatchFiles([{ spec: `${dir}/t.tar` }], FILES, CAT)).toEqual(EXPECTED);
  });

  it('an exact name wins over one below a top-level directory, in either order', async () => {
    const decoy = { name: 'top/6.1/misc/0001-a.patch', content: 'decoy' };
    for (const members of [
      [decoy, ...ofA()],
      [...ofA(), decoy],
    ]) {
      const dir = await testdir({ 't.tar': await tarOf(members) });
      expect(await readPatchFiles([{ spec: `${dir}/t.tar` }], FILES, CAT)).toEqual(EXPECTED);
    }
  });

  it('only ONE top-level directory is stripped', async () => {
    const dir = await testdir({ 't.tar': await tarOf(ofA('a/b/')) });
    expect((await failure([{ spec: `${dir}/t.tar` }])).message).toMatch(
      /'6.1\/misc\/0001-a.patch' is in none of the patch sources/,
    );
  });

  it.each<[string, Member[], RegExp]>([
    [
      'the same member twice',
      [...ofA(), { name: '6.1/misc/0001-a.patch', content: A }],
      /'6.1\/misc\/0001-a.patch' is in the tarball twice/,
    ],
    [
      'two top-level directories holding it',
      [...ofA('x/'), ...ofA('y/')],
      /is in the tarball twice: as 'x\/6.1\/misc\/0001-a.patch' and as 'y\/6.1\/misc\/0001-a.patch'/,
    ],
  ])('ambiguous: %s', async (_, members, message) => {
    const dir = await testdir({ 't.tar': await tarOf(members) });
    const err = await failure([{ spec: `${dir}/t.tar` }]);
    expect(err.message).toMatch(message);
    expect(err.file).toBe(`${dir}/t.tar`);
  });

  it.each<[string, Member, RegExp]>([
    ['../x', { name: '../x.patch', content: 'evil' }, /tarball member '..\/x.patch' has a '..' component/],
    ['a/../../x', { name: 'a/../../x.patch', content: 'evil' }, /member 'a\/..\/..\/x.patch' has a '..' component/],
    ['/abs', { name: '/etc/x.patch', content: 'evil' }, /tarball member '\/etc\/x.patch' has an absolute name/],
    [
      'a symlink',
      { name: '6.1/misc/link.patch', type: 'symlink', linkname: '/etc/shadow' },
      /tarball member '6.1\/misc\/link.patch' is a symlink/,
    ],
    [
      'a hardlink',
      { name: '6.1/misc/hard.patch', type: 'link', linkname: '6.1/misc/0001-a.patch' },
      /tarball member '6.1\/misc\/hard.patch' is a link/,
    ],
    ['a device', { name: 'dev/null', type: 'character-device' }, /tarball member 'dev\/null' is a character-device/],
    ['a fifo', { name: 'fifo', type: 'fifo' }, /is a fifo/],
  ])(
    'refuses the whole tarball for %s, requested or not, before or after the wanted files',
    async (_, bad, message) => {
      const cases: [string, Member[], (b: Buffer) => Buffer][] = [
        ['t.tar', [bad, ...ofA()], (b) => b],
        ['t.tar.xz', [...ofA(), bad], xz],
      ];
      for (const [name, members, compress] of cases) {
        const dir = await testdir({ [name]: compress(await tarOf(members)) });
        const err = await failure([{ spec: `${dir}/${name}`, file: '/etc/gentoo-kopt/kopt.conf', line: 3 }]);
        expect(err.message).toMatch(message);
        expect(err.message).toContain('(patch-source at /etc/gentoo-kopt/kopt.conf:3)');
        expect(err.file).toBe(`${dir}/${name}`);
      }
    },
  );

  it('a damaged xz stream is reported as such, even when what it yielded looked hostile', async () => {
    const archive = xz(
      await tarOf([
        { name: 'l', type: 'symlink', linkname: '/x' },
        { name: 'a.patch', content: 'x'.repeat(4000) },
      ]),
    );
    const dir = await testdir({ 't.tar.xz': archive.subarray(0, archive.length - 40) });
    const err = await failure([{ spec: `${dir}/t.tar.xz` }]);
    expect(err.message).toMatch(/^cannot decompress t.tar.xz: /);
    expect(err.hint).toMatch(/download it again/);
  });

  it.each<[string, (tar: Buffer) => Buffer, RegExp]>([
    [
      't.tar.xz',
      () => Buffer.from('this is not xz data at all, not even close'),
      /cannot decompress t.tar.xz: .*format/i,
    ],
    ['t.tar.xz', (t) => xz(t).subarray(0, 200), /cannot decompress t.tar.xz: .*(unexpected end|truncated)/i],
    ['t.tar.xz', (t) => flipByte(xz(t), -30), /cannot decompress t.tar.xz/],
    ['t.tar', (t) => t.subarray(0, 1024 + 100), /cannot read t.tar: corrupt or truncated archive/],
    ['t.tar', () => Buffer.alloc(1024, 'x'), /cannot read t.tar: corrupt or truncated archive/],
    ['t.tar.gz', (t) => gzipSync(t).subarray(0, 60), /cannot read t.tar.gz: corrupt or truncated archive/],
    ['t.tgz', (t) => t, /cannot read t.tgz: corrupt or truncated archive/],
  ])('%s, damaged: a SourceError naming the file', async (name, damage, message) => {
    const dir = await testdir({ [name]: damage(await tarOf(ofA())) });
    const err = await failure([{ spec: `${dir}/${name}` }]);
    expect(err.message).toMatch(message);
    expect(err.file).toBe(`${dir}/${name}`);
  });
});

describe('verification and missing files', () => {
  it('a checksum mismatch names the catalog line, the source and both digests', async () => {
    const dir = await testdir({ '6.1/misc/0001-a.patch': A, '6.1/misc/0002-b.patch': `${B}\n` });
    const err = await failure([{ spec: dir }]);
    expect(err).toMatchObject({ file: CAT, line: 8 });
    expect(err.message).toBe(
      `checksum mismatch for '6.1/misc/0002-b.patch' from patch source '${dir}': expected sha256 ${sha(B)}, got ${sha(`${B}\n`)}`,
    );
  });

  it('a mismatch inside a tarball too', async () => {
    const dir = await testdir({ 't.tar.gz': gzipSync(await tarOf([{ name: '6.1/misc/0001-a.patch', content: B }])) });
    const err = await failure([{ spec: `${dir}/t.tar.gz` }]);
    expect(err).toMatchObject({ file: CAT, line: 7 });
    expect(err.message).toContain(`expected sha256 ${sha(A)}, got ${sha(B)}`);
  });

  it('a file in no source names the catalog line and every source', async () => {
    const one = await testdir({ '6.1/misc/0001-a.patch': A });
    const two = await testdir({ 't.tar': await tarOf([{ name: 'README', content: 'x' }]) });
    const err = await failure([{ spec: one }, { spec: `${two}/t.tar` }]);
    expect(err).toMatchObject({ file: CAT, line: 8 });
    expect(err.message).toBe(`'6.1/misc/0002-b.patch' is in none of the patch sources (${one}, ${two}/t.tar)`);
  });

  it('no source configured', async () => {
    const err = await failure([]);
    expect(err).toMatchObject({ file: CAT, line: 7, message: 'no patch source is configured' });
    expect(err.hint).toMatch(/patch-source/);
  });

  it('no files wanted: nothing is read', async () => {
    expect(await readPatchFiles([{ spec: '/nonexistent' }], [], CAT)).toEqual(new Map());
  });
});

describe('bad sources: named, with the kopt.conf line that set them', () => {
  const conf = { file: '/etc/gentoo-kopt/kopt.conf', line: 5 };
  it.each<[string, Record<string, string>, string, RegExp]>([
    ['a missing directory', {}, 'nope', /patch source '.*\/nope': does not exist/],
    ['a missing tarball', {}, 'nope.tar.xz', /does not exist/],
    [
      'a file where a directory is expected',
      { 'patches.txt': 'x' },
      'patches.txt',
      /is neither a directory nor a .tar/,
    ],
    [
      'a path through a file',
      { f: 'x' },
      'f/sub',
      /cannot inspect: a component of the path is not a directory \(ENOTDIR\)/,
    ],
  ])('%s', async (_, tree, rel, message) => {
    const dir = await testdir({ ...tree, 'good/6.1/misc/0001-a.patch': A, 'good/6.1/misc/0002-b.patch': B });
    // Every named source must be usable, even when an earlier one already has every file.
    const err = await failure([{ spec: `${dir}/good` }, { spec: `${dir}/${rel}`, ...conf }]);
    expect(err).toMatchObject(conf);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`${dir}/${rel}`);
    const bare = await failure([{ spec: `${dir}/${rel}` }]);
    expect(bare.file).toBe(`${dir}/${rel}`);
  });

  it('a tarball name that is really a directory is read as a directory', async () => {
    const dir = await testdir({ 'p.tar/6.1/misc/0001-a.patch': A, 'p.tar/6.1/misc/0002-b.patch': B });
    expect(await readPatchFiles([{ spec: `${dir}/p.tar` }], FILES, CAT)).toEqual(EXPECTED);
  });

  it('a real tarball made by tar(1) with ./ names', async () => {
    const src = await testdir({ '6.1/misc/0001-a.patch': A, '6.1/misc/0002-b.patch': B });
    const out = await testdir({});
    execFileSync('tar', ['-cJf', `${out}/p.txz`, '-C', src, '.']);
    expect(await readPatchFiles([{ spec: `${out}/p.txz` }], FILES, CAT)).toEqual(EXPECTED);
    await writeFile(`${out}/copy.tar.gz`, gzipSync(execFileSync('xz', ['-dc', `${out}/p.txz`])));
    expect(await readPatchFiles([{ spec: `${out}/copy.tar.gz` }], FILES, CAT)).toEqual(EXPECTED);
  });
});
