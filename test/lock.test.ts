import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testdir } from './helpers/tree.js';
import { LockedError } from '../src/errors.js';
import { resolveRoots } from '../src/portage/roots.js';
import { statePath } from '../src/system/paths.js';
import { acquireLock, type LockInfo } from '../src/system/lock.js';
import { buildSystem, driver, runDriver } from './fixtures/system-build.js';

const rootsOf = (dir: string) => resolveRoots({ root: dir, env: {} });
const lockFile = (dir: string) => statePath(rootsOf(dir), 'lock');
const exists = (f: string) =>
  readFile(f).then(
    () => true,
    () => false,
  );

/** A pid that is certainly dead: a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = execa('true');
  await p;
  return p.pid!;
}

async function plantLock(dir: string, info: Partial<LockInfo> | string): Promise<void> {
  await mkdir(path.dirname(lockFile(dir)), { recursive: true });
  const full = {
    command: 'sync-patches',
    started: '2025-01-01T00:00:00Z',
    host: os.hostname(),
    token: 'planted',
    ...(info as object),
  };
  await writeFile(lockFile(dir), typeof info === 'string' ? info : JSON.stringify(full));
}

describe('the lock', () => {
  it('is a file naming its holder, removed on release', async () => {
    const dir = await testdir();
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    const info = JSON.parse(await readFile(lockFile(dir), 'utf8')) as LockInfo;
    expect([info.pid, info.command, lock.tookOver]).toEqual([process.pid, 'sync-patches', undefined]);
    await lock.release();
    expect(await exists(lockFile(dir))).toBe(false);
    await (await acquireLock(rootsOf(dir), 'rollback')).release(); // free again
  });

  it('a second process gets LockedError naming the holder, until the holder releases', async () => {
    const dir = await testdir();
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    try {
      const { out, exitCode } = await runDriver(['lock', dir, '0']);
      expect(exitCode).toBe(1);
      expect(out).toEqual({
        error: 'LockedError',
        file: lockFile(dir),
        message: `another gentoo-kopt (pid ${process.pid}, sync-patches) is running; wait for it or remove ${lockFile(dir)} if it is not`,
        hint: expect.stringContaining('it started at'),
      });
    } finally {
      await lock.release();
    }
    expect((await runDriver(['lock', dir, '0'])).out).toMatchObject({ released: true });
  });

  it('is held by another process: we are refused, and can wait for it', async () => {
    const dir = await testdir();
    const holder = execa('node', [driver, await buildSystem(), 'lock', dir, '400']);
    const [first] = await new Promise<string[]>((resolve) =>
      holder.stdout!.once('data', (d: Buffer) => resolve(d.toString().split('\n'))),
    );
    expect(JSON.parse(first!)).toMatchObject({ got: true, pid: holder.pid });
    const err = (await acquireLock(rootsOf(dir), 'rollback').catch((e: unknown) => e)) as LockedError;
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toContain(`pid ${holder.pid}, sync-patches`);
    const waited = await acquireLock(rootsOf(dir), 'rollback', { waitMs: 5_000 });
    await holder;
    await waited.release();
  });

  it('a stale lock (its process is dead) is taken over, and reported', async () => {
    const dir = await testdir();
    const pid = await deadPid();
    await plantLock(dir, { pid });
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    expect(lock.tookOver).toMatchObject({ pid, command: 'sync-patches' });
    expect(JSON.parse(await readFile(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('an unreadable lock file is taken over too', async () => {
    const dir = await testdir();
    await plantLock(dir, '');
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    expect(lock.tookOver?.command).toBe('(unreadable lock file)');
    await lock.release();
  });

  it('when several processes find the same stale lock, one at a time holds the lock', async () => {
    const dir = await testdir();
    await plantLock(dir, { pid: await deadPid() });
    const built = await buildSystem();
    const startAt = String(Date.now() + 700); // after every child has started: all try at the same moment
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => execa('node', [driver, built, 'lock', dir, '600', startAt], { reject: false })),
    );
    type Line = { got?: boolean; at?: number; tookOver?: unknown; released?: boolean; error?: string };
    const lines = runs.map((r) =>
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line),
    );
    // The stale lock is removed once, and one run at a time holds the lock: the run that removed it may
    // lose the race to create the new one to a run that simply found no lock (then it reports no
    // takeover), and on a machine so loaded that a run starts after the holder released, or finds the
    // stale lock gone only once it holds the takeover guard, that run takes the lock fresh and claims no
    // takeover. Every other run is refused with LockedError. Holds never overlap.
    const holds = lines
      .filter((l) => l[0]!.got)
      .map((l) => ({ from: l[0]!.at!, to: l[1]!.at!, tookOver: l[0]!.tookOver }));
    expect(holds.length).toBeGreaterThanOrEqual(1);
    expect(holds.filter((h) => h.tookOver).length).toBeLessThanOrEqual(1);
    expect(lines.filter((l) => l[0]!.error === 'LockedError').length + holds.length).toBe(6);
    const sorted = holds.sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.from).toBeGreaterThanOrEqual(sorted[i - 1]!.to);
    expect(await exists(lockFile(dir))).toBe(false);
  });

  it('a stale lock is not taken over while another run holds the takeover guard', async () => {
    const dir = await testdir();
    const stale = await deadPid();
    await plantLock(dir, { pid: stale });
    const guardHolder = execa('sleep', ['0.4']); // alive for 400 ms, then a dead guard holder
    await writeFile(
      `${lockFile(dir)}.takeover`,
      JSON.stringify({ pid: guardHolder.pid, command: 'sync-patches', started: '', host: os.hostname(), token: 'g' }),
    );
    const t0 = Date.now();
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(lock.tookOver?.pid).toBe(stale);
    expect(await exists(`${lockFile(dir)}.takeover`)).toBe(false);
    await lock.release();
    await guardHolder;
  });

  it('release leaves a lock that is not ours', async () => {
    const dir = await testdir();
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    await plantLock(dir, { pid: process.pid, token: 'someone else' });
    await lock.release();
    expect(JSON.parse(await readFile(lockFile(dir), 'utf8'))).toMatchObject({ token: 'someone else' });
  });
});

describe('a lock whose pid cannot be checked here (Portage runs the setup phase in its own PID namespace)', () => {
  const here = { boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
  const now = () => new Date().toISOString();

  it('another PID namespace, recent: held, even though a process of that pid exists here or not', async () => {
    const dir = await testdir();
    await plantLock(dir, { pid: 1, started: now(), pidns: 'pid:[4026531999]', ...here });
    await expect(acquireLock(rootsOf(dir), 'sync-patches')).rejects.toThrow(LockedError);
    await plantLock(dir, { pid: await deadPid(), started: now(), pidns: 'pid:[4026531999]', ...here });
    await expect(acquireLock(rootsOf(dir), 'sync-patches')).rejects.toThrow(LockedError);
  });

  it('another PID namespace, older than 15 minutes: stale, taken over', async () => {
    const dir = await testdir();
    await plantLock(dir, {
      pid: 1,
      started: new Date(Date.now() - 16 * 60_000).toISOString(),
      pidns: 'pid:[4026531999]',
      ...here,
    });
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    expect(lock.tookOver?.pid).toBe(1);
    await lock.release();
  });

  it('from before a reboot: stale, whatever its pid', async () => {
    const dir = await testdir();
    await plantLock(dir, { pid: process.pid, started: now(), boot: '00000000-0000-0000-0000-000000000000' });
    const lock = await acquireLock(rootsOf(dir), 'sync-patches');
    expect(lock.tookOver?.boot).toBe('00000000-0000-0000-0000-000000000000');
    await lock.release();
  });
});
