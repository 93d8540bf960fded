import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, settingsFor, whereIs, type Settings } from '../src/config/kopt-conf.js';
import { KEYS } from '../src/config/schema.js';
import { compileSettings } from '../src/hooks/settings.js';
import { ConfigError, FsError } from '../src/errors.js';
import { resolveRoots } from '../src/portage/roots.js';
import { testdir } from './helpers/tree.js';

const F = '/etc/gentoo-kopt/kopt.conf';
const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

describe('defaults', () => {
  it('an empty file is all defaults', () => {
    expect(parseConfig('', F).global).toEqual({
      packages: ['sys-kernel/gentoo-kernel', 'sys-kernel/vanilla-kernel'],
      series: [],
      patchSource: [],
      strict: false,
      toolchain: 'gnu',
      kcflags: '',
      lto: 'none',
      mixedToolchain: 'die',
      cpuBaseline: 'none',
      harden: 'no',
      disable: [],
      enable: [],
      native: false,
    } satisfies Settings);
  });
  it('every key has a one-line description and a default that parses', () => {
    for (const key of KEYS) {
      expect(key.description).not.toMatch(/\n/);
      expect(() => key.parse(key.default, { file: F })).not.toThrow();
    }
  });
});

describe('good values', () => {
  it.each<[string, string, keyof Settings, unknown]>([
    ['packages', 'sys-kernel/gentoo-kernel', 'packages', ['sys-kernel/gentoo-kernel']],
    [
      'packages',
      ' sys-kernel/gentoo-kernel-bin\tsys-kernel/vanilla-kernel ',
      'packages',
      ['sys-kernel/gentoo-kernel-bin', 'sys-kernel/vanilla-kernel'],
    ],
    ['packages', 'dev-libs/libfoo-2-compat', 'packages', ['dev-libs/libfoo-2-compat']],
    ['series', 'gcc-lto kopt-demo', 'series', ['gcc-lto', 'kopt-demo']],
    ['series', '', 'series', []],
    ['patch-source', '/srv/p', 'patchSource', ['/srv/p']],
    ['patch-source', 'mine ../shared/p.tar.xz', 'patchSource', ['/etc/gentoo-kopt/mine', '/etc/shared/p.tar.xz']],
    ['strict', 'yes', 'strict', true],
    ['strict', 'YES', 'strict', true],
    ['strict', 'true', 'strict', true],
    ['strict', 'on', 'strict', true],
    ['strict', '1', 'strict', true],
    ['strict', 'no', 'strict', false],
    ['strict', 'False', 'strict', false],
    ['strict', 'off', 'strict', false],
    ['strict', '0', 'strict', false],
    ['toolchain', 'llvm', 'toolchain', 'llvm'],
    ['toolchain', 'gnu', 'toolchain', 'gnu'],
    ['llvm-slot', '20', 'llvmSlot', 20],
    ['llvm-slot', '', 'llvmSlot', undefined],
    ['kcflags', '-O2 -march=native -pipe', 'kcflags', '-O2 -march=native -pipe'],
    ['kcflags', '  -O3    -pipe ', 'kcflags', '-O3 -pipe'],
    [
      'kcflags',
      '--param=l1-cache-size=32 -Wl,-O1 -march=armv8-a+crypto',
      'kcflags',
      '--param=l1-cache-size=32 -Wl,-O1 -march=armv8-a+crypto',
    ],
    [
      'kcflags',
      '-fprofile-use=/var/tmp/k.profdata -mllvm -polly',
      'kcflags',
      '-fprofile-use=/var/tmp/k.profdata -mllvm -polly',
    ],
    ['kcflags', '', 'kcflags', ''],
    ['lto', 'none', 'lto', 'none'],
    ['lto', 'thin', 'lto', 'thin'],
    ['lto', 'full', 'lto', 'full'],
    ['lto', 'gcc', 'lto', 'gcc'],
  ])('%s = %s', (key, value, field, expected) => {
    const config = parseConfig(`# c\n${key} = ${value}\n`, F);
    expect(config.global[field]).toEqual(expected);
    expect(config.lines[field]).toBe(2);
  });
});

describe('bad values: ConfigError at file:line, naming the value', () => {
  it.each<[string, string, RegExp, RegExp?]>([
    ['packages', 'gentoo-kernel', /'gentoo-kernel' is not of the form category\/package/],
    ['packages', 'sys-kernel/gentoo-kernel-6.1', /ends in a version \('6.1'\)/],
    ['packages', 'sys-kernel/gentoo-kernel-6.12.58_p1-r1', /ends in a version/],
    ['packages', 'sys-kernel/-foo', /'-foo' is not a valid package name/],
    ['packages', '.sys/foo', /'.sys' is not a valid category/],
    ['packages', 'a/b/c', /not of the form/],
    ['packages', '', /packages is empty/],
    ['packages', 'a/b a/b', /listed twice/],
    ['series', 'GCC-LTO', /'GCC-LTO' is not a valid series name/],
    ['series', 'gcc-lto,kopt-demo', /not a valid series name/],
    ['series', 'x x', /listed twice/],
    ['patch-source', 'https://example.org/p.tar.xz', /is a URL/, /download/],
    ['patch-source', '~/patches', /'~' is not expanded/],
    ['patch-source', '/srv/p # mine', /'#' looks like a comment/, /own line|line of their own/],
    ['strict', 'maybe', /'maybe' is not yes or no/],
    ['strict', '', /'' is not yes or no/],
    ['toolchain', 'clang', /'clang' is not one of llvm, gnu/],
    ['toolchain', 'LLVM', /not one of/],
    ['toolchain', '', /not one of/],
    ['llvm-slot', '0', /not an LLVM major/],
    ['llvm-slot', '20.1', /not an LLVM major/],
    ['llvm-slot', '-1', /not an LLVM major/],
    ['llvm-slot', '020', /not an LLVM major/],
    ['llvm-slot', 'latest', /not an LLVM major/],
    ['kcflags', '-O2 $(touch /tmp/x)', /'\$\(touch': character '\$' is not allowed/, /no shell syntax/],
    ['kcflags', '-O2 `id`', /'`id`': character '`'/],
    ['kcflags', '-O2;id', /'-O2;id': character ';'/, /comments go on a line of their own/],
    ['kcflags', '-O2 # fast', /'#': character '#'/, /comments go on a line of their own/],
    ['kcflags', '"-O2"', /character '"'/, /not quoted/],
    ['kcflags', "'-O2 -pipe'", /character '''/, /not quoted/],
    ['kcflags', '-O2 \\', /character '\\'/, /line continuations are not supported/],
    ['kcflags', '-O2 && reboot', /'&&': character '&'/],
    ['kcflags', '-O2|cat', /character '\|'/],
    ['kcflags', '-O2 >/etc/x', /character '>'/],
    ['kcflags', '-O2 </etc/x', /character '<'/],
    ['kcflags', '-f*', /character '\*'/],
    ['kcflags', '-f?', /character '\?'/],
    ['kcflags', '-I~/x', /character '~'/],
    ['kcflags', '-f{a,b}', /character '\{'/],
    ['kcflags', '-D$HOME', /character '\$'/],
    ['kcflags', 'O2', /'O2': not a compiler flag/, /starting with "-"/],
    [
      'kcflags',
      '--param max-inline-insns-single=100',
      /'max-inline-insns-single=100': not a compiler flag/,
      /--param=name=value/,
    ],
    ['kcflags', '-', /'-': not a compiler flag/],
    ['lto', 'clang', /'clang' is not one of none, thin, full, gcc/],
    ['lto', 'Thin', /not one of/],
  ])('%s = %s', (key, value, message, hint) => {
    const err = caught(() => parseConfig(`# comment\n${key} = ${value}\n`, F));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: F, line: 2 });
    expect((err as Error).message).toMatch(new RegExp(`^${key}: `));
    expect((err as Error).message).toMatch(message);
    if (hint) expect((err as ConfigError).hint).toMatch(hint);
  });
});

describe('structure', () => {
  const P = 'packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel\n';
  it.each<[string, string, number, RegExp, RegExp?]>([
    ['unknown key, near miss', 'kcflag = -O2', 1, /unknown key 'kcflag'/, /did you mean 'kcflags'\?/],
    ['unknown key, no near miss', 'colour = red', 1, /unknown key 'colour'/, /known keys: packages, series/],
    ['key repeated in the global part', 'lto = thin\n\nlto = full', 3, /'lto' is already set at line 1/],
    [
      'key repeated in a section',
      `${P}[sys-kernel/gentoo-kernel]\nlto = thin\nlto = full`,
      4,
      /'lto' is already set at line 3/,
    ],
    [
      'packages in a section',
      `${P}[sys-kernel/gentoo-kernel]\npackages = a/b`,
      3,
      /only be set in the global part/,
      /above line 2/,
    ],
    [
      'section repeated',
      `${P}[sys-kernel/gentoo-kernel]\n[sys-kernel/vanilla-kernel]\n[sys-kernel/gentoo-kernel]`,
      4,
      /already appears at line 2/,
    ],
    ['section not a package name', '[gentoo-kernel]', 1, /invalid section \[gentoo-kernel\]/],
    ['section with a version', '[sys-kernel/gentoo-kernel-6.1]', 1, /ends in a version/],
    [
      'section for an unconfigured package',
      '[sys-kernel/zen-kernel]',
      1,
      /not one of the configured packages/,
      /add sys-kernel\/zen-kernel to 'packages'/,
    ],
    [
      'section, near miss',
      '[sys-kernel/gentoo-kernal]',
      1,
      /not one of the configured packages/,
      /did you mean \[sys-kernel\/gentoo-kernel\]\?/,
    ],
    [
      'section for a package dropped from packages',
      'packages = sys-kernel/gentoo-kernel\n[sys-kernel/vanilla-kernel]',
      2,
      /not one of the configured packages \(sys-kernel\/gentoo-kernel\)/,
    ],
    ['malformed line', 'kcflags -O2', 1, /expected 'key = value'/],
  ])('%s', (_, text, line, message, hint) => {
    const err = caught(() => parseConfig(text, F));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: F, line });
    expect((err as Error).message).toMatch(message);
    if (hint) expect((err as ConfigError).hint).toMatch(hint);
  });
});

describe('sections, settingsFor, whereIs', () => {
  const text = [
    'series = gcc-lto', // 1
    'kcflags = -O2 -pipe', // 2
    'llvm-slot = 19', // 3
    '', // 4
    '[sys-kernel/vanilla-kernel]', // 5
    'kcflags = -O3 -march=native', // 6
    'toolchain = llvm', // 7
    'llvm-slot =', // 8: unsets the global slot for this package
    'patch-source = p.tar.gz', // 9
  ].join('\n');
  const config = parseConfig(text, F);

  it('a section overrides only what it sets', () => {
    expect(settingsFor(config, 'sys-kernel/vanilla-kernel')).toEqual({
      ...config.global,
      kcflags: '-O3 -march=native',
      toolchain: 'llvm',
      llvmSlot: undefined,
      patchSource: ['/etc/gentoo-kopt/p.tar.gz'],
    });
    expect(settingsFor(config, 'sys-kernel/gentoo-kernel')).toEqual(config.global);
    expect(config.global).toMatchObject({ kcflags: '-O2 -pipe', llvmSlot: 19, series: ['gcc-lto'], toolchain: 'gnu' });
  });
  it('settingsFor returns a copy', () => {
    const s = settingsFor(config, 'sys-kernel/gentoo-kernel');
    s.kcflags = 'changed';
    s.series.push('changed');
    expect(config.global).toMatchObject({ kcflags: '-O2 -pipe', series: ['gcc-lto'] });
  });
  it.each<[keyof Settings, string | undefined, number | undefined]>([
    ['kcflags', 'sys-kernel/vanilla-kernel', 6],
    ['kcflags', 'sys-kernel/gentoo-kernel', 2],
    ['kcflags', undefined, 2],
    ['series', 'sys-kernel/vanilla-kernel', 1],
    ['patchSource', 'sys-kernel/vanilla-kernel', 9],
    ['patchSource', 'sys-kernel/gentoo-kernel', undefined],
    ['lto', undefined, undefined],
  ])('whereIs(%s, %s) -> line %s', (key, cpn, line) => {
    expect(whereIs(config, key, cpn)).toEqual(line === undefined ? { file: F } : { file: F, line });
  });
  it('records the section line', () => {
    expect(config.sections.get('sys-kernel/vanilla-kernel')?.line).toBe(5);
  });
});

describe('loadConfig', () => {
  it('a missing kopt.conf means all defaults', async () => {
    const dir = await testdir({});
    const config = await loadConfig(resolveRoots({ root: dir, env: {} }));
    expect(config).toMatchObject({ file: path.join(dir, 'etc/gentoo-kopt/kopt.conf'), exists: false });
    expect(config.global).toEqual(parseConfig('', F).global);
  });
  it('reads the file under the config root; relative patch sources resolve next to it', async () => {
    const dir = await testdir({ 'etc/gentoo-kopt/kopt.conf': 'patch-source = patches\nlto = thin\n' });
    const config = await loadConfig(resolveRoots({ root: dir, env: {} }));
    expect(config.exists).toBe(true);
    expect(config.global.patchSource).toEqual([path.join(dir, 'etc/gentoo-kopt/patches')]);
    expect(config.global.lto).toBe('thin');
  });
  it('a kopt.conf that is a directory is an FsError naming it', async () => {
    const dir = await testdir({ 'etc/gentoo-kopt/kopt.conf/': '' });
    const err = await loadConfig(resolveRoots({ root: dir, env: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect(err).toMatchObject({ file: path.join(dir, 'etc/gentoo-kopt/kopt.conf') });
  });
  it('errors in the file name it and the line', async () => {
    const dir = await testdir({ 'etc/gentoo-kopt/kopt.conf': '\n\ntoolchain = clang\n' });
    const err = await loadConfig(resolveRoots({ root: dir, env: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: path.join(dir, 'etc/gentoo-kopt/kopt.conf'), line: 3 });
  });
});

describe('etc-portage/kopt.conf, the shipped example', () => {
  const example = path.join(import.meta.dirname, '../etc-portage/kopt.conf');
  it('parses to the defaults as shipped', async () => {
    const config = parseConfig(await readFile(example, 'utf8'), example);
    expect(config.global).toEqual(parseConfig('', F).global);
    expect(config.lines).toEqual({});
  });
  it('shows every key with its default: uncommented, it still means the defaults, plus its vanilla-kernel kcflags', async () => {
    const text = (await readFile(example, 'utf8')).replace(/^#(?=[a-z[])/gm, '');
    const config = parseConfig(text, example);
    expect(config.global).toEqual(parseConfig('', F).global);
    expect(Object.keys(config.lines).sort()).toEqual(KEYS.map((k) => k.field).sort());
    expect(settingsFor(config, 'sys-kernel/vanilla-kernel').kcflags).toBe('-O2 -march=native -pipe');
  });
});

describe('cpu-baseline: the x86-64 level a binary-package host builds for', () => {
  it.each([
    ['-O2 -march=native -pipe', 'x86-64-v3', '-O2 -pipe -march=x86-64-v3'],
    ['-O2 -march=znver4 -mtune=znver4', 'x86-64-v2', '-O2 -mtune=znver4 -march=x86-64-v2'],
    ['', 'x86-64-v4', '-march=x86-64-v4'],
    ['-O2 -march=native', 'none', '-O2 -march=native'],
  ])('kcflags = %s, cpu-baseline = %s: KCFLAGS %s', (kcflags, baseline, want) => {
    const config = parseConfig(`kcflags = ${kcflags}\ncpu-baseline = ${baseline}\n`, F);
    expect(settingsFor(config, 'sys-kernel/gentoo-kernel').kcflags).toBe(want);
  });
  it('a per-package section overrides it; a bad level names the line', () => {
    const config = parseConfig(
      'kcflags = -O2\ncpu-baseline = x86-64-v3\n[sys-kernel/vanilla-kernel]\ncpu-baseline = none\n',
      F,
    );
    expect(settingsFor(config, 'sys-kernel/vanilla-kernel').kcflags).toBe('-O2');
    expect(() => parseConfig('cpu-baseline = haswell\n', F)).toThrow(ConfigError);
  });
  it('the hook gets the combined flags: compiled into its settings as kcflags', () => {
    const config = parseConfig('kcflags = -O2 -march=native -pipe\ncpu-baseline = x86-64-v3\n', F);
    const text = compileSettings(config, { node: '/usr/bin/node', bin: '/usr/lib/gentoo-kopt/dist/bin.js' });
    expect(text).toContain('\nsys-kernel/gentoo-kernel.kcflags=-O2 -pipe -march=x86-64-v3\n');
  });
});
