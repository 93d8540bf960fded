// gentoo-kopt init: a commented kopt.conf from the VDB (dist-kernels, the newest complete LLVM slot),
// written as an owned file in one transaction, shown with --pretend, never over an existing one.
import { describe, expect, it } from 'vitest';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initCommand, initText } from '../src/commands/init.js';
import { rollbackCommand } from '../src/commands/rollback.js';
import { parseConfig } from '../src/config/kopt-conf.js';
import { KoptError } from '../src/errors.js';
import { readLedger } from '../src/system/ledger.js';
import { gentooRoot } from './helpers/gentoo.js';
import { snapshot } from './helpers/tree.js';

const CONF = 'etc/gentoo-kopt/kopt.conf';

/** A VDB entry of `cpf` with SLOT `slot`. */
const pkg = (cpf: string, slot: string) => ({
  [`var/db/pkg/${cpf}/SLOT`]: `${slot}\n`,
  [`var/db/pkg/${cpf}/repository`]: 'gentoo\n',
  [`var/db/pkg/${cpf}/EAPI`]: '8\n',
  [`var/db/pkg/${cpf}/COUNTER`]: '1\n',
});

/** A root with gentoo-kernel installed, no kopt.conf, and `extra` in the VDB. */
async function root(extra: Record<string, string> = {}) {
  const r = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'], extra });
  await rm(path.join(r.dir, CONF));
  return r;
}

const LLVM_19 = {
  ...pkg('llvm-core/clang-19.1.7', '19/19.1'),
  ...pkg('llvm-core/llvm-19.1.7', '19/19.1'),
  ...pkg('sys-devel/lld-19.1.7', '19/19.1'), // the old category still counts
};
const LLVM_20_NO_LLD = { ...pkg('llvm-core/clang-20.1.8', '20/20.1'), ...pkg('llvm-core/llvm-20.1.8', '20/20.1') };

describe('gentoo-kopt init', () => {
  it('writes kopt.conf for this system: its dist-kernels, the newest complete LLVM slot, lto = thin', async () => {
    const { dir, ctx } = await root({ ...LLVM_19, ...LLVM_20_NO_LLD });
    const r = await initCommand(ctx, { pretend: false });
    expect(r.data.values).toEqual({
      packages: 'sys-kernel/gentoo-kernel',
      toolchain: 'llvm',
      'llvm-slot': '19',
      lto: 'thin',
    });
    const text = await readFile(path.join(dir, CONF), 'utf8');
    const parsed = parseConfig(text, path.join(dir, CONF));
    expect(parsed.global).toMatchObject({
      packages: ['sys-kernel/gentoo-kernel'],
      toolchain: 'llvm',
      llvmSlot: 19,
      lto: 'thin',
      series: [],
    });
    expect(text).toMatch(/^# \(init found LLVM 19 complete/m);
    expect(text).toMatch(/^#kcflags =$/m); // every other key, commented out at its default
    expect((await stat(path.join(dir, CONF))).mode & 0o777).toBe(0o644);
    const { ledger } = await readLedger(ctx.roots);
    expect(ledger.init.files.map((f) => f.path)).toEqual([CONF]);
    expect(r.text).toContain(' * next: review kopt.conf, then run: gentoo-kopt hooks install');

    await rollbackCommand(ctx, { pretend: false, force: false });
    await expect(stat(path.join(dir, CONF))).rejects.toThrow();
  });

  it('without a complete LLVM slot: toolchain = gnu, lto = none', async () => {
    const { dir, ctx } = await root(LLVM_20_NO_LLD);
    await initCommand(ctx, { pretend: false });
    const parsed = parseConfig(await readFile(path.join(dir, CONF), 'utf8'), CONF);
    expect(parsed.global).toMatchObject({ toolchain: 'gnu', lto: 'none' });
    expect(parsed.global.llvmSlot).toBeUndefined();
  });

  it('with no dist-kernel installed, packages keeps its default (commented out)', () => {
    const text = initText({ kernels: [] });
    expect(text).toMatch(/^#packages = sys-kernel\/gentoo-kernel sys-kernel\/vanilla-kernel$/m);
    expect(parseConfig(text, CONF).global.packages).toEqual(['sys-kernel/gentoo-kernel', 'sys-kernel/vanilla-kernel']);
  });

  it('--pretend shows the file as a diff and writes nothing', async () => {
    const { dir, ctx } = await root(LLVM_19);
    const before = await snapshot(dir);
    const r = await initCommand(ctx, { pretend: true });
    expect(r.text).toContain('+++ b/etc/gentoo-kopt/kopt.conf');
    expect(r.text).toContain('+toolchain = llvm');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses to overwrite an existing kopt.conf, whoever wrote it, and changes nothing', async () => {
    const { dir, ctx } = await root();
    await writeFile(path.join(dir, CONF), 'series = gcc-lto\n');
    const before = await snapshot(dir);
    for (const pretend of [false, true]) {
      const err = (await initCommand(ctx, { pretend }).catch((e: unknown) => e)) as KoptError;
      expect(err).toBeInstanceOf(KoptError);
      expect(err.describe()).toBe(`${path.join(dir, CONF)}: kopt.conf exists: init never overwrites it`);
    }
    expect(await snapshot(dir)).toEqual(before);
  });
});
