import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { availableVersions, readMd5CacheEntry, trivialSlot } from '../src/portage/repo-index.js';
import { parseCpv } from '../src/portage/atom.js';
import type { Repo } from '../src/portage/repos-conf.js';
import { ConfigError, VersionError } from '../src/errors.js';
import { testdir, type Tree } from './helpers/tree.js';

const DIST_KERNEL_EBUILD = 'EAPI=8\n\ninherit kernel-build\n\nSLOT="${PV}"\nKEYWORDS="~amd64"\n';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** An md5-cache entry as egencache writes it (KEY=value lines, `_md5_` the ebuild's md5). */
function cacheEntry(fields: Record<string, string>, ebuild?: string): string {
  const all = { ...fields, ...(ebuild !== undefined && { _md5_: md5(ebuild) }) };
  return Object.entries(all)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

async function repos(trees: Record<string, Tree>): Promise<{ dir: string; repos: Repo[] }> {
  const dir = await testdir(
    Object.assign(
      {},
      ...Object.entries(trees).map(([name, tree]) =>
        Object.fromEntries(Object.entries(tree).map(([rel, v]) => [`${name}/${rel}`, v])),
      ),
      { 'empty/': '' },
    ),
  );
  return { dir, repos: Object.keys(trees).map((name) => ({ name, location: `${dir}/${name}`, file: 'repos.conf' })) };
}

const summary = (pkgs: { cpv: { pf: string }; repo: string; slot?: string; subslot?: string }[]): string[] =>
  pkgs.map((p) => `${p.repo}:${p.cpv.pf}:${p.slot ?? '?'}${p.subslot ? `/${p.subslot}` : ''}`);

describe('availableVersions', () => {
  it('lists the ebuilds, sorted by version, with SLOT="${PV}" read without running anything', async () => {
    const k = 'sys-kernel/gentoo-kernel';
    const { repos: r } = await repos({
      gentoo: {
        [`${k}/gentoo-kernel-6.12.58.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/gentoo-kernel-6.12.9.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/gentoo-kernel-6.13_rc3.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/gentoo-kernel-6.12.58_p1-r1.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/Manifest`]: 'DIST x 1\n',
        [`${k}/metadata.xml`]: '<pkgmetadata/>\n',
        [`${k}/files/x.patch`]: '',
        'sys-kernel/gentoo-kernel-bin/gentoo-kernel-bin-6.12.58.ebuild': DIST_KERNEL_EBUILD,
      },
    });
    const { packages, problems } = await availableVersions(r, k);
    expect(summary(packages)).toEqual([
      'gentoo:gentoo-kernel-6.12.9:6.12.9',
      'gentoo:gentoo-kernel-6.12.58:6.12.58',
      'gentoo:gentoo-kernel-6.12.58_p1-r1:6.12.58_p1',
      'gentoo:gentoo-kernel-6.13_rc3:6.13_rc3',
    ]);
    expect(packages[1]).toMatchObject({
      cpv: { slot: '6.12.58' },
      file: expect.stringMatching(/gentoo-kernel-6\.12\.58\.ebuild$/),
    });
    expect(packages[1]?.metadata).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('takes SLOT and metadata from a current md5-cache entry, and ignores a stale one', async () => {
    const current = 'EAPI=8\nSLOT="${PV}"\n';
    const { repos: r } = await repos({
      gentoo: {
        'llvm-core/clang/clang-20.1.8.ebuild': current,
        'llvm-core/clang/clang-19.1.7.ebuild': 'EAPI=8\nSLOT="19/${PV%.*}"\n',
        'metadata/md5-cache/llvm-core/clang-20.1.8': cacheEntry(
          { EAPI: '8', SLOT: '20/20.1', KEYWORDS: '~amd64' },
          current,
        ),
        'metadata/md5-cache/llvm-core/clang-19.1.7': cacheEntry({ EAPI: '8', SLOT: '19/19.1' }, 'an older ebuild'),
      },
    });
    const { packages, problems } = await availableVersions(r, 'llvm-core/clang');
    expect(summary(packages)).toEqual(['gentoo:clang-19.1.7:?', 'gentoo:clang-20.1.8:20/20.1']);
    expect(packages[1]?.cpv).toMatchObject({ slot: '20', subslot: '20.1' });
    expect(packages[1]?.metadata?.get('KEYWORDS')).toBe('~amd64');
    expect(packages[0]?.metadata).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('reads a repository that has only the md5-cache', async () => {
    const { dir, repos: r } = await repos({
      mirror: {
        'metadata/md5-cache/sys-kernel/vanilla-kernel-6.18.2': cacheEntry({ SLOT: '6.18.2' }),
        'metadata/md5-cache/sys-kernel/vanilla-kernel-6.17.1': cacheEntry({ SLOT: '6.17.1' }),
        'metadata/md5-cache/sys-kernel/vanilla-kernel-bin-6.18.2': cacheEntry({ SLOT: '6.18.2' }),
      },
    });
    const { packages, problems } = await availableVersions(r, 'sys-kernel/vanilla-kernel');
    expect(summary(packages)).toEqual(['mirror:vanilla-kernel-6.17.1:6.17.1', 'mirror:vanilla-kernel-6.18.2:6.18.2']);
    expect(packages[0]?.file).toBe(`${dir}/mirror/metadata/md5-cache/sys-kernel/vanilla-kernel-6.17.1`);
    expect(problems).toEqual([]);
  });

  it("merges repositories; the same version keeps the repositories' order", async () => {
    const k = 'sys-kernel/vanilla-kernel';
    const { repos: r } = await repos({
      gentoo: {
        [`${k}/vanilla-kernel-6.18.2.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/vanilla-kernel-6.17.1.ebuild`]: DIST_KERNEL_EBUILD,
      },
      overlay: {
        [`${k}/vanilla-kernel-6.18.2.ebuild`]: 'EAPI=8\nSLOT="0"\n',
        [`${k}/vanilla-kernel-6.19.ebuild`]: 'EAPI=8\n',
      },
    });
    const { packages } = await availableVersions([...r, { name: 'gone', location: '/nonexistent', file: 'x' }], k);
    expect(summary(packages)).toEqual([
      'gentoo:vanilla-kernel-6.17.1:6.17.1',
      'gentoo:vanilla-kernel-6.18.2:6.18.2',
      'overlay:vanilla-kernel-6.18.2:0',
      'overlay:vanilla-kernel-6.19:?',
    ]);
  });

  it('reports names that are not valid or belong to another package, and a broken cache entry', async () => {
    const k = 'sys-kernel/gentoo-kernel';
    const { dir, repos: r } = await repos({
      gentoo: {
        [`${k}/gentoo-kernel-6.12.58.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/gentoo-kernel-latest.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/vanilla-kernel-6.1.1.ebuild`]: DIST_KERNEL_EBUILD,
        [`${k}/gentoo-kernel-6.1.1.ebuild`]: DIST_KERNEL_EBUILD,
        'metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.1': 'EAPI=8\nthis line is broken\n',
      },
    });
    const { packages, problems } = await availableVersions(r, k);
    expect(summary(packages)).toEqual(['gentoo:gentoo-kernel-6.1.1:6.1.1', 'gentoo:gentoo-kernel-6.12.58:6.12.58']);
    expect(problems.map((p) => ({ ...p, file: path.relative(dir, p.file) }))).toEqual([
      {
        file: 'gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.1',
        line: 2,
        message: expect.stringMatching(/malformed/),
        kind: 'corrupt',
      },
      {
        file: `gentoo/${k}/gentoo-kernel-latest.ebuild`,
        message: expect.stringMatching(/not a valid ebuild name/),
        kind: 'corrupt',
      },
      {
        file: `gentoo/${k}/vanilla-kernel-6.1.1.ebuild`,
        message: "ebuild of 'vanilla-kernel' in the directory of 'gentoo-kernel'",
        kind: 'corrupt',
      },
    ]);
  });

  it('a file where the package directory should be is a problem', async () => {
    const { repos: r } = await repos({ gentoo: { 'sys-kernel/gentoo-kernel': 'oops\n' } });
    const { packages, problems } = await availableVersions(r, 'sys-kernel/gentoo-kernel');
    expect(packages).toEqual([]);
    expect(problems).toMatchObject([{ message: 'not a directory', kind: 'unreadable' }]);
  });

  it('rejects a package name that is not category/name', async () => {
    for (const bad of [
      'gentoo-kernel',
      'sys-kernel/gentoo-kernel-6.1',
      '>=sys-kernel/gentoo-kernel-6.1',
      'sys-kernel/gentoo-kernel:0',
    ]) {
      await expect(availableVersions([], bad)).rejects.toThrow(VersionError);
    }
    await expect(availableVersions([], 'sys-kernel/gentoo-kernel')).resolves.toEqual({ packages: [], problems: [] });
  });
});

describe('trivialSlot', () => {
  const cpv = parseCpv('sys-kernel/gentoo-kernel-6.12.58_p1-r2');
  it.each<[string, string | undefined]>([
    ['SLOT="${PV}"', '6.12.58_p1'],
    ['SLOT=${PV}', '6.12.58_p1'],
    ['SLOT="$PV"', '6.12.58_p1'],
    ['SLOT="0"', '0'],
    ['SLOT=0', '0'],
    ["SLOT='0/1'", '0/1'],
    ['SLOT="0/${PVR}" # sub-slot per revision', '0/6.12.58_p1-r2'],
    ['SLOT="${PN}"', 'gentoo-kernel'],
    ['SLOT="$(ver_cut 1-2)"', undefined],
    ['SLOT="${PV%.*}"', undefined],
    ['SLOT="${UNKNOWN}"', undefined],
    ['SLOT="a\\b"', undefined],
    ['if use x; then\n  SLOT="1"\nelse\n  SLOT="2"\nfi', undefined],
    ['SLOT="1"\nSLOT="2"', undefined],
    ['SLOT="1"\nfoo() {\n  SLOT="2"\n}', undefined],
    ['EAPI=8', undefined],
    ['MY_SLOT="1"', undefined],
  ])('%j -> %s', (text, slot) => {
    expect(trivialSlot(`EAPI=8\n${text}\n`, cpv)).toBe(slot);
  });
});

describe('readMd5CacheEntry', () => {
  it('reads KEY=value lines, "=" allowed in values', async () => {
    const dir = await testdir({ e: 'EAPI=8\nSRC_URI=https://x/?a=b\n\nSLOT=0\n' });
    expect(await readMd5CacheEntry(`${dir}/e`)).toEqual(
      new Map([
        ['EAPI', '8'],
        ['SRC_URI', 'https://x/?a=b'],
        ['SLOT', '0'],
      ]),
    );
  });

  it.each([
    ['no equals sign\n', 1],
    ['A=1\n=empty key\n', 2],
  ])('%j is a ConfigError at line %i', async (text, line) => {
    const dir = await testdir({ e: text });
    await expect(readMd5CacheEntry(`${dir}/e`)).rejects.toThrow(ConfigError);
    await expect(readMd5CacheEntry(`${dir}/e`)).rejects.toMatchObject({ file: `${dir}/e`, line });
  });
});
