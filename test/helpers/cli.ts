// The real executable (dist/bin.js, built by `npm test` before vitest runs) in a real process, with
// a clean environment: what a user at a shell gets.
import path from 'node:path';
import { execa } from 'execa';
import { PROJECT } from './gentoo.js';
import { installedCopy } from './installed.js';

export const BIN = path.join(PROJECT, 'dist/bin.js');

export interface KoptRun {
  env?: Record<string, string>;
  /** Run as this user (and group), from a world-readable copy of the program (helpers/installed.ts). */
  uid?: number;
  /** Kill the process after this many ms (a hang is a test failure, not a stuck suite). */
  timeout?: number;
}

export async function kopt(args: string[], opts: KoptRun = {}) {
  const installed = opts.uid === undefined ? undefined : await installedCopy();
  return execa(process.execPath, [installed ? path.join(installed, 'dist/bin.js') : BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...opts.env },
    extendEnv: false,
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
    ...(installed ? { uid: opts.uid, gid: opts.uid, cwd: installed } : {}),
  });
}
