// The versions of a package that the repositories offer, read from files and never by running an
// ebuild. As Portage's portdbapi.cp_list, the ebuilds in <repo>/<category>/<pn>/ say which versions
// exist; the metadata cache (metadata/md5-cache/<category>/<PF>: KEY=value lines, `_md5_` the ebuild's
// md5, as written by egencache) supplies SLOT and the rest when its entry is current. Without a current
// cache entry the SLOT is read from the ebuild only when it is a single top-level `SLOT=` assignment of
// a literal, optionally using ${PV}, ${PN}, ${P}, ${PR}, ${PVR}, ${PF} (dist-kernels: SLOT="${PV}");
// otherwise it stays unknown. A repository with no <category>/<pn> directory but cache entries (a
// trimmed mirror, a fixture) is read from the cache alone. Ebuilds and cache entries are read through
// the bounded reader (regular files of at most LIMITS.repository); a problem names the file and line,
// never its text.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, FsError, KoptError, VersionError } from '../errors.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { readBounded, readBoundedSync, readOptionalSync } from '../system/read.js';
import { parseAtom, parseCpv, type Cpv } from './atom.js';
import { compareVersions } from './version.js';
import { loadReposConf, type Repo, type ReposConf } from './repos-conf.js';
import type { Roots } from './roots.js';
import type { VdbProblem } from './vdb.js';

export interface AvailablePackage {
  cpv: Cpv;
  repo: string;
  /** SLOT without the sub-slot, when known. */
  slot?: string;
  subslot?: string;
  /** The md5-cache entry, when there is a current one. */
  metadata?: Map<string, string>;
  /** The ebuild (or, for a cache-only repository, the cache entry). */
  file: string;
}

const SLOT_RE = /^([A-Za-z0-9_][A-Za-z0-9+_.-]*)(?:\/([A-Za-z0-9_][A-Za-z0-9+_.-]*))?$/;
const SLOT_LINE = /^SLOT=(?:"([^"]*)"|'([^']*)'|([^\s"'#;&|]*))\s*(?:#.*)?$/;
const VAR_REF = /\$\{(\w+)\}|\$(\w+)/g;

/** Parses an md5-cache entry. A line without '=' is a ConfigError naming file and line. */
function parseMd5CacheEntry(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError('malformed metadata cache line (expected KEY=value)', { file, line: i + 1 });
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** Reads an md5-cache entry (it must exist); see parseMd5CacheEntry. */
export async function readMd5CacheEntry(file: string): Promise<Map<string, string>> {
  return parseMd5CacheEntry((await readBounded(file, 'repository')).toString('utf8'), file);
}

/** SLOT from an ebuild's text when it is trivially readable, else undefined. */
export function trivialSlot(ebuild: string, cpv: Cpv): string | undefined {
  const lines = ebuild.split('\n');
  const assignments = lines.filter((l) => /^\s*SLOT=/.test(l));
  if (assignments.length !== 1 || !assignments[0]?.startsWith('SLOT=')) return undefined;
  const m = SLOT_LINE.exec(assignments[0].trimEnd());
  if (!m) return undefined;
  if (m[2] !== undefined) return m[2];
  const vars: Record<string, string> = { PV: cpv.pv, PN: cpv.pn, P: cpv.p, PR: cpv.pr, PVR: cpv.pvr, PF: cpv.pf };
  let unknown = false;
  const value = (m[1] ?? m[3] ?? '').replace(VAR_REF, (ref, a?: string, b?: string) => {
    const v = vars[a ?? b ?? ''];
    if (v === undefined) unknown = true;
    return v ?? ref;
  });
  return unknown || /[$`\\]/.test(value) ? undefined : value;
}

async function listNames(dir: string, problems: VdbProblem[]): Promise<string[] | undefined> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    problems.push({
      file: dir,
      message: isErrno(err, 'ENOTDIR') ? 'not a directory' : (fsError(err, dir, 'list') as Error).message,
      kind: 'unreadable',
    });
    return [];
  }
}

function problemOf(err: unknown, file: string): VdbProblem {
  if (!(err instanceof KoptError)) throw err;
  return {
    file: err.file ?? file,
    line: err.line,
    message: err.message,
    kind: err instanceof FsError ? 'unreadable' : 'corrupt',
  };
}

function cacheEntry(file: string, ebuild: Buffer | undefined, problems: VdbProblem[]): Map<string, string> | undefined {
  let entry: Map<string, string>;
  try {
    const bytes = readOptionalSync(file, 'repository');
    if (bytes === undefined) return undefined;
    entry = parseMd5CacheEntry(bytes.toString('utf8'), file);
  } catch (err) {
    problems.push(problemOf(err, file));
    return undefined;
  }
  // A stale entry (the ebuild changed since egencache ran) describes another ebuild: Portage ignores it.
  const md5 = entry.get('_md5_');
  if (ebuild !== undefined && md5 !== undefined && createHash('md5').update(ebuild).digest('hex') !== md5)
    return undefined;
  return entry;
}

function withSlot(pkg: AvailablePackage, slotText: string | undefined): AvailablePackage {
  const m = slotText === undefined ? undefined : SLOT_RE.exec(slotText);
  if (!m) return pkg;
  const [, slot = '', subslot] = m;
  const out: AvailablePackage = { ...pkg, slot, cpv: { ...pkg.cpv, slot } };
  if (subslot !== undefined) [out.subslot, out.cpv.subslot] = [subslot, subslot];
  return out;
}

async function fromRepo(
  repo: Repo,
  category: string,
  pn: string,
): Promise<{ packages: AvailablePackage[]; problems: VdbProblem[] }> {
  const problems: VdbProblem[] = [];
  const pkgDir = path.join(repo.location, category, pn);
  const cacheDir = path.join(repo.location, 'metadata/md5-cache', category);
  const ebuilds = await listNames(pkgDir, problems);
  const cacheOnly = ebuilds === undefined;
  const names = cacheOnly
    ? ((await listNames(cacheDir, problems)) ?? []).filter((n) => n.startsWith(`${pn}-`))
    : ebuilds.filter((n) => n.endsWith('.ebuild')).map((n) => n.slice(0, -'.ebuild'.length));
  const out: AvailablePackage[] = [];
  // Each ebuild and cache entry is read synchronously, as the VDB's files are: a package has dozens of
  // versions, and small reads cost far less than trips through the thread pool.
  for (const pf of names) {
    const file = cacheOnly ? path.join(cacheDir, pf) : path.join(pkgDir, `${pf}.ebuild`);
    let cpv: Cpv;
    try {
      cpv = parseCpv(`${category}/${pf}`);
    } catch (err) {
      problems.push({
        file,
        message: `not a valid ${cacheOnly ? 'cache entry' : 'ebuild'} name: ${(err as Error).message}`,
        kind: 'corrupt',
      });
      continue;
    }
    if (cpv.pn !== pn) {
      if (!cacheOnly)
        problems.push({ file, message: `ebuild of '${cpv.pn}' in the directory of '${pn}'`, kind: 'corrupt' });
      continue;
    }
    let ebuild: Buffer | undefined;
    if (!cacheOnly) {
      try {
        ebuild = readBoundedSync(file, 'repository');
      } catch (err) {
        problems.push(problemOf(err, file));
        continue;
      }
    }
    const metadata = cacheEntry(path.join(cacheDir, pf), ebuild, problems);
    const pkg: AvailablePackage = { cpv, repo: repo.name, file, ...(metadata && { metadata }) };
    const slot =
      metadata?.get('SLOT') ?? (ebuild === undefined ? undefined : trivialSlot(ebuild.toString('utf8'), cpv));
    out.push(withSlot(pkg, slot));
  }
  return { packages: out, problems };
}

/**
 * Every version of `cpn` (category/name) in `repos`, sorted by version (the same version in two
 * repositories: in the order of `repos`). Bad names and unreadable files become problems.
 */
export async function availableVersions(
  repos: Repo[],
  cpn: string,
): Promise<{ packages: AvailablePackage[]; problems: VdbProblem[] }> {
  const { category, pn, cpn: plain } = parseAtom(cpn);
  if (plain !== cpn) throw new VersionError(`invalid package name '${cpn}' (expected category/name, nothing more)`);
  const perRepo = await Promise.all(repos.map((r) => fromRepo(r, category, pn)));
  const packages = perRepo.flatMap((r) => r.packages);
  const problems = perRepo.flatMap((r) => r.problems);
  // Array.prototype.sort is stable: equal versions keep the repositories' order.
  packages.sort((a, b) => compareVersions(a.cpv.version, b.cpv.version));
  return { packages, problems };
}

/** The versions of each package asked for (and repos.conf), read at most once: what one command run sees. */
export interface RepoIndex {
  versions(cpn: string): ReturnType<typeof availableVersions>;
}

/**
 * A RepoIndex for one run of a command that asks twice (sync-patches: the targets, then each
 * target's distfiles). Not shared between runs: the repositories may change in between.
 */
export function repoIndex(roots: Roots): RepoIndex {
  let conf: Promise<ReposConf> | undefined;
  const versions = new Map<string, ReturnType<typeof availableVersions>>();
  return {
    versions: (cpn) => {
      conf ??= loadReposConf(roots);
      if (!versions.has(cpn))
        versions.set(
          cpn,
          conf.then((r) => availableVersions(r.repos, cpn)),
        );
      return versions.get(cpn)!;
    },
  };
}
