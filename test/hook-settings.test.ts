// kopt.conf -> hook settings, the LTO fragment and its consistency rules, and the toolchain table
// (checked against the hook's own bash classification, run in real bash).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type KoptConfig } from '../src/config/kopt-conf.js';
import { compileSettings, parseSettings, SETTING_RULES } from '../src/hooks/settings.js';
import { checkLto, ltoFragment, LTO_FRAGMENT_REL } from '../src/hooks/lto-fragment.js';
import { llvmEnv, LLVM_SLOT_TOOLS, TOOLCHAIN, toolFamily } from '../src/hooks/toolchain.js';
import { ConfigError, KoptError, UsageError } from '../src/errors.js';

const FILE = '/etc/gentoo-kopt/kopt.conf';
const HOOK = path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash');
const PROGRAM = { node: '/usr/bin/node', bin: '/usr/lib/node_modules/gentoo-kopt/dist/bin.js' };
const conf = (text: string): KoptConfig => parseConfig(text, FILE);
const compile = (text: string): Map<string, string> => parseSettings(compileSettings(conf(text), PROGRAM));

/** The value rules of the hook itself (its k_rules table), applied by bash as the hook applies them. */
function bashVerdicts(pairs: [key: string, value: string][]): boolean[] {
  const rules = [...readFileSync(HOOK, 'utf8').matchAll(/^\t\t(\[[a-z-]+\]='[^']*')$/gm)].map((m) => m[1]);
  expect(rules.length).toBe(Object.keys(SETTING_RULES).length);
  const script = [
    `declare -A rules=(${rules.join(' ')})`,
    'while IFS= read -r -d "" key && IFS= read -r -d "" value; do',
    '  if [[ ${value} =~ ${rules[${key}]} ]]; then echo 1; else echo 0; fi',
    'done',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    input: pairs.map(([k, v]) => `${k}\0${v}\0`).join(''),
    encoding: 'utf8',
    env: { LC_ALL: 'C', PATH: process.env.PATH },
  });
  expect(r.stderr).toBe('');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l === '1');
}

function thrown(fn: () => unknown): KoptError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KoptError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('compiled settings', () => {
  it('resolves the global values into every package, sections overriding them', () => {
    const s = compile(
      'packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel\ntoolchain = llvm\nllvm-slot = 20\nkcflags = -O2 -pipe\nseries = gcc-lto demo\nstrict = yes\n\n[sys-kernel/vanilla-kernel]\nkcflags = -O3 -march=native\n',
    );
    expect(Object.fromEntries(s)).toEqual({
      format: '1',
      node: PROGRAM.node,
      bin: PROGRAM.bin,
      'sys-kernel/gentoo-kernel.kcflags': '-O2 -pipe',
      'sys-kernel/gentoo-kernel.toolchain': 'llvm',
      'sys-kernel/gentoo-kernel.llvm-slot': '20',
      'sys-kernel/gentoo-kernel.lto': 'none',
      'sys-kernel/gentoo-kernel.strict': 'yes',
      'sys-kernel/gentoo-kernel.series': 'gcc-lto demo',
      'sys-kernel/gentoo-kernel.mixed': 'die',
      'sys-kernel/vanilla-kernel.kcflags': '-O3 -march=native',
      'sys-kernel/vanilla-kernel.toolchain': 'llvm',
      'sys-kernel/vanilla-kernel.llvm-slot': '20',
      'sys-kernel/vanilla-kernel.lto': 'none',
      'sys-kernel/vanilla-kernel.strict': 'yes',
      'sys-kernel/vanilla-kernel.series': 'gcc-lto demo',
      'sys-kernel/vanilla-kernel.mixed': 'die',
    });
  });

  it('writes defaults for a missing kopt.conf (empty llvm-slot and kcflags)', () => {
    const s = compile('');
    expect([
      s.get('sys-kernel/gentoo-kernel.toolchain'),
      s.get('sys-kernel/gentoo-kernel.llvm-slot'),
      s.get('sys-kernel/gentoo-kernel.kcflags'),
    ]).toEqual(['gnu', '', '']);
  });

  it('every compiled value passes the rules as the hook applies them, in bash', () => {
    const text = compileSettings(
      conf(
        'toolchain = llvm\nllvm-slot = 20\nlto = thin\nstrict = yes\nseries = gcc-lto kopt-demo\n' +
          'kcflags = -O2 -march=native -falign-functions=32 --param=l1-cache-size=32 -Wl,-O1\n',
      ),
      PROGRAM,
    );
    const pairs = [...parseSettings(text)].map(([key, value]): [string, string] => [key.replace(/^.*\./, ''), value]);
    expect(pairs.length).toBeGreaterThan(10);
    expect(bashVerdicts(pairs)).toEqual(pairs.map(() => true));
  });

  // Values compileSettings never writes (it throws first): what a hand-edited settings file may hold.
  // Each is judged by the hook's own rules in bash (LC_ALL=C, as the hook runs) and by SETTING_RULES.
  it.each<[string, string, boolean]>([
    ['kcflags', '', true],
    ['kcflags', '-O2 -march=native -pipe', true],
    ['kcflags', '--param=l1-cache-size=32 -fprofile-use=/var/lib/pgo/k.profdata', true],
    ['kcflags', '-O2 $(touch /tmp/x)', false],
    ['kcflags', '-O2 `id`', false],
    ['kcflags', '-O2;reboot', false],
    ['kcflags', '-O2 && id', false],
    ['kcflags', '"-O2"', false],
    ['kcflags', '-O2 ${HOME}', false],
    ['kcflags', '-O2 *', false],
    ['kcflags', '-O2  -pipe', false],
    ['kcflags', ' -O2', false],
    ['kcflags', '-O2 ', false],
    ['kcflags', '-O2\t-pipe', false],
    ['kcflags', '-O2\n-pipe', false],
    ['kcflags', '-O2 rm', false],
    ['kcflags', '-m\u00e9', false],
    ['kcflags', '---x', false],
    ['toolchain', 'gnu', true],
    ['toolchain', 'LLVM', false],
    ['toolchain', 'llvm ', false],
    ['toolchain', '', false],
    ['llvm-slot', '', true],
    ['llvm-slot', '9999', true],
    ['llvm-slot', '0', false],
    ['llvm-slot', '020', false],
    ['llvm-slot', '10000', false],
    ['llvm-slot', '-1', false],
    ['lto', 'gcc', true],
    ['lto', 'Thin', false],
    ['lto', 'thin;id', false],
    ['strict', 'no', true],
    ['strict', 'true', false],
    ['series', 'gcc-lto kopt-demo', true],
    ['series', 'a.b_c-d', true],
    ['series', 'GCC', false],
    ['series', '-x', false],
    ['series', 'a  b', false],
    ['series', '../x', false],
    ['mixed', 'warn', true],
    ['mixed', 'ignore', false],
    ['native', 'yes', true],
    ['native', 'true', false],
    ['node', '/opt/n@1.0/bin/node', true],
    ['node', 'node', false],
    ['node', '/opt/my node/bin/node', false],
    ['bin', '/x/$(id)/bin.js', false],
    ['bin', '/x;y', false],
    ['bin', '', false],
    ['format', '1', true],
    ['format', '01', false],
    ['format', '2', false],
  ])('%s=%j: accepted %s by the hook in bash and by SETTING_RULES', (key, value, accepted) => {
    expect(bashVerdicts([[key, value]])).toEqual([accepted]);
    expect(SETTING_RULES[key]!.test(value)).toBe(accepted);
  });

  it.each([
    ['$(...)', 'kcflags = -O2 $(touch /tmp/x)'],
    ['backticks', 'kcflags = -O2 `touch /tmp/x`'],
    ['; command', 'kcflags = -O2; touch /tmp/x'],
    ['quotes', 'kcflags = "-O2"'],
    ['a variable', 'kcflags = -O2 ${HOME}'],
  ])('kopt.conf refuses kcflags with %s, naming the line', (_name, line) => {
    const err = thrown(() => conf(`toolchain = gnu\n${line}\n`));
    expect(err).toBeInstanceOf(ConfigError);
    expect([err.file, err.line]).toEqual([FILE, 2]);
  });

  it.each([
    ['$(...)', '-O2 $(touch /tmp/x)'],
    ['a newline', '-O2\nsys-kernel/gentoo-kernel.toolchain=llvm'],
    ['; command', '-O2;reboot'],
    ['a word that is not a flag', '-O2 rm'],
  ])('compiling refuses kcflags with %s even when the parser was bypassed', (_name, kcflags) => {
    const c = conf('kcflags = -O2\n');
    c.global.kcflags = kcflags;
    const err = thrown(() => compileSettings(c, PROGRAM));
    expect(err).toBeInstanceOf(ConfigError);
    expect([err.file, err.line]).toEqual([FILE, 1]);
    expect(err.message).toMatch(/^kcflags for sys-kernel\/gentoo-kernel: .* is not a value the kernel hook accepts/s);
  });

  it.each([
    ['a space', { node: '/opt/my node/bin/node', bin: PROGRAM.bin }],
    ['a $', { node: PROGRAM.node, bin: '/x/$(id)/bin.js' }],
    ['a relative path', { node: 'node', bin: PROGRAM.bin }],
  ])('refuses a program path with %s', (_name, program) => {
    expect(thrown(() => compileSettings(conf(''), program))).toBeInstanceOf(UsageError);
  });
});

describe('the LTO fragment', () => {
  it.each([
    [
      'thin',
      'toolchain = llvm\nlto = thin\n',
      ['# CONFIG_LTO_NONE is not set', '# CONFIG_LTO_CLANG_FULL is not set', 'CONFIG_LTO_CLANG_THIN=y'],
    ],
    [
      'full',
      'toolchain = llvm\nlto = full\n',
      ['# CONFIG_LTO_NONE is not set', 'CONFIG_LTO_CLANG_FULL=y', '# CONFIG_LTO_CLANG_THIN is not set'],
    ],
    [
      'gcc',
      'toolchain = gnu\nlto = gcc\nseries = gcc-lto\n',
      ['# CONFIG_LTO_NONE is not set', 'CONFIG_LTO_GCC=y', '# CONFIG_LTO_CP_CLONE is not set'],
    ],
  ])('lto = %s', (_name, text, lines) => {
    const f = ltoFragment(conf(text))!;
    expect(f.rel).toBe(LTO_FRAGMENT_REL);
    expect(f.content.split('\n').filter((l) => l.startsWith('CONFIG_') || l.startsWith('# CONFIG_'))).toEqual(lines);
  });

  it('lto = none: no fragment', () => expect(ltoFragment(conf('toolchain = llvm\n'))).toBeUndefined());

  it.each([
    [
      'thin with gnu',
      'toolchain = gnu\nlto = thin\n',
      1,
      /lto = thin needs toolchain = llvm, but sys-kernel\/gentoo-kernel has toolchain = gnu/,
    ],
    ['thin with the default toolchain', 'kcflags = -O2\nlto = thin\n', 2, /needs toolchain = llvm/],
    [
      'gcc with llvm in one section',
      'toolchain = gnu\nlto = gcc\nseries = gcc-lto\n[sys-kernel/vanilla-kernel]\ntoolchain = llvm\n',
      5,
      /lto = gcc needs toolchain = gnu, but sys-kernel\/vanilla-kernel has toolchain = llvm/,
    ],
    ['gcc without a gcc-lto series', 'toolchain = gnu\nlto = gcc\n', 2, /lto = gcc needs the gcc-lto patch series/],
    [
      'a per-package lto',
      'toolchain = llvm\nlto = thin\n[sys-kernel/vanilla-kernel]\nlto = full\n',
      4,
      /lto = full for sys-kernel\/vanilla-kernel differs from lto = thin/,
    ],
  ])('refuses %s, naming the line', (_name, text, line, message) => {
    const err = thrown(() => checkLto(conf(text)));
    expect(err).toBeInstanceOf(ConfigError);
    expect([err.file, err.line]).toEqual([FILE, line]);
    expect(err.message).toMatch(message);
  });
});

describe('the toolchain table', () => {
  it('llvm: every variable from one slot, absolute, plus LLVM=1 LLVM_IAS=1', () => {
    const env = llvmEnv('', 20);
    expect([env.CC, env.HOSTLD, llvmEnv('/gentoo/', 19).AR]).toEqual([
      '/usr/lib/llvm/20/bin/clang',
      '/usr/lib/llvm/20/bin/ld.lld',
      '/gentoo/usr/lib/llvm/19/bin/llvm-ar',
    ]);
    expect(Object.keys(env).sort()).toEqual([
      'AR',
      'CC',
      'CXX',
      'HOSTAR',
      'HOSTCC',
      'HOSTCXX',
      'HOSTLD',
      'LD',
      'LLVM',
      'LLVM_IAS',
      'NM',
      'OBJCOPY',
      'OBJDUMP',
      'READELF',
      'STRIP',
    ]);
    expect(LLVM_SLOT_TOOLS).toEqual([
      'clang',
      'clang++',
      'ld.lld',
      'llvm-ar',
      'llvm-nm',
      'llvm-strip',
      'llvm-objcopy',
      'llvm-objdump',
      'llvm-readelf',
    ]);
  });

  // value -> family, decided identically by toolFamily and the hook's _kopt_family (run in bash).
  const CASES: [string, string][] = [
    ['gcc', 'gnu'],
    ['x86_64-pc-linux-gnu-gcc', 'gnu'],
    ['x86_64-pc-linux-gnu-gcc-14', 'gnu'],
    ['/usr/bin/gcc-13.2.0', 'gnu'],
    ['ccache gcc', 'gnu'],
    ['/usr/lib/ccache/bin/ccache distcc g++', 'gnu'],
    ['ld.bfd', 'gnu'],
    ['x86_64-pc-linux-gnu-ld', 'gnu'],
    ['gcc-ar', 'gnu'],
    ['clang', 'llvm'],
    ['clang-19', 'llvm'],
    ['/usr/lib/llvm/20/bin/clang++', 'llvm'],
    ['x86_64-pc-linux-gnu-clang', 'llvm'],
    ['ld.lld', 'llvm'],
    ['llvm-ar', 'llvm'],
    ['llvm-objcopy', 'llvm'],
    ['cc', 'other'],
    ['ld.mold', 'other'],
    ['', 'other'],
  ];
  const hook = readFileSync(path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash'), 'utf8');
  const fn = /^_kopt_family\(\) \{\n[\s\S]*?^\}$/m.exec(hook)![0];
  const script = `${fn}\nfor v in "$@"; do _kopt_family "$v"; printf '%s\\n' "$fam"; done\n`;
  const bash = spawnSync('bash', ['-c', script, 'bash', ...CASES.map((c) => c[0])], {
    env: { CHOST: 'x86_64-pc-linux-gnu' },
    encoding: 'utf8',
  });
  const fromBash = bash.stdout.split('\n');

  it.each(CASES.map(([v, f], i) => [v, f, i] as const))('%j is %s', (value, family, i) => {
    expect(toolFamily(value, 'x86_64-pc-linux-gnu')).toBe(family);
    expect(fromBash[i]).toBe(family);
  });

  it('every tool of the table is classified as its own family', () => {
    for (const r of TOOLCHAIN)
      expect([r.variable, toolFamily(r.llvm), toolFamily(r.gnu)]).toEqual([r.variable, 'llvm', 'gnu']);
  });
});
