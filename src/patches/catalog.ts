// The patch catalog (format: patches/README.md): named series, and per series entries that map a kernel
// version range to an ordered list of patch files with their sha256. The built-in catalog ships in
// <package>/patches/catalog.ini; ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/catalog.d/*.conf extend it.
// Ranges are semver ranges over the kernel version; matching lives in match.ts.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, formatWhere, FsError } from '../errors.js';
import { programFile } from '../program-files.js';
import { koptConfigPath, type Roots } from '../portage/roots.js';
import { closest, parseIniLines, readConfigText, type IniSection } from '../config/ini-lines.js';
import { SERIES_NAME } from '../config/schema.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { kernelRange } from './match.js';

export { checkOverlaps, findOverlaps, kernelRange, matchEntry } from './match.js';

export interface CatalogFile {
  path: string;
  sha256: string;
  line: number;
}

export interface CatalogEntry {
  series: string;
  id: string;
  range: string;
  files: CatalogFile[];
  origin?: string;
  provides: string[];
  file: string;
  line: number;
}

export interface Series {
  name: string;
  description?: string;
  provides: string[];
  entries: CatalogEntry[];
  file: string;
  line: number;
}

export interface Catalog {
  series: Map<string, Series>;
  files: string[];
}

/** The catalog shipped with the program: patches/catalog.ini in its root (program-files.ts). */
export const BUILTIN_CATALOG = programFile('patches/catalog.ini');

function validRange(range: string): boolean {
  if (range === '') return false;
  try {
    kernelRange(range);
    return true;
  } catch {
    return false;
  }
}

const ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const KCONFIG = /^[A-Z0-9_]+$/;
const SHA256 = /^sha256:([0-9a-fA-F]{64})$/;

function fail(message: string, file: string, line: number, hint?: string): never {
  throw new ConfigError(message, { file, line, hint });
}

function parseProvides(value: string, file: string, line: number): string[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((opt) => {
      if (opt.startsWith('CONFIG_')) fail(`provides: write '${opt.slice(7)}', without CONFIG_`, file, line);
      if (!KCONFIG.test(opt))
        fail(`provides: '${opt}' is not a Kconfig option name`, file, line, 'e.g. provides = LTO_GCC LTO_CP_CLONE');
      return opt;
    });
}

function parseFileLine(value: string, file: string, line: number): CatalogFile {
  const words = value.split(/\s+/).filter(Boolean);
  const hint = 'write: file = <relative/path.patch> sha256:<64 hex digits>';
  if (words.length !== 2)
    fail(
      `file: expected a path and a checksum, got ${words.length} word${words.length === 1 ? '' : 's'}`,
      file,
      line,
      hint,
    );
  const [rel, sum] = words as [string, string];
  const digest = SHA256.exec(sum);
  if (!digest) fail(`file: '${sum}' is not sha256:<64 hex digits>`, file, line, hint);
  if (rel.startsWith('/'))
    fail(`file: '${rel}' is absolute`, file, line, 'paths are relative to the root of a patch source');
  if (rel.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    fail(
      `file: '${rel}' has an empty, '.' or '..' component`,
      file,
      line,
      'paths are plain relative paths inside a patch source',
    );
  }
  if (!/\.(patch|diff)$/.test(rel)) {
    fail(
      `file: '${rel}' does not end in .patch or .diff`,
      file,
      line,
      'eapply_user only applies *.patch and *.diff files',
    );
  }
  return { path: rel, sha256: digest[1]!.toLowerCase(), line };
}

function parseOrigin(value: string, file: string, line: number): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['https:', 'http:'].includes(url.protocol) || !value.endsWith('/')) {
    fail(
      `origin: '${value}' is not an http(s) URL ending in '/'`,
      file,
      line,
      'origin is the base URL the file paths are relative to',
    );
  }
  return value;
}

/** The keys each kind of section takes; `repeat` keys may appear more than once (file = ..., in order). */
type Handler<T> = (target: T, value: string, file: string, line: number) => void;
const SERIES_KEYS: Record<string, { repeat?: boolean; set: Handler<Series> }> = {
  description: { set: (s, v) => (s.description = v) },
  provides: { set: (s, v, f, l) => (s.provides = parseProvides(v, f, l)) },
};
const ENTRY_KEYS: Record<string, { repeat?: boolean; set: Handler<CatalogEntry & { ownProvides?: boolean }> }> = {
  kernel: {
    set: (e, v, f, l) => {
      if (!validRange(v)) {
        fail(
          `kernel: '${v}' is not a valid version range`,
          f,
          l,
          'write a semver range over the kernel version, e.g. >=6.1.0 <6.2.0',
        );
      }
      e.range = v;
    },
  },
  origin: {
    set: (e, v, f, l) => {
      e.origin = parseOrigin(v, f, l);
    },
  },
  provides: {
    set: (e, v, f, l) => {
      e.provides = parseProvides(v, f, l);
      e.ownProvides = true;
    },
  },
  file: {
    repeat: true,
    set: (e, v, f, l) => {
      const item = parseFileLine(v, f, l);
      const twice = e.files.find((x) => x.path === item.path);
      if (twice) fail(`file: '${item.path}' is already listed at line ${twice.line}`, f, l);
      e.files.push(item);
    },
  },
};

function applyKeys<T>(
  target: T,
  section: IniSection,
  keys: Record<string, { repeat?: boolean; set: Handler<T> }>,
  file: string,
  kind: string,
): void {
  const seen = new Map<string, number>();
  for (const { key, value, line } of section.entries) {
    const spec = keys[key];
    if (!spec) {
      const near = closest(key, Object.keys(keys));
      fail(
        `unknown key '${key}' in [${section.name}]`,
        file,
        line,
        near ? `did you mean '${near}'?` : `${kind} sections take: ${Object.keys(keys).join(', ')}`,
      );
    }
    const before = seen.get(key);
    if (before !== undefined && !spec.repeat)
      fail(`'${key}' is already set at line ${before}`, file, line, 'keep one of the two lines');
    seen.set(key, line);
    spec.set(target, value, file, line);
  }
}

export function parseCatalog(text: string, file: string, into: Catalog = { series: new Map(), files: [] }): Catalog {
  const [head, ...sections] = parseIniLines(text, file);
  const stray = head!.entries[0];
  if (stray)
    fail(`'${stray.key}' outside any section`, file, stray.line, 'start with a [series NAME] or [NAME ID] header');
  for (const section of sections) {
    const words = section.name.split(/\s+/);
    if (words.length !== 2) {
      fail(
        `invalid section [${section.name}]`,
        file,
        section.line,
        'sections are [series NAME] or [NAME ENTRY-ID], e.g. [gcc-lto 6.1]',
      );
    }
    const [first, second] = words as [string, string];
    if (first === 'series') {
      if (!SERIES_NAME.test(second))
        fail(
          `invalid series name '${second}'`,
          file,
          section.line,
          'series names are lower-case letters, digits, ".", "_" and "-"',
        );
      const earlier = into.series.get(second);
      if (earlier)
        fail(
          `series '${second}' is already defined at ${formatWhere(earlier)}`,
          file,
          section.line,
          `add entries with [${second} ID] sections instead`,
        );
      const series: Series = { name: second, provides: [], entries: [], file, line: section.line };
      applyKeys(series, section, SERIES_KEYS, file, 'series');
      into.series.set(second, series);
      continue;
    }
    const series = into.series.get(first);
    if (!series) {
      const near = closest(first, [...into.series.keys(), 'series']);
      fail(
        `[${section.name}]: no series '${first}' is defined before this line`,
        file,
        section.line,
        near ? `did you mean '${near}'?` : `declare it first with [series ${first}]`,
      );
    }
    if (!ENTRY_ID.test(second))
      fail(
        `invalid entry id '${second}'`,
        file,
        section.line,
        'ids are letters, digits, ".", "_", "+" and "-", e.g. 6.1',
      );
    const earlier = series.entries.find((e) => e.id === second);
    if (earlier)
      fail(
        `entry [${first} ${second}] is already defined at ${formatWhere(earlier)}`,
        file,
        section.line,
        'give the entry another id, or remove one of them',
      );
    const entry: CatalogEntry & { ownProvides?: boolean } = {
      series: first,
      id: second,
      range: '',
      files: [],
      provides: [],
      file,
      line: section.line,
    };
    applyKeys(entry, section, ENTRY_KEYS, file, 'entry');
    if (entry.range === '') fail(`entry [${section.name}] has no 'kernel = RANGE' line`, file, section.line);
    if (entry.files.length === 0)
      fail(`entry [${section.name}] has no 'file = PATH sha256:DIGEST' line`, file, section.line);
    if (!entry.ownProvides) entry.provides = [...series.provides];
    delete entry.ownProvides;
    series.entries.push(entry);
  }
  into.files.push(file);
  return into;
}

/** The built-in catalog, then catalog.d/*.conf in C-locale order (dotfiles and editor backups `*~` skipped). */
export async function loadCatalog(roots: Roots, builtin: string = BUILTIN_CATALOG): Promise<Catalog> {
  const catalog: Catalog = { series: new Map(), files: [] };
  const text = await readConfigText(builtin, 'the built-in patch catalog');
  if (text === undefined)
    throw new FsError('the built-in patch catalog is missing', { file: builtin, hint: 'reinstall gentoo-kopt' });
  parseCatalog(text, builtin, catalog);
  const dir = koptConfigPath(roots, 'catalog.d');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return catalog;
    if (isErrno(err, 'ENOTDIR'))
      throw new FsError('catalog.d is not a directory', {
        file: dir,
        hint: 'it must be a directory holding *.conf catalog files',
      });
    throw fsError(err, dir, 'list');
  }
  for (const name of names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const file = path.join(dir, name);
    if (!name.endsWith('.conf'))
      throw new ConfigError(`'${name}' in catalog.d does not end in .conf`, {
        file,
        hint: 'catalog files are named *.conf: rename it or move it away',
      });
    const userText = await readConfigText(file, 'catalog file');
    if (userText !== undefined) parseCatalog(userText, file, catalog);
  }
  return catalog;
}
