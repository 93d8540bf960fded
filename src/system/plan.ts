// Planning a transaction: operations are walked against a virtual view of the tree, so that each
// touched path's state before the transaction is read exactly once, operations that would change
// nothing are dropped, and anything impossible (a file where a directory must be) fails before any
// write. The result is concrete single-path steps plus one Change {path, before, after} per path.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { assertInside, statePath } from './paths.js';
import { outsideAreas, type AreaLinks } from './areas.js';
import { captureState, sameState, type Captured, type Change, type PathState } from './backup.js';
import {
  ensureDir,
  removeEmptyDir,
  removeFile,
  sha256,
  writeFileAtomic,
  writeSymlinkAtomic,
  type Owner,
} from './fs.js';

export type Op =
  | { kind: 'mkdir'; path: string; mode: number; owner?: Owner } // create if missing, parents too
  | { kind: 'write'; path: string; content: Buffer; mode: number; owner?: Owner } // create or replace; parents 0755
  | { kind: 'symlink'; path: string; target: string; owner?: Owner } // create or replace a symlink
  | { kind: 'remove'; path: string } // remove a file or symlink (nothing there: no-op)
  | { kind: 'rmdir'; path: string }; // remove a directory if empty (not empty: kept, noted)

const isDirState = (s: PathState): boolean => s.kind === 'dir';

/** Files and directories under the state directory that belong to the transaction machinery. */
const RESERVED_NAMES = ['journal.json', 'history.json', 'backups', 'lock', 'lock.takeover'];

/**
 * The virtual view of the tree that turns operations into concrete, single-path steps. Every path must
 * lie in an area gentoo-kopt writes (areas.ts: what the journal records must read back) and resolve
 * inside the config root; runOp checks the second again right before it acts.
 */
export class Planner {
  private readonly seen = new Map<string, Captured>();
  private readonly now = new Map<string, PathState>();
  private readonly touched: string[] = [];
  readonly notes: string[] = [];

  private readonly reserved: string[];

  /** `links`: where bashrc resolves when it is a link inside the root (areas.ts resolveAreaLinks). */
  constructor(
    private readonly roots: Roots,
    private readonly links: AreaLinks = new Map(),
  ) {
    this.reserved = RESERVED_NAMES.map((n) => path.relative(roots.configRoot, statePath(roots, n)));
  }

  rel(file: string): string {
    const rel = path.relative(this.roots.configRoot, path.resolve(file));
    if (!rel || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))
      throw new Error(`transaction path outside the config root: ${file}`);
    // The transaction machinery's own files (journal, history, backups, lock) are never an op's
    // target; the ownership ledger is, so it rolls back with the tree.
    if (this.reserved.some((r) => rel === r || rel.startsWith(r + path.sep)))
      throw new Error(`transaction path reserved for the journal: ${file}`);
    // Commands only ever plan paths of their areas: anything else is a bug, refused before it is recorded.
    const outside = outsideAreas(rel, 'transaction', this.links);
    if (outside) throw new Error(`transaction path ${file} ${outside}`);
    return rel;
  }

  private abs(rel: string): string {
    return path.join(this.roots.configRoot, rel);
  }

  private async state(rel: string): Promise<PathState> {
    if (!this.now.has(rel)) {
      const captured = await captureState(this.abs(rel), this.roots.configRoot);
      this.seen.set(rel, captured);
      this.now.set(rel, captured.state);
    }
    return this.now.get(rel)!;
  }

  private set(rel: string, after: PathState): void {
    if (!this.touched.includes(rel)) this.touched.push(rel);
    this.now.set(rel, after);
  }

  /** mkdir steps for `rel` and its missing parents; a non-directory in the way fails the plan. */
  private async dirs(rel: string, mode: number, owner?: Owner): Promise<Op[]> {
    const steps: Op[] = [];
    const parts = rel.split(path.sep);
    for (let i = 1; i <= parts.length; i++) {
      const cur = parts.slice(0, i).join(path.sep);
      const s = await this.state(cur);
      if (s.kind === 'dir') continue;
      if (s.kind === 'symlink' && (await stat(this.abs(cur)).catch(() => undefined))?.isDirectory()) continue;
      if (s.kind !== 'absent')
        throw new FsError('not a directory (expected a directory)', {
          file: this.abs(cur),
          hint: 'move the file in the way aside',
        });
      steps.push({ kind: 'mkdir', path: this.abs(cur), mode, owner });
      this.set(cur, { kind: 'dir', mode });
    }
    return steps;
  }

  private async children(rel: string): Promise<string[]> {
    const names = new Set(await readdir(this.abs(rel)).catch(() => [] as string[]));
    for (const [k, s] of this.now)
      if (path.dirname(k) === rel) s.kind === 'absent' ? names.delete(path.basename(k)) : names.add(path.basename(k));
    return [...names];
  }

  private notFile(rel: string, s: PathState): void {
    if (isDirState(s))
      throw new FsError('is a directory (expected a file)', {
        file: this.abs(rel),
        hint: 'move the directory in the way aside',
      });
  }

  async plan(op: Op): Promise<Op[]> {
    const rel = this.rel(op.path);
    await assertInside(this.roots.configRoot, op.path, { followFinal: op.kind === 'mkdir' });
    if (op.kind === 'mkdir') return this.dirs(rel, op.mode, op.owner);
    if (op.kind === 'rmdir') {
      const s = await this.state(rel);
      if (s.kind === 'absent') return [];
      if (s.kind !== 'dir') throw new FsError('not a directory (expected a directory)', { file: op.path });
      if ((await this.children(rel)).length) {
        this.notes.push(`kept ${op.path}: not empty`);
        return [];
      }
      this.set(rel, { kind: 'absent' });
      return [op];
    }
    const steps = op.kind === 'remove' ? [] : await this.dirs(path.dirname(rel), 0o755);
    const s = await this.state(rel);
    this.notFile(rel, s);
    const keep =
      (s.kind === 'file' || s.kind === 'symlink') && s.uid !== undefined ? { uid: s.uid, gid: s.gid ?? 0 } : undefined;
    if (op.kind === 'remove') {
      if (s.kind === 'absent') return [];
      this.set(rel, { kind: 'absent' });
      return [op];
    }
    const after: PathState =
      op.kind === 'write'
        ? { kind: 'file', mode: op.mode, sha256: sha256(op.content) }
        : { kind: 'symlink', target: op.target };
    // Same bytes and mode (or link target), and the owner asked for if one is: nothing to do.
    const sameOwner = !op.owner || (s.kind !== 'absent' && s.uid === op.owner.uid && s.gid === op.owner.gid);
    if (sameState(s, after) && sameOwner) return steps;
    this.set(rel, after);
    // Replacing someone's file keeps its owner unless the operation names one.
    return [...steps, { ...op, owner: op.owner ?? keep }];
  }

  changes(): { changes: Change[]; members: { name: string; captured: Captured }[] } {
    const changes = this.touched.map((rel) => ({
      path: rel,
      before: this.seen.get(rel)!.state,
      after: this.now.get(rel)!,
    }));
    const members = this.touched
      .map((rel) => ({ name: rel, captured: this.seen.get(rel)! }))
      .filter((m) => m.captured.state.kind !== 'absent');
    return { changes, members };
  }
}

/**
 * Carries out one single-path step, inside `root` (every directory on the way is resolved again right
 * before it acts). Idempotent where a crash could leave it half done.
 */
export async function runOp(root: string, op: Op, notes: string[]): Promise<void> {
  const opts = { inside: root, owner: 'owner' in op ? op.owner : undefined };
  if (op.kind === 'mkdir') await ensureDir(op.path, op.mode, opts);
  else if (op.kind === 'write') await writeFileAtomic(op.path, op.content, op.mode, opts);
  else if (op.kind === 'symlink') await writeSymlinkAtomic(op.path, op.target, opts);
  else if (op.kind === 'remove') await removeFile(op.path, opts);
  else if (!(await removeEmptyDir(op.path, opts)) && (await captureState(op.path, root)).state.kind === 'dir')
    notes.push(`kept ${op.path}: not empty`);
}
