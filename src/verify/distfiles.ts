// Which distfiles a dist-kernel build unpacks and patches before eapply_user, found without running the
// ebuild: SRC_URI from the repository's metadata cache (metadata/md5-cache, see repo-index.ts), the
// files looked up in DISTDIR (the environment, then make.conf, then Portage's make.globals default
// /var/cache/distfiles below EPREFIX). The gentoo repository's ebuilds (sys-kernel/gentoo-kernel,
// vanilla-kernel) do, in src_prepare, before `default` (which runs eapply_user):
//  - vanilla-kernel: `eapply patch-${PV}` (the kernel.org incremental patch, xz-compressed);
//  - gentoo-kernel (2025 on): `eapply patch-${PATCH_PV}`, then `eapply linux-gentoo-patches-${PV}`, a
//    directory from the tarball of that name (its *.patch and *.diff files, in C order);
//  - gentoo-kernel (genpatches era): PATCHES=( "${WORKDIR}"/*.patch ): every *.patch at the top of
//    genpatches-X.Y-N.base.tar.xz and .extras.tar.xz together, in C order (the 1xxx files are the
//    stable updates, so there is no patch-X.Y.Z.xz).
// All of them unpack linux-X.Y.tar.xz first (rc versions: linux-X.Y-rcN.tar.gz). Config files and the
// sha256sums signature are not patches and are ignored. SRC_URI's USE-conditional groups are taken
// whole: a kernel's patches are not USE-conditional (experimental genpatches are, and are skipped).
import path from 'node:path';
import { parseCpv, type Cpv } from '../portage/atom.js';
import { loadMakeConf } from '../portage/make-conf.js';
import { repoIndex, type RepoIndex } from '../portage/repo-index.js';
import type { Roots } from '../portage/roots.js';
import { fileExists } from './read-tree.js';

export type PatchsetKind = 'genpatches' | 'patch-dir';

export interface KernelDistfiles {
  /** linux-X.Y.tar.xz */
  base: string;
  /** patch-X.Y.Z.xz, when the ebuild applies one. */
  incremental?: string;
  /** Gentoo patchsets, in the order the ebuild applies them. */
  patchsets: { file: string; kind: PatchsetKind }[];
}

export type DistfileLookup =
  | {
      found: true;
      distdir: string;
      files: KernelDistfiles;
      /** Every file SRC_URI names (after renames), USE-conditional groups included: config snapshots too. */
      fetched: string[];
    }
  | { found: false; reason: string; hint: string; missing?: string[]; distdir?: string };

/** Distfile name patterns and what they are (first match wins). */
const KINDS: [RegExp, 'base' | 'incremental' | PatchsetKind | 'skip'][] = [
  [/^linux-\d+\.\d+(-rc\d+)?\.tar\.(xz|gz)$/, 'base'],
  [/^patch-\d+\.\d+(\.\d+)?(-rc\d+)?\.xz$/, 'incremental'],
  [/^genpatches-.*\.(base|extras)\.tar\.xz$/, 'genpatches'],
  [/^genpatches-.*\.experimental\.tar\.xz$/, 'skip'],
  [/^linux-gentoo-patches-.*\.tar\.xz$/, 'patch-dir'],
];

/** The file names a SRC_URI value fetches (after `->` renames), USE-conditional groups included. */
export function srcUriFiles(srcUri: string): string[] {
  const tokens = srcUri.split(/\s+/).filter((t) => t !== '');
  const files: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '(' || t === ')' || t.endsWith('?')) continue;
    if (tokens[i + 1] === '->' && tokens[i + 2] !== undefined) {
      files.push(tokens[i + 2]!);
      i += 2;
      continue;
    }
    files.push(t.replace(/^.*\//, ''));
  }
  return [...new Set(files)];
}

/** Sorts the kernel-related distfiles of a SRC_URI into base, incremental patch and patchsets. */
export function classifyDistfiles(files: string[]): Partial<KernelDistfiles> {
  const out: Partial<KernelDistfiles> = { patchsets: [] };
  for (const name of files) {
    const kind = KINDS.find(([re]) => re.test(name))?.[1];
    if (kind === 'base') out.base = name;
    else if (kind === 'incremental') out.incremental = name;
    else if (kind === 'genpatches' || kind === 'patch-dir') out.patchsets!.push({ file: name, kind });
  }
  out.patchsets!.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return out;
}

/** DISTDIR as Portage resolves it: environment, make.conf, then make.globals' default. */
export async function distdir(roots: Roots, env: NodeJS.ProcessEnv): Promise<string> {
  if (env.DISTDIR) return env.DISTDIR;
  const { vars } = await loadMakeConf(roots);
  return vars.get('DISTDIR') || path.join(roots.configRoot, 'var/cache/distfiles');
}

/** Finds the distfiles the build of `cpv` patches before eapply_user. */
export async function findDistfiles(roots: Roots, env: NodeJS.ProcessEnv, cpv: Cpv | string): Promise<DistfileLookup> {
  return distfileFinder(roots, env)(cpv);
}

/**
 * findDistfiles for the many versions of one run (sync-patches checks every target): make.conf's
 * DISTDIR once, and repos.conf and each package's versions once through `index` (the run's, when the
 * caller has one: sync-patches' targets were found with it).
 */
export function distfileFinder(
  roots: Roots,
  env: NodeJS.ProcessEnv,
  index: RepoIndex = repoIndex(roots),
): (cpv: Cpv | string) => Promise<DistfileLookup> {
  let dir: Promise<string> | undefined;
  return (cpv) => lookup(cpv, index.versions, () => (dir ??= distdir(roots, env)));
}

async function lookup(
  cpv: Cpv | string,
  available: RepoIndex['versions'],
  distdirOnce: () => Promise<string>,
): Promise<DistfileLookup> {
  const want = typeof cpv === 'string' ? parseCpv(cpv) : cpv;
  const { packages } = await available(want.cpn);
  const pkg = packages.find((p) => p.cpv.pf === want.pf) ?? packages.find((p) => p.cpv.pv === want.pv);
  const name = `${want.category}/${want.pf}`;
  if (!pkg) {
    return {
      found: false,
      reason: `${name} is in none of the repositories`,
      hint: 'sync the repository (emerge --sync), or name the tarball with --tarball and the patches with --patches',
    };
  }
  const srcUri = pkg.metadata?.get('SRC_URI');
  if (srcUri === undefined) {
    return {
      found: false,
      reason: `no current metadata cache entry for ${name} (SRC_URI unknown)`,
      hint: 'regenerate the cache: emerge --regen (or egencache), or use --tarball/--patches',
    };
  }
  const classified = classifyDistfiles(srcUriFiles(srcUri));
  if (!classified.base)
    return {
      found: false,
      reason: `${name} fetches no linux-X.Y tarball: not a kernel built from kernel.org sources`,
      hint: 'use --source DIR with an unpacked tree',
    };
  const dir = await distdirOnce();
  const needed = [
    classified.base,
    ...(classified.incremental ? [classified.incremental] : []),
    ...classified.patchsets!.map((p) => p.file),
  ];
  const missing: string[] = [];
  for (const f of needed) if (!(await fileExists(path.join(dir, f)))) missing.push(f);
  if (missing.length > 0) {
    return {
      found: false,
      distdir: dir,
      missing,
      reason: `distfiles not downloaded: ${missing.join(', ')} (in ${dir})`,
      hint: `fetch them first: emerge --fetchonly =${name}`,
    };
  }
  return {
    found: true,
    distdir: dir,
    fetched: srcUriFiles(srcUri),
    files: {
      base: path.join(dir, classified.base),
      ...(classified.incremental ? { incremental: path.join(dir, classified.incremental) } : {}),
      patchsets: classified.patchsets!.map((p) => ({ file: path.join(dir, p.file), kind: p.kind })),
    },
  };
}
