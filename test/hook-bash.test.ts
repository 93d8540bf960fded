// The real hook (hooks/kernel-hook.bash) in real bash, behind the real bashrc block, phase after phase
// with the environment saved and restored between phases as Portage does (helpers/portage-phases.ts).
import { describe, it, expect } from 'vitest';
import { access, chmod, chown, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir, writeTree, type Tree } from './helpers/tree.js';
import {
  PHASES,
  runPhase,
  runPhases,
  recorded,
  exported,
  messages,
  type Package,
  type PhaseOptions,
  type Phase,
} from './helpers/portage-phases.js';
import { insertBlock } from '../src/hooks/bashrc-block.js';
import { compileSettings } from '../src/hooks/settings.js';
import { parseConfig } from '../src/config/kopt-conf.js';
import { TOOLCHAIN, LLVM_SLOT_TOOLS, llvmEnv } from '../src/hooks/toolchain.js';
import { SETTING_RULES } from '../src/hooks/settings.js';
import { LTO_FRAGMENT_NAME } from '../src/hooks/lto-fragment.js';
import { filterHostFlags, HOST_FLAG_DROP } from '../src/hooks/host-flags.js';

const HOOK = path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash');
const KERNEL: Package = { category: 'sys-kernel', pn: 'gentoo-kernel', pv: '6.6.58' };
const LLVM_CONF =
  'packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel\ntoolchain = llvm\nkcflags = -O3 -march=native -pipe\n';

interface Setup {
  dir: string;
  o: PhaseOptions;
  stubLog: string;
  settings: string;
}

/** LLVM slot N with every tool (or all but `omit`) as an executable stub under EPREFIX. */
function slot(n: number, omit: string[] = []): Tree {
  const tree: Tree = {};
  for (const tool of LLVM_SLOT_TOOLS)
    if (!omit.includes(tool)) tree[`eprefix/usr/lib/llvm/${n}/bin/${tool}`] = { content: '#!/bin/sh\n', mode: 0o755 };
  return tree;
}

/**
 * A config root with the block in bashrc, the hook, settings compiled from `conf` by the real
 * compiler (then `edit`ed, to fake a hand edit), LLVM slots 19, 20 (complete) and 21 (no ld.lld)
 * under EPREFIX, and a stub `node` that logs how it was run and exits with `stubExit`.
 */
async function setup(
  opts: {
    conf?: string;
    tree?: Tree;
    env?: Record<string, string>;
    edit?: (s: string) => string;
    stubExit?: number;
  } = {},
): Promise<Setup> {
  const dir = await testdir({ ...slot(19), ...slot(20), ...slot(21, ['ld.lld']), ...opts.tree });
  const stubLog = path.join(dir, 'stub.log');
  const node = path.join(dir, 'bin/node');
  const bin = path.join(dir, 'lib/gentoo-kopt/dist/bin.js');
  await writeTree(dir, {
    'bin/node': {
      content: `#!/bin/bash\n{ printf 'ARGS'; printf ' %s' "$@"; printf '\\nENV %s|%s|%s\\n' "$PORTAGE_CONFIGROOT" "$ROOT" "$EPREFIX"; } >> '${stubLog}'\nexit ${opts.stubExit ?? 0}\n`,
      mode: 0o755,
    },
    'lib/gentoo-kopt/dist/bin.js': '// stub\n',
    'config/etc/portage/bashrc': insertBlock('', 'bashrc'),
    'config/etc/gentoo-kopt/kernel-hook.bash': await readFile(HOOK),
  });
  const confFile = path.join(dir, 'config/etc/gentoo-kopt/kopt.conf');
  let settings = compileSettings(parseConfig(opts.conf ?? LLVM_CONF, confFile), { node, bin });
  if (opts.edit) settings = opts.edit(settings);
  await writeFile(path.join(dir, 'config/etc/gentoo-kopt/hook-settings'), settings, { mode: 0o644 });
  await chmod(path.join(dir, 'config/etc/gentoo-kopt/hook-settings'), 0o644);
  const o: PhaseOptions = {
    configRoot: path.join(dir, 'config'),
    tmp: path.join(dir, 'build/temp'),
    eprefix: path.join(dir, 'eprefix'),
    root: path.join(dir, 'root'),
    env: opts.env,
  };
  return { dir, o, stubLog, settings };
}

const stubRuns = async (s: Setup): Promise<string[]> =>
  (await readFile(s.stubLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);

/** The exported variables gentoo-kopt may set, after one phase. */
async function toolchainExports(s: Setup, phase: Phase): Promise<Record<string, string | undefined>> {
  const ex = await exported(s.o.tmp, phase);
  const names = ['KCFLAGS', 'LLVM', 'LLVM_IAS', ...TOOLCHAIN.map((r) => r.variable)];
  return Object.fromEntries(names.map((n) => [n, ex.get(n)]));
}

describe('the kernel hook through the phases', () => {
  it('exports KCFLAGS and one complete LLVM slot (the newest), identically in every phase', async () => {
    const s = await setup();
    const results = await runPhases(KERNEL, s.o);
    expect(results.map((r) => [r.phase, r.status])).toEqual(PHASES.map((p) => [p, 0]));
    const want = { KCFLAGS: '-O3 -march=native -pipe', ...llvmEnv(s.o.eprefix!, 20) };
    for (const phase of PHASES) expect(await toolchainExports(s, phase)).toEqual(want);
    // every exported variable, not just ours, is the same in each phase (but EBUILD_PHASE)
    const all = async (p: (typeof PHASES)[number]): Promise<string[]> =>
      [...(await exported(s.o.tmp, p))]
        .filter(([k]) => k !== 'EBUILD_PHASE' && !k.startsWith('KOPT_TEST_'))
        .map(([k, v]) => `${k}=${v}`);
    for (const phase of PHASES) expect(await all(phase)).toEqual(await all('setup'));
    // no function left behind, in any phase
    for (const phase of PHASES)
      expect(await recorded(s.o.tmp, 'funcs.after', phase)).toEqual(await recorded(s.o.tmp, 'funcs.before', phase));
  });

  it("a binary package's setup and a later `emerge --config` run the hook: exports, no sync, no function left", async () => {
    const s = await setup();
    const binary = { ...s.o, mergeType: 'binary' as const };
    const results = [
      ...(await runPhases(KERNEL, binary, ['setup', 'preinst', 'postinst'])),
      await runPhase(KERNEL, 'config', s.o),
    ];
    expect(results.map((r) => [r.phase, r.status])).toEqual([
      ['setup', 0],
      ['preinst', 0],
      ['postinst', 0],
      ['config', 0],
    ]);
    const want = { KCFLAGS: '-O3 -march=native -pipe', ...llvmEnv(s.o.eprefix!, 20) };
    for (const phase of ['setup', 'preinst', 'postinst', 'config'] as const) {
      expect(await toolchainExports(s, phase), phase).toEqual(want);
      expect(await recorded(s.o.tmp, 'funcs.after', phase), phase).toEqual(
        await recorded(s.o.tmp, 'funcs.before', phase),
      );
    }
    expect(await stubRuns(s)).toEqual([]);
  });

  it('runs sync-patches once, in setup, for the exact version, with the ebuild roots', async () => {
    const s = await setup();
    await runPhases({ ...KERNEL, pr: 'r1' }, s.o);
    expect(await stubRuns(s)).toEqual([
      'ARGS ' +
        path.join(s.dir, 'lib/gentoo-kopt/dist/bin.js') +
        ' sync-patches --no-fetch --package sys-kernel/gentoo-kernel-6.6.58-r1',
      `ENV ${s.o.configRoot}/|${s.o.root}/|${s.o.eprefix}`,
    ]);
    const msgs = await messages(s.o.tmp);
    expect(
      msgs.filter((m) => m.startsWith('INFO gentoo-kopt: sys-kernel/gentoo-kernel-6.6.58-r1: toolchain llvm, slot 20')),
    ).toHaveLength(1);
    expect(msgs).toContain('INFO gentoo-kopt: KCFLAGS=-O3 -march=native -pipe');
    expect(msgs.filter((m) => !m.startsWith('INFO'))).toEqual([]);
  });

  it.each([
    ['llvm-slot = 19', 19],
    ['', 20],
  ])('slot choice: %j -> %i', async (line, n) => {
    const s = await setup({ conf: `${LLVM_CONF}${line}\n` });
    await runPhases(KERNEL, s.o, ['setup', 'compile']);
    expect((await exported(s.o.tmp, 'compile')).get('CC')).toBe(`${s.o.eprefix}/usr/lib/llvm/${n}/bin/clang`);
  });

  it('stays with the slot chosen in setup when a newer one appears mid-build', async () => {
    const s = await setup();
    await runPhases(KERNEL, s.o, ['setup', 'unpack']);
    await writeTree(s.dir, slot(22));
    await runPhases(KERNEL, s.o, ['prepare', 'compile']);
    expect((await exported(s.o.tmp, 'compile')).get('LD')).toBe(`${s.o.eprefix}/usr/lib/llvm/20/bin/ld.lld`);
  });

  it.each([
    ['an incomplete configured slot', 'llvm-slot = 21\n', {}, /llvm-slot = 21, but .*\/21\/bin lacks: ld\.lld/],
    [
      'no LLVM at all',
      '',
      { broot: path.sep + 'nonexistent' },
      /no LLVM slot in \/nonexistent\/usr\/lib\/llvm has all of/,
    ],
  ])('dies in setup with the fix for %s', async (_name, extra, o, message) => {
    const s = await setup({ conf: LLVM_CONF + extra });
    const results = await runPhases(KERNEL, { ...s.o, ...o });
    expect(results.map((r) => r.status)).toEqual([1]);
    const msgs = await messages(s.o.tmp);
    expect(msgs.some((m) => message.test(m))).toBe(true);
    expect(msgs.some((m) => m.startsWith('ERROR gentoo-kopt: fix: emerge llvm-core/clang'))).toBe(true);
    expect(msgs.at(-1)).toMatch(/^DIE gentoo-kopt: cannot set up the llvm toolchain/);
  });

  it('applies per-package settings (vanilla-kernel with its own KCFLAGS, gnu)', async () => {
    const s = await setup({ conf: `${LLVM_CONF}\n[sys-kernel/vanilla-kernel]\nkcflags = -O2\ntoolchain = gnu\n` });
    await runPhases({ category: 'sys-kernel', pn: 'vanilla-kernel', pv: '6.12.58' }, s.o);
    for (const phase of PHASES) {
      expect(await toolchainExports(s, phase)).toEqual({
        ...Object.fromEntries(Object.keys(await toolchainExports(s, phase)).map((k) => [k, undefined])),
        KCFLAGS: '-O2',
      });
    }
  });
});

describe('nothing at all for other packages and the depend phase', () => {
  it.each([
    ['app-misc/foo', { category: 'app-misc', pn: 'foo', pv: '1.0' }, 'setup'],
    ['sys-kernel/gentoo-kernel-bin', { category: 'sys-kernel', pn: 'gentoo-kernel-bin', pv: '6.6.58' }, 'setup'],
    ['sys-kernel/gentoo-sources', { category: 'sys-kernel', pn: 'gentoo-sources', pv: '6.6.58' }, 'setup'],
    ['an unconfigured kernel', { category: 'sys-kernel', pn: 'asahi-kernel', pv: '6.6.58' }, 'setup'],
    ['the depend phase', KERNEL, 'depend'],
  ] as const)('%s', async (_name, pkg, first) => {
    const s = await setup({ env: { CC: 'gcc', KCFLAGS: '-O1' } });
    const phases = first === 'depend' ? (['depend'] as const) : PHASES;
    const results = await runPhases(pkg, s.o, phases);
    expect(results.every((r) => r.status === 0)).toBe(true);
    for (const phase of phases) {
      expect(await recorded(s.o.tmp, 'vars.after', phase)).toEqual(await recorded(s.o.tmp, 'vars.before', phase));
      expect(await recorded(s.o.tmp, 'funcs.after', phase)).toEqual(await recorded(s.o.tmp, 'funcs.before', phase));
    }
    expect(await messages(s.o.tmp)).toEqual([]);
    expect(await stubRuns(s)).toEqual([]);
  });

  it('costs one `case` and no command or subshell for a non-kernel package', async () => {
    const s = await setup();
    await runPhase({ category: 'app-misc', pn: 'foo', pv: '1.0' }, 'compile', { ...s.o, xtrace: true });
    const trace = (await readFile(path.join(s.o.tmp, 'xtrace.compile'), 'utf8'))
      .split('\n')
      .filter((l) => l && l !== '+ set +x');
    // `source bashrc` and the block's case: nothing else ran
    expect(trace).toEqual([expect.stringMatching(/^\+ source /), '++ case $CATEGORY/$PN in']);
    // and for a kernel, the same bashrc runs the kernel-only part
    await runPhase(KERNEL, 'compile', { ...s.o, xtrace: true });
    const kernel = await readFile(path.join(s.o.tmp, 'xtrace.compile'), 'utf8');
    expect(kernel).toMatch(/^\+\+ builtin source \/dev\/stdin$/m);
  });
});

describe("the user's own hook functions", () => {
  const userHook = 'pre_pkg_setup() {\n\techo "user pre_pkg_setup ${PF}" >> "${T}/user-hook.log"\n}\n';
  it.each([
    ['defined before the block', insertBlock(userHook, 'bashrc')],
    ['defined after the block', `${insertBlock('', 'bashrc')}\n${userHook}`],
  ])('pre_pkg_setup %s still runs, and so does the sync', async (_name, bashrc) => {
    const s = await setup();
    await writeFile(path.join(s.o.configRoot, 'etc/portage/bashrc'), bashrc);
    const results = await runPhases(KERNEL, s.o);
    expect(results.every((r) => r.status === 0)).toBe(true);
    expect(await readFile(path.join(s.o.tmp, 'user-hook.log'), 'utf8')).toBe(
      'user pre_pkg_setup gentoo-kernel-6.6.58\n',
    );
    expect(await stubRuns(s)).toHaveLength(2);
    expect((await exported(s.o.tmp, 'compile')).get('CC')).toMatch(/\/llvm\/20\/bin\/clang$/);
  });
});

describe("the user's shell options in bashrc", () => {
  // Portage sources bashrc with the user's own settings in force: the hook must give the same result
  // under errexit and any glob options, and put them back as they were. (errexit is switched off again
  // after the block: Portage's own phase code does not run under it.)
  const conf = LLVM_CONF + 'series = kopt-demo\n';
  it.each([
    ['set -e', 'set -e'],
    ['failglob', 'shopt -s failglob'],
    ['noglob', 'set -f'],
    ['nocaseglob and nullglob', 'shopt -s nocaseglob nullglob'],
    ['all of them', 'set -e -f; shopt -s failglob nocaseglob'],
  ])('%s: same exports, the whole summary, options restored', async (_name, options) => {
    const plain = await setup({ conf });
    await runPhases(KERNEL, plain.o);
    const s = await setup({ conf });
    const bashrc = path.join(s.o.configRoot, 'etc/portage/bashrc');
    const record =
      '{ shopt -p nullglob failglob nocaseglob || :; } > "${T}/shopt.after"; echo "$-" > "${T}/flags.after"; set +e +f\n';
    await writeFile(bashrc, `${options}\n${await readFile(bashrc, 'utf8')}${record}`);
    const results = await runPhases(KERNEL, s.o);
    expect(results.map((r) => r.status)).toEqual(PHASES.map(() => 0));
    const norm = (o: Record<string, string | undefined>, dir: string) =>
      JSON.parse(JSON.stringify(o).replaceAll(dir, '<dir>'));
    for (const phase of PHASES)
      expect(norm(await toolchainExports(s, phase), s.dir)).toEqual(
        norm(await toolchainExports(plain, phase), plain.dir),
      );
    const strip = (m: string[], dir: string) => m.map((l) => l.replaceAll(dir, '<dir>'));
    expect(strip(await messages(s.o.tmp), s.dir)).toEqual(strip(await messages(plain.o.tmp), plain.dir));
    expect((await messages(s.o.tmp)).some((m) => m.includes('config fragments:'))).toBe(true);
    const shopt = await readFile(path.join(s.o.tmp, 'shopt.after'), 'utf8');
    expect(shopt.includes('-s failglob')).toBe(options.includes('failglob'));
    expect(shopt.includes('-s nocaseglob')).toBe(options.includes('nocaseglob'));
    expect((await readFile(path.join(s.o.tmp, 'flags.after'), 'utf8')).includes('f')).toBe(
      /set -(e )?-?f|-e -f/.test(options),
    );
  });
});

describe('mixed toolchains', () => {
  it.each([
    ['CC=gcc with toolchain = llvm', LLVM_CONF, { CC: 'gcc' }, ['CC=gcc']],
    [
      'ccache + CHOST-gcc and BUILD_CC with toolchain = llvm',
      LLVM_CONF,
      { CC: 'ccache x86_64-pc-linux-gnu-gcc-14', BUILD_CC: 'gcc' },
      ['CC=ccache x86_64-pc-linux-gnu-gcc-14', 'BUILD_CC=gcc'],
    ],
    [
      'LD=ld.lld and LLVM=1 with toolchain = gnu',
      'toolchain = gnu\n',
      { LD: 'ld.lld', LLVM: '1' },
      ['LD=ld.lld', 'LLVM=1'],
    ],
  ])('%s: eerror lists them, setup dies with the fix', async (_name, conf, env, listed) => {
    const s = await setup({ conf, env });
    const results = await runPhases(KERNEL, s.o);
    expect(results.map((r) => r.status)).toEqual([1]);
    const msgs = await messages(s.o.tmp);
    for (const l of listed) expect(msgs).toContain(`ERROR gentoo-kopt:   ${l}`);
    expect(msgs.some((m) => m.includes('set mixed-toolchain = warn'))).toBe(true);
    expect(msgs.at(-1)).toMatch(/^DIE gentoo-kopt: mixed GNU\/LLVM toolchain for sys-kernel\/gentoo-kernel-6\.6\.58/);
  });

  it('mixed = warn: warns once, and kopt.conf toolchain is exported in every phase', async () => {
    const s = await setup({
      env: { CC: 'gcc', HOSTLD: 'ld.bfd' },
      edit: (t) => t.replaceAll('.mixed=die', '.mixed=warn'),
    });
    const results = await runPhases(KERNEL, s.o);
    expect(results.every((r) => r.status === 0)).toBe(true);
    const msgs = await messages(s.o.tmp);
    expect(msgs.filter((m) => m.startsWith('WARN'))).toEqual([
      'WARN gentoo-kopt: kopt.conf says toolchain = llvm for sys-kernel/gentoo-kernel; replaced from the environment:',
      'WARN gentoo-kopt:   CC=gcc',
      'WARN gentoo-kopt:   HOSTLD=ld.bfd',
    ]);
    for (const phase of PHASES)
      expect(await toolchainExports(s, phase)).toEqual({
        KCFLAGS: '-O3 -march=native -pipe',
        ...llvmEnv(s.o.eprefix!, 20),
      });
  });

  it('an LLVM tool of another slot is replaced (one slot for all), not a conflict', async () => {
    const s = await setup({ env: { CC: 'clang-18', AR: 'llvm-ar' } });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    const warns = (await messages(s.o.tmp)).filter((m) => m.startsWith('WARN'));
    expect(warns).toEqual([
      `WARN gentoo-kopt: CC=clang-18 from the environment replaced by ${s.o.eprefix}/usr/lib/llvm/20/bin/clang (one LLVM slot for every tool)`,
      `WARN gentoo-kopt: AR=llvm-ar from the environment replaced by ${s.o.eprefix}/usr/lib/llvm/20/bin/llvm-ar (one LLVM slot for every tool)`,
    ]);
  });

  it('leaves no variable of its own behind on the paths that classify tools (notes, conflicts)', async () => {
    const s = await setup({
      env: { CC: 'clang-18', HOSTLD: 'ld.bfd', BUILD_CC: 'gcc' },
      edit: (t) => t.replaceAll('.mixed=die', '.mixed=warn'),
    });
    expect((await runPhases(KERNEL, s.o, ['setup'])).map((r) => r.status)).toEqual([0]);
    const changed = [
      'KCFLAGS',
      'LLVM',
      'LLVM_IAS',
      ...TOOLCHAIN.map((r) => r.variable),
      'BUILD_CC',
      'KOPT_(DONE|EXPORT|UNSET)',
    ];
    const ours = new RegExp(`^declare -[-a-zA-Z]* (${changed.join('|')})=`);
    const rest = async (what: 'vars.before' | 'vars.after') =>
      (await recorded(s.o.tmp, what, 'setup')).filter((l) => !ours.test(l));
    expect(await rest('vars.after')).toEqual(await rest('vars.before'));
    expect((await messages(s.o.tmp)).filter((m) => m.startsWith('WARN'))).toEqual([
      'WARN gentoo-kopt: kopt.conf says toolchain = llvm for sys-kernel/gentoo-kernel; replaced from the environment:',
      'WARN gentoo-kopt:   HOSTLD=ld.bfd',
      'WARN gentoo-kopt:   BUILD_CC=gcc',
      `WARN gentoo-kopt: CC=clang-18 from the environment replaced by ${s.o.eprefix}/usr/lib/llvm/20/bin/clang (one LLVM slot for every tool)`,
    ]);
  });

  it('toolchain = gnu leaves GNU choices alone and exports no LLVM', async () => {
    const s = await setup({ conf: 'toolchain = gnu\nkcflags = -O2\n', env: { CC: 'gcc-13' } });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    for (const phase of PHASES) {
      const ex = await toolchainExports(s, phase);
      expect([ex.CC, ex.LD, ex.LLVM, ex.KCFLAGS]).toEqual(['gcc-13', undefined, undefined, '-O2']);
    }
  });
});

describe('hostile or broken settings never execute', () => {
  const marker = (s: Setup): string => path.join(s.dir, 'pwned');
  it.each([
    ['$(...)', (m: string) => `-O2 $(touch ${m})`],
    ['backticks', (m: string) => `-O2 \`touch ${m}\``],
    ['; command', (m: string) => `-O2; touch ${m}`],
    ['quotes', (m: string) => `-O2" ; touch ${m}; "`],
    ['&& command', (m: string) => `-O2 && touch ${m}`],
  ])('kcflags with %s is ignored with an ewarn', async (_name, value) => {
    const s = await setup();
    const settingsFile = path.join(s.o.configRoot, 'etc/gentoo-kopt/hook-settings');
    await writeFile(
      settingsFile,
      s.settings.replace(
        /^sys-kernel\/gentoo-kernel\.kcflags=.*$/m,
        () => `sys-kernel/gentoo-kernel.kcflags=${value(marker(s))}`,
      ),
    );
    const results = await runPhases(KERNEL, s.o, ['setup', 'compile']);
    expect(results.every((r) => r.status === 0)).toBe(true);
    await expect(access(marker(s))).rejects.toThrow();
    for (const phase of ['setup', 'compile'] as const)
      expect((await exported(s.o.tmp, phase)).get('KCFLAGS')).toBeUndefined();
    expect(
      (await messages(s.o.tmp)).some((m) =>
        /^WARN gentoo-kopt: .*hook-settings:\d+: kcflags: value not allowed/.test(m),
      ),
    ).toBe(true);
  });

  it('hostile node/bin paths and raw lines are ignored; the sync does not run them', async () => {
    const s = await setup();
    const m = marker(s);
    const text = s.settings
      .replace(/^node=.*$/m, `node=/bin/sh -c 'touch ${m}'`)
      .replace(/^bin=.*$/m, `bin=$(touch ${m})`)
      .concat(`$(touch ${m})\n\`touch ${m}\`\nsys-kernel/gentoo-kernel.toolchain=llvm;touch ${m}\n`)
      .concat(`sys-kernel/gentoo-kernel.$(touch ${m})=1\nsys-kernel/gentoo-kernel.a]$(touch ${m})[b=1\n`);
    await writeFile(path.join(s.o.configRoot, 'etc/gentoo-kopt/hook-settings'), text);
    const results = await runPhases(KERNEL, s.o);
    expect(results.every((r) => r.status === 0)).toBe(true);
    await expect(access(m)).rejects.toThrow();
    const msgs = await messages(s.o.tmp);
    expect(msgs).toContain(
      'WARN gentoo-kopt: the settings name no gentoo-kopt program: sys-kernel/gentoo-kernel-6.6.58 is built without syncing its patch series',
    );
    expect(msgs.filter((x) => x.includes('value not allowed') || x.includes('not key=value'))).toHaveLength(5);
    expect(msgs.filter((x) => x.includes('unknown key'))).toHaveLength(2);
  });

  it('a group- or world-writable settings file is ignored as a whole', async () => {
    const s = await setup();
    await chmod(path.join(s.o.configRoot, 'etc/gentoo-kopt/hook-settings'), 0o666);
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    // nothing but the record that the later phases of this build use no settings either
    const record = (l: string): boolean => /^declare -. KOPT_(DONE|EXPORT|UNSET)=/.test(l);
    expect((await recorded(s.o.tmp, 'vars.after', 'setup')).filter(record)).toEqual([
      expect.stringMatching(/^declare -- KOPT_DONE="b\d{6} b\d{6}"$/),
      'declare -a KOPT_EXPORT=()',
      'declare -a KOPT_UNSET=()',
    ]);
    for (const phase of PHASES)
      expect((await recorded(s.o.tmp, 'vars.after', phase)).filter((l) => !record(l))).toEqual(
        (await recorded(s.o.tmp, 'vars.before', phase)).filter((l) => !record(l)),
      );
    expect(await messages(s.o.tmp)).toEqual([
      expect.stringMatching(/^WARN gentoo-kopt: .*hook-settings is writable by group or others: settings ignored/),
    ]);
    expect(await stubRuns(s)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)('a settings file not owned by root is ignored when running as root', async () => {
    const s = await setup();
    await chown(path.join(s.o.configRoot, 'etc/gentoo-kopt/hook-settings'), 65534, 65534);
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    expect(await messages(s.o.tmp)).toEqual([
      expect.stringMatching(/hook-settings is not owned by root: settings ignored/),
    ]);
  });

  it('a missing settings file is a warning in setup, nothing else', async () => {
    const s = await setup();
    await rm(path.join(s.o.configRoot, 'etc/gentoo-kopt/hook-settings'));
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    expect(await messages(s.o.tmp)).toEqual([
      expect.stringMatching(/hook-settings is missing: nothing to do \(run: gentoo-kopt hooks install\)$/),
    ]);
  });
});

describe('sync failures, strict and LTO', () => {
  it('a failing sync is an ewarn and the build goes on', async () => {
    const s = await setup({ stubExit: 3 });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    expect(await messages(s.o.tmp)).toContain(
      'WARN gentoo-kopt: sync-patches failed with exit status 3: sys-kernel/gentoo-kernel-6.6.58 is built without syncing its patch series',
    );
  });

  it('strict = yes: a failing sync stops the build', async () => {
    const s = await setup({ conf: LLVM_CONF + 'strict = yes\n', stubExit: 1 });
    expect((await runPhases(KERNEL, s.o)).map((r) => r.status)).toEqual([1]);
    expect((await messages(s.o.tmp)).at(-1)).toBe(
      'DIE gentoo-kopt: sync-patches failed with exit status 1; strict = yes stops the build',
    );
  });

  const gccConf = 'toolchain = gnu\nlto = gcc\nseries = gcc-lto\n';
  it('lto = gcc without a gcc-lto patch for this version: built without LTO, with a warning', async () => {
    const s = await setup({ conf: gccConf });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    expect(await messages(s.o.tmp)).toContain(
      'WARN gentoo-kopt: lto = gcc, but no gcc-lto patches for 6.6.58: this kernel is built WITHOUT LTO',
    );
  });

  it('lto = gcc with the series installed for this version: no warning; the summary names series and lto', async () => {
    const s = await setup({
      conf: gccConf,
      tree: {
        'config/etc/portage/patches/sys-kernel/gentoo-kernel-6.6.58/00-gentoo-kopt-1-gcc-lto-01-0001-gcc-LTO.patch':
          'x\n',
        [`eprefix/etc/kernel/config.d/${LTO_FRAGMENT_NAME}`]: 'CONFIG_LTO_GCC=y\n',
      },
    });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    const msgs = await messages(s.o.tmp);
    expect(msgs.filter((m) => !m.startsWith('INFO'))).toEqual([]);
    expect(msgs).toContain('INFO gentoo-kopt: series: gcc-lto; lto gcc');
    expect(msgs).toContain(`INFO gentoo-kopt: config fragments: ${LTO_FRAGMENT_NAME}`);
  });

  // eapply_user's directories (bin/phase-helpers.sh): ${PN}, ${P}, ${P}-${PR}, each also with :${SLOT}
  it.each([
    ['gentoo-kernel', true],
    ['gentoo-kernel:6.6.58', true],
    ['gentoo-kernel-6.6.58:6.6.58', true],
    ['gentoo-kernel-6.6.58-r1', true],
    ['gentoo-kernel-6.6.58-r1:6.6.58', true],
    ['gentoo-kernel-6.6.57', false],
    ['gentoo-kernel-6.6.58-r2', false],
  ])('lto = gcc with a gcc-lto patch in patches/sys-kernel/%s: LTO for -6.6.58-r1 is %s', async (dir, found) => {
    const s = await setup({
      conf: gccConf.replace('series = gcc-lto', 'series = gcc-lto gcc-lto-extra'),
      tree: {
        [`config/etc/portage/patches/sys-kernel/${dir}/00-gentoo-kopt-2-gcc-lto-extra-01-0001-gcc-LTO.patch`]: 'x\n',
        [`eprefix/etc/kernel/config.d/${LTO_FRAGMENT_NAME}`]: 'CONFIG_LTO_GCC=y\n',
      },
    });
    expect((await runPhases({ ...KERNEL, pr: 'r1' }, s.o, ['setup'])).map((r) => r.status)).toEqual([0]);
    const msgs = await messages(s.o.tmp);
    expect(msgs).toContain('INFO gentoo-kopt: series: gcc-lto gcc-lto-extra; lto gcc');
    expect(msgs.filter((m) => !m.startsWith('INFO'))).toEqual(
      found
        ? []
        : [
            'WARN gentoo-kopt: lto = gcc, but no gcc-lto patches for 6.6.58: this kernel is built WITHOUT LTO',
            'WARN gentoo-kopt: (olddefconfig drops CONFIG_LTO_GCC when the kernel lacks it)',
          ],
    );
  });

  it('lto = thin without its fragment in config.d: a warning', async () => {
    const s = await setup({ conf: LLVM_CONF + 'lto = thin\n' });
    expect((await runPhases(KERNEL, s.o)).every((r) => r.status === 0)).toBe(true);
    expect(
      (await messages(s.o.tmp)).some((m) =>
        m.startsWith(
          `WARN gentoo-kopt: lto = thin, but ${s.o.eprefix}/etc/kernel/config.d/${LTO_FRAGMENT_NAME} is missing`,
        ),
      ),
    ).toBe(true);
  });
});

describe('the bash hook and the TypeScript tables agree', () => {
  it('the toolchain table', async () => {
    const text = await readFile(HOOK, 'utf8');
    const table = /local -a k_tools=\(([^)]*)\)/
      .exec(text)![1]!
      .trim()
      .split(/\s+/)
      .map((w) => w.replace(/^'(.*)'$/, '$1'));
    expect(table).toEqual(TOOLCHAIN.map((r) => `${r.variable}:${r.llvm}`));
  });

  it('the value rules', async () => {
    const text = await readFile(HOOK, 'utf8');
    const rules = Object.fromEntries([...text.matchAll(/^\t\t\[([a-z-]+)\]='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(rules).toEqual(
      Object.fromEntries(Object.entries(SETTING_RULES).map(([k, r]) => [k, r.source.replaceAll('\\/', '/')])),
    );
  });

  it('the LTO fragment name', async () => {
    expect(await readFile(HOOK, 'utf8')).toContain(`/${LTO_FRAGMENT_NAME}`);
  });
});

// distcc/ccache (issue 13): Portage puts the masquerade directories first in PATH; the hook names the
// compiler so that it goes through them. The real daemons and Kbuild: test/distcc/run.sh.
describe('FEATURES=distcc/ccache and the host tools with toolchain = llvm', () => {
  /** Stub wrappers in wrap/, masquerade dirs linking clang{,++}-19/20 to them, and the slots' versioned names. */
  function masquerade(links = ['clang-19', 'clang++-19', 'clang-20', 'clang++-20']): Tree {
    const tree: Tree = {
      'wrap/distcc': { content: '#!/bin/sh\n', mode: 0o755 },
      'wrap/ccache': { content: '#!/bin/sh\n', mode: 0o755 },
    };
    for (const name of links) {
      tree[`masq/distcc/${name}`] = { symlink: '../../wrap/distcc' };
      tree[`masq/ccache/${name}`] = { symlink: '../../wrap/ccache' };
    }
    for (const n of [19, 20]) {
      tree[`eprefix/usr/lib/llvm/${n}/bin/clang-${n}`] = { content: '#!/bin/sh\n', mode: 0o755 };
      tree[`eprefix/usr/lib/llvm/${n}/bin/clang++-${n}`] = { symlink: `clang-${n}` };
    }
    return tree;
  }
  /** PATH as doebuild.py builds it for FEATURES (ccache's dir, then distcc's, then the rest). */
  const portagePath = (dir: string, features: string, rest: string): string =>
    [
      ...(features.includes('ccache') ? [`${dir}/masq/ccache`] : []),
      ...(features.includes('distcc') ? [`${dir}/masq/distcc`] : []),
      `${dir}/wrap`,
      rest,
    ].join(':');

  async function build(features: string, opts: { links?: string[]; env?: Record<string, string>; conf?: string } = {}) {
    const s = await setup({ tree: masquerade(opts.links), conf: opts.conf });
    s.o.env = {
      FEATURES: features,
      PATH: portagePath(s.dir, features, process.env.PATH ?? '/usr/bin:/bin'),
      ...opts.env,
    };
    const results = await runPhases(KERNEL, s.o);
    expect(results.map((r) => r.status)).toEqual(PHASES.map(() => 0));
    return s;
  }

  it.each([
    ['distcc', undefined],
    ['ccache', undefined],
    ['ccache distcc', 'clang'],
  ])(
    'FEATURES=%j: CC=clang-20 CXX=clang++-20 through the masquerade, the slot next in PATH, in every phase',
    async (features, cctype) => {
      const s = await build(features, {
        conf: 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nkcflags = -O2\n',
      });
      const bin = `${s.o.eprefix}/usr/lib/llvm/20/bin`;
      const masq = features
        .split(' ')
        .sort()
        .map((f) => `${s.dir}/masq/${f}`);
      for (const phase of PHASES) {
        const ex = await exported(s.o.tmp, phase);
        expect({ CC: ex.get('CC'), CXX: ex.get('CXX'), HOSTCC: ex.get('HOSTCC'), LD: ex.get('LD') }, phase).toEqual({
          CC: 'clang-20',
          CXX: 'clang++-20',
          HOSTCC: `${bin}/clang`,
          LD: `${bin}/ld.lld`,
        });
        expect(
          ex
            .get('PATH')!
            .split(':')
            .slice(0, masq.length + 1),
          phase,
        ).toEqual([...masq, bin]);
        expect(ex.get('CCACHE_COMPILERTYPE'), phase).toBe(cctype);
      }
      const msgs = await messages(s.o.tmp);
      expect(msgs).toContain(
        `INFO gentoo-kopt: FEATURES has ${features.split(' ').sort().reverse().join(' ')}: CC=clang-20 CXX=clang++-20 through ${masq.join(':')}, then ${bin} in PATH`,
      );
      expect(msgs.filter((m) => !m.startsWith('INFO'))).toEqual([]);
    },
  );

  it('without distcc or ccache in FEATURES: absolute paths, PATH untouched', async () => {
    const s = await build('sandbox');
    const ex = await exported(s.o.tmp, 'compile');
    expect(ex.get('CC')).toBe(`${s.o.eprefix}/usr/lib/llvm/20/bin/clang`);
    expect(ex.get('PATH')).toBe(portagePath(s.dir, 'sandbox', process.env.PATH ?? '/usr/bin:/bin'));
  });

  it('a masquerade directory without clang-20: absolute paths and a warning with the fix', async () => {
    const s = await build('distcc', { links: ['clang-19', 'clang++-19'] });
    expect((await exported(s.o.tmp, 'compile')).get('CC')).toBe(`${s.o.eprefix}/usr/lib/llvm/20/bin/clang`);
    expect((await messages(s.o.tmp)).filter((m) => m.startsWith('WARN'))).toEqual([
      'WARN gentoo-kopt: FEATURES has distcc, but no masquerade directory at the front of PATH links clang-20 and clang++-20:',
      'WARN gentoo-kopt:   CC and CXX stay absolute paths, which bypass distcc (fix: eselect compiler-shadow update)',
    ]);
  });

  it('llvm-slot = 19 gives clang-19, and a later phase keeps the slot that CC=clang-19 names', async () => {
    const s = await build('distcc', { conf: `${LLVM_CONF}llvm-slot = 19\n` });
    expect((await exported(s.o.tmp, 'install')).get('CC')).toBe('clang-19');
  });

  it('distcc with -march=native in KCFLAGS: a warning that distcc keeps those compiles local', async () => {
    const s = await build('distcc');
    expect((await messages(s.o.tmp)).filter((m) => m.startsWith('WARN'))).toEqual([
      "WARN gentoo-kopt: KCFLAGS has -march=native or -mtune=native: distcc compiles every such object locally (use -march=<this CPU's name>)",
    ]);
  });

  it('GCC-only make.conf flags are filtered out of BUILD_CFLAGS/BUILD_LDFLAGS, said once, the same in every phase', async () => {
    const env = {
      CFLAGS: '-O2 -pipe -fgraphite-identity -floop-nest-optimize -fipa-pta -flto=auto -Ofast -Wl,-O1 -march=native',
      LDFLAGS: '-Wl,-O1 -Wl,--as-needed -flto=auto -fuse-linker-plugin',
    };
    const s = await build('sandbox', { env });
    for (const phase of PHASES) {
      const ex = await exported(s.o.tmp, phase);
      expect([ex.get('BUILD_CFLAGS'), ex.get('BUILD_LDFLAGS'), ex.get('CFLAGS')], phase).toEqual([
        '-O2 -pipe -O3 -march=native',
        '-Wl,-O1 -Wl,--as-needed',
        env.CFLAGS,
      ]);
    }
    expect(filterHostFlags(env.CFLAGS, 'CFLAGS').value).toBe('-O2 -pipe -O3 -march=native');
    expect(filterHostFlags(env.LDFLAGS, 'LDFLAGS').value).toBe('-Wl,-O1 -Wl,--as-needed');
    expect((await messages(s.o.tmp)).filter((m) => m.includes('BUILD_'))).toEqual([
      "INFO gentoo-kopt: BUILD_CFLAGS (HOSTCFLAGS/HOSTLDFLAGS of the kernel's host tools, built by clang) without GCC-only -fgraphite-identity -floop-nest-optimize -fipa-pta -flto=auto -Ofast(-O3) -Wl,-O1",
      "INFO gentoo-kopt: BUILD_LDFLAGS (HOSTCFLAGS/HOSTLDFLAGS of the kernel's host tools, built by clang) without GCC-only -flto=auto -fuse-linker-plugin",
    ]);
  });

  it('the drop table is the same whatever files the working directory holds (no pathname expansion)', async () => {
    // each name matches a pattern of the table (-flto=*, -malign-data=*, ...): expanded, the table would
    // hold these names instead of the patterns and let -flto=auto and -malign-data=cacheline through
    const names = ['-flto=x', '-flto-partition=x', '-malign-data=x', '-flive-patching=x'];
    const env = {
      CFLAGS: '-O2 -flto=auto -flto-partition=one -malign-data=cacheline -flive-patching=inline-clone -pipe',
    };
    const tree: Tree = Object.fromEntries(names.map((n) => [`cwd/${n}`, '']));
    const s = await setup({ tree, conf: LLVM_CONF });
    s.o.env = env;
    s.o.cwd = path.join(s.dir, 'cwd');
    const results = await runPhases(KERNEL, s.o);
    expect(results.map((r) => r.status)).toEqual(PHASES.map(() => 0));
    for (const phase of PHASES) expect((await exported(s.o.tmp, phase)).get('BUILD_CFLAGS'), phase).toBe('-O2 -pipe');
    expect(filterHostFlags(env.CFLAGS, 'CFLAGS').value).toBe('-O2 -pipe');
  });

  it('BUILD_CFLAGS wins over CFLAGS; clean flags and toolchain = gnu export nothing', async () => {
    let s = await build('sandbox', { env: { CFLAGS: '-O2 -fipa-pta', BUILD_CFLAGS: '-O2 -fipa-pta -pipe' } });
    expect((await exported(s.o.tmp, 'compile')).get('BUILD_CFLAGS')).toBe('-O2 -pipe');
    s = await build('sandbox', { env: { CFLAGS: '-O2 -pipe' } });
    expect((await exported(s.o.tmp, 'compile')).has('BUILD_CFLAGS')).toBe(false);
    s = await build('sandbox', { env: { CFLAGS: '-O2 -fipa-pta' }, conf: 'toolchain = gnu\n' });
    expect((await exported(s.o.tmp, 'compile')).has('BUILD_CFLAGS')).toBe(false);
  });

  it('the drop table is the same in bash and TypeScript', async () => {
    const text = await readFile(HOOK, 'utf8');
    const table = /local -a k_host_drop=\(([^)]*)\)/
      .exec(text)![1]!
      .trim()
      .split(/\s+/)
      .map((w) => w.replace(/^'(.*)'$/, '$1'));
    expect(table).toEqual([...HOST_FLAG_DROP]);
  });
});
