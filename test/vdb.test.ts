import { describe, it, expect } from 'vitest';
import { stat, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { readInstalled, readVdbField, parseMetadataFile } from '../src/portage/vdb.js';
import { resolveRoots } from '../src/portage/roots.js';
import { testdir, type Tree } from './helpers/tree.js';

const DB = 'var/db/pkg';

/** A per-field VDB entry, as every Portage writes it. */
function entry(cpf: string, fields: Record<string, string>): Tree {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${DB}/${cpf}/${k}`, `${v}\n`]));
}

/**
 * The combined `metadata` file of Portage 3.0.82 (vartree.py _write_metadata_file): `#format=1`, the
 * fields sorted, whitespace collapsed, then `#dir_mtime=` (the package directory's st_mtime_ns).
 */
function metadata(fields: Record<string, string>, dirMtimeNs = '1732550400123456789'): string {
  const body = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${(fields[k] ?? '').split(/\s+/).filter(Boolean).join(' ')}\n`);
  return `#format=1\n${body.join('')}#dir_mtime=${dirMtimeNs}\n`;
}

async function installed(tree: Tree, cpns?: string[]) {
  const dir = await testdir(tree);
  const result = await readInstalled(resolveRoots({ root: dir, env: {} }), cpns ? { cpns } : {});
  return { dir, ...result, problems: result.problems.map((p) => ({ ...p, file: path.relative(dir, p.file) })) };
}

const KERNEL = { SLOT: '6.12.58', repository: 'gentoo', BUILD_TIME: '1732550400', COUNTER: '4242', EAPI: '8' };

describe('readInstalled', () => {
  it('reads per-field entries, sorted by package and version', async () => {
    const { dir, packages, problems } = await installed({
      ...entry('sys-kernel/gentoo-kernel-6.12.58', KERNEL),
      ...entry('sys-kernel/gentoo-kernel-6.6.10-r1', { ...KERNEL, SLOT: '6.6.10' }),
      ...entry('llvm-core/clang-20.1.8', { SLOT: '20/20.1', repository: 'gentoo' }),
    });
    expect(packages.map((p) => `${p.cpv.category}/${p.cpv.pf}:${p.slot}`)).toEqual([
      'llvm-core/clang-20.1.8:20',
      'sys-kernel/gentoo-kernel-6.6.10-r1:6.6.10',
      'sys-kernel/gentoo-kernel-6.12.58:6.12.58',
    ]);
    expect(packages[0]).toMatchObject({ slot: '20', subslot: '20.1', cpv: { slot: '20', subslot: '20.1' } });
    expect(packages[2]).toMatchObject({
      slot: '6.12.58',
      repository: 'gentoo',
      buildTime: 1732550400,
      counter: 4242,
      dir: `${dir}/${DB}/sys-kernel/gentoo-kernel-6.12.58`,
    });
    expect(packages[2]?.subslot).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('falls back to the metadata file after emaint vdb --delete-individual-files', async () => {
    const { packages, problems } = await installed({
      [`${DB}/sys-kernel/vanilla-kernel-6.18.2/metadata`]: metadata({
        ...KERNEL,
        SLOT: '6.18.2',
        USE: 'initramfs   strip',
      }),
      [`${DB}/sys-kernel/vanilla-kernel-6.18.2/CONTENTS`]: 'dir /usr\n',
    });
    expect(packages).toMatchObject([{ slot: '6.18.2', repository: 'gentoo', buildTime: 1732550400, counter: 4242 }]);
    expect(problems).toEqual([]);
  });

  it('prefers the per-field file, and uses a metadata file whatever its recorded mtime (copied roots)', async () => {
    const { packages } = await installed({
      ...entry('sys-kernel/gentoo-kernel-6.12.58', { SLOT: '6.12.58' }),
      [`${DB}/sys-kernel/gentoo-kernel-6.12.58/metadata`]: metadata(
        { SLOT: 'stale', repository: 'from-metadata' },
        '1',
      ),
    });
    expect(packages).toMatchObject([{ slot: '6.12.58', repository: 'from-metadata' }]);
  });

  it.each<[string, string, { line?: number; message: RegExp }]>([
    ['no #format line', 'SLOT=1\n#dir_mtime=1\n', { message: /no '#format=' line/ }],
    [
      'another format version',
      '#format=2\nSLOT=1\n#dir_mtime=1\n',
      { line: 1, message: /^unsupported metadata format \(this reader knows #format=1\)$/ },
    ],
    [
      'a non-numeric format',
      '#format=x\nSLOT=1\n#dir_mtime=1\n',
      { line: 1, message: /^unsupported metadata format \(this reader knows #format=1\)$/ },
    ],
    ['an interrupted write (no #dir_mtime)', '#format=1\nSLOT=1\n', { message: /cut short/ }],
    ['a bad #dir_mtime', '#format=1\nSLOT=1\n#dir_mtime=soon\n', { line: 3, message: /malformed #dir_mtime/ }],
  ])('a metadata file with %s is not used, and says why', async (_what, text, want) => {
    const { packages, problems } = await installed({ [`${DB}/sys-kernel/gentoo-kernel-1.0/metadata`]: text });
    expect(packages).toEqual([]);
    expect(problems).toEqual([
      {
        file: `${DB}/sys-kernel/gentoo-kernel-1.0/metadata`,
        ...(want.line && { line: want.line }),
        message: expect.stringMatching(want.message),
        kind: 'corrupt',
      },
      { file: `${DB}/sys-kernel/gentoo-kernel-1.0/SLOT`, message: expect.stringMatching(/no SLOT/), kind: 'corrupt' },
    ]);
  });

  it('a malformed line in a metadata file is reported with its line; the rest is used', async () => {
    const text = '#format=1\nBUILD_TIME=5\ngarbage\nSLOT=1.0\n#dir_mtime=1\n';
    const { packages, problems } = await installed({ [`${DB}/app-misc/foo-1.0/metadata`]: text });
    expect(packages).toMatchObject([{ slot: '1.0', buildTime: 5 }]);
    expect(problems).toEqual([
      {
        file: `${DB}/app-misc/foo-1.0/metadata`,
        line: 3,
        message: expect.stringMatching(/malformed line/),
        kind: 'corrupt',
      },
    ]);
  });

  it('reports corrupt entries instead of throwing, and reads the good ones', async () => {
    const { packages, problems } = await installed({
      ...entry('sys-kernel/gentoo-kernel-6.12.58', KERNEL),
      ...entry('sys-kernel/not-a-pf', KERNEL),
      ...entry('sys-kernel/gentoo-kernel-6.1.1', { repository: 'gentoo' }),
      ...entry('sys-kernel/gentoo-kernel-6.1.2', { SLOT: 'bad slot' }),
      ...entry('sys-kernel/gentoo-kernel-6.1.3', { SLOT: '6.1.3', BUILD_TIME: 'yesterday' }),
      ...entry('sys-kernel/-MERGING-gentoo-kernel-6.18.1', KERNEL),
      ...entry('sys-kernel/.hidden-1.0', KERNEL),
      ...entry('sys-kernel/lost+found', {}),
      [`${DB}/sys-kernel/stray-file`]: 'x\n',
      [`${DB}/not-a-category`]: 'x\n',
      [`${DB}/.keep`]: '',
    });
    expect(packages.map((p) => p.cpv.pf)).toEqual(['gentoo-kernel-6.1.3', 'gentoo-kernel-6.12.58']);
    expect(packages[0]?.buildTime).toBeUndefined();
    expect(problems).toEqual([
      { file: `${DB}/not-a-category`, message: expect.stringMatching(/not a directory/), kind: 'corrupt' },
      { file: `${DB}/sys-kernel/stray-file`, message: expect.stringMatching(/not a directory/), kind: 'corrupt' },
      {
        file: `${DB}/sys-kernel/-MERGING-gentoo-kernel-6.18.1`,
        message: expect.stringMatching(/merge in progress or interrupted/),
        kind: 'merging',
      },
      {
        file: `${DB}/sys-kernel/not-a-pf`,
        message: expect.stringMatching(/not a valid category\/PF/),
        kind: 'corrupt',
      },
      { file: `${DB}/sys-kernel/gentoo-kernel-6.1.1/SLOT`, message: expect.stringMatching(/no SLOT/), kind: 'corrupt' },
      {
        file: `${DB}/sys-kernel/gentoo-kernel-6.1.2/SLOT`,
        message: 'invalid SLOT (not SLOT or SLOT/SUBSLOT)',
        kind: 'corrupt',
      },
      {
        file: `${DB}/sys-kernel/gentoo-kernel-6.1.3/BUILD_TIME`,
        message: 'BUILD_TIME is not a number (or one too large to be real)',
        kind: 'corrupt',
      },
    ]);
  });

  it('a file where a VDB entry should be a directory is a problem, not a crash', async () => {
    const { packages, problems } = await installed({ [`${DB}/sys-kernel`]: 'not a directory\n' }, [
      'sys-kernel/gentoo-kernel',
    ]);
    expect(packages).toEqual([]);
    expect(problems).toEqual([
      { file: `${DB}/sys-kernel`, message: expect.stringMatching(/not a directory/), kind: 'corrupt' },
    ]);
  });

  it('a missing VDB is an empty one', async () => {
    expect(await installed({ 'etc/portage/': '' })).toMatchObject({ packages: [], problems: [] });
  });

  it('with cpns, reads only those packages and never looks at other categories', async () => {
    const { packages, problems } = await installed(
      {
        ...entry('sys-kernel/gentoo-kernel-6.12.58', KERNEL),
        ...entry('sys-kernel/gentoo-kernel-bin-6.12.58', KERNEL),
        ...entry('sys-kernel/vanilla-kernel-6.18.2', { SLOT: '6.18.2' }),
        ...entry('sys-kernel/linux-firmware-20250101', {}), // corrupt, but not asked for: not read
        ...entry('dev-lang/not-a-pf', {}), // another category: not even listed
        [`${DB}/app-misc`]: 'a file where a category should be\n',
      },
      ['sys-kernel/gentoo-kernel', 'sys-kernel/vanilla-kernel', 'sys-apps/absent'],
    );
    expect(packages.map((p) => p.cpv.pf)).toEqual(['gentoo-kernel-6.12.58', 'vanilla-kernel-6.18.2']);
    expect(problems).toEqual([]);
  });

  it('reads a larger VDB completely and in order', async () => {
    const tree: Tree = {};
    for (let i = 0; i < 150; i++)
      Object.assign(tree, entry(`dev-libs/lib${i % 7}-1.${i}`, { SLOT: '0', COUNTER: String(i) }));
    const { packages, problems } = await installed(tree);
    expect(problems).toEqual([]);
    expect(packages).toHaveLength(150);
    expect(packages.slice(0, 3).map((p) => p.cpv.pf)).toEqual(['lib0-1.0', 'lib0-1.7', 'lib0-1.14']);
    expect(new Set(packages.map((p) => p.counter)).size).toBe(150);
  });
});

describe('readVdbField', () => {
  it('normalizes whitespace as Portage does, except in CONTENTS', async () => {
    const dir = await testdir({
      'pkg/USE': '  a\tb\n c  \n',
      'pkg/CONTENTS': 'dir /usr\nobj /usr/bin/x 0123 456\n',
    });
    expect(await readVdbField(`${dir}/pkg`, 'USE')).toBe('a b c');
    expect(await readVdbField(`${dir}/pkg`, 'CONTENTS')).toBe('dir /usr\nobj /usr/bin/x 0123 456\n');
    expect(await readVdbField(`${dir}/pkg`, 'SLOT')).toBeUndefined();
    expect(await readVdbField(`${dir}/missing`, 'SLOT')).toBeUndefined();
  });

  it('answers from the metadata file only for the fields that file carries', async () => {
    const dir = await testdir({ 'pkg/metadata': metadata({ SLOT: '0/1.2', USE: 'a b' }) + 'CFLAGS=-O2\n' });
    expect(await readVdbField(`${dir}/pkg`, 'SLOT')).toBe('0/1.2');
    expect(await readVdbField(`${dir}/pkg`, 'CFLAGS')).toBeUndefined(); // Portage reads that from environment.bz2
  });

  it('reads a metadata file stamped as Portage stamps it', async () => {
    const dir = await testdir({ 'pkg/metadata': '#format=1\nEAPI=8\nSLOT=6.12.58\n' });
    // _stamp_metadata_file: append the directory's st_mtime_ns after the rename into place.
    await appendFile(`${dir}/pkg/metadata`, `#dir_mtime=${(await stat(`${dir}/pkg`, { bigint: true })).mtimeNs}\n`);
    expect(await readVdbField(`${dir}/pkg`, 'SLOT')).toBe('6.12.58');
  });
});

describe('parseMetadataFile', () => {
  it('keeps "=" and "#" inside values and ignores other comment lines', () => {
    const text = '#format=1\n# a comment\nHOMEPAGE=https://example.com/?a=1#x\nIUSE=\n#dir_mtime=1\n';
    expect(parseMetadataFile(text, 'm')).toEqual({
      values: new Map([
        ['HOMEPAGE', 'https://example.com/?a=1#x'],
        ['IUSE', ''],
      ]),
      problems: [],
    });
  });
});
