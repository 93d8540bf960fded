// The saved environment of a binary package, read from its metadata alone (src/system/binpkg.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { binpkgEnvironment } from '../src/system/binpkg.js';
import { FsError } from '../src/errors.js';
import { testdir } from './helpers/tree.js';
import { gpkg, xpak } from './helpers/binpkg.js';

const ENV = 'declare -x KCFLAGS="-O2 -pipe"\ndeclare -x CC="clang-20"\n';

describe('binpkgEnvironment', () => {
  it.each([
    ['GPKG', 'gentoo-kernel-6.12.58-1.gpkg.tar', () => gpkg('gentoo-kernel-6.12.58-1', ENV)],
    ['XPAK', 'gentoo-kernel-6.12.58.tbz2', () => xpak(ENV)],
  ])('%s: the text of environment.bz2', async (_name, file, make) => {
    const dir = await testdir({ [file]: await make() });
    expect(await binpkgEnvironment(path.join(dir, file))).toBe(ENV);
  });

  it.each([
    ['a truncated XPAK', 'x.tbz2', async () => (await xpak(ENV)).subarray(0, 100)],
    ['a GPKG without metadata', 'x.gpkg.tar', async () => Buffer.alloc(1024)],
  ])('%s is an FsError naming the file, with the fix', async (_name, file, make) => {
    const dir = await testdir({ [file]: await make() });
    const err = await binpkgEnvironment(path.join(dir, file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).hint).toMatch(/rebuild it/);
  });

  it('a FIFO is refused, never read', async () => {
    const dir = await testdir({});
    const fifo = path.join(dir, 'x.gpkg.tar');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await expect(binpkgEnvironment(fifo)).rejects.toThrow(/not a regular file/);
  });
});
