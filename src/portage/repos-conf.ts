// repos.conf: which repositories exist and where. Follows Portage's lib/portage/repository/config.py
// (load_repository_config, RepoConfigLoader, RepoConfig) and Python's configparser, which Portage uses:
//  - files: ${PORTAGE_CONFIGROOT}/usr/share/portage/config/repos.conf (see portageSharePath), then
//    ${PORTAGE_CONFIGROOT}/etc/portage/repos.conf, a file or a directory read recursively in sorted order;
//    a later file's keys override an earlier one's;
//  - INI as Python's configparser reads it (see configparser.ts), with EPREFIX, EROOT, ROOT and
//    PORTAGE_CONFIGROOT in [DEFAULT] for `%(EPREFIX)s` interpolation;
//  - a repository's name comes from <location>/profiles/repo_name when that exists, else the section;
//    a location that is not a directory drops the repository (Portage does too; we list it in `ignored`);
//  - repositories are ordered by (priority, name), the main repository's priority defaulting to -1000.
// Locations are used as written, as Portage does: a sandbox's repos.conf names absolute paths, or
// builds them with %(ROOT)s / %(EROOT)s.
// Malformed input is a ConfigError naming file and line; Portage instead prints the error and ignores
// every repos.conf file.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fsError } from '../system/fs-errors.js';
import { readOptional } from '../system/read.js';
import { readConfigFile, recursiveFileList } from './config-files.js';
import { emptyIni, interpolate, interpolationBudget, parseIni, type IniOption } from './configparser.js';
import { portageConfigPath, portageSharePath, type Roots } from './roots.js';

export interface Repo {
  name: string;
  /** Absolute, symlinks resolved. */
  location: string;
  priority?: number;
  /** The file (and line) that set its location. */
  file: string;
  line?: number;
}

export interface IgnoredRepo {
  name: string;
  location?: string;
  file: string;
  line?: number;
  reason: string;
}

export interface ReposConf {
  mainRepo?: string;
  /** In Portage's order: increasing priority, then name. */
  repos: Repo[];
  /** The files read, in order. */
  files: string[];
  /** Sections Portage would drop (no location, location not a directory); doctor reports them. */
  ignored: IgnoredRepo[];
}

const DEFAULT = 'DEFAULT';
const REPO_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** What Portage ships as ${EPREFIX}/usr/share/portage/config/repos.conf, for roots that lack it. */
const BUILTIN_FILE = '<Portage default repos.conf>';
const BUILTIN = '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = %(EPREFIX)s/var/db/repos/gentoo\n';

const slash = (dir: string): string => (dir.endsWith('/') ? dir : `${dir}/`);

/** The values Portage puts into [DEFAULT] before reading any file (RepoConfigLoader.__init__). */
function builtinDefaults(roots: Roots): Map<string, IniOption> {
  const values: Record<string, string> = {
    eprefix: roots.eprefix,
    eroot: slash(roots.eroot),
    portage_configroot: slash(roots.configRoot),
    root: slash(roots.root),
    'sync-rsync-extra-opts': '',
  };
  return new Map(Object.entries(values).map(([k, value]) => [k, { value, file: BUILTIN_FILE, line: 0 }]));
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function repoName(location: string, section: string): Promise<string> {
  const file = path.join(location, 'profiles/repo_name');
  const first = (await readOptional(file, 'repository', { devNull: true }))?.toString('utf8').split('\n')[0]?.trim();
  return first && REPO_NAME_RE.test(first) ? first : section;
}

export async function loadReposConf(roots: Roots): Promise<ReposConf> {
  const data = emptyIni();
  data.sections.set(DEFAULT, builtinDefaults(roots));
  const files: string[] = [];
  const share = portageSharePath(roots, 'repos.conf');
  const shareFiles = await recursiveFileList(share);
  if (shareFiles.length === 0) parseIni(BUILTIN, BUILTIN_FILE, data);
  for (const file of [...shareFiles, ...(await recursiveFileList(portageConfigPath(roots, 'repos.conf')))]) {
    parseIni(await readConfigFile(file), file, data);
    files.push(file);
  }

  const defaults = data.sections.get(DEFAULT) ?? new Map<string, IniOption>();
  const repos: Repo[] = [];
  const ignored: IgnoredRepo[] = [];
  const budget = interpolationBudget();
  for (const [section, own] of data.sections) {
    if (section === DEFAULT) continue;
    const scope = new Map([...defaults, ...own]);
    // Portage reads every option through the interpolating parser, so a bad one anywhere is an error.
    const values = new Map([...scope].map(([k, opt]) => [k, interpolate(opt, k, scope, budget)]));
    const loc = scope.get('location');
    const location = values.get('location')?.trim();
    const at = loc ?? data.headers.get(section);
    const where = { file: at?.file ?? BUILTIN_FILE, ...(at?.line ? { line: at.line } : {}) };
    if (!location) {
      ignored.push({ name: section, ...where, reason: 'no location' });
      continue;
    }
    if (!path.isAbsolute(location)) {
      ignored.push({ name: section, location, ...where, reason: 'location is not an absolute path' });
      continue;
    }
    if (!(await isDirectory(location))) {
      ignored.push({ name: section, location, ...where, reason: 'location is not a directory' });
      continue;
    }
    const real = await realpath(location).catch((err: unknown) => Promise.reject(fsError(err, location, 'inspect')));
    const repo: Repo = { name: await repoName(location, section), location: real, ...where };
    const priority = values.get('priority')?.trim();
    if (priority !== undefined && /^[+-]?\d+$/.test(priority)) repo.priority = Number(priority);
    repos.push(repo);
  }

  const named = defaults.get('main-repo')?.value.trim();
  const mainRepo = repos.some((r) => r.name === named) ? named : undefined;
  const rank = (r: Repo): number => r.priority ?? (r.name === mainRepo ? -1000 : 0);
  repos.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...(mainRepo && { mainRepo }), repos, files, ignored };
}
