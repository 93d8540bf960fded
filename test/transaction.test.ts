import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import { chown, mkdir, readFile, readdir, stat, writeFile, chmod, symlink } from 'node:fs/promises';
import path from 'node:path';
import { testdir, snapshot } from './helpers/tree.js';
import { FsError } from '../src/errors.js';
import { resolveRoots } from '../src/portage/roots.js';
import { statePath } from '../src/system/paths.js';
import { ensureDir, removeEmptyDir, sha256, toFsError, writeFileAtomic } from '../src/system/fs.js';
import {
  commitTransaction,
  planRollback,
  readHistory,
  rollbackLast,
  HISTORY_KEEP,
  type Op,
} from '../src/system/transaction.js';
import { rollbackCommand } from '../src/commands/rollback.js';
import { runDriver } from './fixtures/system-build.js';

const P = 'etc/portage/patches/sys-kernel';
const userTree = {
  [`${P}/gentoo-kernel/my-fix.patch`]: 'the user owns this\n',
  [`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`]: { content: 'old managed\n', mode: 0o600 },
  [`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-stale.patch`]: 'stale\n',
  [`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-cancel.patch`]: { symlink: '/dev/null' },
  [`${P}/gentoo-kernel-6.1.0/`]: '',
  'etc/portage/make.conf': 'CFLAGS="-O2"\n',
  'etc/portage/bashrc': 'the user bashrc\n',
};
const rootsOf = (dir: string) => resolveRoots({ root: dir, env: {} });
/** The file's bytes, or undefined when nothing is there. */
const readIfExists = (file: string) =>
  readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
/** The tree without gentoo-kopt's own state (var/lib/gentoo-kopt: journal, history, backups, lock). */
const tree = async (dir: string) =>
  Object.fromEntries(Object.entries(await snapshot(dir)).filter(([k]) => !k.startsWith('var/')));
const write = (dir: string, rel: string, text: string, mode = 0o644): Op => ({
  kind: 'write',
  path: path.join(dir, rel),
  content: Buffer.from(text),
  mode,
});
const modeOf = async (f: string) => (await stat(f)).mode & 0o7777;

/** A transaction touching every kind of path: replace, create in new directories, remove, rmdir, symlink. */
const mixed = (dir: string): Op[] => [
  write(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`, 'new managed\n'),
  write(dir, `${P}/gentoo-kernel-6.12.60/00-gentoo-kopt-0001.patch`, 'created\n'),
  { kind: 'remove', path: path.join(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-stale.patch`) },
  {
    kind: 'symlink',
    path: path.join(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-cancel.patch`),
    target: '/dev/zero',
  },
  { kind: 'rmdir', path: path.join(dir, `${P}/gentoo-kernel-6.1.0`) },
  { kind: 'mkdir', path: path.join(dir, 'etc/kernel/config.d'), mode: 0o750 },
];

describe('fs primitives', () => {
  it('writes atomically with exactly the mode asked for, whatever the umask, leaving no temp file', async () => {
    const dir = await testdir({ 'a.conf': 'old' });
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(path.join(dir, 'a.conf'), 'new', 0o644, { inside: dir });
      await writeFileAtomic(path.join(dir, 'b.conf'), Buffer.from([0, 1, 2]), 0o640, { inside: dir });
    } finally {
      process.umask(old);
    }
    expect(await snapshot(dir)).toEqual({
      'a.conf': `file 644 ${Buffer.from('new').toString('base64')}`,
      'b.conf': 'file 640 AAEC',
    });
  });

  it('cleans up its temp file and names the path when the write fails', async () => {
    const dir = await testdir({ 'x/': '' });
    const err = await writeFileAtomic(path.join(dir, 'x'), 'data', 0o644, { inside: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).file).toBe(path.join(dir, 'x'));
    expect((err as FsError).message).toContain('is a directory');
    expect(await readdir(dir)).toEqual(['x']);
  });

  it('names the file in the way when a directory is expected (write and ensureDir)', async () => {
    const dir = await testdir({ 'etc/portage/patches': 'a file, not a directory' });
    const inTheWay = path.join(dir, 'etc/portage/patches');
    for (const attempt of [
      () => writeFileAtomic(path.join(inTheWay, 'sys-kernel/x.patch'), 'x', 0o644, { inside: dir }),
      () => ensureDir(path.join(inTheWay, 'sys-kernel'), 0o755, { inside: dir }),
    ]) {
      const err = (await attempt().catch((e: unknown) => e)) as FsError;
      expect(err).toBeInstanceOf(FsError);
      expect(err.file).toBe(inTheWay);
      expect(err.message).toContain('expected a directory');
    }
  });

  it('ensureDir creates missing components with the exact mode and returns them outermost first', async () => {
    const dir = await testdir({ 'etc/': '' });
    const old = process.umask(0o077);
    const made = await ensureDir(path.join(dir, 'etc/portage/patches/sys-kernel'), 0o755, { inside: dir }).finally(() =>
      process.umask(old),
    );
    expect(made).toEqual(
      ['etc/portage', 'etc/portage/patches', 'etc/portage/patches/sys-kernel'].map((r) => path.join(dir, r)),
    );
    for (const d of made) expect(await modeOf(d)).toBe(0o755);
    expect(await ensureDir(path.join(dir, 'etc/portage'), 0o755, { inside: dir })).toEqual([]);
  });

  it('hashes and removes', async () => {
    const dir = await testdir({ f: 'abc', 'full/x': '', 'empty/': '' });
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const rmdir = (d: string) => removeEmptyDir(path.join(dir, d), { inside: dir });
    expect([await rmdir('full'), await rmdir('empty'), await rmdir('gone')]).toEqual([false, true, false]);
  });

  it.each([
    ['EACCES', 'permission denied', 'run as root'],
    ['EPERM', 'operation not permitted', 'run as root'],
    ['EROFS', 'read-only file system', 'remount'],
    ['ENOTDIR', 'expected a directory', 'move the file in the way aside'],
    ['EISDIR', 'expected a file', 'move the directory in the way aside'],
    ['ENOSPC', 'no space left', 'free some space'],
  ])('maps %s to an FsError naming the path', (code, what, hint) => {
    const err = toFsError(Object.assign(new Error(code), { code }), '/x/y', 'write') as FsError;
    expect(err).toBeInstanceOf(FsError);
    expect([err.file, err.message.includes(what), err.hint?.includes(hint)]).toEqual(['/x/y', true, true]);
  });

  it('describes other errno codes from the one errno table, and passes anything else through unchanged', () => {
    const eio = toFsError(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }), '/x', 'write') as FsError;
    expect([eio.name, eio.file, eio.message]).toEqual(['FsError', '/x', 'cannot write: input/output error (EIO)']);
    const e = new Error('boom');
    expect(toFsError(e, '/x', 'write')).toBe(e);
  });

  it('a user without permission gets an FsError telling them to run as root or use --root', async () => {
    const dir = await testdir({ 'locked/': '' });
    await chmod(dir, 0o755);
    await chmod(path.join(dir, 'locked'), 0o555);
    // As root permission checks do not apply: try as nobody in a second process instead.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const { out } = await runDriver(['write', path.join(dir, 'locked/kopt.conf'), '420'], asNobody);
    expect(out).toMatchObject({ error: 'FsError', file: path.join(dir, 'locked/kopt.conf') });
    expect(out.message).toContain('permission denied');
    expect(out.hint).toContain('run as root, or use --root');
  });
});

describe('transactions', () => {
  it('commit then rollback restores the tree exactly (bytes, modes, symlinks, directories, owners)', async () => {
    const dir = await testdir(userTree);
    const mine = path.join(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`);
    await chown(mine, 1234, 5678);
    const before = await tree(dir);
    const result = await commitTransaction(rootsOf(dir), mixed(dir), { command: 'test' });
    expect(result.applied).toBe(6);
    const after = await tree(dir);
    expect(after[`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`]).toBe(
      `file 644 ${Buffer.from('new managed\n').toString('base64')}`,
    );
    expect(after[`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-stale.patch`]).toBeUndefined();
    expect(after[`${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-cancel.patch`]).toBe('link /dev/zero');
    expect(after[`${P}/gentoo-kernel-6.1.0/`]).toBeUndefined();
    expect(after['etc/kernel/config.d/']).toBe('dir 750');
    expect(after[`${P}/gentoo-kernel-6.12.60/`]).toBe('dir 755');
    expect((await stat(mine)).uid).toBe(1234); // replacing a file keeps its owner

    const plan = await planRollback(rootsOf(dir));
    expect(plan).toMatchObject({ id: result.id, command: 'test', conflicts: [] });
    expect(plan!.remove).toContain(path.join(dir, `${P}/gentoo-kernel-6.12.60/`));
    expect(plan!.restore).toContain(path.join(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-stale.patch`));
    expect(await tree(dir)).toEqual(after); // planning writes nothing

    await rollbackLast(rootsOf(dir));
    expect(await tree(dir)).toEqual(before);
    expect((await stat(mine)).gid).toBe(5678);
    expect(await planRollback(rootsOf(dir))).toBeUndefined();
  });

  it('a transaction that changes nothing is not recorded and writes nothing', async () => {
    const dir = await testdir(userTree);
    const before = await snapshot(dir);
    const same: Op[] = [
      write(dir, `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`, 'old managed\n', 0o600),
      { kind: 'remove', path: path.join(dir, 'etc/kernel/config.d/50-gentoo-kopt-nothing.config') },
      { kind: 'mkdir', path: path.join(dir, `${P}/gentoo-kernel`), mode: 0o755 },
    ];
    const r = await commitTransaction(rootsOf(dir), same, { command: 'test' });
    expect([r.applied, r.backup]).toEqual([0, undefined]);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('an impossible operation fails before anything is written', async () => {
    const dir = await testdir({ ...userTree, 'etc/portage/patches/sys-kernel/vanilla-kernel': 'a file' });
    const before = await snapshot(dir);
    const ops = [write(dir, 'etc/portage/bashrc', 'a'), write(dir, `${P}/vanilla-kernel/00-gentoo-kopt-x.patch`, 'x')];
    const err = (await commitTransaction(rootsOf(dir), ops, { command: 'test' }).catch((e: unknown) => e)) as FsError;
    expect(err).toBeInstanceOf(FsError);
    expect([err.file, err.message]).toEqual([
      path.join(dir, `${P}/vanilla-kernel`),
      'not a directory (expected a directory)',
    ]);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('keeps a directory to remove that is not empty, and says so', async () => {
    const dir = await testdir(userTree);
    const d = path.join(dir, `${P}/gentoo-kernel`);
    const r = await commitTransaction(rootsOf(dir), [{ kind: 'rmdir', path: d }], { command: 'test' });
    expect(r.notes).toEqual([`kept ${d}: not empty`]);
    // but one emptied by the same transaction goes
    const dir2 = await testdir(userTree);
    const v = path.join(dir2, `${P}/gentoo-kernel-6.12.58`);
    const ops: Op[] = [
      ...['00-gentoo-kopt-0001.patch', '00-gentoo-kopt-stale.patch', '00-gentoo-kopt-cancel.patch'].map(
        (f): Op => ({ kind: 'remove', path: path.join(v, f) }),
      ),
      { kind: 'rmdir', path: v },
    ];
    await commitTransaction(rootsOf(dir2), ops, { command: 'test' });
    expect(await readIfExists(v).catch((e: FsError) => e.message)).toBeUndefined();
  });

  it('backups are tarballs that real tar lists and extracts byte for byte', async () => {
    const long = `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-${'x'.repeat(200)}.patch`; // beyond ustar's 255: a pax header
    const dir = await testdir({ ...userTree, [long]: 'long\n' });
    const r = await commitTransaction(rootsOf(dir), [...mixed(dir), { kind: 'remove', path: path.join(dir, long) }], {
      command: 'test',
    });
    expect(r.backup).toBe(statePath(rootsOf(dir), 'backups', `${r.id}.tar`));
    const list = (await execa('tar', ['-tf', r.backup!])).stdout.split('\n').sort();
    expect(list).toEqual(
      [
        `${P}/gentoo-kernel-6.1.0/`,
        `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-cancel.patch`,
        `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-0001.patch`,
        `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-stale.patch`,
        long,
      ].sort(),
    );
    const out = await testdir();
    await execa('tar', ['-xpf', r.backup!, '-C', out]);
    const v = path.join(out, `${P}/gentoo-kernel-6.12.58`);
    expect(await readFile(path.join(v, '00-gentoo-kopt-0001.patch'), 'utf8')).toBe('old managed\n');
    expect(await modeOf(path.join(v, '00-gentoo-kopt-0001.patch'))).toBe(0o600);
    expect(await modeOf(r.backup!)).toBe(0o600);
    expect(await readFile(path.join(out, long), 'utf8')).toBe('long\n');
    await rollbackLast(rootsOf(dir));
    expect(await readFile(path.join(dir, long), 'utf8')).toBe('long\n');
  });

  it('rollback refuses when a file was changed since, unless forced, and the forced rollback backs the edit up', async () => {
    const dir = await testdir(userTree);
    const before = await tree(dir);
    await commitTransaction(rootsOf(dir), mixed(dir), { command: 'test' });
    const edited = path.join(dir, `${P}/gentoo-kernel-6.12.60/00-gentoo-kopt-0001.patch`);
    await writeFile(edited, 'my edit\n');
    const err = (await rollbackLast(rootsOf(dir)).catch((e: unknown) => e)) as FsError;
    expect(err).toBeInstanceOf(FsError);
    expect([err.file, err.hint?.includes('--force')]).toEqual([edited, true]);
    expect(await readFile(edited, 'utf8')).toBe('my edit\n');

    await rollbackLast(rootsOf(dir), { force: true });
    expect(await tree(dir)).toEqual(before);
    const [, undo] = await readHistory(rootsOf(dir));
    const list = (
      await execa('tar', [
        '-xOf',
        path.join(dir, undo!.backup!),
        `${P}/gentoo-kernel-6.12.60/00-gentoo-kopt-0001.patch`,
      ])
    ).stdout;
    expect(list).toBe('my edit');
  });

  it('repeated rollbacks walk back through the history, then there is nothing to roll back', async () => {
    const dir = await testdir(userTree);
    const states = [await tree(dir)];
    for (const text of ['one', 'two', 'three']) {
      await commitTransaction(
        rootsOf(dir),
        [write(dir, 'etc/portage/bashrc', text), write(dir, `etc/kernel/config.d/50-gentoo-kopt-${text}.config`, text)],
        { command: text },
      );
      states.push(await tree(dir));
    }
    for (const i of [2, 1, 0]) {
      await rollbackLast(rootsOf(dir));
      expect(await tree(dir)).toEqual(states[i]);
    }
    expect(await rollbackLast(rootsOf(dir))).toBeUndefined();
  });

  it(`keeps the last ${HISTORY_KEEP} transactions and prunes older backups`, async () => {
    const dir = await testdir(userTree);
    for (let i = 0; i < HISTORY_KEEP + 3; i++)
      await commitTransaction(rootsOf(dir), [write(dir, 'etc/portage/bashrc', `v${i}`)], { command: `c${i}` });
    const history = await readHistory(rootsOf(dir));
    expect(history.map((t) => t.command)).toEqual(Array.from({ length: HISTORY_KEEP }, (_, i) => `c${i + 3}`));
    expect((await readdir(statePath(rootsOf(dir), 'backups'))).sort()).toEqual(
      history.map((t) => `${t.id}.tar`).sort(),
    );
  });

  it('refuses paths outside the config root, on the journal own files, or outside the areas gentoo-kopt writes', async () => {
    const dir = await testdir(userTree);
    await expect(
      commitTransaction(rootsOf(dir), [write(path.dirname(dir), 'elsewhere', 'x')], { command: 't' }),
    ).rejects.toThrow(/outside the config root/);
    await expect(
      commitTransaction(rootsOf(dir), [write(dir, 'var/lib/gentoo-kopt/lock', 'x')], { command: 't' }),
    ).rejects.toThrow(/reserved for the journal/);
    await expect(
      commitTransaction(rootsOf(dir), [write(dir, 'etc/portage/make.conf', 'x')], { command: 't' }),
    ).rejects.toThrow(
      `transaction path ${path.join(dir, 'etc/portage/make.conf')} is not in an area gentoo-kopt writes`,
    );
  });
});

describe('gentoo-kopt rollback', () => {
  const ctxOf = (dir: string) => ({ roots: rootsOf(dir), env: {}, json: false, tty: false });

  it('says there is nothing to roll back, and exits 0', async () => {
    const dir = await testdir(userTree);
    const r = await rollbackCommand(ctxOf(dir), { pretend: false });
    expect([r.text, r.exitCode, r.data.rollback]).toEqual(['nothing to roll back', 0, null]);
  });

  it('--pretend shows what it would restore and remove, and writes nothing', async () => {
    const dir = await testdir(userTree);
    await commitTransaction(
      rootsOf(dir),
      [write(dir, 'etc/portage/bashrc', 'new'), write(dir, 'etc/kernel/config.d/50-gentoo-kopt-new.config', 'n')],
      { command: 'sync-patches' },
    );
    const before = await snapshot(dir);
    const r = await rollbackCommand(ctxOf(dir), { pretend: true });
    expect(r.text).toMatch(/^would roll back transaction \S+ \(sync-patches, /);
    expect(r.text).toContain(`would restore ${path.join(dir, 'etc/portage/bashrc')}`);
    expect(r.text).toContain(`would remove  ${path.join(dir, 'etc/kernel/config.d/50-gentoo-kopt-new.config')}`);
    expect(await snapshot(dir)).toEqual(before);

    const done = await rollbackCommand(ctxOf(dir), { pretend: false });
    expect(done.text).toContain(`restored      ${path.join(dir, 'etc/portage/bashrc')}`);
    expect(await readFile(path.join(dir, 'etc/portage/bashrc'), 'utf8')).toBe('the user bashrc\n');
    expect(await readIfExists(path.join(dir, 'etc/kernel/config.d/50-gentoo-kopt-new.config'))).toBeUndefined();
    expect(await readIfExists(statePath(rootsOf(dir), 'lock'))).toBeUndefined();
  });

  it('creates directories only as the transaction did, and restores a removed user symlink', async () => {
    const dir = await testdir(userTree);
    await mkdir(path.join(dir, 'etc/kernel'));
    await mkdir(path.join(dir, 'etc/gentoo-kopt'));
    await symlink('/dev/null', path.join(dir, 'etc/gentoo-kopt/hook-settings'));
    const before = await tree(dir);
    const ops: Op[] = [
      { kind: 'remove', path: path.join(dir, 'etc/gentoo-kopt/hook-settings') },
      write(dir, 'etc/kernel/config.d/50-gentoo-kopt-lto.config', 'CONFIG_X=y\n'),
    ];
    await commitTransaction(rootsOf(dir), ops, { command: 't' });
    await rollbackCommand(ctxOf(dir), { pretend: false });
    expect(await tree(dir)).toEqual(before);
  });
});
