// The real executable (dist/bin.js, built by `npm test` before vitest runs) in a real process, with
// a clean environment: what a user at a shell gets.
import path from 'node:path';
import { execa } from 'execa';
import { PROJECT } from './gentoo.js';

export const BIN = path.join(PROJECT, 'dist/bin.js');

export interface KoptRun {
  env?: Record<string, string>;
  uid?: number;
  /** Kill the process after this many ms (a hang is a test failure, not a stuck suite). */
  timeout?: number;
}

export const kopt = (args: string[], opts: KoptRun = {}) =>
  execa(process.execPath, [BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...opts.env },
    extendEnv: false,
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
