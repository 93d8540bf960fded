// verify against a dist-kernel's distfiles, as the ebuild prepares them: the base tarball, then the
// incremental patch (patch-X.Y.Z.xz), then the Gentoo patchset (genpatches base + extras in one file
// name order, or a linux-gentoo-patches directory), then the series. Distfiles come from SRC_URI in the
// repository's metadata cache and DISTDIR (environment, make.conf).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { classifyDistfiles, findDistfiles, srcUriFiles } from '../src/verify/distfiles.js';
import { verifySeries, verifyTarget, verifyTargets, type SeriesPatch } from '../src/verify/verify.js';
import { gentooRoot } from './helpers/gentoo.js';
import { kernelTarball, numbered, tarOf, xz } from './helpers/kernel-tarball.js';

const diff = (file: string, a: string, b: string): string =>
  createTwoFilesPatch(`a/${file}`, `b/${file}`, a, b, '', '', { context: 3 });
const series = (text: string): SeriesPatch[] => [{ name: '0001-kopt.patch', content: Buffer.from(text) }];

describe('SRC_URI', () => {
  const GENTOO_KERNEL =
    'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.tar.xz https://cdn.kernel.org/pub/linux/kernel/v6.x/patch-6.1.50.xz ' +
    'https://distfiles.gentoo.org/pub/proj/dist-kernel/patchsets/6.1/linux-gentoo-patches-6.1.50.tar.xz ' +
    'https://github.com/projg2/gentoo-kernel-config/archive/g17.tar.gz -> gentoo-kernel-config-g17.tar.gz ' +
    'verify-sig? ( https://cdn.kernel.org/pub/linux/kernel/v6.x/sha256sums.asc -> linux-6.x-sha256sums-20260511.asc ) ' +
    'amd64? ( https://src.fedoraproject.org/rpms/kernel/raw/abc/f/kernel-x86_64-fedora.config -> kernel-x86_64-fedora.config.6.1.1 )';

  it('lists the file names, renames applied, USE groups taken whole', () => {
    expect(srcUriFiles(GENTOO_KERNEL)).toEqual([
      'linux-6.1.tar.xz',
      'patch-6.1.50.xz',
      'linux-gentoo-patches-6.1.50.tar.xz',
      'gentoo-kernel-config-g17.tar.gz',
      'linux-6.x-sha256sums-20260511.asc',
      'kernel-x86_64-fedora.config.6.1.1',
    ]);
  });

  it.each<[string, string[], object]>([
    [
      'gentoo-kernel (patchset directory)',
      srcUriFiles(GENTOO_KERNEL),
      {
        base: 'linux-6.1.tar.xz',
        incremental: 'patch-6.1.50.xz',
        patchsets: [{ file: 'linux-gentoo-patches-6.1.50.tar.xz', kind: 'patch-dir' }],
      },
    ],
    [
      'gentoo-kernel (genpatches)',
      [
        'linux-6.6.tar.xz',
        'genpatches-6.6-30.extras.tar.xz',
        'genpatches-6.6-30.base.tar.xz',
        'kernel-x86_64-fedora.config.6.6.1',
      ],
      {
        base: 'linux-6.6.tar.xz',
        patchsets: [
          { file: 'genpatches-6.6-30.base.tar.xz', kind: 'genpatches' },
          { file: 'genpatches-6.6-30.extras.tar.xz', kind: 'genpatches' },
        ],
      },
    ],
    [
      'vanilla-kernel',
      ['linux-6.12.tar.xz', 'patch-6.12.58.xz'],
      { base: 'linux-6.12.tar.xz', incremental: 'patch-6.12.58.xz', patchsets: [] },
    ],
    ['an rc kernel', ['linux-6.13-rc3.tar.gz'], { base: 'linux-6.13-rc3.tar.gz', patchsets: [] }],
    [
      'experimental genpatches are skipped',
      ['linux-6.1.tar.xz', 'genpatches-6.1-9.experimental.tar.xz'],
      { base: 'linux-6.1.tar.xz', patchsets: [] },
    ],
  ])('%s', (_, files, expected) => {
    expect(classifyDistfiles(files)).toEqual(expected);
  });
});

const BASE = { Makefile: numbered(40), 'init/Kconfig': numbered(30, 100) };
/** The Makefile after the incremental patch and after the patchset: what the series is written against. */
const AFTER_INCREMENTAL = BASE.Makefile.replace('line 20\n', 'line 20 (stable fix)\n');
const AFTER_PATCHSET = AFTER_INCREMENTAL.replace('line 21\n', 'line 21 (gentoo)\n');
const SERIES = series(diff('Makefile', AFTER_PATCHSET, AFTER_PATCHSET.replace('line 22\n', 'line 22 (kopt)\n')));

async function kernelRoot(
  distfiles: Record<string, Buffer>,
  srcUri: string,
  opts: { distdirInMakeConf?: boolean; cache?: boolean } = {},
) {
  const cpf = 'sys-kernel/gentoo-kernel-6.1.50';
  const { dir, roots } = await gentooRoot({
    installed: [cpf],
    available: [cpf],
    extra: {
      ...(opts.cache === false
        ? {}
        : {
            'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.50': `EAPI=8\nSLOT=6.1.50\nSRC_URI=${srcUri}\n`,
          }),
      ...(opts.distdirInMakeConf === false
        ? {}
        : { 'etc/portage/make.conf': 'DISTDIR="${PORTAGE_CONFIGROOT}var/cache/kernel-distfiles"\n' }),
    },
  });
  const distdir = path.join(
    dir,
    opts.distdirInMakeConf === false ? 'var/cache/distfiles' : 'var/cache/kernel-distfiles',
  );
  const { mkdir } = await import('node:fs/promises');
  await mkdir(distdir, { recursive: true });
  await kernelTarball(distdir, BASE);
  for (const [name, data] of Object.entries(distfiles)) await writeFile(path.join(distdir, name), data);
  return { dir, roots, distdir, cpf };
}

const incremental = xz(
  Buffer.from(
    `diff --git a/Makefile b/Makefile\nindex 1..2 100644\n${diff('Makefile', BASE.Makefile, AFTER_INCREMENTAL).split('\n').slice(1).join('\n')}` +
      diff('drivers/gone.c', 'x\n', 'y\n') /* a file the series does not touch: read, checked, not kept */,
  ),
);
const patchDir = async (files: Record<string, string>) =>
  xz(
    await tarOf([
      { name: 'linux-gentoo-patches-6.1.50/', type: 'directory' },
      ...Object.entries(files).map(([n, c]) => ({ name: `linux-gentoo-patches-6.1.50/${n}`, content: c })),
    ]),
  );
const URI = (...names: string[]) => names.map((n) => `https://example.org/${n}`).join(' ');

describe('the ebuild order: base, incremental patch, patchset, series', () => {
  it('gentoo-kernel: patch-X.Y.Z.xz, then the linux-gentoo-patches directory (C order), then the series', async () => {
    const gentoo = {
      '1510_gentoo-makefile.patch': diff('Makefile', AFTER_INCREMENTAL, AFTER_PATCHSET),
      '1000_other.patch': diff(
        'init/Kconfig',
        BASE['init/Kconfig'],
        BASE['init/Kconfig'].replace('line 105\n', 'line 105 (g)\n'),
      ),
      'README.txt': 'not a patch: not applied\n',
    };
    const { roots, cpf } = await kernelRoot(
      { 'patch-6.1.50.xz': incremental, 'linux-gentoo-patches-6.1.50.tar.xz': await patchDir(gentoo) },
      URI(
        'linux-6.1.tar.xz',
        'patch-6.1.50.xz',
        'linux-gentoo-patches-6.1.50.tar.xz',
        'kernel-x86_64-fedora.config.6.1.1',
      ),
    );
    const v = await verifyTarget(roots, cpf, SERIES, { threads: false });
    expect(v).toMatchObject({ status: 'applies' });
    expect(v.before.map((b) => [b.name, b.applied, b.files])).toEqual([
      ['patch-6.1.50', true, ['Makefile']],
      ['linux-gentoo-patches-6.1.50.tar.xz: 1510_gentoo-makefile.patch', true, ['Makefile']],
    ]);
    expect(v.against).toMatchObject({
      kind: 'distfiles',
      base: expect.stringMatching(/linux-6.1.tar.xz$/),
      incremental: expect.stringMatching(/patch-6.1.50.xz$/),
    });
    expect(v.stats.kept).toBe(1);

    // The same series against the bare tarball fails: the prepatches matter.
    const bare = await verifySeries({ kind: 'tarball', tarball: v.against!.base }, SERIES, { threads: false });
    expect(bare.status).toBe('fails');
  });

  it('genpatches: the *.patch files of base and extras apply in one file-name order', async () => {
    const s1 = AFTER_INCREMENTAL; // 1000: the stable update
    const s2 = s1.replace('line 21\n', 'line 21 (1500)\n');
    const s3 = s2.replace('line 21 (1500)\n', 'line 21 (gentoo)\n');
    const base = xz(
      await tarOf([
        { name: '0000_README', content: 'index\n' },
        { name: '1000_linux-6.1.50.patch', content: diff('Makefile', BASE.Makefile, s1) },
        { name: '2000_after-extras.patch', content: diff('Makefile', s2, s3) },
      ]),
    );
    const extras = xz(await tarOf([{ name: '1500_between.patch', content: diff('Makefile', s1, s2) }]));
    const { roots, cpf } = await kernelRoot(
      { 'genpatches-6.1-55.base.tar.xz': base, 'genpatches-6.1-55.extras.tar.xz': extras },
      URI('linux-6.1.tar.xz', 'genpatches-6.1-55.base.tar.xz', 'genpatches-6.1-55.extras.tar.xz'),
    );
    const v = await verifyTarget(roots, cpf, SERIES, { threads: false });
    expect(v.before.map((b) => [b.name.replace(/^.*: /, ''), b.applied])).toEqual([
      ['1000_linux-6.1.50.patch', true],
      ['1500_between.patch', true],
      ['2000_after-extras.patch', true],
    ]);
    expect(v.status).toBe('applies');
  });

  it('an incremental patch that creates the file the series changes', async () => {
    const created = 'obj-y += kopt.o\n';
    const inc = xz(
      Buffer.from(diff('kernel/kopt/Makefile', '', created).replace('--- a/kernel/kopt/Makefile', '--- /dev/null')),
    );
    const { roots, cpf } = await kernelRoot({ 'patch-6.1.50.xz': inc }, URI('linux-6.1.tar.xz', 'patch-6.1.50.xz'));
    const v = await verifyTarget(
      roots,
      cpf,
      series(diff('kernel/kopt/Makefile', created, 'obj-y += kopt.o extra.o\n')),
      { threads: false },
    );
    expect(v).toMatchObject({ status: 'applies' });
  });
});

describe('not verified, never "applies"', () => {
  it.each<[string, { cache?: boolean; missing?: string }, RegExp, RegExp]>([
    [
      'the tarball is not downloaded',
      { missing: 'linux-6.1.tar.xz' },
      /distfiles not downloaded: linux-6.1.tar.xz/,
      /emerge --fetchonly =sys-kernel\/gentoo-kernel-6.1.50/,
    ],
    [
      'the incremental patch is not downloaded',
      { missing: 'patch-6.1.50.xz' },
      /distfiles not downloaded: patch-6.1.50.xz/,
      /--fetchonly/,
    ],
    [
      'no metadata cache entry',
      { cache: false },
      /no current metadata cache entry for sys-kernel\/gentoo-kernel-6.1.50/,
      /emerge --regen/,
    ],
  ])('%s', async (_, opts, reason, hint) => {
    const { roots, cpf, distdir } = await kernelRoot(
      { 'patch-6.1.50.xz': incremental },
      URI('linux-6.1.tar.xz', 'patch-6.1.50.xz'),
      { cache: opts.cache },
    );
    if (opts.missing) await (await import('node:fs/promises')).rm(path.join(distdir, opts.missing));
    const v = await verifyTarget(roots, cpf, SERIES);
    expect(v.status).toBe('not-verified');
    expect(v.reason).toMatch(reason);
    expect(v.hint).toMatch(hint);
    expect(v.patches.map((p) => p.applied)).toEqual([false]);
  });

  it('a version the repositories do not have', async () => {
    const { roots } = await kernelRoot({}, URI('linux-6.1.tar.xz'));
    expect(await verifyTarget(roots, 'sys-kernel/gentoo-kernel-9.9.9', SERIES)).toMatchObject({
      status: 'not-verified',
      reason: expect.stringMatching(/in none of the repositories/),
    });
  });
});

describe('DISTDIR', () => {
  it('the environment wins over make.conf, which wins over the default', async () => {
    const { roots, cpf, distdir, dir } = await kernelRoot({}, URI('linux-6.1.tar.xz'));
    expect(await findDistfiles(roots, {}, cpf)).toMatchObject({ found: true, distdir });
    expect(await findDistfiles(roots, { DISTDIR: '/nowhere' }, cpf)).toMatchObject({
      found: false,
      distdir: '/nowhere',
    });
    const dflt = await kernelRoot({}, URI('linux-6.1.tar.xz'), { distdirInMakeConf: false });
    expect(await findDistfiles(dflt.roots, {}, dflt.cpf)).toMatchObject({
      found: true,
      distdir: path.join(dflt.dir, 'var/cache/distfiles'),
    });
    expect(dir).not.toBe(dflt.dir);
  });
});

describe('several versions at once (sync-patches)', () => {
  it('versions sharing linux-6.1.tar.xz share one pass; each gets its own prepatches and verdict, in order; a damaged distfile spoils only its version', async () => {
    const { roots, distdir, dir } = await kernelRoot(
      { 'patch-6.1.50.xz': incremental },
      URI('linux-6.1.tar.xz', 'patch-6.1.50.xz'),
    );
    // 6.1.51: another stable patch, which does not make the series apply
    const other = xz(
      Buffer.from(diff('Makefile', BASE.Makefile, BASE.Makefile.replace('line 5\n', 'line 5 (other)\n'))),
    );
    await writeFile(path.join(distdir, 'patch-6.1.51.xz'), other);
    await writeFile(path.join(distdir, 'patch-6.1.52.xz'), other.subarray(0, 40)); // damaged: only 6.1.52 suffers
    const { writeTree } = await import('./helpers/tree.js');
    await writeTree(dir, {
      'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.1.51.ebuild': 'EAPI=8\nSLOT="${PV}"\n',
      'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.51': `EAPI=8\nSLOT=6.1.51\nSRC_URI=${URI('linux-6.1.tar.xz', 'patch-6.1.51.xz')}\n`,
      'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.1.52.ebuild': 'EAPI=8\nSLOT="${PV}"\n',
      'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.52': `EAPI=8\nSLOT=6.1.52\nSRC_URI=${URI('linux-6.1.tar.xz', 'patch-6.1.52.xz')}\n`,
    });
    const gentooSeries = series(
      diff('Makefile', AFTER_INCREMENTAL, AFTER_INCREMENTAL.replace('line 21\n', 'line 21 (kopt)\n')),
    );
    const verdicts = await verifyTargets(
      roots,
      ['6.1.50', '6.1.52', '6.1.51'].map((v) => ({ cpv: `sys-kernel/gentoo-kernel-${v}`, files: gentooSeries })),
      { threads: false },
    );
    expect(verdicts.map((v) => v.status)).toEqual(['applies', 'not-verified', 'fails']);
    expect(verdicts[0]!.stats.bytes).toBe(verdicts[2]!.stats.bytes);
    expect(verdicts[1]!.reason).toMatch(/patch-6.1.52.xz: cannot decompress patch-6.1.52.xz/);
    expect(verdicts[1]!.hint).toMatch(/download it again/);
  });
});
