// packaging/gentoo, the overlay users add with eselect repository, checked without Portage (CI has none):
// its layout, the ebuilds' metadata as bash reads them, and src_install of both ebuilds run by
// test/helpers/ebuild-standin.bash on the two distfiles packaging/make-distfiles.sh makes from this tree.
// Portage itself runs the same ebuilds on a maintainer's machine (packaging/README.md).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, mkdir, readFile, readdir, readlink, rm, open } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xmlElements } from './helpers/xml.js';
import { CHECKS } from '../src/doctor/checks/registry.js';
import { manPage } from '../src/docs/man.js';
import { bashCompletion } from '../src/docs/bash-completion.js';
import { zshCompletion } from '../src/docs/zsh-completion.js';

const TOP = path.resolve(import.meta.dirname, '..');
const OVERLAY = path.join(TOP, 'packaging/gentoo');
const PKGDIR = path.join(OVERLAY, 'app-portage/gentoo-kopt');
const STANDIN = path.join(TOP, 'test/helpers/ebuild-standin.bash');
const MAKE_DISTFILES = path.join(TOP, 'packaging/make-distfiles.sh');
const pkg = JSON.parse(readFileSync(path.join(TOP, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(TOP, 'package-lock.json'), 'utf8'));
const P = `${pkg.name}-${pkg.version}`;
const RELEASE = path.join(PKGDIR, `${P}.ebuild`);
const LIVE = path.join(PKGDIR, `${pkg.name}-9999.ebuild`);
const EBUILDS = readdirSync(PKGDIR).filter((f) => f.endsWith('.ebuild'));
const DISTFILES = [`${P}.tgz`, `${P}-node_modules.tar.xz`];
const LIBDIR = `usr/lib64/node_modules/${pkg.name}`;

/** SPDX identifiers (package.json, package-lock.json) -> names in ::gentoo's licenses/. */
const GENTOO_LICENSE: Record<string, string> = {
  'GPL-2.0-only': 'GPL-2',
  MIT: 'MIT',
  ISC: 'ISC',
  'Apache-2.0': 'Apache-2.0',
  'BSD-2-Clause': 'BSD-2',
  'BSD-3-Clause': 'BSD',
  '0BSD': '0BSD',
};
/** Eclasses the ebuilds may inherit: ::gentoo's (layout.conf masters), none of the overlay's own. */
const GENTOO_ECLASSES = ['git-r3', 'shell-completion'];
/** The production dependencies package-lock.json pins: what the node_modules distfile must hold. */
const PROD_DEPS = Object.entries(lock.packages as Record<string, { dev?: boolean; license?: string }>).filter(
  ([key, entry]) => key.startsWith('node_modules/') && !entry.dev,
);

const run = (cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env } });

const META_KEYS = ['EAPI', 'KEYWORDS', 'SRC_URI', 'S', 'LICENSE', 'RDEPEND', 'BDEPEND', 'INHERIT'] as const;
type Meta = Record<(typeof META_KEYS)[number], string>;

/** An ebuild's variables after bash sourced it (the stand-in's `meta` mode). */
function meta(ebuild: string): Meta {
  const r = run('bash', [STANDIN, 'meta', ebuild]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = new Map(r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return Object.fromEntries(META_KEYS.map((k) => [k, lines.get(k) ?? ''])) as Meta;
}
const words = (s: string) => s.split(/\s+/).filter(Boolean);

/** Every path under dir (relative, '/'-separated), each with its type and mode, and a symlink's target. */
async function listing(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isSymbolicLink()) out.push(`${r} -> ${await readlink(path.join(dir, r))}`);
    else if (e.isDirectory()) out.push(`${r}/`, ...(await listing(dir, r)));
    else out.push(r);
  }
  return out;
}

describe('the overlay layout', () => {
  it('is the repository gentoo-kopt whose eclasses come from gentoo, with thin Manifests', async () => {
    expect((await readFile(path.join(OVERLAY, 'profiles/repo_name'), 'utf8')).split('\n')[0]).toBe('gentoo-kopt');
    const layout = Object.fromEntries(
      (await readFile(path.join(OVERLAY, 'metadata/layout.conf'), 'utf8'))
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => l.split('=').map((s) => s.trim())),
    );
    expect(layout.masters).toBe('gentoo');
    expect(layout['thin-manifests']).toBe('true');
  });

  it('lists every category it has in profiles/categories', async () => {
    const listed = words(await readFile(path.join(OVERLAY, 'profiles/categories'), 'utf8'));
    const present = (await readdir(OVERLAY, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !['metadata', 'profiles', 'eclass', 'licenses'].includes(d.name))
      .map((d) => d.name);
    expect(present).toContain('app-portage');
    for (const c of present) expect(listed, `profiles/categories lacks ${c}`).toContain(c);
  });

  it('has a well-formed metadata.xml with only elements metadata.dtd allows in pkgmetadata', async () => {
    const xml = await readFile(path.join(PKGDIR, 'metadata.xml'), 'utf8');
    expect(xml).toContain('<!DOCTYPE pkgmetadata SYSTEM "https://www.gentoo.org/dtd/metadata.dtd">');
    const elements = xmlElements(xml);
    expect(elements[0]).toMatchObject({ name: 'pkgmetadata', parent: undefined });
    const top = elements.filter((e) => e.parent === 'pkgmetadata').map((e) => e.name);
    const allowed = [
      'maintainer',
      'natural-name',
      'longdescription',
      'slots',
      'use',
      'upstream',
      'stabilize-allarches',
    ];
    for (const name of top) expect(allowed).toContain(name);
    expect(elements.find((e) => e.name === 'longdescription')?.text).toMatch(/gentoo-kopt hooks install/);
    expect(() => xmlElements(xml.replace('</longdescription>', ''))).toThrow(/closes <longdescription>/);
  });

  it('has no Manifest, or one with DIST lines only, for files the ebuilds fetch', async () => {
    const manifest = path.join(PKGDIR, 'Manifest');
    if (!existsSync(manifest)) return;
    const fetched = EBUILDS.flatMap((e) => words(meta(path.join(PKGDIR, e)).SRC_URI).map((u) => path.basename(u)));
    for (const line of (await readFile(manifest, 'utf8')).split('\n').filter(Boolean)) {
      const [kind, file] = line.split(' ');
      expect(kind).toBe('DIST');
      expect(fetched).toContain(file);
    }
  });
});

describe('the ebuilds, as bash reads them', () => {
  it.each(EBUILDS)('%s parses (bash -n)', (ebuild) => {
    const r = run('bash', ['-n', path.join(PKGDIR, ebuild)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("has a release ebuild for package.json's version and a live one, both EAPI 8", () => {
    expect(EBUILDS.sort()).toEqual([`${P}.ebuild`, `${pkg.name}-9999.ebuild`]);
    expect(meta(RELEASE).EAPI).toBe('8');
    expect(meta(LIVE).EAPI).toBe('8');
  });

  it('keywords the release for testing only, and the live ebuild not at all', () => {
    const keywords = words(meta(RELEASE).KEYWORDS);
    expect(keywords).toContain('~amd64');
    for (const k of keywords) expect(k).toMatch(/^~[a-z0-9-]+$/);
    expect(meta(LIVE).KEYWORDS).toBe('');
  });

  it('fetches exactly the two files make-distfiles.sh names for this version, unpacked into package/', () => {
    const m = meta(RELEASE);
    expect(words(m.SRC_URI).map((u) => path.basename(u))).toEqual(DISTFILES);
    expect(words(m.SRC_URI)[0]).toBe(`https://registry.npmjs.org/${pkg.name}/-/${P}.tgz`);
    expect(m.S).toBe('/nonexistent-workdir/package');
    expect(meta(LIVE).SRC_URI).toBe('');
  });

  it("inherits only gentoo's eclasses", () => {
    for (const e of EBUILDS)
      for (const ec of words(meta(path.join(PKGDIR, e)).INHERIT)) expect(GENTOO_ECLASSES).toContain(ec);
  });

  it("names gentoo-kopt's license and each vendored dependency's (package-lock.json) in LICENSE", () => {
    const needed = new Set([GENTOO_LICENSE[pkg.license] ?? `no Gentoo name for ${pkg.license}`]);
    for (const [key, entry] of PROD_DEPS) {
      const gentoo = GENTOO_LICENSE[entry.license ?? ''];
      expect(gentoo, `${key}: license ${entry.license} has no Gentoo name in this test's table`).toBeDefined();
      needed.add(gentoo ?? '');
    }
    for (const e of EBUILDS) expect(words(meta(path.join(PKGDIR, e)).LICENSE).sort()).toEqual([...needed].sort());
  });

  it('depends on the node engines.node asks for and on the tools the program runs', () => {
    const major = /^>=(\d+)$/.exec(pkg.engines.node)?.[1];
    for (const e of EBUILDS) {
      const rdepend = words(meta(path.join(PKGDIR, e)).RDEPEND);
      expect(rdepend).toEqual(
        expect.arrayContaining([
          `>=net-libs/nodejs-${major}`,
          'app-arch/xz-utils',
          'app-arch/bzip2',
          'sys-devel/patch',
        ]),
      );
    }
    expect(words(meta(LIVE).BDEPEND)).toContain(`>=net-libs/nodejs-${major}[npm]`);
  });
});

describe('the scripts', () => {
  it('make-distfiles.sh and the ebuild stand-in pass shellcheck (npm run lint checks only the hook)', () => {
    const r = run('shellcheck', [MAKE_DISTFILES, STANDIN]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('src_install on the distfiles make-distfiles.sh makes from this tree', () => {
  let tmp: string;
  let workdir: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kopt-packaging-'));
    const r = run('bash', [MAKE_DISTFILES, path.join(tmp, 'distfiles')], {
      env: { npm_config_prefer_offline: 'true' },
    });
    expect(r.status, r.stderr).toBe(0);
    workdir = path.join(tmp, 'work');
    await mkdir(workdir);
    for (const f of DISTFILES)
      expect(run('tar', ['-xf', path.join(tmp, 'distfiles', f), '-C', workdir]).status).toBe(0);
  }, 300_000);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** src_install of `ebuild` on a copy of the unpacked distfiles (changed by `edit`) into a new image. */
  async function install(ebuild: string, edit?: (pkgdir: string) => Promise<void>) {
    const base = await mkdtemp(path.join(tmp, 'run-'));
    await cp(workdir, path.join(base, 'work'), { recursive: true, verbatimSymlinks: true });
    await edit?.(path.join(base, 'work/package'));
    const r = run('bash', [STANDIN, 'install', ebuild, path.join(base, 'work'), path.join(base, 'image')]);
    return { ...r, image: path.join(base, 'image') };
  }

  it('made exactly the files SRC_URI names: the registry tarball and node_modules without .bin or binaries', async () => {
    expect((await readdir(path.join(tmp, 'distfiles'))).sort()).toEqual([...DISTFILES].sort());
    const modules = path.join(workdir, 'package/node_modules');
    for (const [key] of PROD_DEPS)
      expect(existsSync(path.join(workdir, 'package', key, 'package.json')), key).toBe(true);
    const files = (await listing(modules)).filter((f) => !f.endsWith('/'));
    expect(files.filter((f) => f.includes(' -> ') || f.startsWith('.bin/') || /(^|\/)prebuilds\//.test(f))).toEqual([]);
    const binaries: string[] = [];
    for (const f of files) {
      const fd = await open(path.join(modules, f));
      const { buffer } = await fd.read(Buffer.alloc(4), 0, 4, 0);
      await fd.close();
      const magic = buffer.toString('hex');
      if (magic === '7f454c46' || magic.startsWith('4d5a') || ['cffaedfe', 'feedface', 'cafebabe'].includes(magic))
        binaries.push(f);
    }
    expect(binaries).toEqual([]);
  });

  it('installs the program with its hook, catalog and node_modules, /usr/bin/gentoo-kopt and the example config', async () => {
    const r = await install(RELEASE);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const image = await listing(r.image);
    const inLibdir = (f: string) => f.startsWith(`${LIBDIR}/`) && f !== `${LIBDIR}/`;
    expect(image.filter((f) => !inLibdir(f))).toEqual([
      'usr/',
      'usr/bin/',
      `usr/bin/gentoo-kopt -> ../lib64/node_modules/${pkg.name}/dist/bin.js`,
      'usr/lib64/',
      'usr/lib64/node_modules/',
      `${LIBDIR}/`,
      'usr/share/',
      'usr/share/bash-completion/',
      'usr/share/bash-completion/completions/',
      'usr/share/bash-completion/completions/gentoo-kopt',
      'usr/share/doc/',
      `usr/share/doc/${P}/`,
      `usr/share/doc/${P}/README.md`,
      `usr/share/doc/${P}/kopt.conf`,
      'usr/share/man/',
      'usr/share/man/man1/',
      'usr/share/man/man1/gentoo-kopt.1',
      'usr/share/zsh/',
      'usr/share/zsh/site-functions/',
      'usr/share/zsh/site-functions/_gentoo-kopt',
    ]);
    expect(image.filter((f) => /^[^/]+\/?$/.test(f.slice(LIBDIR.length + 1)) && inLibdir(f))).toEqual(
      ['dist/', 'hooks/', 'node_modules/', 'package.json', 'patches/'].map((f) => `${LIBDIR}/${f}`),
    );
    for (const f of ['hooks/kernel-hook.bash', 'patches/catalog.ini'])
      expect(await readFile(path.join(r.image, LIBDIR, f)), f).toEqual(await readFile(path.join(TOP, f)));
    expect(await readFile(path.join(r.image, `usr/share/doc/${P}/kopt.conf`))).toEqual(
      await readFile(path.join(TOP, 'etc-portage/kopt.conf')),
    );
    for (const [key] of PROD_DEPS) expect(image).toContain(`${LIBDIR}/${key}/package.json`);
    const version = run(path.join(r.image, 'usr/bin/gentoo-kopt'), ['--version']);
    expect(version.stdout).toBe(`gentoo-kopt ${pkg.version}\n`);
  });

  it('installs the same image with the live ebuild', async () => {
    const release = await install(RELEASE);
    const live = await install(LIVE);
    expect(live.status, live.stderr).toBe(0);
    const rename = (l: string[]) => l.map((f) => f.replace(`${pkg.name}-9999`, P));
    expect(rename(await listing(live.image))).toEqual(await listing(release.image));
  });

  it('installs the man page and the completions the build generated from the command table', async () => {
    const r = await install(RELEASE);
    expect(r.status, r.stderr).toBe(0);
    const ids = CHECKS.map((c) => c.id);
    const want: [string, string][] = [
      ['usr/share/man/man1/gentoo-kopt.1', manPage(pkg.version)],
      ['usr/share/bash-completion/completions/gentoo-kopt', bashCompletion(ids)],
      ['usr/share/zsh/site-functions/_gentoo-kopt', zshCompletion(ids)],
    ];
    for (const [file, text] of want) expect(await readFile(path.join(r.image, file), 'utf8'), file).toBe(text);
  });

  it('fails, naming the file, when the release tarball lacks the generated man page', async () => {
    const r = await install(RELEASE, (pkgdir) => rm(path.join(pkgdir, 'man'), { recursive: true }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^die: doman: man\/gentoo-kopt\.1 does not exist/m);
  });

  it('fails, naming the file, when the ebuild installs something the release tarball does not have', async () => {
    const r = await install(RELEASE, (pkgdir) => rm(path.join(pkgdir, 'hooks'), { recursive: true }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^die: doins: hooks does not exist/m);
  });
});
