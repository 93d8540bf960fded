// Simulates Portage's `eapply_user`: which user patches the next emerge of a package applies, in which
// order, and from where. Follows bin/phase-helpers.sh (eapply_user, __readdir, eapply):
//  - directories ${PN}, ${PN}:${SLOT%/*}, ${P}, ${P}:SLOT, ${P}-${PR}, ${P}-${PR}:SLOT under
//    ${PORTAGE_CONFIGROOT}/etc/portage/patches/${CATEGORY}, read in that order; a later directory's entry
//    replaces an earlier one of the same basename (PR is always set: an unrevisioned package reads `-r0`);
//  - only the immediate, non-dot entries named *.diff or *.patch count (no recursion); an entry whose
//    size is zero (`[[ -s ]]` false: empty file, /dev/null symlink, dangling symlink) removes the basename;
//  - the surviving basenames apply sorted with LC_ALL=C sort (byte order);
//  - an entry that is a directory is handed to eapply, which applies its *.diff/*.patch files in C order
//    and dies if there are none;
//  - a directory path that exists but cannot be read as a directory makes eapply_user die.
import { readdir, stat, lstat } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { Cpv } from './atom.js';
import { portageConfigPath, type Roots } from './roots.js';

export interface UserPatch {
  basename: string;
  /** Absolute path of the entry eapply receives. */
  path: string;
  /** The directory it came from, e.g. 'gentoo-kernel-6.12.58:6.12.58'. */
  dir: string;
  /** Only for an entry that is itself a directory: the files eapply applies from it, in order. */
  files?: string[];
}

export interface EapplyUserResult {
  /** ${PORTAGE_CONFIGROOT}/etc/portage/patches/<category> */
  base: string;
  /** Every directory searched, in Portage's order (later ones win). */
  dirs: { name: string; path: string; exists: boolean }[];
  /** What will be applied, in order. */
  patches: UserPatch[];
  /** Basenames removed by a zero-size entry (and not brought back by a later directory). */
  cancelled: { basename: string; by: string }[];
  /** Entries that never apply because a later directory replaced or cancelled them. */
  overridden: { path: string; by: string }[];
}

const PATCH_NAME = /\.(diff|patch)$/;

/** LC_COLLATE=C: compare the UTF-8 bytes, not UTF-16 code units. */
export function compareC(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The directory names eapply_user searches, least specific first (the brace expansion's order). */
export function userPatchDirNames(cpv: Pick<Cpv, 'pn' | 'p' | 'pr'>, slot?: string): string[] {
  const slotSuffixes = slot === undefined || slot === '' ? [''] : ['', `:${slot.replace(/\/.*$/, '')}`];
  return [cpv.pn, cpv.p, `${cpv.p}-${cpv.pr}`].flatMap((name) => slotSuffixes.map((s) => name + s));
}

/** The immediate non-dot entries of a directory, or undefined when it does not exist. */
async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Portage dies only when the path exists (or is a symlink) and still cannot be read as a directory.
    const exists = await lstat(dir).then(
      () => true,
      () => false,
    );
    if (code === 'ENOENT' && !exists) return undefined;
    throw new FsError(
      `${dir} exists but cannot be opened as a directory (${code ?? 'error'}): eapply_user will stop the emerge`,
      {
        file: dir,
        hint: 'make it a readable directory (0755) or remove it',
      },
    );
  }
}

/** `[[ -s f ]]` (follows symlinks), plus whether f is a directory. */
async function sizeOf(file: string): Promise<{ nonEmpty: boolean; isDir: boolean }> {
  try {
    const st = await stat(file);
    return { nonEmpty: st.size > 0, isDir: st.isDirectory() };
  } catch {
    return { nonEmpty: false, isDir: false };
  }
}

/** What eapply applies from a directory operand: `"${dir}"/*` entries matching *.@(diff|patch), C order. */
async function eapplyDirFiles(dir: string): Promise<string[]> {
  // An unreadable directory leaves bash's glob unexpanded: eapply then finds no patch and dies.
  const names = (await listDir(dir).catch(() => undefined)) ?? [];
  return names
    .filter((n) => PATCH_NAME.test(n))
    .sort(compareC)
    .map((n) => path.join(dir, n));
}

export async function eapplyUser(roots: Roots, cpv: Cpv, slot?: string): Promise<EapplyUserResult> {
  const base = portageConfigPath(roots, 'patches', cpv.category);
  const dirs: EapplyUserResult['dirs'] = [];
  const chosen = new Map<string, { patch: UserPatch; isDir: boolean }>();
  const cancelledBy = new Map<string, string>();
  const overridden: EapplyUserResult['overridden'] = [];

  for (const name of userPatchDirNames(cpv, slot)) {
    const dirPath = path.join(base, name);
    const names = await listDir(dirPath);
    dirs.push({ name, path: dirPath, exists: names !== undefined });
    for (const basename of (names ?? []).filter((n) => PATCH_NAME.test(n)).sort(compareC)) {
      const file = path.join(dirPath, basename);
      const earlier = chosen.get(basename);
      if (earlier) overridden.push({ path: earlier.patch.path, by: file });
      const { nonEmpty, isDir } = await sizeOf(file);
      if (nonEmpty) {
        chosen.set(basename, { patch: { basename, path: file, dir: name }, isDir });
        cancelledBy.delete(basename);
      } else {
        chosen.delete(basename);
        cancelledBy.set(basename, file);
      }
    }
  }

  const patches: UserPatch[] = [];
  for (const basename of [...chosen.keys()].sort(compareC)) {
    const { patch, isDir } = chosen.get(basename)!;
    patches.push(isDir ? { ...patch, files: await eapplyDirFiles(patch.path) } : patch);
  }
  const cancelled = [...cancelledBy]
    .map(([basename, by]) => ({ basename, by }))
    .sort((a, b) => compareC(a.basename, b.basename));
  return { base, dirs, patches, cancelled, overridden };
}
