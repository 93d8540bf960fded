// The saved environment of a binary package, read from its metadata alone (src/system/binpkg.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { binpkgEnvironment } from '../src/system/binpkg.js';
import { FsError } from '../src/errors.js';
import { ProcessError } from '../src/system/process-error.js';
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

  // the metadata tar's decompressors run as processes, capped (src/system/probe.ts: runCapped)
  const program = (name: string, args: string[]) => (t: Buffer) => {
    const r = spawnSync(name, args, { input: t });
    if (r.status !== 0) throw new Error(`${name} failed`);
    return r.stdout;
  };
  it.each([
    ['none', (t: Buffer): [string, Buffer] => ['', t]],
    ['xz', (t: Buffer): [string, Buffer] => ['.xz', program('xz', ['-c'])(t)]],
    ['bzip2', (t: Buffer): [string, Buffer] => ['.bz2', program('bzip2', ['-c'])(t)]],
  ])('GPKG with metadata compressed by %s', async (_name, compress) => {
    const dir = await testdir({ 'k-1.gpkg.tar': await gpkg('k-1', ENV, { compress }) });
    expect(await binpkgEnvironment(path.join(dir, 'k-1.gpkg.tar'))).toBe(ENV);
  });

  it('a metadata member that is not a tar is an FsError saying so', async () => {
    const dir = await testdir({ 'k-1.gpkg.tar': await gpkg('k-1', ENV, { metadata: Buffer.alloc(700, 'x') }) });
    await expect(binpkgEnvironment(path.join(dir, 'k-1.gpkg.tar'))).rejects.toThrow(/metadata\.tar\.gz is not a tar/);
  });

  it('an environment.bz2 that decompresses past the cap is refused, bzip2 killed', async () => {
    const { LIMITS } = await import('../src/system/read.js');
    const bomb = program('bzip2', ['-c', '-9'])(Buffer.alloc(LIMITS.vdb.max + 1024 * 1024));
    const dir = await testdir({ 'k-1.gpkg.tar': await gpkg('k-1', ENV, { envBytes: bomb }) });
    await expect(binpkgEnvironment(path.join(dir, 'k-1.gpkg.tar'))).rejects.toThrow(
      /environment\.bz2 of .*k-1\.gpkg\.tar decompresses to more than \d+ bytes: refusing to read more/,
    );
  });

  it('corrupt bzip2 data is a ProcessError with what bzip2 said', async () => {
    const dir = await testdir({ 'k-1.gpkg.tar': await gpkg('k-1', ENV, { envBytes: Buffer.from('BZh9garbage') }) });
    const err = await binpkgEnvironment(path.join(dir, 'k-1.gpkg.tar')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect((err as Error).message).toMatch(/bzip2/i);
  });

  it('a FIFO is refused, never read', async () => {
    const dir = await testdir({});
    const fifo = path.join(dir, 'x.gpkg.tar');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await expect(binpkgEnvironment(fifo)).rejects.toThrow(/not a regular file/);
  });
});
