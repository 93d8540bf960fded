import { describe, it, expect } from 'vitest';
import { readFile, stat, writeFile, mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../src/errors.js';
import { syncPatches } from '../src/commands/sync-patches.js';
import { rollbackCommand } from '../src/commands/rollback.js';
import { snapshot } from './helpers/tree.js';
import { gentooRoot, install, uninstall, defaultConf, EXAMPLE_SOURCE, PROJECT } from './helpers/gentoo.js';
import { kernelTarball } from './helpers/kernel-tarball.js';

const P = 'etc/portage/patches/sys-kernel';
const F1 = '00-gentoo-kopt-1-kopt-demo-01-0001-demo-lto-gcc-kconfig.patch';
const F2 = '00-gentoo-kopt-1-kopt-demo-02-0002-demo-lto-gcc-makefile.patch';
const USER_PATCH = `${P}/gentoo-kernel-6.12.58/0001-my-fix.patch`;
const USER_PN_PATCH = `${P}/gentoo-kernel/0002-everywhere.patch`;
const userFiles = { [USER_PATCH]: '--- a/x\n+++ b/x\n', [USER_PN_PATCH]: 'user bytes\n' };

const run = (ctx: Parameters<typeof syncPatches>[0], opts: Partial<Parameters<typeof syncPatches>[1]> = {}) =>
  syncPatches(ctx, { pretend: false, force: false, packages: [], ...opts });

async function twoKernels() {
  return gentooRoot({
    installed: ['sys-kernel/gentoo-kernel-6.12.58'],
    available: [
      'sys-kernel/gentoo-kernel-6.12.58',
      'sys-kernel/gentoo-kernel-6.12.59',
      'sys-kernel/gentoo-kernel-6.12.57',
    ],
    extra: userFiles,
  });
}

describe('sync-patches on a fixture root', () => {
  it('installs the matching entry into each exact-version directory, 0644 files in 0755 dirs', async () => {
    const { dir, ctx } = await twoKernels();
    const { report } = await run(ctx);
    expect(report.targets.map((t) => t.target)).toEqual([
      'sys-kernel/gentoo-kernel-6.12.58',
      'sys-kernel/gentoo-kernel-6.12.59',
    ]);
    for (const v of ['6.12.58', '6.12.59']) {
      const d = path.join(dir, P, `gentoo-kernel-${v}`);
      expect((await readdir(d)).filter((n) => n.startsWith('00-gentoo-kopt-')).sort()).toEqual([F1, F2]);
      expect((await stat(path.join(d, F1))).mode & 0o777).toBe(0o644);
      expect(await readFile(path.join(d, F1))).toEqual(
        await readFile(path.join(EXAMPLE_SOURCE, 'kopt-demo/6.12/0001-demo-lto-gcc-kconfig.patch')),
      );
    }
    expect((await stat(path.join(dir, P, 'gentoo-kernel-6.12.59'))).mode & 0o777).toBe(0o755);
    // older than the oldest installed: not a target; never a version-less directory of ours
    await expect(stat(path.join(dir, P, 'gentoo-kernel-6.12.57'))).rejects.toThrow();
    expect(await readdir(path.join(dir, P, 'gentoo-kernel'))).toEqual(['0002-everywhere.patch']);
  });

  it('a second run with nothing changed changes nothing and says so', async () => {
    const { dir, ctx } = await twoKernels();
    await run(ctx);
    const before = await snapshot(dir);
    const { report } = await run(ctx);
    expect(report.changed).toBe(false);
    expect(report.changes.every((c) => c.state === 'unchanged')).toBe(true);
    expect(await snapshot(dir)).toEqual(before);
  });

  it("a kernel bump adds the new directory and prunes the old one; the user's files keep their bytes", async () => {
    const { dir, ctx } = await gentooRoot({
      installed: ['sys-kernel/gentoo-kernel-6.12.58'],
      available: ['sys-kernel/gentoo-kernel-6.12.58'],
      extra: { ...userFiles, [`${P}/gentoo-kernel-6.12.59-r0/keep.patch`]: 'mine\n' },
    });
    await run(ctx);
    await install(dir, 'sys-kernel/gentoo-kernel-6.12.60');
    await uninstall(dir, 'sys-kernel/gentoo-kernel-6.12.58');
    await writeFile(path.join(dir, 'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.12.58.ebuild'), '');
    await import('node:fs/promises').then((fs) =>
      fs.rm(path.join(dir, 'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.12.58.ebuild')),
    );
    const { report } = await run(ctx);
    expect(
      report.changes
        .filter((c) => c.state === 'remove')
        .map((c) => path.basename(c.path))
        .sort(),
    ).toEqual([F1, F2]);
    expect((await readdir(path.join(dir, P, 'gentoo-kernel-6.12.60'))).sort()).toEqual([F1, F2]);
    // 6.12.58 holds the user's patch: our files are gone, the directory and the user's file stay
    expect(await readdir(path.join(dir, P, 'gentoo-kernel-6.12.58'))).toEqual(['0001-my-fix.patch']);
    for (const [rel, content] of Object.entries(userFiles))
      expect(await readFile(path.join(dir, rel), 'utf8')).toBe(content);
    expect(await readFile(path.join(dir, P, 'gentoo-kernel-6.12.59-r0/keep.patch'), 'utf8')).toBe('mine\n');
  });

  it('removes a directory it created once its last file is pruned', async () => {
    const { dir, ctx } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.59'], available: [] });
    await run(ctx);
    expect(await readdir(path.join(dir, P))).toEqual(['gentoo-kernel-6.12.59']);
    await uninstall(dir, 'sys-kernel/gentoo-kernel-6.12.59');
    await install(dir, 'sys-kernel/gentoo-kernel-6.12.60');
    const { report } = await run(ctx);
    expect(report.rmdirs).toEqual([`${P}/gentoo-kernel-6.12.59`]);
    expect(await readdir(path.join(dir, P))).toEqual(['gentoo-kernel-6.12.60']);
  });

  it('keeps and reports a managed file the user edited; --force replaces it and rollback brings the edit back', async () => {
    const { dir, ctx } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    await run(ctx);
    const edited = path.join(dir, P, 'gentoo-kernel-6.12.58', F1);
    await writeFile(edited, 'my local edit\n');
    const { report } = await run(ctx);
    expect(report.changes.find((c) => c.path.endsWith(F1))?.state).toBe('kept-edited');
    expect(report.warnings.some((w) => w.includes(F1))).toBe(true);
    expect(await readFile(edited, 'utf8')).toBe('my local edit\n');

    const afterEdit = await snapshot(dir);
    const forced = await run(ctx, { force: true });
    expect(forced.report.changes.find((c) => c.path.endsWith(F1))?.state).toBe('replace-edited');
    expect(await readFile(edited, 'utf8')).not.toBe('my local edit\n');
    await rollbackCommand(ctx, { pretend: false });
    expect(await readFile(edited, 'utf8')).toBe('my local edit\n');
    const restored = await snapshot(dir);
    const strip = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('var/lib/gentoo-kopt')));
    expect(strip(restored)).toEqual(strip(afterEdit));
  });

  it('never touches a file it does not own, even one with its own naming', async () => {
    const squat = `${P}/gentoo-kernel-6.12.58/${F1}`;
    const { dir, ctx } = await gentooRoot({
      installed: ['sys-kernel/gentoo-kernel-6.12.58'],
      extra: { [squat]: 'the user put this here\n' },
    });
    const { report } = await run(ctx, { force: true });
    expect(report.changes.find((c) => c.path === squat)?.state).toBe('conflict');
    expect(await readFile(path.join(dir, squat), 'utf8')).toBe('the user put this here\n');
  });

  it('--pretend leaves the tree byte-identical and shows a unified diff', async () => {
    const { dir, ctx } = await twoKernels();
    const before = await snapshot(dir);
    const { report, diffs } = await run(ctx, { pretend: true });
    expect(report.changed).toBe(true);
    expect(await snapshot(dir)).toEqual(before);
    expect(diffs.join('\n')).toContain(`+++ b/${P}/gentoo-kernel-6.12.58/${F1}`);
    expect(diffs.join('\n')).toContain('+config LTO_GCC');
  });

  it.each([1, 2, 3, 5])('a failure injected after %i write(s) leaves the old state exactly', async (n) => {
    const { dir, ctx } = await twoKernels();
    await run(ctx);
    await install(dir, 'sys-kernel/gentoo-kernel-6.12.60');
    await uninstall(dir, 'sys-kernel/gentoo-kernel-6.12.58');
    const before = await snapshot(dir);
    await expect(run({ ...ctx, env: { GENTOO_KOPT_FAULT_AFTER: String(n) } })).rejects.toThrow();
    const after = await snapshot(dir);
    const strip = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('var/lib/gentoo-kopt')));
    expect(strip(after)).toEqual(strip(before));
    // and the next run completes the bump
    const { report } = await run(ctx);
    expect(report.changed).toBe(true);
    expect((await readdir(path.join(dir, P, 'gentoo-kernel-6.12.60'))).sort()).toEqual([F1, F2]);
  });

  it('rollback restores the previous tree exactly', async () => {
    const { dir, ctx } = await twoKernels();
    await run(ctx);
    const before = await snapshot(dir);
    await install(dir, 'sys-kernel/gentoo-kernel-6.12.61');
    await uninstall(dir, 'sys-kernel/gentoo-kernel-6.12.58');
    const bumped = await snapshot(dir);
    await run(ctx);
    await rollbackCommand(ctx, { pretend: false });
    const after = await snapshot(dir);
    const patchesOnly = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('etc/')));
    expect(patchesOnly(after)).toEqual(patchesOnly(bumped));
    expect(patchesOnly(after)).toEqual(patchesOnly(before));
  });

  it('warns about a target with no matching entry and installs nothing for it', async () => {
    const { dir, ctx } = await gentooRoot({ installed: ['sys-kernel/vanilla-kernel-6.19_rc3'] });
    const { report } = await run(ctx);
    expect(report.targets[0]).toMatchObject({ kernel: '6.19.0-rc3', series: [{ series: 'kopt-demo' }] });
    expect(report.warnings.join('\n')).toMatch(/no 'kopt-demo' entry for kernel 6\.19\.0-rc3/);
    expect(report.changed).toBe(false);
    await expect(stat(path.join(dir, 'etc/portage/patches'))).rejects.toThrow();
  });

  it('--package adds the exact version being built', async () => {
    const { dir, ctx } = await gentooRoot({ installed: [] });
    const { report } = await run(ctx, { packages: ['sys-kernel/vanilla-kernel-6.18.3-r1'] });
    expect(report.targets.map((t) => [t.target, t.reasons])).toEqual([
      ['sys-kernel/vanilla-kernel-6.18.3', ['requested']],
    ]);
    expect((await readdir(path.join(dir, P, 'vanilla-kernel-6.18.3'))).sort()).toEqual([F1, F2]);
    expect(await readFile(path.join(dir, P, 'vanilla-kernel-6.18.3', F1))).toEqual(
      await readFile(path.join(EXAMPLE_SOURCE, 'kopt-demo/6.18/0001-demo-lto-gcc-kconfig.patch')),
    );
  });
});

describe('sync-patches refuses bad input and writes nothing', () => {
  const cases: [string, (dir: string) => Promise<void> | void, RegExp][] = [
    [
      'an unknown key in kopt.conf',
      async (dir) => writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf() + 'kcflag = -O2\n'),
      /kopt\.conf:4/,
    ],
    [
      'malformed INI',
      async (dir) => writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), '[sys-kernel/gentoo-kernel\n'),
      /kopt\.conf:1/,
    ],
    [
      'a patch source that does not exist',
      async (dir) => writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf('/nonexistent/kopt-src')),
      /nonexistent\/kopt-src/,
    ],
    [
      'a checksum mismatch',
      async (dir) => {
        const src = path.join(dir, 'src');
        for (const f of ['6.12/0001-demo-lto-gcc-kconfig.patch', '6.12/0002-demo-lto-gcc-makefile.patch']) {
          await mkdir(path.dirname(path.join(src, 'kopt-demo', f)), { recursive: true });
          await writeFile(path.join(src, 'kopt-demo', f), 'tampered\n');
        }
        await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf(src));
      },
      /sha256|checksum/i,
    ],
    [
      'an invalid range in a user catalog',
      async (dir) => {
        await mkdir(path.join(dir, 'etc/gentoo-kopt/catalog.d'), { recursive: true });
        await writeFile(
          path.join(dir, 'etc/gentoo-kopt/catalog.d/local.conf'),
          '[series mine]\n\n[mine 1]\nkernel = >=6.x.banana\nfile = a.patch sha256:' + '0'.repeat(64) + '\n',
        );
      },
      /local\.conf:4/,
    ],
    [
      'a file where the patches directory should be',
      async (dir) => {
        await mkdir(path.join(dir, 'etc/portage/patches'), { recursive: true });
        await writeFile(path.join(dir, 'etc/portage/patches/sys-kernel'), 'not a dir\n');
      },
      /expected a directory/,
    ],
    [
      'a symlink where the version directory should be',
      async (dir) => {
        await mkdir(path.join(dir, P), { recursive: true });
        await symlink('/tmp', path.join(dir, P, 'gentoo-kernel-6.12.58'));
      },
      /gentoo-kernel-6\.12\.58: leads outside the root .*: .*gentoo-kernel-6\.12\.58 resolves to \/tmp$/,
    ],
  ];
  it.each(cases)('%s', async (_name, breakIt, message) => {
    const { dir, ctx } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    await breakIt(dir);
    const before = await snapshot(dir);
    const err = await run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KoptError);
    expect((err as KoptError).describe()).toMatch(message);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('sync-patches --package (the hook, just in time)', () => {
  it('never prunes: a kernel built at the same time keeps what it is about to apply', async () => {
    const { dir, ctx } = await gentooRoot({ installed: [] });
    await run(ctx, { packages: ['sys-kernel/gentoo-kernel-6.12.58'] });
    const { report } = await run(ctx, { packages: ['sys-kernel/vanilla-kernel-6.18.3'] });
    expect(report.changes.filter((c) => c.state === 'remove')).toEqual([]);
    expect((await readdir(path.join(dir, P))).sort()).toEqual(['gentoo-kernel-6.12.58', 'vanilla-kernel-6.18.3']);
    // a plain run prunes what no longer has a reason to be there
    const plain = await run(ctx);
    expect(plain.report.changes.filter((c) => c.state === 'remove')).toHaveLength(4);
  });
});

describe('sync-patches dry-runs each series against the kernel sources before installing it', () => {
  const { readFile: rf, readdir: rd, mkdir: mk } = { readFile, readdir, mkdir };
  /** A root whose gentoo-kernel-6.12.58 has its distfiles downloaded: linux-6.12.tar.xz made from `tree`. */
  async function withSources(tree: string, conf?: string) {
    const cpf = 'sys-kernel/gentoo-kernel-6.12.58';
    const g = await gentooRoot({
      installed: [cpf],
      available: [cpf],
      ...(conf ? { conf } : {}),
      extra: {
        'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.12.58':
          'EAPI=8\nSLOT=6.12.58\nSRC_URI=https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.12.tar.xz\n',
      },
    });
    const files: Record<string, Buffer> = {};
    const base = path.join(PROJECT, 'examples/demo-kernel', tree);
    for (const rel of ['Makefile', 'arch/Kconfig', 'init/main.c']) files[rel] = await rf(path.join(base, rel));
    const distdir = path.join(g.dir, 'var/cache/distfiles');
    await mk(distdir, { recursive: true });
    await kernelTarball(distdir, files, { top: 'linux-6.12' });
    return g;
  }

  it('a series that applies is installed, and the report says it was checked', async () => {
    const { dir, ctx } = await withSources('linux-6.12.58');
    const { report } = await run(ctx);
    expect(report.verdicts).toEqual([
      { target: 'sys-kernel/gentoo-kernel-6.12.58', status: 'applies', summary: 'applies' },
    ]);
    expect((await rd(path.join(dir, P, 'gentoo-kernel-6.12.58'))).sort()).toEqual([F1, F2]);
  });

  it('a series that does not apply to the sources is not installed for that version, with a warning naming the hunk', async () => {
    // the distfile holds the 6.18 tree, where the 6.12 entry's Kconfig hunk has no context
    const { dir, ctx } = await withSources('linux-6.18.2');
    const { report } = await run(ctx);
    expect(report.verdicts[0]).toMatchObject({ status: 'fails' });
    expect(report.warnings.join('\n')).toMatch(/does not apply to its sources .*arch\/Kconfig/);
    await expect(rd(path.join(dir, P, 'gentoo-kernel-6.12.58'))).rejects.toThrow(/ENOENT/);
  });

  it('with strict, a series that does not apply is an error and nothing is written', async () => {
    const { dir, ctx } = await withSources('linux-6.18.2', defaultConf() + 'strict = yes\n');
    const before = await snapshot(dir);
    await expect(run(ctx)).rejects.toThrow(/strict: the series for sys-kernel\/gentoo-kernel-6\.12\.58 does not apply/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('--no-verify skips the dry run', async () => {
    const { dir, ctx } = await withSources('linux-6.18.2');
    const { report } = await run(ctx, { verify: false });
    expect(report.verdicts).toEqual([]);
    expect((await rd(path.join(dir, P, 'gentoo-kernel-6.12.58'))).sort()).toEqual([F1, F2]);
  });
});

describe('versions that are no kernel release', () => {
  it('a live 9999 ebuild or a four-number version is skipped with a note naming its file; the others go on, pruning too', async () => {
    const { dir, ctx } = await gentooRoot({
      installed: ['sys-kernel/gentoo-kernel-6.12.58'],
      available: [
        'sys-kernel/gentoo-kernel-6.12.58',
        'sys-kernel/gentoo-kernel-9999',
        'sys-kernel/gentoo-kernel-6.12.58.1',
      ],
    });
    const { report } = await run(ctx);
    expect(report.targets.map((t) => t.target)).toEqual(['sys-kernel/gentoo-kernel-6.12.58']);
    expect(report.warnings.join('\n')).toMatch(
      /gentoo-kernel-9999\.ebuild: sys-kernel\/gentoo-kernel-9999: '9999' is not a dist-kernel version/,
    );
    expect(report.warnings.join('\n')).toMatch(/gentoo-kernel-6\.12\.58\.1\.ebuild/);
    expect((await readdir(path.join(dir, P, 'gentoo-kernel-6.12.58'))).sort()).toEqual([F1, F2]);
    await uninstall(dir, 'sys-kernel/gentoo-kernel-6.12.58');
    await install(dir, 'sys-kernel/gentoo-kernel-6.12.59');
    expect((await run(ctx)).report.changes.filter((c) => c.state === 'remove')).toHaveLength(2);
  });

  it('--package with such a version: a note, nothing done, exit as usual', async () => {
    const { ctx } = await gentooRoot({ installed: [] });
    const { report } = await run(ctx, { packages: ['sys-kernel/gentoo-kernel-9999'] });
    expect(report.targets).toEqual([]);
    expect(report.warnings.join('\n')).toMatch(/--package: sys-kernel\/gentoo-kernel-9999/);
  });
});

describe('without kopt.conf', () => {
  it('changes nothing, not even pruning what it installed before, and says why', async () => {
    const { dir, ctx } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    await run(ctx);
    const { rm: remove } = await import('node:fs/promises');
    await remove(path.join(dir, 'etc/gentoo-kopt/kopt.conf'));
    const before = await snapshot(dir);
    const { report } = await run(ctx);
    expect(report.changed).toBe(false);
    expect(report.warnings.join('\n')).toMatch(/kopt\.conf does not exist: gentoo-kopt is not configured here/);
    expect(await snapshot(dir)).toEqual(before);
  });
});
