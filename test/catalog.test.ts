import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, FsError, VersionError } from '../src/errors.js';
import {
  BUILTIN_CATALOG,
  checkOverlaps,
  findOverlaps,
  kernelRange,
  loadCatalog,
  matchEntry,
  parseCatalog,
  type Catalog,
} from '../src/patches/catalog.js';
import { resolveRoots } from '../src/portage/roots.js';
import { testdir } from './helpers/tree.js';

const F = '/cat/a.ini';
const G = '/cat/b.conf';
const SUM = 'a'.repeat(64);
const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

const DEMO = `# demo
[series demo]
description = a demo series
provides = LTO_GCC LTO_CP_CLONE

[demo 6.1]
kernel = >=6.1.0 <6.2.0
origin = https://example.org/p/
file = 6.1/0001-a.patch sha256:${'A'.repeat(64)}
file = 6.1/0002-b.diff sha256:${'b'.repeat(64)}

[demo 6.13]
kernel = >=6.13.0-rc1 <6.14.0
provides = LTO_GCC
file = 6.13/0001-a.patch sha256:${SUM}
`;

describe('parseCatalog', () => {
  it('reads series and entries with their lines, files in order, checksums lower-cased', () => {
    const catalog = parseCatalog(DEMO, F);
    expect(catalog.files).toEqual([F]);
    const demo = catalog.series.get('demo')!;
    expect(demo).toMatchObject({
      name: 'demo',
      description: 'a demo series',
      provides: ['LTO_GCC', 'LTO_CP_CLONE'],
      file: F,
      line: 2,
    });
    expect(demo.entries).toEqual([
      {
        series: 'demo',
        id: '6.1',
        range: '>=6.1.0 <6.2.0',
        origin: 'https://example.org/p/',
        files: [
          { path: '6.1/0001-a.patch', sha256: 'a'.repeat(64), line: 9 },
          { path: '6.1/0002-b.diff', sha256: 'b'.repeat(64), line: 10 },
        ],
        provides: ['LTO_GCC', 'LTO_CP_CLONE'], // inherited from the series
        file: F,
        line: 6,
      },
      {
        series: 'demo',
        id: '6.13',
        range: '>=6.13.0-rc1 <6.14.0',
        files: [{ path: '6.13/0001-a.patch', sha256: SUM, line: 15 }],
        provides: ['LTO_GCC'], // the entry's own
        file: F,
        line: 12,
      },
    ]);
  });

  it('a later file adds entries to a series declared earlier', () => {
    const catalog = parseCatalog(DEMO, F);
    parseCatalog(`[demo 6.6]\nkernel = ~6.6\nfile = x/y.patch sha256:${SUM}\n`, G, catalog);
    expect(catalog.files).toEqual([F, G]);
    expect(catalog.series.get('demo')!.entries.map((e) => [e.id, e.file, e.line])).toEqual([
      ['6.1', F, 6],
      ['6.13', F, 12],
      ['6.6', G, 1],
    ]);
  });

  const entry = (body: string) => `[series s]\n[s 1]\n${body}`; // body starts on line 3
  const file = `file = a/b.patch sha256:${SUM}`;
  it.each<[string, string, number, RegExp, RegExp?]>([
    ['key outside a section', 'kernel = *', 1, /'kernel' outside any section/],
    ['one-word section', '[gcc-lto]', 1, /invalid section \[gcc-lto\]/, /\[series NAME\]/],
    ['three-word section', '[series a b]', 1, /invalid section/],
    ['bad series name', '[series GCC]', 1, /invalid series name 'GCC'/],
    ['entry of an undeclared series', '[gcc-lto 6.1]', 1, /no series 'gcc-lto'/, /\[series gcc-lto\]/],
    ['entry of a misspelt series', '[series gcc-lto]\n[gcc-lt 6.1]', 2, /no series 'gcc-lt'/, /did you mean 'gcc-lto'/],
    ['bad entry id', '[series s]\n[s 6/1]', 2, /invalid entry id '6\/1'/],
    ['series declared twice', '[series s]\n\n[series s]', 3, /series 's' is already defined at \/cat\/a.ini:1/],
    [
      'entry defined twice',
      `[series s]\n[s 1]\nkernel = *\n${file}\n[s 1]`,
      5,
      /entry \[s 1\] is already defined at \/cat\/a.ini:2/,
    ],
    [
      'unknown series key',
      '[series s]\ndescripton = x',
      2,
      /unknown key 'descripton' in \[series s\]/,
      /did you mean 'description'/,
    ],
    ['unknown entry key', entry('kernal = *'), 3, /unknown key 'kernal' in \[s 1\]/, /did you mean 'kernel'/],
    ['series key twice', '[series s]\ndescription = a\ndescription = b', 3, /'description' is already set at line 2/],
    ['kernel twice', entry(`kernel = *\nkernel = *\n${file}`), 4, /'kernel' is already set at line 3/],
    ['no kernel', entry(file), 2, /has no 'kernel = RANGE' line/],
    ['no file', entry('kernel = *'), 2, /has no 'file = PATH sha256:DIGEST' line/],
    [
      'invalid range',
      entry(`kernel = >=6.1.0 <foo\n${file}`),
      3,
      /kernel: '>=6.1.0 <foo' is not a valid version range/,
    ],
    ['empty range', entry(`kernel =\n${file}`), 3, /kernel: '' is not a valid version range/],
    ['file without checksum', entry('kernel = *\nfile = a/b.patch'), 4, /expected a path and a checksum/],
    ['md5 checksum', entry(`kernel = *\nfile = a/b.patch md5:${'a'.repeat(32)}`), 4, /is not sha256:<64 hex digits>/],
    ['short checksum', entry(`kernel = *\nfile = a/b.patch sha256:${'a'.repeat(63)}`), 4, /is not sha256/],
    ['absolute path', entry(`kernel = *\nfile = /etc/b.patch sha256:${SUM}`), 4, /'\/etc\/b.patch' is absolute/],
    ['.. in path', entry(`kernel = *\nfile = a/../../b.patch sha256:${SUM}`), 4, /has an empty, '.' or '..' component/],
    ['. in path', entry(`kernel = *\nfile = ./b.patch sha256:${SUM}`), 4, /'.' or '..' component/],
    ['empty component', entry(`kernel = *\nfile = a//b.patch sha256:${SUM}`), 4, /empty/],
    [
      'not a patch',
      entry(`kernel = *\nfile = a/b.txt sha256:${SUM}`),
      4,
      /does not end in .patch or .diff/,
      /eapply_user/,
    ],
    ['same file twice', entry(`kernel = *\n${file}\n${file}`), 5, /'a\/b.patch' is already listed at line 4/],
    [
      'origin not a URL',
      entry(`kernel = *\norigin = example.org/\n${file}`),
      4,
      /origin: 'example.org\/' is not an http\(s\) URL/,
    ],
    ['origin ftp', entry(`kernel = *\norigin = ftp://example.org/\n${file}`), 4, /not an http\(s\) URL/],
    ['origin without /', entry(`kernel = *\norigin = https://example.org/p\n${file}`), 4, /ending in '\/'/],
    ['provides with CONFIG_', '[series s]\nprovides = CONFIG_LTO_GCC', 2, /write 'LTO_GCC', without CONFIG_/],
    ['provides lower case', '[series s]\nprovides = lto_gcc', 2, /'lto_gcc' is not a Kconfig option name/],
    ['malformed line', '[series s]\njunk', 2, /expected 'key = value'/],
  ])('%s', (_, text, line, message, hint) => {
    const err = caught(() => parseCatalog(text, F));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: F, line });
    expect((err as Error).message).toMatch(message);
    if (hint) expect((err as ConfigError).hint).toMatch(hint);
  });

  it('redefining a built-in entry or series in a user catalog names both places', () => {
    const catalog = parseCatalog(DEMO, F);
    const entryErr = caught(() => parseCatalog(`[demo 6.1]\nkernel = *\nfile = a.patch sha256:${SUM}`, G, catalog));
    expect(entryErr).toMatchObject({ file: G, line: 1, message: `entry [demo 6.1] is already defined at ${F}:6` });
    const seriesErr = caught(() => parseCatalog('\n[series demo]', G, parseCatalog(DEMO, F)));
    expect(seriesErr).toMatchObject({ file: G, line: 2, message: `series 'demo' is already defined at ${F}:2` });
  });
});

describe('kernel ranges: release candidates belong to the line they lead up to', () => {
  it.each<[string, string, boolean]>([
    ['>=6.1.0 <6.2.0', '6.1.0', true],
    ['>=6.1.0 <6.2.0', '6.1.158', true],
    ['>=6.1.0 <6.2.0', '6.2.0', false],
    ['>=6.1.0 <6.2.0', '6.2.0-rc1', false], // plain semver with includePrerelease would say true
    ['>=6.1.0 <6.2.0', '6.1.0-rc7', false],
    ['>=6.1.0 <6.2.0', '6.0.19', false],
    ['>=6.13.0-rc1 <6.14.0', '6.13.0-rc3', true],
    ['>=6.13.0-rc1 <6.14.0', '6.13.0', true],
    ['>=6.13.0-rc1 <6.14.0', '6.13.5', true],
    ['>=6.13.0-rc1 <6.14.0', '6.14.0-rc1', false],
    ['>=6.13.0-0 <6.14.0', '6.13.0-rc1', true],
    ['~6.13', '6.13.0-rc2', true],
    ['~6.13', '6.13.9', true],
    ['~6.13', '6.14.0-rc1', false],
    ['6.1.x', '6.1.5', true],
    ['>=6.1.0 <6.2.0-rc3', '6.2.0-rc2', true], // an explicit prerelease bound is taken as written
    ['>=6.1.0 <6.2.0-rc3', '6.2.0-rc3', false],
    ['<=6.1.99', '6.1.99', true],
    ['>=6.1.0 <6.2.0 || >=6.5.0 <6.6.0', '6.5.2', true],
    ['>=6.1.0 <6.2.0 || >=6.5.0 <6.6.0', '6.6.0-rc1', false],
    ['*', '6.13.0-rc3', true],
  ])('%s contains %s: %s', (range, version, expected) => {
    expect(kernelRange(range).test(version)).toBe(expected);
  });
});

describe('matchEntry and overlaps', () => {
  const two = (r1: string, r2: string): Catalog => {
    const catalog = parseCatalog(`[series s]\n[s one]\nkernel = ${r1}\nfile = a.patch sha256:${SUM}\n`, F);
    return parseCatalog(`\n[s two]\nkernel = ${r2}\nfile = b.patch sha256:${SUM}\n`, G, catalog);
  };

  it.each<[string, string | undefined]>([
    ['6.1.0', '6.1'],
    ['6.1.158', '6.1'],
    ['6.2.0-rc2', undefined],
    ['6.13.0-rc1', '6.13'],
    ['6.13.2', '6.13'],
    ['6.12.58', undefined],
  ])('demo catalog: kernel %s -> %s', (version, id) => {
    expect(matchEntry(parseCatalog(DEMO, F).series.get('demo')!, version)?.id).toBe(id);
  });

  it('two entries matching one kernel: an error naming both entries and their file:line', () => {
    const catalog = two('>=6.1.0 <6.3.0', '>=6.2.0 <6.4.0');
    const series = catalog.series.get('s')!;
    expect(matchEntry(series, '6.1.5')?.id).toBe('one');
    expect(matchEntry(series, '6.3.1')?.id).toBe('two');
    const err = caught(() => matchEntry(series, '6.2.7'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({
      file: G,
      line: 2,
      message: `catalog entries [s one] (${F}:2) and [s two] (${G}:2) both match kernel 6.2.7`,
    });
    expect(findOverlaps(catalog).map(([a, b]) => [a.id, b.id])).toEqual([['one', 'two']]);
    expect(() => checkOverlaps(catalog)).toThrow(
      /\[s one\] \(\/cat\/a.ini:2\) and \[s two\] \(\/cat\/b.conf:2\) both match the same kernel versions/,
    );
  });

  it.each<[string, string, boolean]>([
    ['>=6.1.0 <6.2.0', '>=6.2.0 <6.3.0', false],
    ['>=6.1.0 <6.2.0', '~6.2', false], // ~6.2 starts at 6.2.0-0, which <6.2.0 excludes
    ['>=6.1.0 <6.2.0', '>=6.1.9', true],
    ['~6.1', '6.1.x', true],
    ['*', '>=6.1.0 <6.2.0', true],
  ])('static check: %s vs %s overlap: %s', (r1, r2, overlap) => {
    expect(findOverlaps(two(r1, r2)).length > 0).toBe(overlap);
  });

  it('a kernel version not in semver form is a VersionError', () => {
    const series = parseCatalog(DEMO, F).series.get('demo')!;
    expect(caught(() => matchEntry(series, '6.13_rc3'))).toBeInstanceOf(VersionError);
    expect(caught(() => matchEntry(series, '6.1'))).toBeInstanceOf(VersionError);
  });
});

describe('the built-in catalog', () => {
  it('holds the CachyOS gcc-lto series, with no overlaps', async () => {
    const catalog = await loadCatalog(resolveRoots({ root: await testdir({}), env: {} }));
    expect(catalog.files).toEqual([BUILTIN_CATALOG]);
    expect(BUILTIN_CATALOG).toBe(path.join(import.meta.dirname, '../patches/catalog.ini'));
    const gcc = catalog.series.get('gcc-lto')!;
    expect(gcc.provides).toEqual(['LTO_GCC', 'LTO_CP_CLONE']);
    expect(gcc.entries.map((e) => [e.id, e.range, e.files.length])).toEqual([
      ['6.1', '>=6.1.0 <6.2.0', 2],
      ['6.2', '>=6.2.0 <6.3.0', 2],
      ['6.3', '>=6.3.0 <6.4.0', 2],
      ['6.5', '>=6.5.0 <6.6.0', 2],
    ]);
    expect(gcc.entries[0]!.files[0]).toMatchObject({
      path: '6.1/misc/gcc-lto/0001-gcc-LTO-support-for-the-kernel.patch',
      sha256: '1aa6d83b8e251ebdf596b14e03c20936c71aeb01583a294b4bf05b3f1181838b',
    });
    expect(gcc.entries[3]!.files[1]).toMatchObject({
      path: '6.5/misc/gcc-lto/0002-gcc-lto-no-pie.patch',
      sha256: 'df19df237270a33171722feb439738ddb6eba00035ceda1f68bc5fb08f15a862',
    });
    expect(
      gcc.entries.every(
        (e) =>
          e.origin ===
          'https://raw.githubusercontent.com/CachyOS/kernel-patches/b3d684160f64763d46da0368d9a1e6f1280e8685/',
      ),
    ).toBe(true);
    expect(catalog.series.has('kopt-demo')).toBe(true);
    expect(findOverlaps(catalog)).toEqual([]);
    expect(matchEntry(gcc, '6.4.10')).toBeUndefined();
    expect(matchEntry(gcc, '6.12.58')).toBeUndefined();
    expect(matchEntry(gcc, '6.5.13')?.id).toBe('6.5');
  });
});

describe('loadCatalog: catalog.d', () => {
  const builtin = `[series demo]\n[demo 6.1]\nkernel = ~6.1\nfile = a.patch sha256:${SUM}\n`;
  const user = (id: string, range: string) => `[demo ${id}]\nkernel = ${range}\nfile = ${id}.patch sha256:${SUM}\n`;

  it('reads *.conf in C-locale order after the built-in one, skipping dotfiles and backups', async () => {
    const dir = await testdir({
      'builtin.ini': builtin,
      'etc/gentoo-kopt/catalog.d/b.conf': user('b', '~6.3'),
      'etc/gentoo-kopt/catalog.d/B.conf': user('B', '~6.2'),
      'etc/gentoo-kopt/catalog.d/a.conf': user('a', '~6.4'),
      'etc/gentoo-kopt/catalog.d/.hidden.conf': 'junk',
      'etc/gentoo-kopt/catalog.d/a.conf~': 'junk',
    });
    const catalog = await loadCatalog(resolveRoots({ root: dir, env: {} }), `${dir}/builtin.ini`);
    const d = `${dir}/etc/gentoo-kopt/catalog.d`;
    expect(catalog.files).toEqual([`${dir}/builtin.ini`, `${d}/B.conf`, `${d}/a.conf`, `${d}/b.conf`]);
    expect(catalog.series.get('demo')!.entries.map((e) => e.id)).toEqual(['6.1', 'B', 'a', 'b']);
  });

  it('a user entry overlapping a built-in one is reported at match time, naming both', async () => {
    const dir = await testdir({
      'builtin.ini': builtin,
      'etc/gentoo-kopt/catalog.d/mine.conf': user('mine', '>=6.1.50 <6.2.0'),
    });
    const catalog = await loadCatalog(resolveRoots({ root: dir, env: {} }), `${dir}/builtin.ini`);
    const series = catalog.series.get('demo')!;
    expect(matchEntry(series, '6.1.10')?.id).toBe('6.1');
    expect(caught(() => matchEntry(series, '6.1.60'))).toMatchObject({
      file: `${dir}/etc/gentoo-kopt/catalog.d/mine.conf`,
      line: 1,
      message: expect.stringContaining(`[demo 6.1] (${dir}/builtin.ini:2)`),
    });
  });

  it.each<[string, Record<string, string>, RegExp, string]>([
    [
      'a file not ending in .conf',
      { 'etc/gentoo-kopt/catalog.d/mine.ini': '' },
      /'mine.ini' in catalog.d does not end in .conf/,
      'etc/gentoo-kopt/catalog.d/mine.ini',
    ],
    [
      'catalog.d is a file',
      { 'etc/gentoo-kopt/catalog.d': '' },
      /catalog.d is not a directory/,
      'etc/gentoo-kopt/catalog.d',
    ],
    [
      'a directory named *.conf',
      { 'etc/gentoo-kopt/catalog.d/x.conf/': '' },
      /^is a directory, not a regular file$/,
      'etc/gentoo-kopt/catalog.d/x.conf',
    ],
    [
      'an error inside a user catalog',
      { 'etc/gentoo-kopt/catalog.d/x.conf': '[demo 6.1]\n' },
      /already defined/,
      'etc/gentoo-kopt/catalog.d/x.conf',
    ],
  ])('%s is an error naming it', async (_, tree, message, rel) => {
    const dir = await testdir({ 'builtin.ini': builtin, ...tree });
    const err = await loadCatalog(resolveRoots({ root: dir, env: {} }), `${dir}/builtin.ini`).catch((e: unknown) => e);
    expect(err).toMatchObject({ file: path.join(dir, rel) });
    expect(err instanceof ConfigError || err instanceof FsError).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('a missing built-in catalog is an FsError', async () => {
    const dir = await testdir({});
    const err = await loadCatalog(resolveRoots({ root: dir, env: {} }), `${dir}/nope.ini`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect(err).toMatchObject({ file: `${dir}/nope.ini` });
  });
});
