// gentoo-kopt pgo: the .gcda reader, collect from a gcov tree laid out as debugfs lays it out, the
// owned files and hook settings each action leaves, the hook's flags in real bash, and bad input
// (foreign, truncated and big-endian files, links out of the tree, a failing write): a clear error and
// the root unchanged.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { hooksCommand } from '../src/commands/hooks.js';
import { pgoCommand, type PgoOptions } from '../src/commands/pgo.js';
import { rollbackCommand } from '../src/commands/rollback.js';
import type { CommandContext } from '../src/commands/types.js';
import { KoptError } from '../src/errors.js';
import { parseSettings } from '../src/hooks/settings.js';
import { scanGcda, TAG_SUMMARY, withSummary } from '../src/pgo/gcda.js';
import { resolveRoots } from '../src/portage/roots.js';
import { exported, messages, runPhases } from './helpers/portage-phases.js';
import { snapshot, testdir, type Tree } from './helpers/tree.js';

const STUB = { node: '/usr/bin/node', bin: '/usr/lib/node_modules/gentoo-kopt/dist/bin.js' };
const BUILD = 'var/tmp/portage/sys-kernel/gentoo-kernel-6.12.58/work/build';

/** A .gcda as the kernel writes it (GCC 12.2 layout, no object summary): one function per entry, its arc counters. */
function gcda(functions: number[][], opts: { version?: string; bigEndian?: boolean } = {}): Buffer {
  const words: number[] = [0x67636461, Buffer.from(opts.version ?? 'B22*').readUInt32BE(0), 0x1234, 0x5678];
  functions.forEach((arcs, i) => {
    words.push(0x01000000, 12, i + 1, 0xaaaa, 0xbbbb);
    words.push(0x01a10000, arcs.length * 8);
    for (const a of arcs) words.push(a % 2 ** 32, Math.floor(a / 2 ** 32));
  });
  const b = Buffer.alloc(words.length * 4);
  for (const [i, w] of words.entries()) {
    if (opts.bigEndian) b.writeUInt32BE(w >>> 0, i * 4);
    else b.writeUInt32LE(w >>> 0, i * 4);
  }
  return b;
}

/** A debugfs gcov tree of a dist-kernel build: <abs build dir>/<object>.gcda and dangling .gcno links. */
function gcovTree(extra: Tree = {}): Tree {
  return {
    [`gcov/${BUILD}/init/main.gcda`]: gcda([[5, 0, 7], [0]]),
    [`gcov/${BUILD}/init/main.gcno`]: { symlink: `/${BUILD}/init/main.gcno` },
    [`gcov/${BUILD}/fs/pipe.gcda`]: gcda([
      [900, 12],
      [0, 0],
    ]),
    [`gcov/${BUILD}/kernel/sched/core.gcda`]: gcda([[3]]),
    'gcov/reset': '',
    ...extra,
  };
}

async function root(conf = 'packages = sys-kernel/gentoo-kernel\ntoolchain = gnu\n', tree: Tree = {}) {
  const dir = await testdir({ 'etc/gentoo-kopt/kopt.conf': conf, ...tree });
  const ctx: CommandContext = { roots: resolveRoots({ root: dir, env: {} }), env: {}, json: false, tty: false };
  return { dir, ctx };
}
const pgo = (ctx: CommandContext, o: Omit<PgoOptions, 'pretend'> & { pretend?: boolean }) =>
  pgoCommand(ctx, { pretend: false, ...o });
const settingsOf = async (dir: string) =>
  parseSettings(await readFile(path.join(dir, 'etc/gentoo-kopt/hook-settings'), 'utf8'));
const STORE = 'var/lib/gentoo-kopt/pgo/sys-kernel/gentoo-kernel/6.12.58';

async function thrown(p: Promise<unknown>): Promise<KoptError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KoptError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('.gcda files', () => {
  it('reads the kernel layout, and adds the object summary GCC needs after the header', () => {
    const bytes = gcda([[5, 2 ** 33, 7], [0]]);
    const info = scanGcda(bytes, 'x.gcda');
    expect(info).toEqual({ gccMajor: 12, maxArc: 2 ** 33, functions: 2, summary: false });
    const out = withSummary(bytes, info, 4000);
    expect(out.length).toBe(bytes.length + 16);
    expect(out.subarray(0, 16)).toEqual(bytes.subarray(0, 16));
    expect([out.readUInt32LE(16), out.readUInt32LE(20), out.readUInt32LE(24), out.readUInt32LE(28)]).toEqual([
      TAG_SUMMARY,
      8,
      1,
      4000,
    ]);
    expect(scanGcda(out, 'x.gcda').summary).toBe(true);
    expect(withSummary(out, scanGcda(out, 'x.gcda'), 1)).toBe(out);
  });

  it.each([
    ['an ELF file', Buffer.from('\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00'), /not a \.gcda file/],
    ['too short', Buffer.from('gc'), /too short/],
    ['cut short in a record', gcda([[1, 2, 3]]).subarray(0, 40), /cut short/],
    ['cut in a record header', gcda([[1]]).subarray(0, 20), /cut short/],
    ['written on a big-endian machine', gcda([[1]], { bigEndian: true }), /big-endian.*another architecture/],
    ['of GCC 11', gcda([[1]], { version: 'B11*' }), /GCC 11: only GCC 12 and newer/],
    ['with no version', gcda([[1]], { version: 'zzzz' }), /no valid GCC version/],
  ])('refuses a file %s, naming it', (_what, bytes, message) => {
    let err: unknown;
    try {
      scanGcda(bytes, '/x/fs#pipe.gcda');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KoptError);
    expect((err as KoptError).message).toMatch(message);
    expect((err as KoptError).file).toBe('/x/fs#pipe.gcda');
  });

  it('reads a .gcda that GCC itself wrote (libgcov, with its summary)', async () => {
    const dir = await testdir({
      'p.c': 'int f(int x){return x>3?x*2:x;}\nint main(void){int s=0;for(int i=0;i<10;i++)s+=f(i);return s==0;}\n',
    });
    const cc = spawnSync('gcc', ['-O1', '-fprofile-arcs', '-o', 'p', 'p.c'], { cwd: dir, encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    spawnSync('./p', { cwd: dir });
    const name = (await readdir(dir)).find((n) => n.endsWith('.gcda'))!;
    const info = scanGcda(await readFile(path.join(dir, name)), name);
    expect(info.gccMajor).toBeGreaterThanOrEqual(12);
    expect(info.summary).toBe(true);
    expect(info.functions).toBe(2);
    expect(info.maxArc).toBeGreaterThanOrEqual(10);
  });
});

describe('gentoo-kopt pgo', () => {
  it('instrument, collect --from, use, off: owned files, hook settings, one transaction each', async () => {
    const { dir, ctx } = await root(undefined, gcovTree());
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    const installed = await snapshot(dir);

    const pretend = await pgo(ctx, { action: 'instrument', pretend: true });
    expect(pretend.text).toContain('+CONFIG_GCOV_PROFILE_ALL=y');
    expect(await snapshot(dir)).toEqual(installed);

    const ins = await pgo(ctx, { action: 'instrument' });
    expect(ins.text).toMatch(/slower/);
    const fragment = await readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'), 'utf8');
    expect(fragment.split('\n').filter((l) => l.startsWith('CONFIG_'))).toEqual([
      'CONFIG_DEBUG_FS=y',
      'CONFIG_GCOV_KERNEL=y',
      'CONFIG_GCOV_PROFILE_ALL=y',
    ]);
    let s = await settingsOf(dir);
    expect(s.get('sys-kernel/gentoo-kernel.pgo-mode')).toBe('instrument');
    expect(s.get('sys-kernel/gentoo-kernel.pgo-kind')).toBe('gcov');
    expect(s.get('node')).toBe(STUB.node); // the program the hook runs is kept

    const col = await pgo(ctx, { action: 'collect', from: path.join(dir, 'gcov') });
    expect(col.data.summary[0]).toMatch(
      /^3 object profiles \(3 ran\) from \/var\/tmp\/portage\/.*\/work\/build, GCC 12$/,
    );
    const store = path.join(dir, STORE);
    expect((await readdir(path.join(store, 'gcov'))).sort()).toEqual([
      'fs#pipe.gcda',
      'init#main.gcda',
      'kernel#sched#core.gcda',
    ]);
    const pipe = await readFile(path.join(store, 'gcov/fs#pipe.gcda'));
    expect(pipe.readUInt32LE(16)).toBe(TAG_SUMMARY);
    expect(pipe.readUInt32LE(28)).toBe(900); // sum_max: the largest counter of the whole tree
    const meta = JSON.parse(await readFile(path.join(store, 'profile.json'), 'utf8'));
    expect(meta).toMatchObject({
      format: 1,
      kind: 'gcov',
      cpv: 'sys-kernel/gentoo-kernel-6.12.58',
      pv: '6.12.58',
      buildDir: `/${BUILD}`,
      files: 3,
      gccMajor: 12,
    });

    await pgo(ctx, { action: 'use' });
    s = await settingsOf(dir);
    expect(s.get('sys-kernel/gentoo-kernel.pgo-mode')).toBe('use');
    expect(s.get('sys-kernel/gentoo-kernel.pgo-pv')).toBe('6.12.58');
    expect(s.get('sys-kernel/gentoo-kernel.pgo-profile')).toBe(store);
    await expect(readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'))).rejects.toThrow();
    const ledger = JSON.parse(await readFile(path.join(dir, 'var/lib/gentoo-kopt/ledger.json'), 'utf8'));
    expect(ledger.pgo.files.map((f: { role: string }) => f.role).sort()).toEqual([
      'profile',
      'profile',
      'profile',
      'profile',
      'state',
    ]);
    expect(ledger.hooks.files.some((f: { role: string }) => f.role === 'settings')).toBe(true);

    const status = await pgo(ctx, { action: 'status' });
    expect(status.text).toContain('sys-kernel/gentoo-kernel: gcov use for 6.12.58');

    // rollback undoes `use` (settings and fragment together)
    await rollbackCommand(ctx, { pretend: false, force: false });
    expect((await settingsOf(dir)).get('sys-kernel/gentoo-kernel.pgo-mode')).toBe('instrument');
    await readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'));

    await pgo(ctx, { action: 'off' });
    s = await settingsOf(dir);
    expect([...s.keys()].filter((k) => k.includes('pgo'))).toEqual([]);
    await expect(readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'))).rejects.toThrow();
    expect((await readdir(path.join(store, 'gcov'))).length).toBe(3); // the store is kept
  });

  it('refuses without the hook, for toolchain = llvm, and names the package to choose', async () => {
    const a = await root();
    expect((await thrown(pgo(a.ctx, { action: 'instrument' }))).message).toMatch(/hook, which is not installed/);
    const b = await root('packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\n');
    await hooksCommand(b.ctx, { action: 'install', pretend: false, program: STUB });
    const e = await thrown(pgo(b.ctx, { action: 'instrument' }));
    expect(e.message).toMatch(/gcov profiles are GCC's: sys-kernel\/gentoo-kernel has toolchain = llvm/);
    expect(e.hint).toMatch(/--autofdo/);
    const c = await root('packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel\n');
    expect((await thrown(pgo(c.ctx, { action: 'instrument' }))).message).toMatch(/name one with --package/);
  });

  it('collect says why there is nothing: debugfs not mounted, a kernel without gcov, no data', async () => {
    const a = await root();
    let e = await thrown(pgo(a.ctx, { action: 'collect' }));
    expect(e.message).toMatch(/debugfs is not mounted/);
    expect(e.hint).toMatch(/mount -t debugfs none .*sys\/kernel\/debug/);
    const b = await root(undefined, { 'sys/kernel/debug/tracing/README': 'x' });
    e = await thrown(pgo(b.ctx, { action: 'collect' }));
    expect(e.message).toMatch(/not instrumented/);
    const c = await root(undefined, { 'sys/kernel/debug/gcov/reset': '' });
    e = await thrown(pgo(c.ctx, { action: 'collect' }));
    expect(e.message).toMatch(/no \.gcda file/);
    const d = await root(undefined, { [`sys/kernel/debug/gcov/${BUILD}/init/main.gcda`]: gcda([[0, 0]]) });
    e = await thrown(pgo(d.ctx, { action: 'collect' }));
    expect(e.message).toMatch(/counters are all zero/);
  });

  it.each<[string, Tree, RegExp]>([
    [
      'a .gcda linked out of the tree',
      { [`gcov/${BUILD}/fs/evil.gcda`]: { symlink: '/etc/passwd' } },
      /symbolic link in the gcov tree/,
    ],
    [
      'a directory linked out of the tree',
      { [`gcov/${BUILD}/mm`]: { symlink: '/etc' } },
      /symbolic link in the gcov tree/,
    ],
    ['a truncated .gcda', { [`gcov/${BUILD}/fs/cut.gcda`]: gcda([[1, 2]]).subarray(0, 30) }, /cut short/],
    ['a foreign file named .gcda', { [`gcov/${BUILD}/fs/x.gcda`]: 'hello, world, not a profile' }, /not a \.gcda file/],
    [
      'a profile of another architecture',
      { [`gcov/${BUILD}/fs/be.gcda`]: gcda([[1]], { bigEndian: true }) },
      /big-endian/,
    ],
    ['a .gcda outside the build directory', { 'gcov/elsewhere/x.gcda': gcda([[1]]) }, /outside the build directory/],
  ])('collect refuses %s and leaves the root as it was', async (_what, bad, message) => {
    const { dir, ctx } = await root(undefined, gcovTree(bad));
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    const before = await snapshot(dir);
    const e = await thrown(pgo(ctx, { action: 'collect', from: path.join(dir, 'gcov') }));
    expect(e.message).toMatch(message);
    expect(e.file).toContain(dir);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a write that fails while collecting (no space left) leaves the store as it was', async () => {
    const { dir, ctx } = await root(undefined, gcovTree());
    await pgo(ctx, { action: 'collect', from: path.join(dir, 'gcov') });
    const before = await snapshot(dir);
    const failing = { ...ctx, env: { GENTOO_KOPT_FAULT_AFTER: '2' } };
    await writeNewer(dir);
    const mid = await snapshot(dir);
    await expect(pgo(failing, { action: 'collect', from: path.join(dir, 'gcov') })).rejects.toThrow(/injected fault/);
    expect(await snapshot(dir)).toEqual(mid);
    expect(Object.keys(before).length).toBeGreaterThan(0);
  });

  it('use refuses a damaged profile, another kernel line, and applies --for within the line with a warning', async () => {
    const { dir, ctx } = await root(undefined, gcovTree());
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    await pgo(ctx, { action: 'collect', from: path.join(dir, 'gcov') });
    const e = await thrown(pgo(ctx, { action: 'use', forPv: '6.13.2' }));
    expect(e.message).toMatch(/another kernel line/);
    const r = await pgo(ctx, { action: 'use', forPv: '6.12.60' });
    expect(r.data.warnings.join('\n')).toMatch(/applied to 6\.12\.60/);
    expect((await settingsOf(dir)).get('sys-kernel/gentoo-kernel.pgo-pv')).toBe('6.12.60');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, STORE, 'gcov/fs#pipe.gcda'), gcda([[1]]).subarray(0, 30));
    const d = await thrown(pgo(ctx, { action: 'use' }));
    expect(d.message).toMatch(/cut short/);
    expect(d.file).toBe(path.join(dir, STORE, 'gcov/fs#pipe.gcda'));
  });
});

/** Changes the tree under gcov/ so a second collect has something to replace. */
async function writeNewer(dir: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    path.join(dir, `gcov/${BUILD}/fs/pipe.gcda`),
    gcda([
      [1000, 1],
      [0, 0],
    ]),
  );
}

describe('the hook with pgo settings (real bash, phases as Portage runs them)', () => {
  const pkg = { category: 'sys-kernel', pn: 'gentoo-kernel', pv: '6.12.58', pr: 'r1' };

  async function phases(kcflags = '') {
    const { dir, ctx } = await root(`packages = sys-kernel/gentoo-kernel\ntoolchain = gnu\n${kcflags}`, gcovTree());
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    return { dir, ctx };
  }
  const run = async (dir: string, pv = pkg.pv) => {
    const tmp = path.join(dir, 'build/temp');
    const results = await runPhases(
      { ...pkg, pv },
      {
        configRoot: dir,
        tmp,
        env: { WORKDIR: path.join(dir, 'build/work') },
      },
    );
    expect(
      results.every((r) => r.status === 0),
      results.map((r) => r.stderr).join('\n'),
    ).toBe(true);
    return { ex: await exported(tmp, 'compile'), msgs: await messages(tmp) };
  };

  it('instrument: function ids by sequence number; use: the profile, relative to this build directory, once', async () => {
    const { dir, ctx } = await phases('kcflags = -O2 -pipe\n');
    await pgo(ctx, { action: 'instrument' });
    let { ex } = await run(dir);
    expect(ex.get('KCFLAGS')).toBe('-O2 -pipe --param=profile-func-internal-id=1');

    await pgo(ctx, { action: 'collect', from: path.join(dir, 'gcov') });
    await pgo(ctx, { action: 'use' });
    const r = await run(dir);
    ex = r.ex;
    expect(ex.get('KCFLAGS')).toBe(
      `-O2 -pipe --param=profile-func-internal-id=1 -fprofile-use=${path.join(dir, STORE, 'gcov')} -fprofile-prefix-path=${path.join(dir, 'build/work')}/build -fprofile-correction -Wno-error=missing-profile -Wno-error=coverage-mismatch`,
    );
    expect(r.msgs.join('\n')).toContain('gentoo-kopt: pgo: gcov use with');

    const other = await run(dir, '6.12.59');
    expect(other.ex.get('KCFLAGS')).toBe('-O2 -pipe');
    expect(other.msgs.join('\n')).toMatch(/profile is for 6\.12\.58, not 6\.12\.59: built without it/);
  });

  it('without kcflags: appends to the KCFLAGS of the environment, not once per phase', async () => {
    const { dir, ctx } = await phases();
    await pgo(ctx, { action: 'instrument' });
    const tmp = path.join(dir, 'build/temp');
    await runPhases(pkg, { configRoot: dir, tmp, env: { KCFLAGS: '-march=native', WORKDIR: '/w' } });
    expect((await exported(tmp, 'compile')).get('KCFLAGS')).toBe('-march=native --param=profile-func-internal-id=1');
  });
});

describe('AutoFDO and Propeller: record, convert, use', () => {
  const LLVM_CONF = 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\n';
  const INTEL = 'vendor_id\t: GenuineIntel\nflags\t\t: fpu lbr arch_lbr\n';
  const VM = 'vendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n';

  /** Programs on PATH that stand for perf, llvm-profgen and llvm-profdata, recording their arguments. */
  async function stubs(dir: string, profdataStatus = 0): Promise<Record<string, string>> {
    const { writeFile, mkdir, chmod } = await import('node:fs/promises');
    const bin = path.join(dir, 'stub-bin');
    await mkdir(bin, { recursive: true });
    const scripts: Record<string, string> = {
      perf: `echo "perf $*" >> ${dir}/calls; exit 0`,
      'llvm-profgen': `echo "llvm-profgen $*" >> ${dir}/calls; for a; do case $a in --output=*) printf 'main:10:0\\n 1: 10\\n' > "\${a#--output=}";; esac; done`,
      'llvm-profdata': `echo "llvm-profdata $*" >> ${dir}/calls; exit ${profdataStatus}`,
    };
    for (const [name, body] of Object.entries(scripts)) {
      await writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      await chmod(path.join(bin, name), 0o755);
    }
    return { PATH: `${bin}:/usr/bin:/bin` };
  }

  it('record refuses on a CPU (or VM) without branch sampling, and runs the documented perf command on Intel', async () => {
    const vm = await root(LLVM_CONF, { 'proc/cpuinfo': VM });
    const e = await thrown(pgo(vm.ctx, { action: 'record', command: ['true'] }));
    expect(e.message).toMatch(/virtual machine.*no branch-stack sampling .*record on the host/);

    const { dir, ctx } = await root(LLVM_CONF, {
      'proc/cpuinfo': INTEL,
      'sys/bus/event_source/devices/cpu/caps/branches': '32\n',
    });
    const env = await stubs(dir);
    const out = path.join(dir, 'perf.data');
    await pgo({ ...ctx, env }, { action: 'record', command: ['make', '-j2'], perfData: out });
    expect((await readFile(path.join(dir, 'calls'), 'utf8')).trim()).toBe(
      `perf record -e BR_INST_RETIRED.NEAR_TAKEN:k -a -N -b -c 500009 -o ${out} -- make -j2`,
    );
  });

  it('convert needs vmlinux (USE=debug), converts with llvm-profgen --kernel, validates, stores; use exports it', async () => {
    const { dir, ctx } = await root(LLVM_CONF, { 'perf.data': 'PERFDATA', vmlinux: 'ELF' });
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    const env = await stubs(dir);
    const c = { ...ctx, env };
    await pgo(c, { action: 'instrument', kind: 'autofdo' });
    const fragment = await readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'), 'utf8');
    expect(fragment).toContain('\nCONFIG_AUTOFDO_CLANG=y\n');

    const conv = {
      action: 'convert' as const,
      package: 'sys-kernel/gentoo-kernel-6.13.2',
      perfData: path.join(dir, 'perf.data'),
    };
    const e = await thrown(pgo(c, conv));
    expect(e.message).toMatch(
      /no vmlinux at .*\/usr\/src\/linux-.*\/vmlinux: a dist-kernel installs it only with USE=debug/,
    );
    await pgo(c, { ...conv, vmlinux: path.join(dir, 'vmlinux') });
    const calls = await readFile(path.join(dir, 'calls'), 'utf8');
    expect(calls).toMatch(
      new RegExp(
        `^llvm-profgen --kernel --binary=${dir}/vmlinux --perfdata=${dir}/perf.data --output=\\S+/kernel.afdo$`,
        'm',
      ),
    );
    expect(calls).toMatch(/^llvm-profdata show --sample \S+\/kernel.afdo$/m);
    const store = path.join(dir, 'var/lib/gentoo-kopt/pgo/sys-kernel/gentoo-kernel/6.13.2');
    expect(await readFile(path.join(store, 'kernel.afdo'), 'utf8')).toBe('main:10:0\n 1: 10\n');

    await pgo(c, { action: 'use' });
    const s = await settingsOf(dir);
    expect([s.get('sys-kernel/gentoo-kernel.pgo-kind'), s.get('sys-kernel/gentoo-kernel.pgo-mode')]).toEqual([
      'autofdo',
      'use',
    ]);
    // AutoFDO needs its Kconfig option in the profiled build too: the fragment stays
    expect(await readFile(path.join(dir, 'etc/kernel/config.d/60-gentoo-kopt-pgo.config'), 'utf8')).toBe(
      fragment.replace('autofdo instrument', 'autofdo use'),
    );
  });

  it('convert refuses a profile llvm-profdata cannot read, and stores nothing', async () => {
    const { dir, ctx } = await root(LLVM_CONF, { 'perf.data': 'PERFDATA', vmlinux: 'ELF' });
    await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    const c = { ...ctx, env: await stubs(dir, 1) };
    await pgo(c, { action: 'instrument', kind: 'autofdo' });
    const before = await snapshot(dir);
    const e = await thrown(
      pgo(c, {
        action: 'convert',
        package: 'sys-kernel/gentoo-kernel-6.13.2',
        perfData: path.join(dir, 'perf.data'),
        vmlinux: path.join(dir, 'vmlinux'),
      }),
    );
    expect(e.message).toMatch(/cannot read/);
    const after = await snapshot(dir);
    delete after.calls;
    delete before.calls;
    expect(after).toEqual(before);
  });
});
