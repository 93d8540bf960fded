// The installed-package database (VDB): ${EROOT}/var/db/pkg/<category>/<PF>/, one file per field.
// Follows Portage's lib/portage/dbapi/vartree.py (vardbapi, _read_metadata_file, _aux_get):
//  - fields are read from their own file, whitespace-normalized except the multi-line CONTENTS and
//    NEEDED.*; when the file is gone (`emaint vdb --fix --delete-individual-files`), from the combined
//    `metadata` file of Portage 3.0.82: a `#format=1` line, sorted `KEY=value` lines, a `#dir_mtime=` line
//    written last, other `#` lines ignored;
//  - entries named `.*`, `CVS`, `lost+found` are skipped silently, `-MERGING-*` (a merge in progress or
//    interrupted) is skipped and reported, a name that is not category/PF is reported.
// Deliberate differences: the per-field file wins over a valid metadata file (Portage prefers the
// metadata file only while it is fresh, and then both agree), and the metadata file's `#dir_mtime=` is not
// compared with the directory's mtime, since a copied root (a sandbox, a backup) changes every mtime.
// Nothing here throws for a corrupt entry: it becomes a VdbProblem and the entry is left out. Every
// file is read through the bounded reader (a regular file of at most LIMITS.vdb: a FIFO in place of
// SLOT must not hang a sync), and a problem names the file and line, never the text in it.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../errors.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { readOptionalSync } from '../system/read.js';
import { parseCpv, type Cpv } from './atom.js';
import { compareVersions } from './version.js';
import { vdbPath, type Roots } from './roots.js';

export interface InstalledPackage {
  cpv: Cpv;
  slot: string;
  subslot?: string;
  repository?: string;
  /** BUILD_TIME: seconds since the epoch. */
  buildTime?: number;
  /** COUNTER: Portage's merge counter (higher = merged later). */
  counter?: number;
  dir: string;
}

export interface VdbProblem {
  file: string;
  line?: number;
  message: string;
  /** 'merging': a -MERGING- directory (normal while emerge runs); 'corrupt': unusable data; 'unreadable': I/O. */
  kind?: 'corrupt' | 'merging' | 'unreadable';
}

const METADATA_FILE = 'metadata';
const METADATA_FORMAT = 1;
// vartree.py _METADATA_FILE_FIELDS: the only fields the metadata file may answer for.
const METADATA_FIELDS = new Set([
  'BDEPEND',
  'BUILD_ID',
  'BUILD_TIME',
  'CHOST',
  'COUNTER',
  'DEFINED_PHASES',
  'DEPEND',
  'DESCRIPTION',
  'EAPI',
  'HOMEPAGE',
  'IDEPEND',
  'IUSE',
  'KEYWORDS',
  'LICENSE',
  'PDEPEND',
  'PROPERTIES',
  'PROVIDES',
  'RDEPEND',
  'REQUIRES',
  'RESTRICT',
  'SLOT',
  'USE',
  'repository',
]);
const MULTI_LINE = /^(CONTENTS|NEEDED\..*)$/;
const EXCLUDED = /^(\..*|CVS|lost\+found)$/;
const MERGING = '-MERGING-';
// Portage's SLOT syntax (versions.py _get_slot_re): SLOT or SLOT/SUBSLOT.
const SLOT_RE = /^([A-Za-z0-9_][A-Za-z0-9+_.-]*)(?:\/([A-Za-z0-9_][A-Za-z0-9+_.-]*))?$/;
const INTEGER = /^\d+$/;

export interface MetadataFile {
  values: Map<string, string>;
  problems: VdbProblem[];
}

/**
 * Parses a VDB `metadata` file. A file without `#format=1` is not used at all (as Portage rejects it);
 * one without the trailing `#dir_mtime=` was cut short by an interrupted write and is not used either.
 */
export function parseMetadataFile(text: string, file: string): MetadataFile {
  const values = new Map<string, string>();
  const problems: VdbProblem[] = [];
  const reject = (message: string, line?: number): MetadataFile => ({
    values: new Map(),
    problems: [{ file, line, message, kind: 'corrupt' }],
  });
  let format: number | undefined;
  let stamped = false;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('#format=')) {
      const v = line.slice('#format='.length);
      if (!INTEGER.test(v) || Number(v) !== METADATA_FORMAT) {
        return reject(`unsupported metadata format (this reader knows #format=${METADATA_FORMAT})`, i + 1);
      }
      format = METADATA_FORMAT;
    } else if (line.startsWith('#dir_mtime=')) {
      if (!INTEGER.test(line.slice('#dir_mtime='.length))) return reject('malformed #dir_mtime= line', i + 1);
      stamped = true;
    } else if (line === '' || line.startsWith('#')) {
    } else if (!line.includes('=')) {
      problems.push({ file, line: i + 1, message: 'malformed line (expected KEY=value)', kind: 'corrupt' });
    } else {
      const eq = line.indexOf('=');
      values.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  if (format === undefined) return reject(`no '#format=' line: not a metadata file this reader can trust`);
  if (!stamped) return reject("no '#dir_mtime=' line: the file was cut short (an interrupted write?)");
  return { values, problems };
}

function normalize(field: string, raw: string): string {
  return MULTI_LINE.test(field) ? raw : raw.split(/\s+/).filter(Boolean).join(' ');
}

/**
 * One package directory: per-field files, with the metadata file read at most once as a fallback.
 * Synchronous on purpose: thousands of one-line files read several times faster that way than through
 * the thread pool (about 60 ms against 400 ms for a 2,000-package VDB).
 */
class VdbEntry {
  private metadata?: MetadataFile | null;
  readonly problems: VdbProblem[] = [];
  constructor(readonly dir: string) {}

  private loadMetadata(): MetadataFile | null {
    if (this.metadata !== undefined) return this.metadata;
    const file = path.join(this.dir, METADATA_FILE);
    const bytes = readOptionalSync(file, 'vdb');
    this.metadata = bytes === undefined ? null : parseMetadataFile(bytes.toString('utf8'), file);
    if (this.metadata) this.problems.push(...this.metadata.problems);
    return this.metadata;
  }

  field(name: string): string | undefined {
    const bytes = readOptionalSync(path.join(this.dir, name), 'vdb');
    if (bytes !== undefined) return normalize(name, bytes.toString('utf8'));
    if (!METADATA_FIELDS.has(name)) return undefined;
    return this.loadMetadata()?.values.get(name);
  }
}

/**
 * One field of a VDB entry: its own file (whitespace-normalized as Portage does; CONTENTS and NEEDED.*
 * as they are), else the `metadata` file, else undefined. Throws FsError when a file exists but cannot
 * be read.
 */
export async function readVdbField(dir: string, field: string): Promise<string | undefined> {
  return Promise.resolve().then(() => new VdbEntry(dir).field(field));
}

function problemFrom(err: unknown, file: string, action: 'read' | 'list' = 'read'): VdbProblem {
  const e = fsError(err, file, action);
  if (!(e instanceof KoptError)) throw e;
  return { file: e.file ?? file, line: e.line, message: e.message, kind: 'unreadable' };
}

/** The sub-directories of `dir` (following symlinks), with a problem for each entry that is not one. */
async function listDirs(dir: string, problems: VdbProblem[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    problems.push(
      isErrno(err, 'ENOTDIR')
        ? { file: dir, message: 'not a directory (Portage ignores it)', kind: 'corrupt' }
        : problemFrom(err, dir, 'list'),
    );
    return [];
  }
  const names: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, e.name);
    if (EXCLUDED.test(e.name)) continue;
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory());
    if (isDir) names.push(e.name);
    else
      problems.push({
        file: full,
        message: 'not a directory: a stray file in the VDB (Portage ignores it)',
        kind: 'corrupt',
      });
  }
  return names;
}

/** A whole number Portage could have written (BUILD_TIME, COUNTER); undefined for anything else or one past 2^53. */
const toInteger = (v: string | undefined): number | undefined =>
  v !== undefined && INTEGER.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : undefined;

function readPackage(cpv: Cpv, dir: string): { pkg?: InstalledPackage; problems: VdbProblem[] } {
  const entry = new VdbEntry(dir);
  try {
    const [slotText, repository, buildTime, counter] = ['SLOT', 'repository', 'BUILD_TIME', 'COUNTER'].map((f) =>
      entry.field(f),
    );
    const problems = entry.problems;
    for (const [name, v] of [
      ['BUILD_TIME', buildTime],
      ['COUNTER', counter],
    ] as const) {
      if (v !== undefined && toInteger(v) === undefined) {
        problems.push({
          file: path.join(dir, name),
          message: `${name} is not a number (or one too large to be real)`,
          kind: 'corrupt',
        });
      }
    }
    if (!slotText) {
      problems.push({
        file: path.join(dir, 'SLOT'),
        message: 'no SLOT (neither a SLOT file nor a usable metadata file)',
        kind: 'corrupt',
      });
      return { problems };
    }
    const m = SLOT_RE.exec(slotText);
    if (!m) {
      problems.push({
        file: path.join(dir, 'SLOT'),
        message: 'invalid SLOT (not SLOT or SLOT/SUBSLOT)',
        kind: 'corrupt',
      });
      return { problems };
    }
    const [, slot = '', subslot] = m;
    const pkg: InstalledPackage = { cpv: { ...cpv, slot, ...(subslot !== undefined && { subslot }) }, slot, dir };
    if (subslot !== undefined) pkg.subslot = subslot;
    if (repository) pkg.repository = repository;
    if (toInteger(buildTime) !== undefined) pkg.buildTime = toInteger(buildTime);
    if (toInteger(counter) !== undefined) pkg.counter = toInteger(counter);
    return { pkg, problems };
  } catch (err) {
    return { problems: [...entry.problems, problemFrom(err, dir)] };
  }
}

export interface VdbEntryName {
  cpv: Cpv;
  dir: string;
}

/**
 * The entries under ${EROOT}/var/db/pkg by their names alone, no file of them read: what `find` would
 * list. A -MERGING- directory, a stray file and a name that is not category/PF are problems. With `cpns`
 * only those categories are listed and only those packages returned.
 */
export async function listInstalled(
  roots: Roots,
  opts: { cpns?: readonly string[] } = {},
): Promise<{ entries: VdbEntryName[]; problems: VdbProblem[] }> {
  const base = vdbPath(roots);
  const problems: VdbProblem[] = [];
  const wanted = opts.cpns ? new Set(opts.cpns) : undefined;
  const categories = wanted
    ? [...new Set([...wanted].map((cpn) => cpn.split('/')[0] ?? ''))].filter((c) => c && !EXCLUDED.test(c)).sort()
    : await listDirs(base, problems);

  const entries: VdbEntryName[] = [];
  for (const category of categories) {
    for (const name of await listDirs(path.join(base, category), problems)) {
      const dir = path.join(base, category, name);
      if (name.startsWith(MERGING)) {
        problems.push({
          file: dir,
          message: 'a merge in progress or interrupted (Portage ignores it; remove it if no emerge is running)',
          kind: 'merging',
        });
        continue;
      }
      let cpv: Cpv;
      try {
        cpv = parseCpv(`${category}/${name}`);
      } catch (err) {
        problems.push({ file: dir, message: `not a valid category/PF: ${(err as Error).message}`, kind: 'corrupt' });
        continue;
      }
      if (!wanted || wanted.has(cpv.cpn)) entries.push({ cpv, dir });
    }
  }
  return { entries, problems };
}

/** Reads the listed entries (SLOT, repository, BUILD_TIME, COUNTER), sorted by category/name and version. */
export function readEntries(entries: readonly VdbEntryName[]): {
  packages: InstalledPackage[];
  problems: VdbProblem[];
} {
  const packages: InstalledPackage[] = [];
  const problems: VdbProblem[] = [];
  for (const r of entries.map((c) => readPackage(c.cpv, c.dir))) {
    problems.push(...r.problems);
    if (r.pkg) packages.push(r.pkg);
  }
  packages.sort((a, b) =>
    a.cpv.cpn < b.cpv.cpn ? -1 : a.cpv.cpn > b.cpv.cpn ? 1 : compareVersions(a.cpv.version, b.cpv.version),
  );
  return { packages, problems };
}

/**
 * The installed packages under ${EROOT}/var/db/pkg, sorted by category/name and version. With `cpns`
 * (category/name list) only those categories are listed and only those packages read. A missing VDB is
 * an empty one; nothing throws for a bad entry, it becomes a problem instead.
 */
export async function readInstalled(
  roots: Roots,
  opts: { cpns?: readonly string[] } = {},
): Promise<{ packages: InstalledPackage[]; problems: VdbProblem[] }> {
  const listed = await listInstalled(roots, opts);
  const read = readEntries(listed.entries);
  return { packages: read.packages, problems: [...listed.problems, ...read.problems] };
}
