// doctor's readers, one line per case: the environment Portage saved (environment.bz2's declare lines),
// Kconfig fragments, the KCFLAGS table, the binary-package host test, and package.env's atom
// specificity (Portage: more specific atoms override, whatever the file order).
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { savedVariables } from '../src/doctor/checks/rebuild-needed.js';
import { parseKconfig } from '../src/doctor/checks/kernel-config.js';
import { binpkgReason, flagKind } from '../src/doctor/checks/flags.js';
import { environmentFor, loadMakeConfOrigins, loadPackageEnv, readAllEnvFiles } from '../src/doctor/portage-env.js';
import { parseCpv } from '../src/portage/atom.js';
import { resolveRoots } from '../src/portage/roots.js';
import { testdir } from './helpers/tree.js';

describe('savedVariables (declare -p lines of environment.bz2)', () => {
  it.each([
    ['declare -x KCFLAGS="-O2 -pipe"', { KCFLAGS: '-O2 -pipe' }],
    ['declare -x KCFLAGS="-DX=\\"a b\\" -O2"', { KCFLAGS: '-DX="a b" -O2' }],
    ['declare -x KCFLAGS="\\$HOME \\\\ \\`x\\`"', { KCFLAGS: '$HOME \\ `x`' }],
    ["declare -x KCFLAGS=$'-O2\\n-pipe'", { KCFLAGS: '-O2\n-pipe' }],
    ['declare -x KCFLAGS="-O2\n-pipe"', { KCFLAGS: '-O2\n-pipe' }],
    ['declare -- CC="clang"', { CC: 'clang' }],
    ['declare -x CC=""', { CC: '' }],
    ['declare -x CFLAGS="-O3"\ndeclare -x CHOST="x86_64-pc-linux-gnu"', { CHOST: 'x86_64-pc-linux-gnu' }],
    ['  declare -x KCFLAGS="not at the start of a line"', {}],
    ['declare -ax KCFLAGS=([0]="-O2")', {}],
  ])('%j', (text, expected) => {
    expect(Object.fromEntries(savedVariables(text))).toEqual(expected);
  });
});

describe('parseKconfig', () => {
  it.each([
    ['CONFIG_LTO_CLANG_THIN=y', { LTO_CLANG_THIN: 'y' }],
    ['# CONFIG_LTO_NONE is not set', { LTO_NONE: 'n' }],
    ['CONFIG_LOCALVERSION="-gentoo-dist"', { LOCALVERSION: '"-gentoo-dist"' }],
    ['CONFIG_HZ=1000\nCONFIG_HZ=300', { HZ: '300' }],
    ['CONFIG_X=y\n# CONFIG_X is not set', { X: 'n' }],
    ['# a comment\n\nCONFIG_A=m', { A: 'm' }],
  ])('%j', (text, expected) => {
    expect(Object.fromEntries([...parseKconfig(text, 'f')].map(([k, v]) => [k, v.value]))).toEqual(expected);
  });

  it('records where the last assignment is', () => {
    expect(parseKconfig('CONFIG_A=y\n\nCONFIG_A=n\n', '/x.config').get('A')).toEqual({
      value: 'n',
      file: '/x.config',
      line: 3,
    });
  });
});

describe('the KCFLAGS table', () => {
  it.each([
    ['-O2', undefined],
    ['-O3', 'kcflags-o3'],
    ['-Os', undefined],
    ['-Ofast', 'kcflags-ofast'],
    ['-ffast-math', 'kcflags-fast-math'],
    ['-funsafe-math-optimizations', 'kcflags-fast-math'],
    ['-fno-fast-math', undefined],
    ['-flto', 'kcflags-lto'],
    ['-flto=thin', 'kcflags-lto'],
    ['-flto-partition=one', 'kcflags-lto'],
    ['-ffat-lto-objects', 'kcflags-lto'],
    ['-fno-lto', undefined],
    ['-mavx2', 'kcflags-simd'],
    ['-mavx512f', 'kcflags-simd'],
    ['-msse4.2', 'kcflags-simd'],
    ['-mssse3', 'kcflags-simd'],
    ['-mfma', 'kcflags-simd'],
    ['-mno-avx', undefined],
    ['-mtune=native', undefined],
    ['-mcmodel=kernel', undefined],
    ['-fPIE', 'kcflags-pie'],
    ['-fpic', 'kcflags-pie'],
    ['-pie', 'kcflags-pie'],
    ['-fno-PIE', undefined],
    ['-march=native', 'kcflags-native-binpkg'],
    ['-march=x86-64-v3', undefined],
    ['-pipe', undefined],
  ])('%s -> %s', (flag, kind) => {
    expect(flagKind(flag)).toBe(kind);
  });
});

describe('binpkgReason: does this host build binary packages?', () => {
  const env = (vars: Record<string, string>) =>
    new Map(Object.entries(vars).map(([k, value]) => [k, { value, file: 'make.conf', line: 1 }]));
  it.each([
    [{}, undefined],
    [{ FEATURES: 'sandbox buildpkg' }, 'FEATURES=buildpkg'],
    [{ FEATURES: 'buildpkg -buildpkg' }, undefined],
    [{ FEATURES: 'buildpkg -*' }, undefined],
    [{ FEATURES: 'buildpkg-live' }, undefined],
    [{ EMERGE_DEFAULT_OPTS: '--buildpkg' }, 'EMERGE_DEFAULT_OPTS has --buildpkg'],
    [{ EMERGE_DEFAULT_OPTS: '--buildpkg=y --jobs=4' }, 'EMERGE_DEFAULT_OPTS has --buildpkg'],
    [{ EMERGE_DEFAULT_OPTS: '-avb' }, 'EMERGE_DEFAULT_OPTS has --buildpkg'],
    [{ EMERGE_DEFAULT_OPTS: '--buildpkg-exclude sys-kernel/gentoo-kernel -j4' }, undefined],
  ])('%j -> %s', (vars, reason) => {
    expect(binpkgReason(env(vars))).toBe(reason);
  });
});

describe('package.env: which env file wins for a package', () => {
  async function setup() {
    const dir = await testdir({
      'etc/portage/make.conf': 'COMMON="-O2"\nX="make.conf"\nX="make.conf, line 3"\n',
      'etc/portage/package.env/kernels': [
        '=sys-kernel/gentoo-kernel-6.12.58 exact.conf',
        'sys-kernel/gentoo-kernel base.conf # a comment',
        'sys-kernel/* cat.conf',
        '>=sys-kernel/gentoo-kernel-6.12.59 range.conf',
        '# sys-kernel/gentoo-kernel commented.conf',
        'sys-kernel/gentoo-kernel:6.12.58 slot.conf',
        '*/* all.conf',
        'not-an-atom!! bad.conf',
        'sys-kernel/gentoo-kernel missing.conf',
        '',
      ].join('\n'),
      ...Object.fromEntries(
        ['exact', 'base', 'cat', 'range', 'slot', 'all'].map((n) => [
          `etc/portage/env/${n}.conf`,
          `X="${n}"\nY="\${COMMON} ${n}"\n`,
        ]),
      ),
    });
    const roots = resolveRoots({ root: dir, env: {} });
    const makeConf = await loadMakeConfOrigins(roots);
    return { dir, makeConf, env: await loadPackageEnv(roots, makeConf.expand) };
  }

  it.each([
    ['sys-kernel/gentoo-kernel-6.12.58:6.12.58', 'exact'],
    ['sys-kernel/gentoo-kernel-6.12.59:6.12.59', 'range'],
    ['sys-kernel/gentoo-kernel-6.12.57:6.12.57', 'base'],
    ['sys-kernel/vanilla-kernel-6.18.2:6.18.2', 'cat'],
    ['app-misc/hello-2.12:0', 'all'],
  ])('%s gets X from %s.conf', async (cpvText, winner) => {
    const { makeConf, env } = await setup();
    const cpv = parseCpv(cpvText);
    const vars = environmentFor(makeConf, env, { cpn: cpv.cpn, cpv });
    expect(vars.get('X')?.value).toBe(winner);
    expect(vars.get('Y')?.value).toBe(`-O2 ${winner}`);
    expect(path.basename(vars.get('X')!.file)).toBe(`${winner}.conf`);
  });

  it('a package not installed matches only version-less, slot-less atoms', async () => {
    const { makeConf, env } = await setup();
    expect(environmentFor(makeConf, env, { cpn: 'sys-kernel/gentoo-kernel' }).get('X')?.value).toBe('base');
  });

  it('make.conf values carry the file and line of their last assignment', async () => {
    const { dir, makeConf } = await setup();
    expect(makeConf.vars.get('X')).toEqual({
      value: 'make.conf, line 3',
      file: path.join(dir, 'etc/portage/make.conf'),
      line: 3,
    });
  });

  it('bad atoms and missing env files are problems naming the line, never errors', async () => {
    const { dir, env } = await setup();
    readAllEnvFiles(env);
    const file = path.join(dir, 'etc/portage/package.env/kernels');
    expect(env.problems.map((p) => [p.kind, p.file, p.line])).toEqual([
      ['malformed', file, 8],
      ['missing-env', file, 9],
    ]);
  });
});

describe('origins through `source`: the file and line of the assignment that wins', () => {
  const kernel = { cpn: 'sys-kernel/gentoo-kernel' };
  it.each([
    ['a variable only the sourced file sets', 'source gnu.conf\nLD="ld.lld"\n', 'gnu.conf', 2],
    ['an assignment after the source line overrides it', 'source gnu.conf\nCC="clang"\n', 'src.conf', 2],
    ['an assignment before the source line is overridden', 'CC="clang"\nsource gnu.conf\n', 'gnu.conf', 2],
    ['nested sourcing', 'source outer.conf\n', 'gnu.conf', 2],
  ])('%s', async (_, srcConf, file, line) => {
    const dir = await testdir({
      'etc/portage/make.conf': 'CC="cc"\n',
      'etc/portage/package.env': 'sys-kernel/gentoo-kernel src.conf\n',
      'etc/portage/env/src.conf': srcConf,
      'etc/portage/env/outer.conf': 'X="1"\nsource gnu.conf\nY="2"\n',
      'etc/portage/env/gnu.conf': '# GNU tools\nCC="gcc"\n',
    });
    const roots = resolveRoots({ root: dir, env: {} });
    const makeConf = await loadMakeConfOrigins(roots);
    const vars = environmentFor(makeConf, await loadPackageEnv(roots, makeConf.expand), kernel);
    const cc = vars.get('CC')!;
    expect({ file: path.basename(cc.file), line: cc.line }).toEqual({ file, line });
    if (file === 'gnu.conf') expect(cc.value).toBe('gcc');
  });

  it('make.conf: a variable set in a sourced file points at that file; later lines and files still win', async () => {
    const dir = await testdir({
      'etc/portage/make.conf/00-base': 'source ../tools.conf\nLD="ld.lld"\n',
      'etc/portage/make.conf/10-more': 'AR="ar"\n',
      'etc/portage/tools.conf': 'CC="gcc"\nLD="ld.gold"\nAR="llvm-ar"\n',
    });
    const { vars } = await loadMakeConfOrigins(resolveRoots({ root: dir, env: {} }));
    const at = (name: string) => {
      const a = vars.get(name)!;
      return [a.value, path.relative(dir, a.file), a.line];
    };
    expect([at('CC'), at('LD'), at('AR')]).toEqual([
      ['gcc', 'etc/portage/tools.conf', 1],
      ['ld.lld', 'etc/portage/make.conf/00-base', 2],
      ['ar', 'etc/portage/make.conf/10-more', 1],
    ]);
  });
});
