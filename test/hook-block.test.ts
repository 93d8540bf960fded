// The bashrc block (pure text functions) and `gentoo-kopt hooks install|uninstall|status` on throwaway
// config roots: every byte of the user's bashrc kept, one transaction, --pretend writes nothing.
import { describe, it, expect } from 'vitest';
import { readFile, writeFile, symlink, chmod, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { testdir, snapshot } from './helpers/tree.js';
import { BLOCK_BEGIN, BLOCK_END, findBlock, insertBlock, removeBlock, renderBlock } from '../src/hooks/bashrc-block.js';
import { hooksCommand, type HooksOptions } from '../src/commands/hooks.js';
import { resolveRoots } from '../src/portage/roots.js';
import { ConfigError, FsError } from '../src/errors.js';
import type { CommandContext } from '../src/commands/types.js';
import { LTO_FRAGMENT_REL } from '../src/hooks/lto-fragment.js';
import { rollbackLast } from '../src/system/transaction.js';

const B = renderBlock();

describe('bashrc block text', () => {
  it.each([
    ['an empty file', ''],
    ['a file ending with a newline', 'export FOO=1\n'],
    ['a file without a final newline', 'export FOO=1'],
    ['a file ending with a blank line', 'a\n\n'],
    ['a single newline', '\n'],
    ['CRLF and odd bytes', 'x=1\r\n# é \t\r\n'],
    ['user hook functions', 'pre_pkg_setup() {\n\t:\n}\n'],
  ])('insert then remove gives back %s byte for byte', (_name, text) => {
    const withBlock = insertBlock(text, 'bashrc');
    expect(findBlock(withBlock, 'bashrc').state).toBe('current');
    expect(withBlock.startsWith(text)).toBe(true);
    expect(insertBlock(withBlock, 'bashrc')).toBe(withBlock);
    expect(removeBlock(withBlock, 'bashrc')).toBe(text);
  });

  it.each([
    ['appends after a blank separator line', 'a\n', `a\n\n${B}`],
    ['terminates a last line without newline', 'a', `a\n${B}`],
    ['is the whole of an empty file', '', B],
  ])('insert %s', (_name, text, want) => expect(insertBlock(text, 'bashrc')).toBe(want));

  it('replaces an outdated block in place, keeping what surrounds it', () => {
    const old = `a\n${BLOCK_BEGIN} old\nsource /old/path\n${BLOCK_END}\nb\n`;
    expect(findBlock(old, 'bashrc')).toMatchObject({ state: 'outdated', line: 2, codeAfter: true });
    expect(insertBlock(old, 'bashrc')).toBe(`a\n${B}b\n`);
  });

  it('removes a block the user moved into the middle, keeping their lines', () => {
    expect(removeBlock(`a\n\n${B}b\n`, 'bashrc')).toBe('a\nb\n');
    expect(removeBlock(`a\n${B}b\n`, 'bashrc')).toBe('a\nb\n');
  });

  it.each([
    ['a begin without end', `x\n${BLOCK_BEGIN}\nfoo\n`, 2, /has no '# <<< gentoo-kopt <<<' line/],
    ['an end without begin', `x\n${BLOCK_END}\n`, 2, /without a '# >>> gentoo-kopt >>>' line/],
    ['two blocks', `${B}${B}`, B.split('\n').length, /a second gentoo-kopt block/],
  ])('refuses %s, naming the line', (_name, text, line, message) => {
    let err: unknown;
    try {
      findBlock(text, '/etc/portage/bashrc');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: '/etc/portage/bashrc', line });
    expect((err as ConfigError).message).toMatch(message);
  });

  it('the block tests CATEGORY and PN before anything and expands PORTAGE_CONFIGROOT at run time', () => {
    const lines = B.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      BLOCK_BEGIN,
      "case $CATEGORY/$PN in sys-kernel/*-kernel) builtin source /dev/stdin <<'GENTOO_KOPT_BLOCK'",
    ]);
    expect(lines.slice(-4)).toEqual(['GENTOO_KOPT_BLOCK', 'esac', BLOCK_END, '']);
    expect(B).toContain('\tlocal - h=${PORTAGE_CONFIGROOT%/}/etc/gentoo-kopt/kernel-hook.bash kopt_stat; set +aeu\n');
    expect(B).toContain('\t\tbuiltin source "$h"\n');
  });
});

const STUB = { node: '/usr/bin/node', bin: '/usr/lib/node_modules/gentoo-kopt/dist/bin.js' };

async function root(tree: Record<string, string> = {}): Promise<{ dir: string; ctx: CommandContext }> {
  const dir = await testdir(tree);
  return { dir, ctx: { roots: resolveRoots({ root: dir, env: {} }), env: {}, json: false, tty: false } };
}
const run = (ctx: CommandContext, action: HooksOptions['action'], pretend = false) =>
  hooksCommand(ctx, { action, pretend, program: STUB });
const bashrcOf = (dir: string) => readFile(path.join(dir, 'etc/portage/bashrc'), 'utf8');

describe('gentoo-kopt hooks install / uninstall / status', () => {
  const USER = '# my bashrc\npre_pkg_setup() {\n\techo mine\n}\n';

  it('install adds the block, the hook and the settings; uninstall restores the tree exactly', async () => {
    const { dir, ctx } = await root({
      'etc/portage/bashrc': USER,
      'etc/gentoo-kopt/kopt.conf': 'toolchain = llvm\nkcflags = -O2\n',
    });
    const before = await snapshot(dir);
    expect((await run(ctx, 'status')).data.overall).toBe('not-installed');

    const r = await run(ctx, 'install');
    expect(r.data.transaction).toBeDefined();
    expect(await bashrcOf(dir)).toBe(`${USER}\n${B}`);
    expect(await readFile(path.join(dir, 'etc/gentoo-kopt/kernel-hook.bash'), 'utf8')).toBe(
      await readFile(path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash'), 'utf8'),
    );
    const settings = await readFile(path.join(dir, 'etc/gentoo-kopt/hook-settings'), 'utf8');
    expect(settings).toContain(`node=${STUB.node}\nbin=${STUB.bin}\n`);
    expect(settings).toContain('sys-kernel/gentoo-kernel.toolchain=llvm\n');
    expect((await stat(path.join(dir, 'etc/gentoo-kopt/hook-settings'))).mode & 0o777).toBe(0o644);

    const status = await run(ctx, 'status');
    expect([status.data.overall, status.exitCode]).toEqual(['current', 0]);
    expect((await run(ctx, 'install')).data.changed).toBe(false);

    await run(ctx, 'uninstall');
    const after = await snapshot(dir);
    for (const k of Object.keys(after)) if (k.startsWith('var/')) delete after[k];
    expect(after).toEqual(before);
  });

  it('creates bashrc when absent and removes it again on uninstall', async () => {
    const { dir, ctx } = await root({ 'etc/portage/make.conf': 'X=1\n' });
    await run(ctx, 'install');
    expect(await bashrcOf(dir)).toBe(B);
    await run(ctx, 'uninstall');
    expect(Object.keys(await snapshot(dir)).filter((k) => k.startsWith('etc/'))).toEqual([
      'etc/',
      'etc/portage/',
      'etc/portage/make.conf',
    ]);
  });

  it('--pretend shows a unified diff and writes nothing', async () => {
    const { dir, ctx } = await root({ 'etc/portage/bashrc': USER });
    const before = await snapshot(dir);
    const r = await run(ctx, 'install', true);
    expect(await snapshot(dir)).toEqual(before);
    expect(r.data.changed).toBe(true);
    expect(r.text).toContain('Nothing was written (--pretend)');
    expect(r.text).toContain('--- a/etc/portage/bashrc');
    expect(r.text).toContain(`+${BLOCK_BEGIN}`);
    expect(r.text).toContain('+++ b/etc/gentoo-kopt/hook-settings');
  });

  it('status says outdated after kopt.conf changes, install brings it current', async () => {
    const { dir, ctx } = await root({ 'etc/gentoo-kopt/kopt.conf': 'kcflags = -O2\n' });
    await run(ctx, 'install');
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), 'kcflags = -O3\n');
    const status = await run(ctx, 'status');
    expect([status.data.overall, status.exitCode]).toEqual(['outdated', 1]);
    expect(status.data.files.find((f) => f.role === 'settings')?.state).toBe('update');
    await run(ctx, 'install');
    expect((await run(ctx, 'status')).data.overall).toBe('current');
  });

  it('writes the LTO fragment, removes it for lto = none, and keeps a copy the user edited', async () => {
    const { dir, ctx } = await root({ 'etc/gentoo-kopt/kopt.conf': 'toolchain = llvm\nlto = thin\n' });
    const frag = path.join(dir, LTO_FRAGMENT_REL);
    await run(ctx, 'install');
    expect(await readFile(frag, 'utf8')).toContain('CONFIG_LTO_CLANG_THIN=y\n');
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), 'toolchain = llvm\n');
    await run(ctx, 'install');
    await expect(stat(frag)).rejects.toThrow();

    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), 'toolchain = llvm\nlto = full\n');
    await run(ctx, 'install');
    await writeFile(frag, 'CONFIG_LTO_CLANG_FULL=y\n# mine\n');
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), 'toolchain = llvm\nlto = thin\n');
    const r = await run(ctx, 'install');
    expect(r.data.warnings.some((w) => w.includes('edited by you, so kept'))).toBe(true);
    expect(await readFile(frag, 'utf8')).toBe('CONFIG_LTO_CLANG_FULL=y\n# mine\n');
    await run(ctx, 'uninstall');
    expect(await readFile(frag, 'utf8')).toBe('CONFIG_LTO_CLANG_FULL=y\n# mine\n');
  });

  it("never overwrites a user's file of the same name: nothing is written", async () => {
    const { dir, ctx } = await root({
      'etc/gentoo-kopt/kopt.conf': 'toolchain = llvm\nlto = thin\n',
      [LTO_FRAGMENT_REL]: 'CONFIG_X=y\n',
      'etc/portage/bashrc': USER,
    });
    const before = await snapshot(dir);
    const err = await run(ctx, 'install').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).file).toBe(path.join(dir, LTO_FRAGMENT_REL));
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a config error names the kopt.conf line and writes nothing', async () => {
    const { dir, ctx } = await root({ 'etc/gentoo-kopt/kopt.conf': 'toolchain = gnu\nlto = thin\n' });
    const before = await snapshot(dir);
    const err = await run(ctx, 'install').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ file: path.join(dir, 'etc/gentoo-kopt/kopt.conf'), line: 1 });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('keeps the mode of an existing bashrc and writes through a symlink inside the config root', async () => {
    const { dir, ctx } = await root({ 'etc/portage/bashrc.d/main': USER });
    await symlink('bashrc.d/main', path.join(dir, 'etc/portage/bashrc'));
    await chmod(path.join(dir, 'etc/portage/bashrc.d/main'), 0o600);
    await run(ctx, 'install');
    expect(await readFile(path.join(dir, 'etc/portage/bashrc.d/main'), 'utf8')).toBe(`${USER}\n${B}`);
    expect((await stat(path.join(dir, 'etc/portage/bashrc.d/main'))).mode & 0o777).toBe(0o600);
    await run(ctx, 'uninstall');
    expect(await readFile(path.join(dir, 'etc/portage/bashrc'), 'utf8')).toBe(USER);
  });

  it('warns when code follows the block', async () => {
    const { dir, ctx } = await root();
    await run(ctx, 'install');
    await writeFile(path.join(dir, 'etc/portage/bashrc'), `${B}export CC=gcc\n`);
    expect((await run(ctx, 'install')).data.warnings.some((w) => w.includes('code after the gentoo-kopt block'))).toBe(
      true,
    );
  });

  it('gentoo-kopt rollback undoes an install exactly', async () => {
    const { dir, ctx } = await root({
      'etc/portage/bashrc': USER,
      'etc/gentoo-kopt/kopt.conf': 'toolchain = llvm\nlto = full\n',
    });
    const before = await snapshot(dir);
    await run(ctx, 'install');
    await rollbackLast(ctx.roots);
    const after = await snapshot(dir);
    for (const k of Object.keys(after)) if (k.startsWith('var/')) delete after[k];
    expect(after).toEqual(before);
  });

  it('status notices a settings file the hook would ignore (mode, owner), and install repairs it', async () => {
    const { dir, ctx } = await root();
    await run(ctx, 'install');
    const settings = path.join(dir, 'etc/gentoo-kopt/hook-settings');
    await chmod(settings, 0o666);
    if (process.getuid?.() === 0) await chown(settings, 65534, 65534);
    expect((await run(ctx, 'status')).data.overall).toBe('outdated');
    await run(ctx, 'install');
    const st = await stat(settings);
    expect([st.mode & 0o777, process.getuid?.() === 0 ? st.uid : 0]).toEqual([0o644, 0]);
    expect((await run(ctx, 'status')).data.overall).toBe('current');
  });
});
