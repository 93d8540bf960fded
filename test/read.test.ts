// The bounded reader and the inside-the-root check (src/system/read.ts, paths.ts): every kind of file
// that is not a regular file of a sane size is an error naming it, and never hangs or fills memory.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { testdir } from './helpers/tree.js';
import {
  LIMITS,
  readBounded,
  readBoundedSync,
  readOptional,
  readOptionalSync,
  cappedStream,
} from '../src/system/read.js';
import { assertInside, assertInsideSync } from '../src/system/paths.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const mkfifo = (p: string): void => void execFileSync('mkfifo', [p]);

describe('readOptional / readOptionalSync', () => {
  it('reads a regular file, and undefined when nothing is there', async () => {
    const dir = await testdir({ 'a.conf': 'x = 1\n' });
    expect((await readOptional(path.join(dir, 'a.conf'), 'config'))?.toString()).toBe('x = 1\n');
    expect(readOptionalSync(path.join(dir, 'a.conf'), 'config')?.toString()).toBe('x = 1\n');
    expect(await readOptional(path.join(dir, 'none'), 'config')).toBeUndefined();
    expect(readOptionalSync(path.join(dir, 'none'), 'config')).toBeUndefined();
  });

  it.each([
    ['a FIFO', async (p: string) => mkfifo(p), 'is a FIFO (named pipe), not a regular file'],
    ['a directory', async (p: string) => void (await mkdir(p)), 'is a directory, not a regular file'],
    ['/dev/zero', async (p: string) => symlink('/dev/zero', p), 'is a character device, not a regular file'],
    [
      '/dev/null without devNull',
      async (p: string) => symlink('/dev/null', p),
      'is a character device, not a regular file',
    ],
  ])('%s is an error naming the file, at once', async (_name, make, message) => {
    const dir = await testdir();
    const file = path.join(dir, 'kopt.conf');
    await make(file);
    await expect(readOptional(file, 'config')).rejects.toMatchObject({ name: 'FsError', file, message });
    expect(() => readOptionalSync(file, 'config')).toThrow(expect.objectContaining({ name: 'FsError', file, message }));
  });

  it('/dev/null reads as empty where Portage allows it', async () => {
    const dir = await testdir({ 'make.conf': { symlink: '/dev/null' } });
    expect((await readOptional(path.join(dir, 'make.conf'), 'config', { devNull: true }))?.length).toBe(0);
    expect(readOptionalSync(path.join(dir, 'make.conf'), 'config', { devNull: true })?.length).toBe(0);
  });

  it('a file over the limit of its kind is refused with the limit in the message', async () => {
    const dir = await testdir({ big: Buffer.alloc(LIMITS.lock.max + 1, 0x61) });
    const file = path.join(dir, 'big');
    await expect(readBounded(file, 'lock')).rejects.toMatchObject({
      file,
      message: `is too large (${LIMITS.lock.max + 1} bytes): a lock file may be at most ${LIMITS.lock.max} bytes`,
    });
    expect(() => readBoundedSync(file, 'lock')).toThrow(/is too large/);
  });

  it('a /proc file (size 0 in stat) is read to its end', async () => {
    const text = (await readBounded('/proc/self/status', 'proc')).toString();
    expect(text).toMatch(/^Name:/m);
    expect(readBoundedSync('/proc/self/status', 'proc').toString()).toMatch(/^Pid:/m);
  });

  it('noFollow refuses a symlinked state file, even one pointing at a regular file', async () => {
    const dir = await testdir({ 'real.json': '{}', 'journal.json': { symlink: 'real.json' } });
    const file = path.join(dir, 'journal.json');
    await expect(readOptional(file, 'state', { noFollow: true })).rejects.toMatchObject({
      file,
      message: expect.stringMatching(/^is a symbolic link/),
    });
    expect(() => readOptionalSync(file, 'state', { noFollow: true })).toThrow(/is a symbolic link/);
  });

  it('a dangling symlink is an error, not an absent file', async () => {
    const dir = await testdir({ 'kopt.conf': { symlink: 'nowhere' } });
    await expect(readOptional(path.join(dir, 'kopt.conf'), 'config')).rejects.toThrow('is a symbolic link to nothing');
  });

  it('a file that cannot be read names it and says why', async () => {
    const dir = await testdir({ 'x/': '' });
    await expect(readBounded(path.join(dir, 'x/none'), 'config')).rejects.toMatchObject({
      message: 'cannot read: no such file or directory (ENOENT)',
    });
  });
});

describe('assertInside', () => {
  it('follows links that stay inside, refuses those that leave, names the link', async () => {
    const parent = await testdir({ 'root/etc/real-portage/': '', 'outside/': '' });
    const root = path.join(parent, 'root');
    await symlink('real-portage', path.join(root, 'etc/portage'));
    await symlink(path.join(parent, 'outside'), path.join(root, 'etc/gentoo-kopt'));
    await assertInside(root, path.join(root, 'etc/portage/bashrc'));
    assertInsideSync(root, path.join(root, 'etc/portage/patches/sys-kernel/x/y.patch'));
    const err = {
      name: 'FsError',
      file: path.join(root, 'etc/gentoo-kopt'),
      message: expect.stringContaining(`resolves to ${path.join(parent, 'outside')}`),
    };
    await expect(assertInside(root, path.join(root, 'etc/gentoo-kopt/kernel-hook.bash'))).rejects.toMatchObject(err);
    expect(() => assertInsideSync(root, path.join(root, 'etc/gentoo-kopt/a/b'))).toThrow(expect.objectContaining(err));
    await expect(assertInside(root, path.join(root, '../outside/victim'))).rejects.toThrow(/is outside the root/);
  });

  it('a final symlink is checked only when followed', async () => {
    const parent = await testdir({ 'root/etc/portage/': '', 'outside/bashrc': '' });
    const root = path.join(parent, 'root');
    await symlink(path.join(parent, 'outside/bashrc'), path.join(root, 'etc/portage/bashrc'));
    await assertInside(root, path.join(root, 'etc/portage/bashrc'));
    await expect(assertInside(root, path.join(root, 'etc/portage/bashrc'), { followFinal: true })).rejects.toThrow(
      /leads outside the root/,
    );
  });

  it('a root reached through a symlink is compared by its real path', async () => {
    const parent = await testdir({ 'real/etc/portage/': '' });
    await symlink(path.join(parent, 'real'), path.join(parent, 'via'));
    await assertInside(path.join(parent, 'via'), path.join(parent, 'via/etc/portage/bashrc'));
  });

  it('a dangling symlink on the way is refused', async () => {
    const parent = await testdir({ 'root/etc/': '' });
    await symlink(path.join(parent, 'gone'), path.join(parent, 'root/etc/kernel'));
    await expect(
      assertInside(path.join(parent, 'root'), path.join(parent, 'root/etc/kernel/config.d/x.config')),
    ).rejects.toThrow('is a symbolic link to nothing');
  });
});

describe('cappedStream', () => {
  it('passes data below the cap and fails above it', async () => {
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.alloc(10), Buffer.alloc(10)]),
      cappedStream(20, () => new Error('x')),
      async (src: AsyncIterable<Buffer>) => {
        for await (const c of src) chunks.push(c);
      },
    );
    expect(Buffer.concat(chunks).length).toBe(20);
    await expect(
      pipeline(
        Readable.from([Buffer.alloc(10), Buffer.alloc(11)]),
        cappedStream(20, (n) => new Error(`over: ${n}`)),
        async (src: AsyncIterable<Buffer>) => {
          for await (const _ of src) void _;
        },
      ),
    ).rejects.toThrow('over: 21');
  });
});
