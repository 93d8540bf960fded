// Paths that must stay inside a root. Every write gentoo-kopt makes, and every read of its own state,
// is under PORTAGE_CONFIGROOT; a directory on the way that is a symbolic link is followed only when it
// resolves inside that root (users do keep etc/portage as a link into a git checkout: with / as the
// root everything is inside), and one that leads out of it is refused, naming the link. The check
// resolves the deepest existing ancestor with realpath(3) (one call), so it costs a few microseconds
// per path; it runs when a transaction is planned and again right before each change is made.
import { lstatSync, realpathSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { fsError, isErrno } from './fs-errors.js';

export interface InsideOptions {
  /** Also resolve `file` itself when it is a symlink (bashrc kept as a link into the root). */
  followFinal?: boolean;
}

const isInside = (real: string, rootReal: string): boolean =>
  rootReal === '/' || real === rootReal || real.startsWith(rootReal + '/');

/** The lexical part of the check: `file` is `root` or below it, with no `..` left after normalising. */
export function relativeInside(root: string, file: string): string {
  const rel = path.relative(root, path.resolve(file));
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    throw new FsError(`is outside the root ${root}`, {
      file,
      hint: 'gentoo-kopt writes only below PORTAGE_CONFIGROOT (--root DIR)',
    });
  }
  return rel;
}

function escaped(root: string, via: string, real: string): FsError {
  return new FsError(`leads outside the root ${root}: ${via} resolves to ${real}`, {
    file: via,
    hint: 'gentoo-kopt follows a symbolic link only when it stays inside the root: replace the link with a directory, or use --root on the real tree',
  });
}

function dangling(link: string): FsError {
  return new FsError('is a symbolic link to nothing', {
    file: link,
    hint: 'point the link at an existing directory inside the root, or remove it',
  });
}

/** The paths to try, deepest first: `file` itself (when followed), then each ancestor up to `root`. */
function candidates(root: string, file: string, opts: InsideOptions): string[] {
  const rel = relativeInside(root, file);
  const parts = rel === '' ? [] : rel.split('/');
  const out: string[] = [];
  for (let n = opts.followFinal ? parts.length : parts.length - 1; n >= 0; n--)
    out.push(path.join(root, ...parts.slice(0, n)));
  return out;
}

/**
 * Throws FsError unless every existing directory on the way to `file` (and `file` itself with
 * `followFinal`) resolves inside `root`. A missing part of the path is fine (it will be created as a
 * real directory), except a symlink that points nowhere.
 */
export async function assertInside(root: string, file: string, opts: InsideOptions = {}): Promise<void> {
  const list = candidates(root, file, opts);
  const rootReal = await realpath(root).catch((err: unknown) =>
    isErrno(err, 'ENOENT') ? undefined : Promise.reject(fsError(err, root, 'inspect')),
  );
  // A root that does not exist yet has nothing below it to follow: whatever is made there is real.
  if (rootReal === undefined || rootReal === '/') return;
  for (const [i, p] of list.entries()) {
    let real: string;
    try {
      real = await realpath(p);
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw fsError(err, p, 'inspect');
      if ((await lstat(p).catch(() => undefined))?.isSymbolicLink()) throw dangling(p);
      continue;
    }
    if (!isInside(real, rootReal)) throw escaped(root, firstLink(list.slice(i).reverse(), rootReal) ?? p, real);
    return;
  }
}

/** assertInside, for the synchronous readers. */
export function assertInsideSync(root: string, file: string, opts: InsideOptions = {}): void {
  const list = candidates(root, file, opts);
  let rootReal: string;
  try {
    rootReal = realpathSync.native(root);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw fsError(err, root, 'inspect');
  }
  if (rootReal === '/') return;
  for (const [i, p] of list.entries()) {
    let real: string;
    try {
      real = realpathSync.native(p);
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw fsError(err, p, 'inspect');
      if (lstatIfLink(p)) throw dangling(p);
      continue;
    }
    if (!isInside(real, rootReal)) throw escaped(root, firstLink(list.slice(i).reverse(), rootReal) ?? p, real);
    return;
  }
}

function lstatIfLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The outermost path in `outermostFirst` that leaves the root, to name in the error (the link itself). */
function firstLink(outermostFirst: string[], rootReal: string): string | undefined {
  for (const p of outermostFirst) {
    try {
      if (!isInside(realpathSync.native(p), rootReal)) return p;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * ${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/... : gentoo-kopt's state (the ownership ledger, the
 * transaction journal, backups, the lock). It sits beside the files it describes: a config root copied
 * elsewhere keeps its records.
 */
export function statePath(roots: Pick<Roots, 'configRoot'>, ...parts: string[]): string {
  return path.join(roots.configRoot, 'var/lib/gentoo-kopt', ...parts);
}
