// verify --config on a stand-in kernel tree: a tarball whose Makefile, merge_config.sh and conf are
// small shell stand-ins for Kbuild (the real Kconfig is compared option by option in
// test/kconfig/run.sh, on Debian's 6.1 and 6.12 sources). What is checked here is verify's own part:
// which members it unpacks (and with which modes), the fragments it reads and their order, the base
// config, the toolchain it hands make, the kept/dropped verdicts, exit statuses, "not verified"
// without sources, and that the scratch directory is gone afterwards.
import { mkdir, readdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyConfigCommand, type VerifyConfigOptions } from '../src/commands/verify-config.js';
import { UsageError } from '../src/errors.js';
import { kconfigMembers, KCONFIG_ARCHES } from '../src/verify/kconfig-tree.js';
import { compareRequests, lastAssignments, parseWhy, reasonOf } from '../src/verify/kconfig-values.js';
import { ebuildFragmentNames } from '../src/verify/config-distfiles.js';
import { gzipSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { gentooRoot } from './helpers/gentoo.js';
import { kernelTarball, tarOf } from './helpers/kernel-tarball.js';
import { testdir } from './helpers/tree.js';
import { kopt } from './helpers/cli.js';

const x86 = KCONFIG_ARCHES.find((a) => a.arch === 'x86_64')!;

// Kbuild's two targets, as verify calls them: `make -C src O=build ARCH=.. [LLVM=1] build_config|olddefconfig`
const MAKEFILE = [
  'build_config:',
  '\tmkdir -p $(O)/scripts/kconfig',
  '\tcp $(CURDIR)/scripts/kconfig/fakeconf $(O)/scripts/kconfig/conf',
  'olddefconfig:',
  '\tcd $(O) && srctree=$(CURDIR) scripts/kconfig/conf --olddefconfig Kconfig',
  '',
].join('\n');
// conf: the last assignment of each symbol wins, DROPME goes (an unmet dependency), and what make
// passed shows up as SEEN_ARCH and SEEN_LLVM, SEEN_MINE says whether the merged .config had MINE=y; it fails when verify unpacked too little or too much.
const CONF = `#!/bin/sh
mine=$(grep -c '^CONFIG_MINE=y$' .config)
test -f "$srctree/drivers/Kconfig" || { echo 'drivers/Kconfig was not unpacked' >&2; exit 1; }
test -e "$srctree/drivers/foo.c" && { echo 'drivers/foo.c was unpacked' >&2; exit 1; }
key() { sed -E 's/^CONFIG_([A-Za-z0-9_]+)=.*/\\1/; s/^# CONFIG_([A-Za-z0-9_]+) is not set/\\1/'; }
tac .config | while IFS= read -r l; do printf '%s\\t%s\\n' "$(printf '%s' "$l" | key)" "$l"; done |
  awk -F'\\t' '!seen[$1]++ && $1 != "DROPME" { print $2 }' | tac >.config.new
printf 'CONFIG_SEEN_ARCH="%s"\\nCONFIG_SEEN_LLVM="%s"\\nCONFIG_SEEN_MINE="%s"\\n' "$ARCH" "\${LLVM-}" "$mine" >>.config.new
mv .config.new .config
`;
// merge_config.sh -m -r .config FRAGMENT...: appends each fragment, in order
const MERGE = `[ "$1" = -m ] && [ "$2" = -r ] || exit 2
shift 2; base=$1; shift
for f; do echo "Merging $f"; cat "$f" >>"$base"; done
`;

async function standIn(dir: string, extra: Record<string, string> = {}) {
  return kernelTarball(
    dir,
    {
      Makefile: MAKEFILE,
      'scripts/kconfig/merge_config.sh': MERGE,
      'arch/x86/configs/x86_64_defconfig': 'CONFIG_BASE=y\n',
      'drivers/Kconfig': 'config DROPME\n\tbool "x"\n',
      'drivers/foo.c': 'int x;\n',
      ...extra,
    },
    { top: 'linux-6.12', extra: [{ name: 'linux-6.12/scripts/kconfig/fakeconf', content: CONF, mode: 0o755 }] },
  );
}

/** What verify --config left in the temporary directory (its scratch trees are kopt-kconfig-*). */
const scratchLeft = async (tmp: string) => (await readdir(tmp)).filter((n) => n.startsWith('kopt-kconfig-'));

async function rootWith(fragments: Record<string, string>) {
  const { dir, ctx } = await gentooRoot({
    extra: Object.fromEntries(Object.entries(fragments).map(([n, t]) => [`etc/kernel/config.d/${n}`, t])),
  });
  return { dir, ctx };
}

const run = async (ctx: Awaited<ReturnType<typeof rootWith>>['ctx'], opts: Partial<VerifyConfigOptions>) =>
  verifyConfigCommand(ctx, { cpvs: [], toolchain: 'gnu', ...opts });

describe('verify --config --tarball (stand-in Kbuild)', () => {
  let tmp: string;
  let saved: string | undefined;
  beforeEach(async () => {
    saved = process.env.TMPDIR;
    tmp = await testdir();
    process.env.TMPDIR = tmp;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });

  it('lists every request as kept or dropped, later fragments winning, and exits 1 on a drop', async () => {
    const { ctx } = await rootWith({
      '10-a.config': 'CONFIG_KEEP=y\nCONFIG_DROPME=y\n# CONFIG_GONE is not set\n',
      '20-b.config': 'CONFIG_KEEP=m\n',
      README: 'CONFIG_NOT_A_FRAGMENT=y\n',
    });
    const tarball = await standIn(await testdir());
    const r = await run(ctx, { tarball });
    const v = r.data.results[0]!.verdict;
    expect(v.status).toBe('dropped');
    expect(r.exitCode).toBe(1);
    expect(v.options.map((o) => [o.symbol, o.requested, o.actual, o.status, path.basename(o.file), o.line])).toEqual([
      ['DROPME', 'y', 'unset', 'dropped', '10-a.config', 2],
      ['GONE', 'n', 'n', 'kept', '10-a.config', 3],
      ['KEEP', 'm', 'm', 'kept', '20-b.config', 1],
    ]);
    // kconfig-why cannot be built against a stand-in tree: the drop is still reported, unexplained
    expect(v.options[0]!.reason).toMatch(/no explanation/);
    expect(v.explainError).toBeDefined();
    expect(v.against?.base).toBe('arch/x86/configs/x86_64_defconfig');
    expect(r.text).toMatch(/1 OF 3 OPTIONS DROPPED/);
    expect(r.text).toMatch(/DROPME: requested y \(10-a\.config:2\), olddefconfig left absent/);
    // the scratch tree is gone
    expect(await scratchLeft(tmp)).toEqual([]);
  });

  it('hands make ARCH and, for toolchain llvm, LLVM=1', async () => {
    const { ctx } = await rootWith({ '50-x.config': 'CONFIG_SEEN_ARCH="x86_64"\nCONFIG_SEEN_LLVM="1"\n' });
    const tarball = await standIn(await testdir());
    const llvm = await run(ctx, { tarball, toolchain: 'llvm' });
    expect(llvm.data.results[0]!.verdict.options.map((o) => o.status)).toEqual(['kept', 'kept']);
    expect(llvm.exitCode).toBe(0);
    expect(llvm.text).toMatch(/EVERY OPTION KEPT/);
    const gnu = await run(ctx, { tarball, toolchain: 'gnu' });
    expect(gnu.data.results[0]!.verdict.options.map((o) => [o.symbol, o.actual])).toEqual([
      ['SEEN_ARCH', '"x86_64"'],
      ['SEEN_LLVM', '""'],
    ]);
    expect(gnu.exitCode).toBe(1);
  });

  it('takes the toolchain from kopt.conf when --toolchain is not given', async () => {
    const { ctx } = await gentooRoot({
      conf: 'toolchain = llvm\n',
      extra: { 'etc/kernel/config.d/50-x.config': 'CONFIG_SEEN_LLVM="1"\n' },
    });
    const r = await verifyConfigCommand(ctx, { cpvs: [], tarball: await standIn(await testdir()) });
    expect(r.data.results[0]!.verdict.against?.toolchain).toBe('llvm');
    expect(r.exitCode).toBe(0);
  });

  it('merges the fragments into --base-config instead of the defconfig', async () => {
    const dir = await testdir({ 'my.config': 'CONFIG_MINE=y\n' });
    const { ctx } = await rootWith({ '50-x.config': 'CONFIG_SEEN_MINE="1"\n' });
    const tarball = await standIn(await testdir());
    const mine = await run(ctx, { tarball, baseConfig: path.join(dir, 'my.config') });
    expect(mine.data.results[0]!.verdict.options.map((o) => [o.symbol, o.status])).toEqual([['SEEN_MINE', 'kept']]);
    expect(mine.data.results[0]!.verdict.against?.base).toBe(path.join(dir, 'my.config'));
    const defconfig = await run(ctx, { tarball });
    expect(defconfig.data.results[0]!.verdict.options.map((o) => [o.symbol, o.actual])).toEqual([['SEEN_MINE', '"0"']]);
  });

  it('says "not verified" when the tarball cannot be read or Kconfig fails, never kept', async () => {
    const { ctx } = await rootWith({ '50-x.config': 'CONFIG_KEEP=y\n' });
    const dir = await testdir({ 'linux-6.12.tar.xz': 'not xz' });
    const damaged = await run(ctx, { tarball: path.join(dir, 'linux-6.12.tar.xz') });
    expect(damaged.data.results[0]!.verdict.status).toBe('not-verified');
    expect(damaged.exitCode).toBe(4);
    expect(damaged.text).toMatch(/NOT VERIFIED/);
    const broken = await run(ctx, {
      tarball: await standIn(await testdir(), { Makefile: 'olddefconfig:\n\tfalse\nbuild_config:\n\ttrue\n' }),
    });
    expect(broken.data.results[0]!.verdict.status).toBe('not-verified');
    expect(broken.data.results[0]!.verdict.reason).toMatch(/make/);
    expect(await scratchLeft(tmp)).toEqual([]);
  });

  it('has nothing to verify without fragments (and reads no tarball)', async () => {
    const { ctx } = await rootWith({});
    const r = await run(ctx, { tarball: '/nonexistent/linux-6.12.tar.xz' });
    expect(r.exitCode).toBe(0);
    expect(r.data.note).toMatch(/no \*\.config fragment in .*etc\/kernel\/config\.d/);
  });

  it('refuses a config.d fragment that is not a regular file, naming it', async () => {
    const { dir, ctx } = await rootWith({});
    await mkdir(path.join(dir, 'etc/kernel/config.d'), { recursive: true });
    execFileSync('mkfifo', [path.join(dir, 'etc/kernel/config.d/50-fifo.config')]);
    await expect(run(ctx, { tarball: '/nonexistent.tar.xz' })).rejects.toMatchObject({
      file: path.join(dir, 'etc/kernel/config.d/50-fifo.config'),
      message: expect.stringMatching(/FIFO/),
    });
  });

  it('refuses --base-config without --tarball, and --tarball with a CPV', async () => {
    const { ctx } = await rootWith({ '50-x.config': 'CONFIG_KEEP=y\n' });
    await expect(run(ctx, { baseConfig: '/x' })).rejects.toThrow(UsageError);
    await expect(run(ctx, { tarball: '/x.tar.xz', cpvs: ['sys-kernel/gentoo-kernel-6.12.58'] })).rejects.toThrow(
      UsageError,
    );
  });
});

describe('what Kconfig needs of a tree', () => {
  const has = kconfigMembers(x86).has;
  it.each([
    ['Makefile', true],
    ['scripts/kconfig/conf.c', true],
    ['scripts/Kconfig.include', true],
    ['init/Kconfig', true],
    ['drivers/net/Kconfig.debug', true],
    ['arch/x86/Makefile', true],
    ['arch/x86/Makefile_32.cpu', true],
    ['arch/x86/configs/x86_64_defconfig', true],
    ['arch/x86/Kconfig', true],
    ['arch/arm64/Makefile', false],
    ['arch/x86/kernel/Makefile', false],
    ['drivers/net/Makefile', false],
    ['kernel/sched/core.c', false],
    ['Documentation/kbuild/kconfig-language.rst', false],
  ])('%s: %s', (p, want) => expect(has(p)).toBe(want));
});

describe('why an option was dropped', () => {
  const why = parseWhy(
    [
      'SLS undefined',
      'GCC_PLUGINS value= type=bool',
      'GCC_PLUGINS depends HAVE_GCC_PLUGINS [=y] && n [=n] => n',
      'GCC_PLUGINS unmet n [=n]',
      'GCC_PLUGINS defined-at scripts/gcc-plugins/Kconfig:11',
      'BPF_UNPRIV_DEFAULT_OFF value= type=bool',
      'BPF_UNPRIV_DEFAULT_OFF depends BPF_SYSCALL [=n] => n',
      'BPF_UNPRIV_DEFAULT_OFF unmet BPF_SYSCALL [=n]',
      'RANDSTRUCT_FULL value= type=bool',
      'RANDSTRUCT_FULL hidden CC_HAS_RANDSTRUCT [=n] || GCC_PLUGINS [=n] => n',
      'X value=y type=bool',
      'X selected-by Y [=y] => y',
    ].join('\n'),
  );
  it.each([
    ['SLS', 'y', 'unset', /no such symbol/],
    ['GCC_PLUGINS', 'y', 'unset', /toolchain test .*scripts\/gcc-plugins\/Kconfig:11/],
    ['BPF_UNPRIV_DEFAULT_OFF', 'y', 'unset', /^unmet dependency: BPF_SYSCALL \[=n\]$/],
    ['RANDSTRUCT_FULL', 'y', 'unset', /no visible prompt \(CC_HAS_RANDSTRUCT/],
    ['X', 'n', 'y', /selected by Y/],
    ['X', 'm', 'y', /bool symbol cannot be m/],
    ['NONE', 'y', 'n', /kconfig-why did not run/],
  ])('%s=%s (left %s)', (sym, req, actual, want) => expect(reasonOf(req, actual, why.get(sym))).toMatch(want));

  it('keeps an n request whose symbol is absent, drops a value that changed', () => {
    const requested = lastAssignments([{ name: 'f', text: '# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C="x"\n' }]);
    const final = lastAssignments([{ name: '.config', text: 'CONFIG_B=m\nCONFIG_C="x"\n' }]);
    expect(compareRequests(requested, final).map((o) => `${o.symbol}:${o.status}`)).toEqual([
      'A:kept',
      'B:dropped',
      'C:kept',
    ]);
  });
});

describe('verify --config CPV: the distfiles of a version', () => {
  const cpf = 'sys-kernel/gentoo-kernel-6.12.58';
  const URI = (...names: string[]) => names.map((n) => `https://example.org/${n}`).join(' ');
  const SRC_URI = URI(
    'linux-6.12.tar.xz',
    'gentoo-kernel-config-g18.tar.gz',
    'kernel-x86_64-fedora.config.6.12.8-gentoo',
    'kernel-aarch64-fedora.config.6.12.8-gentoo',
  );
  async function kernelRoot(opts: { iuse?: string; installedUse?: string; distfiles?: boolean } = {}) {
    const { dir, ctx } = await gentooRoot({
      available: [cpf],
      extra: {
        'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.12.58': `EAPI=8\nSLOT=6.12.58\nIUSE=${opts.iuse ?? '+debug hardened'}\nSRC_URI=${SRC_URI}\n`,
        'etc/portage/make.conf': 'DISTDIR="${PORTAGE_CONFIGROOT}var/cache/distfiles"\n',
        // the user asks for MINE (from Fedora's config), and to undo what no-debug.config sets
        'etc/kernel/config.d/50-x.config': 'CONFIG_SEEN_MINE="1"\n# CONFIG_NODEBUG is not set\n',
        ...(opts.installedUse ? { 'var/db/pkg/sys-kernel/gentoo-kernel-6.12.58/USE': `${opts.installedUse}\n` } : {}),
      },
    });
    const distdir = path.join(dir, 'var/cache/distfiles');
    await mkdir(distdir, { recursive: true });
    if (opts.distfiles !== false) {
      await standIn(distdir);
      await writeFile(path.join(distdir, 'kernel-x86_64-fedora.config.6.12.8-gentoo'), 'CONFIG_MINE=y\n');
      await writeFile(path.join(distdir, 'kernel-aarch64-fedora.config.6.12.8-gentoo'), 'CONFIG_ARM=y\n');
      const g = 'gentoo-kernel-config-g18';
      await writeFile(
        path.join(distdir, `${g}.tar.gz`),
        gzipSync(
          await tarOf([
            { name: `${g}/`, type: 'directory' },
            { name: `${g}/base.config`, content: 'CONFIG_GENTOO_BASE=y\n' },
            { name: `${g}/6.12+.config`, content: 'CONFIG_GENTOO_612=y\n' },
            { name: `${g}/no-debug.config`, content: 'CONFIG_NODEBUG=y\n' },
          ]),
        ),
      );
    }
    return { dir, ctx };
  }

  it('is "not verified" (exit 4) when the distfiles are not downloaded', async () => {
    const { ctx } = await kernelRoot({ distfiles: false });
    const r = await verifyConfigCommand(ctx, { cpvs: [cpf], toolchain: 'gnu' });
    expect(r.exitCode).toBe(4);
    expect(r.data.results[0]!.verdict).toMatchObject({
      status: 'not-verified',
      hint: expect.stringMatching(/--fetchonly/),
    });
    expect(r.text).toMatch(/NOT VERIFIED/);
  });

  it("merges Fedora's config, then the ebuild's fragments for its USE, then the user's", async () => {
    const { ctx } = await kernelRoot({ installedUse: 'amd64 hardened' });
    const r = await verifyConfigCommand(ctx, { cpvs: [cpf], toolchain: 'gnu' });
    const v = r.data.results[0]!.verdict;
    expect(v.against?.base).toBe('kernel-x86_64-fedora.config.6.12.8-gentoo');
    // USE=-debug (as installed): no-debug.config; hardened: its fragments are merged when the tarball has them
    expect(v.against?.ebuildFragments).toEqual([
      'gentoo-kernel-config-g18.tar.gz: base.config',
      'gentoo-kernel-config-g18.tar.gz: 6.12+.config',
      'gentoo-kernel-config-g18.tar.gz: no-debug.config',
    ]);
    expect(v.against?.notes.join()).toMatch(/USE="-debug hardened" as installed/);
    expect(v.options.map((o) => [o.symbol, o.actual, o.status])).toEqual([
      ['NODEBUG', 'n', 'kept'],
      ['SEEN_MINE', '"1"', 'kept'],
    ]);
    expect(r.exitCode).toBe(0);
  });

  it("takes the ebuild's IUSE defaults for a version that is not installed, and says so", async () => {
    const { ctx } = await kernelRoot({ iuse: '+debug hardened' });
    const r = await verifyConfigCommand(ctx, { cpvs: [cpf], toolchain: 'gnu' });
    const v = r.data.results[0]!.verdict;
    expect(v.against?.ebuildFragments.map((f) => f.replace(/^.*: /, ''))).toEqual(['base.config', '6.12+.config']);
    expect(r.text).toMatch(/IUSE defaults \(not installed; package.use is not read\)/);
  });

  it.each([
    ['6.1.50', { debug: true, hardened: false }, true, ['base.config']],
    ['6.12.58', { debug: false, hardened: false }, true, ['base.config', '6.12+.config', 'no-debug.config']],
    [
      '6.18.2_p1',
      { debug: true, hardened: true },
      true,
      ['base.config', '6.12+.config', 'hardened-base.config', 'hardened-gcc-plugins.config', 'hardened-amd64.config'],
    ],
    ['6.6.1', { debug: true, hardened: true }, false, ['base.config', 'hardened-base.config', 'hardened-amd64.config']],
  ])("the ebuild's fragments of %s (%o, gcc %s)", (pv, use, gcc, want) =>
    expect(ebuildFragmentNames(pv, use, 'amd64', gcc)).toEqual(want),
  );
});

describe('verify --config on the command line', () => {
  it.each([
    [['--config', '--patches', 'x.patch'], /--patches does not go with --config/],
    [['--config', '--confirm'], /--confirm does not go with --config/],
    [['--toolchain', 'llvm'], /--toolchain needs --config/],
    [['--base-config', 'x'], /--base-config needs --config/],
    [['--config', '--toolchain', 'clang'], /--toolchain clang: expected gnu or llvm/],
  ])('verify %j is a usage error (exit 2)', async (args, want) => {
    const root = await testdir();
    const r = await kopt(['verify', ...args, '--root', root]);
    expect(r.stderr).toMatch(want);
    expect(r.exitCode).toBe(2);
  });

  it('--json without fragments: nothing to verify, exit 0', async () => {
    const root = await testdir();
    const r = await kopt([
      'verify',
      '--config',
      '--tarball',
      '/nonexistent/linux-6.12.tar.xz',
      '--root',
      root,
      '--json',
    ]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      results: [],
      ok: true,
      note: expect.stringMatching(/nothing to verify/),
    });
  });
});
