// Hostile-input cases: a Gentoo root R inside a parent directory, beside `outside/` with files a
// hostile state file or symlink would like gentoo-kopt to touch. Each case asserts its exact message
// and that nothing outside R changed (`outsideUnchanged`).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { gentooRootIn, type GentooRootSpec } from './gentoo.js';
import { snapshot, testdir, writeTree, type Tree } from './tree.js';

export interface HostileRoot {
  /** The parent directory: R and outside/ are its children. */
  parent: string;
  /** R, the Gentoo root (--root R). */
  dir: string;
  /** parent/outside: the victims. */
  outside: string;
  /** Fails the test unless every byte, mode and link outside R is as it was when the root was made. */
  outsideUnchanged(): Promise<void>;
}

/** The files outside the root that hostile input points at. */
export const VICTIMS: Tree = {
  victim: 'a file outside the root\n',
  'etc/portage/make.conf': 'COMMON_FLAGS="-O2"\n',
  'dir/': '',
};

export async function hostileRoot(spec: GentooRootSpec = {}, outside: Tree = VICTIMS): Promise<HostileRoot> {
  const parent = await testdir();
  const dir = path.join(parent, 'root');
  await mkdir(dir);
  await gentooRootIn(dir, spec);
  const outsideDir = path.join(parent, 'outside');
  await mkdir(outsideDir);
  await writeTree(outsideDir, outside);
  const outsideOnly = async (): Promise<Record<string, string>> =>
    Object.fromEntries(Object.entries(await snapshot(parent)).filter(([k]) => k !== 'root/' && !k.startsWith('root/')));
  const before = await outsideOnly();
  return {
    parent,
    dir,
    outside: outsideDir,
    outsideUnchanged: async () => expect(await outsideOnly()).toEqual(before),
  };
}
