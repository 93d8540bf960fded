// The places gentoo-kopt writes, as one table. Everything it changes under PORTAGE_CONFIGROOT lies in
// one of these areas, and every path its own state files name (journal.json, history.json, the
// ownership ledger) must too: those files are input like any other, and a path in them that leaves
// the areas (`../outside/victim`, `etc/portage/make.conf`) is refused before anything is touched. The
// planner refuses to write anywhere else, so what it records always reads back.
//
// A row is a path pattern, one pattern per component, and who may name it: the owners of the ledger
// (ledger.ts: `patches` for sync-patches, `hooks` for hooks install), the transactions and the
// backups. The directories on the way to a row's files belong to it too (a sync may have to create
// `etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58`, or `etc` itself in an empty root). Adding an
// area (PGO profiles under var/lib/gentoo-kopt/pgo/, kopt.conf written by an `init` command) is adding
// a row, and a new owner a name in Owner.
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { fsError, isErrno } from './fs-errors.js';
import { quote, ShapeError, str, type Shape } from './json-shape.js';

/** Who installs files and records them in the ledger. */
export type Owner = 'patches' | 'hooks' | 'init' | 'pgo';

/** Who names paths: the owners (in the ledger), the transactions (journal and history) and their backups. */
export type Claim = Owner | 'transaction' | 'backup';

export interface Area {
  /** The path as a user reads it, for messages: `etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch`. */
  shown: string;
  /** Below the config root, one pattern per component: a string is that name, a RegExp any name it matches. */
  path: readonly (string | RegExp)[];
  /** Who may name a file of this area (and the directories on the way to it). */
  claimedBy: readonly Claim[];
  /** Owners that may record having created the file, which they share with the user (bashrc: only the block is theirs). */
  sharedBy?: readonly Owner[];
  /**
   * The file may be a symbolic link to a file elsewhere inside the root (bashrc kept in a git
   * checkout): then the file it resolves to is written instead, and belongs to the area.
   */
  followLink?: boolean;
}

/** A category or package directory name (PMS 3.1.1, 3.1.2): never `.`, `..` or a dotfile. */
const PMS_NAME = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;

/** A profile store's own files (src/pgo/store.ts). */
const PGO_FILE = /^(profile\.json|kernel\.afdo|propeller_cc_profile\.txt|propeller_ld_profile\.txt|perf\.data)$/;
/** A stored .gcda: the object's path below the build directory with `/` as `#` (GCC's mangling). */
const GCDA_NAME = /^[A-Za-z0-9_+,=@-][A-Za-z0-9_+,=@#.-]*\.gcda$/;

/** A backup tarball's name: the transaction id (journal.ts TX_ID) and `.tar`. */
export const BACKUP_NAME = /^[0-9]{8}T[0-9]{6}Z-[0-9]{1,10}-[0-9a-f]{4}\.tar$/;

export const AREAS: readonly Area[] = [
  {
    shown: 'etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch',
    path: ['etc', 'portage', 'patches', PMS_NAME, PMS_NAME, /^00-gentoo-kopt-.+\.(patch|diff)$/],
    claimedBy: ['patches', 'transaction'],
  },
  {
    shown: 'etc/gentoo-kopt/kernel-hook.bash',
    path: ['etc', 'gentoo-kopt', 'kernel-hook.bash'],
    claimedBy: ['hooks', 'transaction'],
  },
  {
    shown: 'etc/gentoo-kopt/hook-settings',
    path: ['etc', 'gentoo-kopt', 'hook-settings'],
    claimedBy: ['hooks', 'transaction'],
  },
  {
    shown: 'etc/kernel/config.d/NN-gentoo-kopt-*.config',
    path: ['etc', 'kernel', 'config.d', /^[0-9]{2}-gentoo-kopt-[A-Za-z0-9._-]+\.config$/],
    claimedBy: ['hooks', 'pgo', 'transaction'],
  },
  // The hooks own only their block of bashrc; the ledger records whether they created the file.
  {
    shown: 'etc/portage/bashrc',
    path: ['etc', 'portage', 'bashrc'],
    claimedBy: ['transaction'],
    sharedBy: ['hooks'],
    followLink: true,
  },
  {
    shown: 'var/lib/gentoo-kopt/ledger.json',
    path: ['var', 'lib', 'gentoo-kopt', 'ledger.json'],
    claimedBy: ['transaction'],
  },
  // The records of the first release: the first write carries them into the ledger and removes them.
  {
    shown: 'var/lib/gentoo-kopt/managed.json',
    path: ['var', 'lib', 'gentoo-kopt', 'managed.json'],
    claimedBy: ['transaction'],
  },
  {
    shown: 'var/lib/gentoo-kopt/hooks.json',
    path: ['var', 'lib', 'gentoo-kopt', 'hooks.json'],
    claimedBy: ['transaction'],
  },
  // pgo: its state (which package is instrumented or uses which profile) and the profile store, one
  // directory per package version a profile was recorded on (src/pgo/store.ts).
  {
    shown: 'var/lib/gentoo-kopt/pgo/state.json',
    path: ['var', 'lib', 'gentoo-kopt', 'pgo', 'state.json'],
    claimedBy: ['pgo', 'transaction'],
  },
  {
    shown: 'var/lib/gentoo-kopt/pgo/CATEGORY/PN/PV/PROFILE',
    path: ['var', 'lib', 'gentoo-kopt', 'pgo', PMS_NAME, PMS_NAME, PMS_NAME, PGO_FILE],
    claimedBy: ['pgo', 'transaction'],
  },
  {
    shown: 'var/lib/gentoo-kopt/pgo/CATEGORY/PN/PV/gcov/*.gcda',
    path: ['var', 'lib', 'gentoo-kopt', 'pgo', PMS_NAME, PMS_NAME, PMS_NAME, 'gcov', GCDA_NAME],
    claimedBy: ['pgo', 'transaction'],
  },
  {
    shown: 'var/lib/gentoo-kopt/backups/ID.tar',
    path: ['var', 'lib', 'gentoo-kopt', 'backups', BACKUP_NAME],
    claimedBy: ['backup'],
  },
  // kopt.conf as `gentoo-kopt init` wrote it (the user's from then on: init never overwrites it).
  {
    shown: 'etc/gentoo-kopt/kopt.conf',
    path: ['etc', 'gentoo-kopt', 'kopt.conf'],
    claimedBy: ['init', 'transaction'],
  },
];

const matches = (pattern: string | RegExp, name: string): boolean =>
  typeof pattern === 'string' ? pattern === name : pattern.test(name);

/** Why `rel` is not a relative, normalised path ('' when it is one). */
export function notNormal(rel: string): string {
  if (rel === '') return 'is empty';
  if (rel.length > 4096) return 'is longer than PATH_MAX';
  if (rel.includes('\0')) return 'holds a NUL byte';
  if (rel.startsWith('/')) return 'is absolute (it must be relative to the config root)';
  if (rel.endsWith('/')) return 'ends in a slash';
  if (rel.split('/').some((c) => c === '' || c === '.' || c === '..'))
    return 'is not normalised (an empty, `.` or `..` component)';
  return '';
}

/** The files a symbolic link of a `followLink` area resolves to, relative to the config root (see resolveAreaLinks). */
export type AreaLinks = ReadonlyMap<string, string>;

/** A file `claim` may name, a directory on the way to one, or a file an owner shares with the user. */
export type PathKind = 'file' | 'dir' | 'shared';

const shares = (area: Area, claim: Claim): boolean => area.sharedBy?.includes(claim as Owner) ?? false;

/** Whether `rel` (normalised) is a file of an area `claim` may name, or a directory on the way to one. */
export function kindsClaimable(rel: string, claim: Claim, links: AreaLinks = new Map()): Set<PathKind> {
  const parts = rel.split('/');
  const kinds = new Set<PathKind>();
  for (const area of AREAS) {
    const files = area.claimedBy.includes(claim);
    if (!files && !shares(area, claim)) continue;
    const n = Math.min(parts.length, area.path.length);
    if (!parts.slice(0, n).every((p, i) => matches(area.path[i]!, p))) continue;
    if (parts.length === area.path.length) kinds.add(files ? 'file' : 'shared');
    else if (parts.length < area.path.length) kinds.add('dir');
  }
  for (const [link, target] of links) {
    if (target === rel && AREAS.some((a) => a.followLink && a.claimedBy.includes(claim) && a.path.join('/') === link))
      kinds.add('file');
  }
  return kinds;
}

/** The message for a path `claim` may not name (as a `kind`, when given): '' when it may. */
export function outsideAreas(rel: string, claim: Claim, links?: AreaLinks, kind?: PathKind): string {
  const bad = notNormal(rel);
  if (bad) return bad;
  const kinds = kindsClaimable(rel, claim, links);
  return (kind ? kinds.has(kind) : kinds.size > 0)
    ? ''
    : `is not in an area gentoo-kopt writes (${areasOf(claim, kind)})`;
}

/** A field holding a path `claim` may name (a file or a directory on the way, or only `kind`), for json-shape. */
export function areaPath(claim: Claim, opts: { kind?: PathKind; links?: AreaLinks } = {}): Shape<string> {
  return (v, at) => {
    const rel = str(4096)(v, at);
    const why = outsideAreas(rel, claim, opts.links, opts.kind);
    if (why) throw new ShapeError(at, `${quote(rel)} ${why}`);
    return rel;
  };
}

const CLAIMANT: Record<Claim, string> = {
  patches: 'a record of sync-patches',
  hooks: 'a record of hooks install',
  init: 'a record of init',
  pgo: 'a record of gentoo-kopt pgo',
  transaction: 'a transaction',
  backup: 'a backup',
};

/** "a record of sync-patches may name only etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch", ...: for messages. */
function areasOf(claim: Claim, kind?: PathKind): string {
  const files = AREAS.filter((a) => a.claimedBy.includes(claim)).map((a) => a.shown);
  const shared = AREAS.filter((a) => shares(a, claim)).map((a) => a.shown);
  const named =
    kind === 'file'
      ? files.join(', ')
      : kind === 'shared'
        ? shared.join(', ')
        : kind === 'dir'
          ? `the directories on the way to ${[...files, ...shared].join(', ')}`
          : `${files.join(', ')} and the directories on the way to ${files.length > 1 ? 'them' : 'it'}${shared.length ? ` and to ${shared.join(', ')}` : ''}`;
  return `${CLAIMANT[claim]} may name only ${named}`;
}

/**
 * The file a `followLink` area's path resolves to when it is a symbolic link staying inside the root,
 * as an absolute path below `configRoot` as given (the root itself may be reached through a link);
 * the path itself when it is not a link. A link leading out of the root, or to nothing, is refused.
 */
export async function resolveAreaFile(configRoot: string, rel: string): Promise<string> {
  const file = path.join(configRoot, rel);
  const st = await lstat(file).catch((err: unknown) =>
    isErrno(err, 'ENOENT', 'ENOTDIR') ? undefined : Promise.reject(fsError(err, file, 'inspect')),
  );
  if (!st?.isSymbolicLink()) return file;
  const real = await realpath(file).catch(() => undefined);
  const rootReal = await realpath(configRoot).catch(() => configRoot);
  const inside = real !== undefined && (rootReal === '/' || real.startsWith(rootReal + '/'));
  if (!inside) {
    throw new FsError(`${path.basename(file)} is a symbolic link to ${real ?? 'nothing'}, outside the config root`, {
      file,
      hint: 'replace the link with a file (or add the block to its target by hand: it is shown in README.md)',
    });
  }
  return path.join(configRoot, path.relative(rootReal, real));
}

/** Where each `followLink` area's link resolves now (only the links; a plain file is its own area). */
export async function resolveAreaLinks(configRoot: string): Promise<AreaLinks> {
  const links = new Map<string, string>();
  for (const area of AREAS.filter((a) => a.followLink)) {
    const rel = area.path.join('/');
    const resolved = await resolveAreaFile(configRoot, rel).catch(() => undefined); // a broken link: nothing follows it
    if (resolved !== undefined && resolved !== path.join(configRoot, rel))
      links.set(rel, path.relative(configRoot, resolved));
  }
  return links;
}
