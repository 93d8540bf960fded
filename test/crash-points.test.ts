// Crash points, enumerated for real: the real CLI is killed (SIGKILL, injected by strace)
// at the Nth call of each system call that changes the disk, for every N until a run completes
// without reaching it; then the same command runs again normally, and the whole config root (state
// files included, transaction ids and times aside) must end exactly where an uninterrupted run ends:
// nothing left behind, no temp file, no lock, no orphan backup. Three commands: a sync-patches that
// installs, updates and prunes, a hooks install with a bashrc, a config.d fragment and a fresh
// state directory, and a hooks install on a root of the first release, which carries its records
// into the ledger.
//
// strace counts calls per thread; with UV_THREADPOOL_SIZE=1 every asynchronous file operation runs in
// the one libuv worker, in program order, so N means the same call in every run. openat, which the
// main thread also makes by the hundred (loading modules), is not counted blindly: a trace pass finds
// the N of the calls that create a file in the root, and only those are injected. write is left out:
// libuv's worker also writes to an eventfd after each operation, but skips that when one is already
// pending, so its count of writes drifts between runs and a kill at N lands on an eventfd write, not
// on the file's bytes. The state such a kill would leave (a temp file made, not yet filled) differs
// from the one the fchmod points leave (a temp file filled, mode not yet set) only in its content.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { gentooRootIn, install, uninstall } from './helpers/gentoo.js';
import { kopt } from './helpers/cli.js';
import { HAVE_STRACE, runInjected, traceCalls } from './helpers/strace.js';
import { snapshot, testdir } from './helpers/tree.js';
import { wave1Root } from './helpers/wave1.js';

const STATE = 'var/lib/gentoo-kopt';
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The calls that change what is on disk, counted to exhaustion. */
const COUNTED = [
  'rename',
  'renameat2',
  'unlink',
  'unlinkat',
  'mkdir',
  'mkdirat',
  'rmdir',
  'link',
  'linkat',
  'fsync',
  'fdatasync',
  'chmod',
  'fchmod',
];

interface Scenario {
  name: string;
  /** Builds the starting root in `dir` (an empty directory) and returns the command's arguments. */
  setup(dir: string): Promise<string[]>;
}

/** A series of the test's own, in a patch source beside the root, and a catalog entry per kernel line. */
async function series(src: string, files: Record<string, string>): Promise<string> {
  const byLine = new Map<string, string[]>();
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, 'crashdemo', rel)), { recursive: true });
    await writeFile(path.join(src, 'crashdemo', rel), body);
    const line = rel.split('/')[0]!;
    byLine.set(line, [...(byLine.get(line) ?? []), `file = crashdemo/${rel} sha256:${sha(body)}`]);
  }
  const entries = [...byLine].map(
    ([line, lines]) =>
      `[crashdemo ${line}]\nkernel = >=${line}.0 <${line.replace(/\d+$/, (m) => String(Number(m) + 1))}.0\n${lines.join('\n')}\n`,
  );
  return `[series crashdemo]\ndescription = the crash-point test's own series (not kernel patches)\n\n${entries.join('\n')}`;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'sync-patches (installs, updates, prunes)',
    async setup(dir) {
      const root = path.join(dir, 'root');
      const src = path.join(dir, 'src');
      await mkdir(root);
      const conf = `packages = sys-kernel/gentoo-kernel\nseries = crashdemo\npatch-source = ${src}\n`;
      await gentooRootIn(root, {
        installed: ['sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-6.18.2'],
        conf,
      });
      const catalog = path.join(root, 'etc/gentoo-kopt/catalog.d/crash.conf');
      await mkdir(path.dirname(catalog), { recursive: true });
      const v1 = { '6.12/a.patch': 'a, first\n', '6.12/b.patch': 'b\n', '6.18/a.patch': 'a for 6.18\n' };
      await writeFile(catalog, await series(src, v1));
      const first = await kopt(['sync-patches', '--no-verify', '--root', root]);
      if (first.exitCode !== 0) throw new Error(first.stderr);
      // Next: 6.12.58's a.patch changes (update), 6.18.2 goes (prune, rmdir), 6.12.60 comes (create, mkdir).
      await rm(path.join(src, 'crashdemo'), { recursive: true });
      await writeFile(catalog, await series(src, { ...v1, '6.12/a.patch': 'a, second\n' }));
      await uninstall(root, 'sys-kernel/gentoo-kernel-6.18.2');
      await install(root, 'sys-kernel/gentoo-kernel-6.12.60');
      return ['sync-patches', '--no-verify', '--root', root];
    },
  },
  {
    name: 'hooks install (bashrc, hook, settings, a config.d fragment, a new state directory)',
    async setup(dir) {
      const root = path.join(dir, 'root');
      await mkdir(root);
      await gentooRootIn(root, {
        conf: 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nlto = thin\n',
        extra: { 'etc/portage/bashrc': '# the user bashrc\n', 'etc/kernel/': '' },
      });
      return ['hooks', 'install', '--root', root];
    },
  },
  {
    name: "hooks install on the first release's root (managed.json and hooks.json become the ledger)",
    async setup(dir) {
      const root = path.join(dir, 'root');
      await mkdir(root);
      await wave1Root(root);
      return ['hooks', 'install', '--root', root];
    },
  },
];

/** A tarball as its members: name, type, mode, owner and a hash of the bytes (not the mtime). */
async function members(file: string): Promise<string> {
  const out: string[] = [];
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const h = createHash('sha256');
      for await (const c of entry) h.update(c as Buffer);
      const { name, type, mode, uid, gid, linkname } = entry.header;
      out.push(`${name} ${type} ${(mode ?? 0).toString(8)} ${uid}:${gid} ${linkname ?? ''} ${h.digest('hex')}`);
    }
  })();
  extract.end(await readFile(file));
  await reading;
  return out.sort().join('\n');
}

/**
 * The root as a map path -> description, with what differs between two equally good runs made
 * equal: transaction ids (also in backup names) become TX0, TX1, ... in history order, times become
 * T, a backup is described by its members. An id no record names (an orphan backup) stays as it is.
 */
async function normalTree(root: string): Promise<Record<string, string>> {
  const json = async (rel: string): Promise<{ id?: string; transactions?: { id: string }[] } | undefined> =>
    readFile(path.join(root, STATE, rel), 'utf8').then(
      (t) => JSON.parse(t) as never,
      () => undefined,
    );
  const history = (await json('history.json'))?.transactions ?? [];
  const ids = [...history.map((t) => t.id), (await json('journal.json'))?.id].filter((x): x is string => !!x);
  const alias = new Map([...new Set(ids)].map((id, i) => [id, `TX${i}`]));
  const rename = (s: string): string => [...alias].reduce((acc, [id, a]) => acc.split(id).join(a), s);
  const normJson = (v: unknown, key = ''): unknown => {
    if (typeof v === 'string') return key === 'started' || key === 'finished' ? 'T' : rename(v);
    if (Array.isArray(v)) return v.map((x) => normJson(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normJson(x, k)]));
    return v;
  };
  const out: Record<string, string> = {};
  for (const [rel, desc] of Object.entries(await snapshot(root))) {
    let value = desc;
    if (rel === `${STATE}/journal.json` || rel === `${STATE}/history.json`)
      value = JSON.stringify(normJson(JSON.parse(await readFile(path.join(root, rel), 'utf8'))));
    else if (/\/backups\/[^/]+\.tar$/.test(rel))
      value = `${desc.split(' ').slice(0, 2).join(' ')} ${await members(path.join(root, rel))}`;
    out[rename(rel)] = value;
  }
  return out;
}

/** At most `n` of `jobs` at a time (the machine has two cores; strace doubles a run's cost). */
async function pool<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

describe.skipIf(!HAVE_STRACE)(
  'crash points: SIGKILL at every write of a run, then the next run ends where an uninterrupted one ends',
  () => {
    it.each(SCENARIOS)(
      '$name',
      async (scenario) => {
        const started = Date.now();
        const base = await testdir();
        const template = path.join(base, 'template');
        await mkdir(template);
        const args = await scenario.setup(template);
        const rootArg = args.indexOf('--root') + 1;
        /** A fresh copy of the starting point at `dir`, and the command's arguments for it. */
        const copy = async (dir: string): Promise<string[]> => {
          await cp(template, dir, { recursive: true, verbatimSymlinks: true });
          return args.map((a, i) => (i === rootArg ? a.replace(template, dir) : a));
        };
        const rootOf = (dir: string, argv: string[]): string => argv[rootArg]!.replace(template, dir);

        // Where an uninterrupted run ends.
        const clean = path.join(base, 'clean');
        const cleanArgs = await copy(clean);
        expect((await kopt(cleanArgs)).exitCode).toBe(0);
        const expected = await normalTree(rootOf(clean, cleanArgs));

        // Which openat calls create a file in the root (trace pass, on its own copy).
        const traced = path.join(base, 'traced');
        const tracedArgs = await copy(traced);
        const tracedRoot = rootOf(traced, tracedArgs);
        const creating = (await traceCalls(tracedArgs, ['openat'])).filter(
          (c) => c.line.includes(tracedRoot + '/') && c.line.includes('O_CREAT'),
        );
        const openats = [...new Set(creating.map((c) => c.index))];

        let n = 0;
        const failures: string[] = [];
        const missed: string[] = [];
        /**
         * One crash point: kill at `inject`, run again, compare. False when the run completed without
         * reaching it; 'elsewhere' when an openat kill landed on a call outside the root.
         */
        const crashAt = async (inject: string): Promise<boolean | 'elsewhere'> => {
          const dir = path.join(base, `run-${n++}`);
          const argv = await copy(dir);
          const root = rootOf(dir, argv);
          const killed = await runInjected(argv, inject);
          if (!killed.killed) {
            if (killed.exitCode !== 0)
              failures.push(`${inject}: not killed, but exit ${killed.exitCode}: ${killed.stderr}`);
            await rm(dir, { recursive: true, force: true });
            return false;
          }
          const elsewhere = inject.startsWith('openat:') && !killed.at?.includes(root + '/');
          const again = await kopt(argv, { timeout: 30_000 });
          if (again.exitCode !== 0)
            failures.push(`${inject}: the next run exits ${again.exitCode}: ${again.stderr.split('\n')[0]}`);
          else {
            const got = await normalTree(root);
            if (JSON.stringify(got) !== JSON.stringify(expected)) {
              const keys = [...new Set([...Object.keys(got), ...Object.keys(expected)])].filter(
                (k) => got[k] !== expected[k],
              );
              failures.push(`${inject} (killed at ${killed.at}): the tree differs at ${keys.join(', ')}`);
            }
          }
          await rm(dir, { recursive: true, force: true });
          return elsewhere ? 'elsewhere' : true;
        };

        let points = 0;
        const perSyscall: Record<string, number> = {};
        // Counted calls: N = 1, 2, ... until a run completes without reaching the Nth (two at a time).
        for (const syscall of COUNTED) {
          for (let first = 1; ; first += 2) {
            const hits = (
              await Promise.all([first, first + 1].map((k) => crashAt(`${syscall}:signal=KILL:when=${k}`)))
            ).filter((h) => h !== false).length;
            points += hits;
            perSyscall[syscall] = (perSyscall[syscall] ?? 0) + hits;
            if (hits < 2) break;
          }
        }
        // openat: the N the trace pass found.
        await pool(
          openats.map((k) => async () => {
            const hit = await crashAt(`openat:signal=KILL:when=${k}`);
            if (hit !== false) points++;
            if (hit !== true) missed.push(`#${k}`);
          }),
          2,
        );
        perSyscall.openat = openats.length;
        const counts = Object.entries(perSyscall)
          .filter(([, c]) => c > 0)
          .map(([name, count]) => `${name} ${count}`)
          .join(', ');
        const landed = missed.length ? ` (openat ${missed.join(', ')} landed on another thread's call first)` : '';
        process.stdout.write(
          `crash points, ${scenario.name}: ${points} killed runs: ${counts}${landed}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
        expect(failures).toEqual([]);
        expect(points).toBeGreaterThan(20);
      },
      600_000,
    );
  },
);
