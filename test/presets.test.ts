// kopt.conf's kernel config keys (optimize, harden, native, disable, enable): the table in src against
// the research TSV, the parser's file:line errors, and the fragments `gentoo-kopt hooks install` (the
// real executable, on throwaway roots) writes, updates, removes, shows with --pretend and rolls back.
import { describe, it, expect } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir, snapshot } from './helpers/tree.js';
import { kopt } from './helpers/cli.js';
import { parseConfig } from '../src/config/kopt-conf.js';
import { ConfigError } from '../src/errors.js';
import { HARDEN_ROWS, hardenRows } from '../src/presets/harden.js';
import { PRESET_FRAGMENT_NAMES, presetFragments } from '../src/presets/fragments.js';

const F = '/etc/gentoo-kopt/kopt.conf';
const TSV = path.join(import.meta.dirname, 'kconfig/harden.tsv');
const CONF = 'etc/gentoo-kopt/kopt.conf';
const CONFIG_D = 'etc/kernel/config.d';

describe('the harden table', () => {
  it('is harden.tsv, row for row (scripts/gen-harden.mjs writes it)', async () => {
    const [head, ...lines] = (await readFile(TSV, 'utf8')).trimEnd().split('\n');
    expect(head!.split('\t')).toEqual([
      'symbol',
      'value',
      'tier',
      'cost',
      'cost_why',
      'reason',
      'since',
      'removed',
      'toolchain',
      'needs',
      'source',
      'notes',
    ]);
    expect(HARDEN_ROWS.map((r) => Object.values(r).join('\t'))).toEqual(lines);
  });
  it('has a known tier, cost, toolchain and a Kconfig value on every row, and a reason', () => {
    for (const r of HARDEN_ROWS) {
      expect(['base', 'strict', 'excluded']).toContain(r.tier);
      expect(['none', 'low', 'medium', 'high']).toContain(r.cost);
      expect(['any', 'gcc', 'clang']).toContain(r.toolchain);
      expect(r.value).toMatch(/^(y|n|-?[0-9]+|0x[0-9a-f]+)$/);
      expect(r.reason).not.toBe('');
    }
  });
  it('base has the wiki list; strict adds the costly ones; the toolchain picks plugin or kCFI rows', () => {
    const base = new Set(hardenRows('base', ['gnu']).map((r) => r.symbol));
    for (const s of ['RANDOMIZE_BASE', 'INIT_STACK_ALL_ZERO', 'INIT_ON_ALLOC_DEFAULT_ON', 'ZERO_CALL_USED_REGS'])
      expect(base).toContain(s);
    expect(base).not.toContain('INIT_ON_FREE_DEFAULT_ON');
    const gnu = new Set(hardenRows('strict', ['gnu']).map((r) => r.symbol));
    const llvm = new Set(hardenRows('strict', ['llvm']).map((r) => r.symbol));
    expect(gnu).toContain('INIT_ON_FREE_DEFAULT_ON');
    expect([gnu.has('GCC_PLUGIN_STACKLEAK'), gnu.has('CFI_CLANG')]).toEqual([true, false]);
    expect([llvm.has('GCC_PLUGIN_STACKLEAK'), llvm.has('CFI_CLANG')]).toEqual([false, true]);
    expect(hardenRows('strict', ['gnu', 'llvm']).length).toBe(gnu.size + llvm.size - hardenRows('strict', []).length);
    expect(hardenRows('no', ['gnu'])).toEqual([]);
    expect([...gnu].some((s) => HARDEN_ROWS.find((r) => r.symbol === s)?.tier === 'excluded')).toBe(false);
  });
});

/** The ConfigError `text` gives, as [line, message, hint]. */
async function configError(text: string): Promise<[number | undefined, string, string | undefined]> {
  try {
    await presetFragments(parseConfig(text, F));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [err.line, err.message, err.hint];
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('kopt.conf: the config keys', () => {
  it('reads every key', () => {
    const c = parseConfig(
      'optimize = size\nharden = strict\ndisable = KVM HIBERNATION\nenable = MAGIC_SYSRQ DEFAULT_HOSTNAME="my box" LOG_BUF_SHIFT=18 PANIC_TIMEOUT=-1 X=m MASK=0x1F\nnative = yes\n',
      F,
    );
    expect(c.global).toMatchObject({
      optimize: 'size',
      harden: 'strict',
      native: true,
      disable: ['KVM', 'HIBERNATION'],
    });
    expect(c.global.enable).toEqual([
      { symbol: 'MAGIC_SYSRQ', value: 'y' },
      { symbol: 'DEFAULT_HOSTNAME', value: '"my box"' },
      { symbol: 'LOG_BUF_SHIFT', value: '18' },
      { symbol: 'PANIC_TIMEOUT', value: '-1' },
      { symbol: 'X', value: 'm' },
      { symbol: 'MASK', value: '0x1F' },
    ]);
  });

  it.each([
    [
      'a CONFIG_ prefix in disable',
      'disable = CONFIG_KVM',
      1,
      /CONFIG_KVM': write the symbol without its CONFIG_ prefix/,
      /write KVM/,
    ],
    ['a CONFIG_ prefix in enable', '\nenable = CONFIG_KVM=m', 2, /without its CONFIG_ prefix/, /write KVM=m|write KVM/],
    [
      'a value that is not y/m/n/number/string',
      'enable = KVM=yes',
      1,
      /'yes' is not a Kconfig value/,
      /y, m, n, a number/,
    ],
    ['an unquoted string', 'enable = DEFAULT_HOSTNAME=box', 1, /'box' is not a Kconfig value/, /"quoted string"/],
    ['an unterminated string', 'enable = DEFAULT_HOSTNAME="box', 1, /unterminated string/, /close the string/],
    ['a value in disable', 'disable = KVM=n', 1, /'KVM=n' is not a Kconfig symbol/, /disable takes symbols only/],
    ['a symbol listed twice', 'disable = KVM KVM', 1, /symbol 'KVM' is listed twice/, /./],
    ['an unknown harden level', 'harden = max', 1, /'max' is not one of no, base, strict/, /./],
    ['an unknown optimize', 'optimize = fast', 1, /'fast' is not one of performance, size/, /./],
    [
      'a symbol enabled and disabled',
      'disable = KVM\nharden = base\nenable = KVM=m',
      3,
      /KVM is both in enable and in disable/,
      /line 1/,
    ],
    [
      'kcflags that undo optimize = size',
      'optimize = size\nkcflags = -O2 -pipe',
      2,
      /kcflags -O2 .* undoes optimize = size/,
      /./,
    ],
    [
      'kcflags that undo optimize = performance',
      'kcflags = -Os\noptimize = performance',
      1,
      /-Os .* undoes optimize = performance/,
      /./,
    ],
    [
      'a -march= against native',
      'native = yes\nkcflags = -march=znver4',
      2,
      /-march=znver4 .* overrides native = yes/,
      /./,
    ],
    [
      'enable against optimize',
      'optimize = size\nenable = CC_OPTIMIZE_FOR_PERFORMANCE',
      2,
      /optimize sets otherwise/,
      /./,
    ],
    [
      'a key of the fragments in a package section',
      'packages = sys-kernel/gentoo-kernel\n[sys-kernel/gentoo-kernel]\nharden = base',
      3,
      /'harden' may only be set in the global part/,
      /applies to every dist-kernel/,
    ],
  ])('refuses %s, naming the line', async (_name, text, line, message, hint) => {
    const [l, m, h] = await configError(text);
    expect([l, m]).toEqual([line, expect.stringMatching(message)]);
    expect(h).toMatch(hint);
  });

  it('accepts -Oz with optimize = size (the wiki: -Oz goes beyond -Os) and -O3 elsewhere', async () => {
    expect((await presetFragments(parseConfig('optimize = size\nkcflags = -Oz -pipe', F))).map((f) => f.key)).toEqual([
      'optimize',
    ]);
  });

  it('writes one fragment per key set, in merge order, the user’s own last', async () => {
    const frags = await presetFragments(
      parseConfig('toolchain = llvm\noptimize = size\nharden = base\nnative = yes\ndisable = KVM\nenable = X=m\n', F),
    );
    expect(frags.map((f) => path.basename(f.rel))).toEqual([...Object.values(PRESET_FRAGMENT_NAMES)]);
    expect([...frags.map((f) => f.rel)].sort()).toEqual(frags.map((f) => f.rel));
    const byKey = Object.fromEntries(frags.map((f) => [f.key, f.content]));
    expect(byKey.optimize).toContain(
      'CONFIG_CC_OPTIMIZE_FOR_SIZE=y\n# CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE is not set\n',
    );
    expect(byKey.native).toContain('\nCONFIG_X86_NATIVE_CPU=y\n');
    expect(byKey.disable).toContain('\n# CONFIG_KVM is not set\n');
    expect(byKey.enable).toContain('\nCONFIG_X=m\n');
    expect(byKey.harden).toContain('\nCONFIG_RANDOMIZE_BASE=y\n');
    expect(byKey.harden).toContain('\n# CONFIG_COMPAT_BRK is not set\n');
    expect(byKey.harden).toMatch(/# KASLR[^\n]*\(run-time cost: none/);
  });
});

async function root(conf: string, tree: Record<string, string> = {}): Promise<string> {
  const dir = await testdir({ [CONF]: conf, 'var/db/pkg/': '', ...tree });
  return dir;
}
const fragments = async (dir: string): Promise<string[]> =>
  (await readdir(path.join(dir, CONFIG_D)).catch(() => [] as string[])).sort();

describe('gentoo-kopt hooks install: the fragments, through the executable', () => {
  it('writes, updates and removes each fragment as kopt.conf changes; --pretend and rollback', async () => {
    const dir = await root('harden = base\ndisable = KVM\n');
    const pretend = await kopt(['hooks', 'install', '--pretend', '--root', dir]);
    expect(pretend.exitCode).toBe(0);
    expect(pretend.stdout).toContain(`+++ b/${CONFIG_D}/${PRESET_FRAGMENT_NAMES.disable}`);
    expect(pretend.stdout).toContain('+# CONFIG_KVM is not set');
    expect(await fragments(dir)).toEqual([]);

    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    expect(await fragments(dir)).toEqual([PRESET_FRAGMENT_NAMES.harden, PRESET_FRAGMENT_NAMES.disable]);
    const harden = await readFile(path.join(dir, CONFIG_D, PRESET_FRAGMENT_NAMES.harden), 'utf8');
    expect(harden).toContain('CONFIG_INIT_STACK_ALL_ZERO=y\n');
    expect(harden).not.toContain('CONFIG_INIT_ON_FREE_DEFAULT_ON');

    await writeFile(path.join(dir, CONF), 'harden = strict\noptimize = size\n');
    const before = await snapshot(dir);
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    expect(await fragments(dir)).toEqual([PRESET_FRAGMENT_NAMES.optimize, PRESET_FRAGMENT_NAMES.harden]);
    expect(await readFile(path.join(dir, CONFIG_D, PRESET_FRAGMENT_NAMES.harden), 'utf8')).toContain(
      'CONFIG_INIT_ON_FREE_DEFAULT_ON=y\n',
    );
    expect((await kopt(['hooks', 'status', '--root', dir])).exitCode).toBe(0);

    // rollback: the previous install's fragments, byte for byte
    expect((await kopt(['rollback', '--root', dir])).exitCode).toBe(0);
    const after = await snapshot(dir);
    for (const name of Object.values(PRESET_FRAGMENT_NAMES)) {
      const rel = `${CONFIG_D}/${name}`;
      expect([rel, after[rel]]).toEqual([rel, before[rel]]);
    }

    await writeFile(path.join(dir, CONF), '');
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    expect(await fragments(dir)).toEqual([]);
  });

  it('bad input: a file:line error, and nothing written', async () => {
    const dir = await root('disable = KVM\nenable = KVM=m\n');
    const before = await snapshot(dir);
    const r = await kopt(['hooks', 'install', '--root', dir]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${path.join(dir, CONF)}:2`);
    expect(r.stderr).toContain('KVM is both in enable and in disable');
    expect(await snapshot(dir)).toEqual(before);
  });

  it("an unknown symbol is refused with a did-you-mean from the kernel sources' Kconfig", async () => {
    const dir = await root('harden = base\n\ndisable = KVMM\n', {
      'usr/src/linux-6.12.58-gentoo-dist/Kconfig': 'source "arch/x86/kvm/Kconfig"\n',
      'usr/src/linux-6.12.58-gentoo-dist/arch/x86/kvm/Kconfig':
        'menuconfig VIRTUALIZATION\n\tbool "Virtualization"\n\nconfig KVM\n\ttristate "KVM"\n\nconfig KVM_INTEL\n\ttristate "Intel"\n',
    });
    const before = await snapshot(dir);
    const r = await kopt(['hooks', 'install', '--root', dir]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${path.join(dir, CONF)}:3`);
    expect(r.stderr).toContain('KVMM is not a Kconfig symbol of linux-6.12.58-gentoo-dist');
    expect(r.stderr).toContain('did you mean KVM?');
    expect(await snapshot(dir)).toEqual(before);
    await writeFile(path.join(dir, CONF), 'disable = KVM\n');
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
  });

  it('without kernel sources, a near miss of a known symbol is a warning with the suggestion', async () => {
    const dir = await root('disable = KVMM\n');
    const r = await kopt(['hooks', 'install', '--root', dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/KVMM is not a symbol gentoo-kopt knows, did you mean KVM\?/);
    expect(await fragments(dir)).toEqual([PRESET_FRAGMENT_NAMES.disable]);
  });
});

describe('doctor on native = yes', () => {
  it('warns, as for kcflags = -march=native, when the host builds binary packages (at the native line)', async () => {
    const { doctorRoot, BASE_CONF, BASE_MAKE_CONF } = await import('./helpers/doctor-root.js');
    const { doctorCommand } = await import('../src/commands/doctor.js');
    const root = await doctorRoot();
    await writeFile(path.join(root.dir, CONF), `${BASE_CONF}native = yes\n`);
    await writeFile(
      path.join(root.dir, 'etc/portage/make.conf'),
      BASE_MAKE_CONF.replace('FEATURES="sandbox"', 'FEATURES="sandbox buildpkg"'),
    );
    const r = await doctorCommand(root.ctx, { checks: ['flags'], list: false, exit: 'error' });
    const findings = (r.data as { checks: { findings: { kind: string; where: unknown }[] }[] }).checks[0]!.findings;
    expect(findings.map((f) => [f.kind, f.where])).toEqual([
      ['kcflags-native-binpkg', { file: path.join(root.dir, CONF), line: BASE_CONF.split('\n').length }],
    ]);
  });
});

describe('doctor on the preset fragments', () => {
  it('hooks: a fragment kopt.conf no longer matches is outdated, a deleted one missing; why.ts reads a .config', async () => {
    const { doctorRoot, BASE_CONF } = await import('./helpers/doctor-root.js');
    const { doctorCommand } = await import('../src/commands/doctor.js');
    const root = await doctorRoot();
    await writeFile(path.join(root.dir, CONF), `${BASE_CONF}harden = base\ndisable = KVM\n`);
    expect((await kopt(['hooks', 'install', '--root', root.dir])).exitCode).toBe(0);
    const hooks = async () =>
      (
        (await doctorCommand(root.ctx, { checks: ['hooks'], list: false, exit: 'error' })).data as {
          checks: { status: string; findings: { kind: string; role: string; where: { file: string } }[] }[];
        }
      ).checks[0]!;
    expect((await hooks()).status).toBe('ok');
    await writeFile(path.join(root.dir, CONF), `${BASE_CONF}harden = strict\n`);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root.dir, CONFIG_D, PRESET_FRAGMENT_NAMES.harden));
    expect((await hooks()).findings.map((f) => [f.kind, f.role, path.basename(f.where.file)])).toEqual([
      ['hooks-file-missing', 'config-fragment', PRESET_FRAGMENT_NAMES.harden],
      ['hooks-file-outdated', 'config-fragment', PRESET_FRAGMENT_NAMES.disable],
    ]);
  });

  it('counts an option only where the kernel version defines it, and says which dependency is unmet', async () => {
    const { absentInVersion, whyDropped, versionBefore, kept } = await import('../src/presets/why.js');
    expect(absentInVersion('LIST_HARDENED', '6.1.192')).toBe('added in 6.7');
    expect(absentInVersion('LIST_HARDENED', '6.12.58')).toBeUndefined();
    expect(absentInVersion('PAGE_TABLE_ISOLATION', '6.12.58')).toBe('renamed or removed in 6.9');
    expect(absentInVersion('X86_NATIVE_CPU', '6.15.9')).toBe('added in 6.16');
    expect(absentInVersion('X86_NATIVE_CPU', '6.16')).toBeUndefined();
    expect([versionBefore('6.6.8', '6.7'), versionBefore('6.7', '6.6.8'), versionBefore('6.9', '6.9')]).toEqual([
      true,
      false,
      false,
    ]);
    const config = new Map([
      ['DEBUG_KERNEL', 'n'],
      ['SLUB_TINY', 'y'],
    ]);
    expect(whyDropped('SCHED_STACK_END_CHECK', config)).toBe('needs DEBUG_KERNEL: DEBUG_KERNEL is not set');
    expect(whyDropped('RANDOM_KMALLOC_CACHES', config)).toBe('needs !SLUB_TINY: SLUB_TINY is set');
    expect(whyDropped('KVM', config)).toBeUndefined();
    expect([kept('n', undefined), kept('y', undefined), kept('0xb0', '0xb0')]).toEqual([true, false, true]);
  });
});

describe('the fragments against the research fragments that real Kconfig ran (test/kconfig/run.sh)', () => {
  /** A fragment's requests, as symbol=value lines (n for not set), in order. */
  const requests = (text: string): string[] =>
    text
      .split('\n')
      .map((l) => /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(l) ?? /^# CONFIG_([A-Za-z0-9_]+) is not set$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]}=${m[2] ?? 'n'}`);
  const research = async (name: string): Promise<string[]> =>
    requests(await readFile(path.join(import.meta.dirname, 'kconfig/fragments', name), 'utf8'));
  it.each([
    ['toolchain = gnu\nharden = base\n', 'harden', 'harden-base.config'],
    ['toolchain = gnu\nharden = strict\n', 'harden', 'harden-strict-gnu.config'],
    ['toolchain = llvm\nharden = strict\n', 'harden', 'harden-strict-llvm.config'],
    ['optimize = size\n', 'optimize', 'optimize-size.config'],
    ['optimize = performance\n', 'optimize', 'optimize-performance.config'],
    ['disable = KVM\n', 'disable', 'disable-kvm.config'],
  ])('%j: the %s fragment asks what %s asks', async (conf, key, name) => {
    const frag = (await presetFragments(parseConfig(conf, F))).find((f) => f.key === key)!;
    expect(requests(frag.content)).toEqual(await research(name));
  });
});

describe('doctor rebuild-needed on native = yes', () => {
  it("expects the hook's -march=native in a 6.12 kernel's KCFLAGS, and is content once it is there", async () => {
    const { doctorRoot, BASE_CONF, BASE_ENVIRONMENT, KERNEL, bzip2, savedEnvironment } = await import(
      './helpers/doctor-root.js'
    );
    const { doctorCommand } = await import('../src/commands/doctor.js');
    const root = await doctorRoot();
    await writeFile(path.join(root.dir, CONF), `${BASE_CONF}native = yes\n`);
    const changes = async () =>
      (
        (await doctorCommand(root.ctx, { checks: ['rebuild-needed'], list: false, exit: 'error' })).data as {
          checks: { findings: { changes: { variable: string; now: string }[] }[] }[];
        }
      ).checks[0]!.findings.flatMap((f) => f.changes.map((c) => [c.variable, c.now]));
    expect(await changes()).toEqual([['KCFLAGS', '-O2 -pipe -march=native']]);
    await writeFile(
      path.join(root.dir, `var/db/pkg/${KERNEL}/environment.bz2`),
      bzip2(savedEnvironment({ ...BASE_ENVIRONMENT, KCFLAGS: '-O2 -pipe -march=native' })),
    );
    expect(await changes()).toEqual([]);
  });
});
