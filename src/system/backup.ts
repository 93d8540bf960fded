// What a path held before a transaction touched it, the backup tarball that keeps those bytes, and
// the operations that put them back. Used by transaction.ts for undo after an error, crash recovery
// and `gentoo-kopt rollback`.
//
// The tarball is plain ustar (pax for long names), written with tar-stream, so `tar -tvf` lists it and
// `tar -xpf FILE -C ROOT` restores it by hand. Member names are paths relative to PORTAGE_CONFIGROOT
// (`etc/portage/patches/...`): a config root copied elsewhere keeps usable backups. Each member keeps
// its mode, owner and mtime; the journal keeps each file's sha256, checked before anything is restored.
import { lstat, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { sha256, toFsError, type Owner } from './fs.js';
import type { Op } from './plan.js';
import { assertInside } from './paths.js';
import { readBounded, readOptional } from './read.js';

/** A path's state as the journal records it. Owners are recorded for what existed before. */
export type PathState =
  | { kind: 'absent' }
  | { kind: 'file'; mode: number; sha256: string; uid?: number; gid?: number }
  | { kind: 'symlink'; target: string; uid?: number; gid?: number }
  | { kind: 'dir'; mode: number; uid?: number; gid?: number };

/** One path a transaction changed: relative to the config root, as it was first seen and as left. */
export interface Change {
  path: string;
  before: PathState;
  after: PathState;
}

export interface Captured {
  state: PathState;
  /** File bytes (for the backup) when state.kind is 'file'. */
  content?: Buffer;
  mtime?: Date;
}

/** Reads what is at `file` now (without following a final symlink); every directory on the way must resolve inside `root`. */
export async function captureState(file: string, root: string): Promise<Captured> {
  await assertInside(root, file);
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: { kind: 'absent' } };
    throw toFsError(err, file, 'inspect');
  }
  const own = { uid: st.uid, gid: st.gid };
  const mode = st.mode & 0o7777;
  if (st.isDirectory()) return { state: { kind: 'dir', mode, ...own }, mtime: st.mtime };
  if (st.isSymbolicLink()) return { state: { kind: 'symlink', target: await readlink(file), ...own }, mtime: st.mtime };
  if (!st.isFile()) throw new FsError('not a regular file, directory or symlink', { file, hint: 'move it aside' });
  const content = await readBounded(file, 'replaced', { noFollow: true, inside: root });
  return { state: { kind: 'file', mode, sha256: sha256(content), ...own }, content, mtime: st.mtime };
}

/** Equal for the purpose of "has this changed since": content and mode, link target, or kind. */
export function sameState(a: PathState, b: PathState): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.sha256 === b.sha256 && a.mode === b.mode;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  return a.kind === b.kind;
}

function ownerOf(s: PathState): Owner | undefined {
  return s.kind !== 'absent' && s.uid !== undefined && s.gid !== undefined ? { uid: s.uid, gid: s.gid } : undefined;
}

/** Packs the before-state of every changed path that existed into a tarball (in memory; backups are small). */
export async function packBackup(members: { name: string; captured: Captured }[]): Promise<Buffer> {
  const { default: tar } = await import('tar-stream'); // only a write or a rollback packs or reads one
  const pack = tar.pack();
  const out: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of pack) out.push(chunk as Buffer);
  })();
  for (const { name, captured } of members) {
    const s = captured.state;
    if (s.kind === 'absent') continue;
    const common = { name, uid: s.uid ?? 0, gid: s.gid ?? 0, mtime: captured.mtime ?? new Date() };
    if (s.kind === 'file')
      pack.entry({ ...common, type: 'file', mode: s.mode, size: captured.content!.length }, captured.content!);
    else if (s.kind === 'symlink') pack.entry({ ...common, type: 'symlink', mode: 0o777, linkname: s.target });
    else pack.entry({ ...common, name: `${name}/`, type: 'directory', mode: s.mode });
  }
  pack.finalize();
  await reading;
  return Buffer.concat(out);
}

export interface Member {
  type: string;
  mode: number;
  content: Buffer;
  linkname?: string;
}

/** Reads a backup tarball (below `root`) into name -> member; refuses member names that could escape the root. */
export async function readBackup(file: string, root: string): Promise<Map<string, Member>> {
  const data = await readOptional(file, 'backup', { noFollow: true, inside: root });
  if (data === undefined)
    throw new FsError('backup tarball is missing', {
      file,
      hint: 'it may have been deleted; the change cannot be undone automatically',
    });
  const members = new Map<string, Member>();
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const { name, type, mode, linkname } = entry.header;
      if (path.isAbsolute(name) || name.split('/').includes('..'))
        throw new FsError(`unsafe member name '${name}' in backup`, { file });
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      members.set(name.replace(/\/$/, ''), {
        type: type ?? 'file',
        mode: mode ?? 0o644,
        content: Buffer.concat(chunks),
        linkname: linkname ?? undefined,
      });
    }
  })();
  extract.end(data);
  await reading.catch((err: unknown) => {
    throw err instanceof FsError
      ? err
      : new FsError(`backup tarball is unreadable: ${(err as Error).message}`, { file });
  });
  return members;
}

const depth = (rel: string): number => rel.split('/').length;

/**
 * The operations that return every changed path to its before-state, given what is there now: recreate
 * removed directories (outermost first), restore files and symlinks, remove what did not exist, then
 * remove created directories (deepest first; a directory someone filled meanwhile is kept). Paths
 * already in their before-state get no operation, so running the result twice is harmless.
 */
export async function restoreOps(
  configRoot: string,
  changes: Change[],
  backup: Map<string, Member>,
  backupFile: string,
): Promise<Op[]> {
  const abs = (rel: string): string => path.join(configRoot, rel);
  const now = new Map<string, PathState>();
  for (const c of changes) now.set(c.path, (await captureState(abs(c.path), configRoot)).state);
  const ops: Op[] = [];
  const dirs = changes.filter((c) => c.before.kind === 'dir').sort((a, b) => depth(a.path) - depth(b.path));
  for (const c of dirs) {
    const isDir = now.get(c.path)?.kind === 'dir' || (await stat(abs(c.path)).catch(() => undefined))?.isDirectory();
    if (!isDir && c.before.kind === 'dir')
      ops.push({ kind: 'mkdir', path: abs(c.path), mode: c.before.mode, owner: ownerOf(c.before) });
  }
  for (const c of changes) {
    const before = c.before;
    if ((before.kind !== 'file' && before.kind !== 'symlink') || sameState(now.get(c.path)!, before)) continue;
    const m = backup.get(c.path);
    if (before.kind === 'symlink') {
      if (m?.type !== 'symlink' || m.linkname !== before.target)
        throw new FsError(`backup has no symlink ${c.path}`, { file: backupFile });
      ops.push({ kind: 'symlink', path: abs(c.path), target: before.target, owner: ownerOf(before) });
    } else {
      if (!m || sha256(m.content) !== before.sha256)
        throw new FsError(`backup copy of ${c.path} is missing or does not match its recorded sha256`, {
          file: backupFile,
          hint: 'the backup is damaged; restore the file by hand',
        });
      ops.push({ kind: 'write', path: abs(c.path), content: m.content, mode: before.mode, owner: ownerOf(before) });
    }
  }
  for (const c of changes) {
    const kind = now.get(c.path)!.kind;
    if (c.before.kind === 'absent' && (kind === 'file' || kind === 'symlink'))
      ops.push({ kind: 'remove', path: abs(c.path) });
  }
  const made = changes.filter((c) => c.before.kind === 'absent' && now.get(c.path)!.kind === 'dir');
  for (const c of made.sort((a, b) => depth(b.path) - depth(a.path))) ops.push({ kind: 'rmdir', path: abs(c.path) });
  return ops;
}

/** Paths whose current state differs from what the transaction left: a rollback would clobber someone's edit. */
export async function changedSince(configRoot: string, changes: Change[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of changes) {
    if (c.after.kind === 'dir') continue; // created directories are only removed when empty
    const now = (await captureState(path.join(configRoot, c.path), configRoot)).state;
    if (c.after.kind === 'absent' && c.before.kind === 'dir' && (now.kind === 'dir' || now.kind === 'absent')) continue;
    if (!sameState(now, c.after)) out.push(path.join(configRoot, c.path));
  }
  return out;
}
