// One gentoo-kopt writer at a time per config root (two parallel kernel emerges can both run the
// just-in-time sync). The lock is a file, statePath(roots, 'lock'), holding {pid, command, started,
// host, token}. It is created complete and exclusively: the content goes into a private temp file
// which is then link()ed to the lock name; link fails with EEXIST when the lock exists, like
// open(O_EXCL), but a reader can never see a half-written lock.
//
// A lock whose pid is dead on this host, in this PID namespace and this boot, is stale (a killed run)
// and is taken over; one from another host or PID namespace cannot be checked and is held until it is
// 15 minutes old (a run takes seconds); one from before a reboot is stale. Taking over is
// itself guarded by a second exclusive file (lock.takeover), so two runs that find the same stale lock
// cannot both remove it and both believe they hold the lock.
//
// The lock is input too: one that is not a regular file (a FIFO, a directory, a symbolic link, to
// /dev/zero or to nothing) is an error naming it, at once; it is read with the bounded reader, never
// followed, in a state directory that resolves inside the root. The temp files a killed run leaves
// (`lock.<pid>.<token>`) are removed by the next run (litter.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsError, LockedError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { assertInside, statePath } from './paths.js';
import { ensureDir, removeEmptyDir, removeFile, toFsError, writeFileAtomic } from './fs.js';
import { int, object, optional, str } from './json-shape.js';
import { kindOf, readOptional } from './read.js';

export interface LockInfo {
  pid: number;
  command: string;
  started: string;
  host: string;
  token: string;
  /** /proc/sys/kernel/random/boot_id and the /proc/self/ns/pid link of the holder (see pidScope). */
  boot?: string;
  pidns?: string;
}

export interface Lock {
  file: string;
  /** The stale lock this run took over (its holder had died), for the command to mention. */
  tookOver?: LockInfo;
  release(): Promise<void>;
}

const POLL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Where a pid means something: the boot (a lock from before a reboot is stale) and the PID namespace.
 * Portage runs the setup phase, where the hook's sync runs, in a PID namespace of its own
 * (FEATURES=pid-sandbox, on by default): a pid recorded there says nothing about this namespace.
 */
function pidScope(): { boot?: string; pidns?: string } {
  const read = (f: string, how: 'file' | 'link'): string | undefined => {
    try {
      return how === 'file' ? readFileSync(f, 'utf8').trim() : readlinkSync(f);
    } catch {
      return undefined;
    }
  };
  return { boot: read('/proc/sys/kernel/random/boot_id', 'file'), pidns: read('/proc/self/ns/pid', 'link') };
}

/** A lock we cannot check by pid (another host or PID namespace) is held until it is this old. */
const UNCHECKABLE_STALE_MS = 15 * 60_000;

/** Alive; or, where its pid cannot be checked, held until UNCHECKABLE_STALE_MS old. */
function holderAlive(info: LockInfo): boolean {
  const here = pidScope();
  if (info.boot && here.boot && info.boot !== here.boot) return false; // from before a reboot
  const otherNamespace = info.pidns !== undefined && here.pidns !== undefined && info.pidns !== here.pidns;
  if (info.host !== os.hostname() || otherNamespace) {
    const age = Date.now() - Date.parse(info.started);
    return age <= UNCHECKABLE_STALE_MS; // an unreadable start time: stale
  }
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

const lockShape = object<LockInfo>({
  pid: int(1, 2 ** 32 - 1),
  command: str(4096),
  started: str(64),
  host: str(256),
  token: str(64),
  boot: optional(str(64)),
  pidns: optional(str(64)),
});

/**
 * The lock's holder; 'gone' when the file vanished meanwhile; undefined when it is garbage (a
 * regular file that is not a lock: taken over like a stale one). Anything but a regular file is an
 * FsError naming it: gentoo-kopt never made it, and waiting for it would wait forever.
 */
async function readInfo(file: string, root: string): Promise<LockInfo | 'gone' | undefined> {
  const st = await lstat(file).catch((err: unknown) =>
    (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : Promise.reject(toFsError(err, file, 'inspect')),
  );
  if (st === undefined) return 'gone';
  if (!st.isFile()) {
    throw new FsError(`is ${kindOf(st)}, not a lock gentoo-kopt made (it makes a regular file)`, {
      file,
      hint: 'remove it (gentoo-kopt makes its lock itself), then run gentoo-kopt again',
    });
  }
  const bytes = await readOptional(file, 'lock', { noFollow: true, inside: root });
  if (bytes === undefined) return 'gone';
  try {
    return lockShape(JSON.parse(bytes.toString('utf8')), '');
  } catch {
    return undefined;
  }
}

/** Creates `file` holding `info` if it does not exist; false if it does. Everything stays inside `root`. */
async function create(file: string, info: LockInfo, root: string): Promise<boolean> {
  const tmp = `${file}.${info.pid}.${info.token}`;
  await writeFileAtomic(tmp, JSON.stringify(info) + '\n', 0o644, { inside: root });
  try {
    await assertInside(root, file);
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw toFsError(err, file, 'create lock');
  } finally {
    await removeFile(tmp, { inside: root }).catch(() => undefined);
  }
}

async function removeIfHeldBy(file: string, token: string, root: string): Promise<void> {
  const info = await readInfo(file, root);
  if (typeof info === 'object' && info.token === token) await removeFile(file, { inside: root }).catch(() => undefined);
}

/** Replaces the stale lock `stale` (undefined: unreadable) by ours; false if someone else moved first. */
async function takeOver(file: string, stale: LockInfo | undefined, mine: LockInfo, root: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  if (!(await create(guard, mine, root))) {
    const other = await readInfo(guard, root);
    // A guard left by a run killed in the middle of a takeover: remove it and try again.
    if (other !== 'gone' && (other === undefined || !holderAlive(other)))
      await removeFile(guard, { inside: root }).catch(() => undefined);
    else await sleep(10);
    return false;
  }
  try {
    // The stale lock gone already: another run took it over (and may have finished since); this run
    // then takes the lock afresh, without claiming a takeover, or is refused like any other.
    const now = await readInfo(file, root);
    const same = now === undefined ? stale === undefined : now !== 'gone' && now.token === stale?.token;
    if (!same) return false;
    await removeFile(file, { inside: root }).catch(() => undefined);
    return await create(file, mine, root);
  } finally {
    await removeIfHeldBy(guard, mine.token, root);
  }
}

/** True when a takeover guard (lock.takeover) is there and its holder is dead, or it is garbage (litter.ts). */
export async function staleTakeoverGuard(roots: Roots): Promise<boolean> {
  const info = await readInfo(statePath(roots, 'lock.takeover'), roots.configRoot);
  return info !== 'gone' && (info === undefined || !holderAlive(info));
}

/**
 * Takes the lock for `command`, or throws LockedError naming the holder. `waitMs` waits that long
 * for a live holder to finish first (the default, 0, fails at once).
 */
export async function acquireLock(roots: Roots, command: string, opts: { waitMs?: number } = {}): Promise<Lock> {
  const file = statePath(roots, 'lock');
  const root = roots.configRoot;
  // Directories made only to hold the lock go again on release, so a run that fails on bad input
  // leaves the tree exactly as it found it.
  const created = await ensureDir(path.dirname(file), 0o755, { inside: root });
  const mine: LockInfo = {
    pid: process.pid,
    command,
    started: new Date().toISOString(),
    host: os.hostname(),
    token: randomBytes(8).toString('hex'),
    ...pidScope(),
  };
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let tookOver: LockInfo | undefined;
  for (;;) {
    let made: boolean;
    try {
      made = await create(file, mine, root);
    } catch (err) {
      // A run releasing its lock may have just removed the (then empty) state directory: make it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      created.push(...(await ensureDir(path.dirname(file), 0o755, { inside: root })));
      continue;
    }
    if (made) break;
    const holder = await readInfo(file, root);
    if (holder === 'gone') continue;
    if (holder && holderAlive(holder)) {
      if (Date.now() < deadline) {
        await sleep(POLL_MS);
        continue;
      }
      throw new LockedError(
        `another gentoo-kopt (pid ${holder.pid}, ${holder.command}) is running; wait for it or remove ${file} if it is not`,
        {
          file,
          hint: `it started at ${holder.started}${holder.host !== mine.host ? ` on ${holder.host}` : ''}`,
        },
      );
    }
    if (await takeOver(file, holder, mine, root)) {
      tookOver = holder ?? { pid: 0, command: '(unreadable lock file)', started: '', host: '', token: '' };
      break;
    }
  }
  const release = async (): Promise<void> => {
    await removeIfHeldBy(file, mine.token, root);
    for (const dir of [...created].reverse()) if (!(await removeEmptyDir(dir, { inside: root }))) break;
  };
  return { file, tookOver, release };
}
