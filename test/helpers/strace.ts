// The real CLI under strace: a trace pass that lists each thread's system calls in order, and runs
// with a fault injected at the Nth call of a kind (an errno such as ENOSPC, or SIGKILL: a crash at
// exactly that point). strace counts calls per thread, so the runs set UV_THREADPOOL_SIZE=1: every
// asynchronous file operation then happens, in program order, in the one libuv worker thread.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { BIN } from './cli.js';

/** strace is installed and may trace here (a container can forbid ptrace). */
export const HAVE_STRACE = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0;

const ENV = { NO_COLOR: '1', UV_THREADPOOL_SIZE: '1' };

export interface Call {
  tid: number;
  /** 1-based, per thread and per system call name: the N of strace's `when=N`. */
  index: number;
  syscall: string;
  /** The call as strace prints it (`rename("a", "b") = 0`). */
  line: string;
}

/**
 * Runs the CLI once under strace, tracing `syscalls`; returns every call, each thread's in order.
 * File descriptors are shown with their paths (`write(23</R/x>, ...)`).
 */
export async function traceCalls(
  args: string[],
  syscalls: string[],
  env: Record<string, string> = {},
): Promise<Call[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-strace-'));
  try {
    const r = await execa(
      'strace',
      [
        '-f',
        '-ff',
        '-qq',
        '-y',
        '-s',
        '0',
        '-o',
        path.join(dir, 't'),
        '-e',
        `trace=${syscalls.join(',')}`,
        process.execPath,
        BIN,
        ...args,
      ],
      {
        reject: false,
        env: { ...ENV, ...env },
        extendEnv: false,
        timeout: 60_000,
      },
    );
    if (r.exitCode !== 0) throw new Error(`trace run failed (${r.exitCode}): ${r.stderr}`);
    const calls: Call[] = [];
    for (const name of await readdir(dir)) {
      const tid = Number(name.split('.')[1]);
      const counts = new Map<string, number>();
      for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n')) {
        const m = /^([a-z0-9_]+)\(/.exec(line);
        if (!m) continue;
        const index = (counts.get(m[1]!) ?? 0) + 1;
        counts.set(m[1]!, index);
        calls.push({ tid, index, syscall: m[1]!, line });
      }
    }
    return calls;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the CLI with `inject` (strace's `-e inject=` expression, e.g. `rename:error=ENOSPC:when=3`);
 * `injected` says whether the injection was reached (the run was killed, or the errno returned), and
 * `at` is the call it was reached at.
 */
export async function runInjected(args: string[], inject: string, env: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-strace-'));
  try {
    const log = path.join(dir, 'log');
    const syscalls = inject.split(':')[0]!;
    const r = await execa(
      'strace',
      [
        '-f',
        '-qq',
        '-y',
        '-s',
        '0',
        '-o',
        log,
        '-e',
        `trace=${syscalls}`,
        '-e',
        `inject=${inject}`,
        process.execPath,
        BIN,
        ...args,
      ],
      {
        reject: false,
        env: { ...ENV, ...env },
        extendEnv: false,
        timeout: 60_000,
      },
    );
    const lines = (await readFile(log, 'utf8')).split('\n');
    const killed = lines.some((l) => l.includes('killed by SIGKILL'));
    const errno = lines.find((l) => l.includes('(INJECTED)'));
    // With signal=KILL the call is printed unfinished (`= ?`, or `<unfinished ...>`) right before the kill.
    const at =
      errno ??
      (killed ? lines.filter((l) => /^\d+ +[a-z0-9_]+\(.*(= \?|<unfinished \.\.\.>)$/.test(l)).at(-1) : undefined);
    return { ...r, injected: killed || errno !== undefined, killed, at };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
