// Turns "these files should exist" into the list of changes sync-patches makes, deciding ownership
// from the manifest only. Reads the tree, writes nothing: the ops go to src/system/transaction.ts.
//
// Rules: never modify or delete a file we do not own; a managed file the user edited is
// kept and reported (replaced with --force, after the transaction backed it up); managed files for
// versions no longer targeted are pruned, and directories we created are removed once empty.
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { FsError } from '../errors.js';
import { assertInside } from '../system/paths.js';
import { readOptional } from '../system/read.js';
import type { Op } from '../system/transaction.js';
import { serializeManifest, type ManagedFile, type Manifest } from './manifest.js';

export interface DesiredFile extends ManagedFile {
  /** Relative to the config root. */
  rel: string;
  content: Buffer;
}

export type ChangeKind =
  | 'create' // new file
  | 'restore' // a managed file that had been deleted, written again
  | 'update' // managed, unmodified, new content for it
  | 'unchanged'
  | 'kept-edited' // managed but edited by the user: kept (use --force)
  | 'replace-edited' // managed, edited, replaced because of --force (backed up first)
  | 'conflict' // a file we do not own sits where ours would go: left alone
  | 'remove' // managed, no longer targeted, unmodified
  | 'kept-stale' // managed, no longer targeted, edited by the user: kept (use --force)
  | 'forget'; // managed, no longer targeted, already gone from disk

export interface Change {
  kind: ChangeKind;
  rel: string;
  target: string;
  series: string;
  entry: string;
  /** Current bytes on disk (for diffs), when there are any. */
  before?: Buffer;
  /** Bytes after the change, for writes. */
  after?: Buffer;
}

export interface Plan {
  changes: Change[];
  mkdirs: string[];
  rmdirs: string[];
  ops: Op[];
  manifest: Manifest;
  /** True when applying the plan changes nothing on disk. */
  noop: boolean;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const WRITES: ReadonlySet<ChangeKind> = new Set(['create', 'restore', 'update', 'replace-edited']);

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The file's bytes; undefined when absent; null when something other than a regular file is there. */
async function readRegular(configRoot: string, file: string): Promise<Buffer | undefined | null> {
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    // ENOTDIR: a file where a parent directory should be; missingDirs() reports that one by name.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FsError(`cannot inspect: ${(err as Error).message}`, { file });
  }
  // A symlink or directory where a managed file should be is something the user put there: not ours.
  if (!st.isFile()) return null;
  return (await readOptional(file, 'patch', { noFollow: true, inside: configRoot })) ?? undefined;
}

/**
 * Missing directories between the config root and `rel`, outermost first; a non-directory in the way is
 * an error. A symbolic link to a directory is followed when it stays inside the root (etc/portage kept
 * in a git checkout under it); one leading out of the root is refused, naming it (paths.ts).
 */
async function missingDirs(configRoot: string, rel: string): Promise<string[]> {
  const parts = rel.split('/');
  const missing: string[] = [];
  await assertInside(configRoot, path.join(configRoot, rel), { followFinal: true });
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const full = path.join(configRoot, sub);
    try {
      const st = await lstat(full);
      if (st.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory()) continue;
      if (!st.isDirectory()) {
        throw new FsError('expected a directory, found ' + (st.isSymbolicLink() ? 'a symlink' : 'a file'), {
          file: full,
          hint: 'move it out of the way; gentoo-kopt never replaces what it does not own',
        });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(sub);
    }
  }
  return missing;
}

export async function planChanges(
  configRoot: string,
  desired: DesiredFile[],
  manifest: Manifest,
  opts: { force: boolean; prunable?: (target: string) => boolean },
): Promise<Plan> {
  const changes: Change[] = [];
  const next: Manifest = { format: 1, files: {}, dirs: [...manifest.dirs] };
  const desiredRels = new Set(desired.map((d) => d.rel));

  for (const want of desired) {
    const { rel, content, ...record } = want;
    const onDisk = await readRegular(configRoot, path.join(configRoot, rel));
    const owned = manifest.files[rel];
    const base = {
      rel,
      target: want.target,
      series: want.series,
      entry: want.entry,
      before: onDisk ?? undefined,
      after: content,
    };
    let kind: ChangeKind;
    if (onDisk === undefined) kind = owned ? 'restore' : 'create';
    else if (!owned || onDisk === null) kind = 'conflict';
    else if (sha256(onDisk) === want.sha256) kind = 'unchanged';
    else if (sha256(onDisk) === owned.sha256) kind = 'update';
    else kind = opts.force ? 'replace-edited' : 'kept-edited';
    changes.push({ kind, ...base });
    if (kind !== 'conflict') next.files[rel] = kind === 'kept-edited' ? owned! : record;
  }

  for (const [rel, owned] of Object.entries(manifest.files)) {
    if (desiredRels.has(rel)) continue;
    if (opts.prunable && !opts.prunable(owned.target)) {
      next.files[rel] = owned; // not this run's to prune: left as it is, still ours
      continue;
    }
    const onDisk = await readRegular(configRoot, path.join(configRoot, rel));
    const base = { rel, target: owned.target, series: owned.series, entry: owned.entry, before: onDisk ?? undefined };
    if (onDisk === undefined) changes.push({ kind: 'forget', ...base });
    else if (onDisk === null) changes.push({ kind: 'kept-stale', ...base });
    else if (sha256(onDisk) === owned.sha256 || opts.force) changes.push({ kind: 'remove', ...base });
    else {
      changes.push({ kind: 'kept-stale', ...base });
      next.files[rel] = owned;
    }
  }

  // Directories: create what the new files need; drop the ones we created that end up empty.
  const mkdirs: string[] = [];
  for (const c of changes.filter((c) => WRITES.has(c.kind))) {
    for (const d of await missingDirs(configRoot, path.posix.dirname(c.rel))) {
      if (!mkdirs.includes(d)) mkdirs.push(d);
    }
  }
  next.dirs.push(...mkdirs);
  const removed = new Set(changes.filter((c) => c.kind === 'remove').map((c) => c.rel));
  const rmdirs: string[] = [];
  const deepestFirst = [...new Set(next.dirs)].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of deepestFirst) {
    if (mkdirs.includes(dir)) continue;
    let entries: string[];
    try {
      entries = await readdir(path.join(configRoot, dir));
    } catch {
      next.dirs = next.dirs.filter((d) => d !== dir); // gone already: forget it
      continue;
    }
    const left = entries.filter((e) => {
      const rel = `${dir}/${e}`;
      return !removed.has(rel) && !rmdirs.includes(rel);
    });
    const needed = [...desiredRels].some((r) => r.startsWith(dir + '/'));
    if (left.length === 0 && !needed) {
      rmdirs.push(dir);
      next.dirs = next.dirs.filter((d) => d !== dir);
    }
  }

  const abs = (rel: string): string => path.join(configRoot, rel);
  const ops: Op[] = [
    ...mkdirs.map((d): Op => ({ kind: 'mkdir', path: abs(d), mode: DIR_MODE })),
    ...changes
      .filter((c) => WRITES.has(c.kind))
      .map((c): Op => ({ kind: 'write', path: abs(c.rel), content: c.after!, mode: FILE_MODE })),
    ...changes.filter((c) => c.kind === 'remove').map((c): Op => ({ kind: 'remove', path: abs(c.rel) })),
    ...rmdirs.map((d): Op => ({ kind: 'rmdir', path: abs(d) })),
  ];
  const manifestChanged = serializeManifest(next) !== serializeManifest(manifest);
  return { changes, mkdirs, rmdirs, ops, manifest: next, noop: ops.length === 0 && !manifestChanged };
}
