// What `gentoo-kopt fetch` (and sync-patches, for what is missing) downloads: for each target kernel,
// the files of the catalog entries its series match, from the entry's `origin`, into the download
// cache (kopt.conf `fetch-cache`, default ${DISTDIR}/gentoo-kopt). The cache mirrors the URLs, so two
// series with a file of the same name never meet: <cache>/<host>/<origin path>/<file path>, e.g.
// distfiles/gentoo-kopt/raw.githubusercontent.com/CachyOS/kernel-patches/<commit>/6.1/misc/...patch.
// That directory (cacheSource) is the entry's last patch source. The downloads themselves are
// src/system/download.ts, with Portage's FETCHCOMMAND / RESUMECOMMAND (src/portage/fetch-command.ts).
import path from 'node:path';
import { KoptError } from '../errors.js';
import type { KoptConfig } from '../config/kopt-conf.js';
import { settingsFor } from '../config/kopt-conf.js';
import { fetchArgv, fetchCommands, type FetchCommands, type Setting } from '../portage/fetch-command.js';
import { kernelVersion } from '../portage/kernel-version.js';
import { loadMakeConf } from '../portage/make-conf.js';
import type { Roots } from '../portage/roots.js';
import { download, type DownloadRequest, type Downloaded } from '../system/download.js';
import { LIMITS } from '../system/read.js';
import { distdir } from '../verify/distfiles.js';
import { matchEntry, type Catalog, type CatalogEntry, type CatalogFile } from './catalog.js';
import type { Target } from './targets.js';

export const CACHE_SUBDIR = 'gentoo-kopt';

/** One file to have in the cache. */
export interface FetchItem {
  url: string;
  /** Its place in the cache. */
  file: string;
  sha256: string;
  /** The catalog's `file =` line. */
  where: { file: string; line: number };
  series: string;
  entry: string;
  /** The targets (category/P) that need it. */
  targets: string[];
}

/** The download cache: kopt.conf's fetch-cache, else ${DISTDIR}/gentoo-kopt. */
export async function cacheDir(roots: Roots, env: NodeJS.ProcessEnv, config: KoptConfig): Promise<string> {
  return config.global.fetchCache ?? path.join(await distdir(roots, env), CACHE_SUBDIR);
}

/** `origin`'s directory in the cache: host (a port as _PORT), then the URL's path. */
export function cacheSource(cache: string, origin: string): string {
  const url = new URL(origin);
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..' || p.startsWith('.')))
    throw new KoptError(`origin '${origin}' has a '.' or '..' or dot-file component`, {
      hint: 'fix the catalog entry',
    });
  return path.join(cache, url.host.replace(/:/g, '_'), ...parts);
}

/** The URL of a file of an entry: origin + path, refused when it holds what no URL should. */
export function fileUrl(origin: string, rel: string): string {
  const url = new URL(rel, origin).href;
  if (/[\s"'\\`$]/.test(url)) throw new KoptError(`'${url}' holds a quote, backslash, '$' or space`);
  return url;
}

/** The entries the targets' series match (each once), with the targets needing each. */
export function neededEntries(
  config: KoptConfig,
  catalog: Catalog,
  targets: Target[],
): { entry: CatalogEntry; targets: string[] }[] {
  const out = new Map<string, { entry: CatalogEntry; targets: string[] }>();
  for (const { cpv } of targets) {
    const kernel = kernelVersion(cpv.pv);
    for (const name of settingsFor(config, cpv.cpn).series) {
      const series = catalog.series.get(name);
      const entry = series && matchEntry(series, kernel);
      if (!entry) continue; // sync-patches reports unknown series and kernels no entry matches
      const key = `${entry.series}\0${entry.id}`;
      const seen = out.get(key) ?? { entry, targets: [] };
      seen.targets.push(`${cpv.category}/${cpv.p}`);
      out.set(key, seen);
    }
  }
  return [...out.values()];
}

/** The cache item of `f` of `entry` (which must have an origin). */
export function itemOf(cache: string, entry: CatalogEntry, f: CatalogFile, targets: string[]): FetchItem {
  const origin = entry.origin!;
  return {
    url: fileUrl(origin, f.path),
    file: path.join(cacheSource(cache, origin), f.path),
    sha256: f.sha256,
    where: { file: entry.file, line: f.line },
    series: entry.series,
    entry: entry.id,
    targets,
  };
}

/** Proxy settings in make.conf reach the fetcher as Portage's do (it exports its settings to it). */
const PROXY = /^(https?|ftp|no|all)_proxy$/i;

/** How to download: the commands for each protocol and the fetcher's environment. */
export interface Fetcher {
  commands(protocol: string): ReturnType<typeof fetchCommands>;
  env: NodeJS.ProcessEnv;
}

/** FETCHCOMMAND and friends from the environment, then make.conf (with file and line), then Portage's defaults. */
export async function loadFetcher(roots: Roots, env: NodeJS.ProcessEnv): Promise<Fetcher> {
  const { assignments } = await loadMakeConf(roots);
  const lookup = (name: string): Setting | undefined => {
    const fromEnv = env[name];
    if (fromEnv !== undefined) return { name, value: fromEnv, where: { file: `the environment (${name})` } };
    const a = assignments.get(name);
    return a && { name, value: a.value, where: { file: a.file, line: a.line } };
  };
  const proxies = Object.fromEntries([...assignments].filter(([k]) => PROXY.test(k)).map(([k, a]) => [k, a.value]));
  return { commands: (protocol) => fetchCommands(protocol, lookup), env: { ...proxies, ...env } };
}

export interface FetchHooks {
  onProgress?: (item: FetchItem, bytes: number) => void;
  onCommand?: (item: FetchItem, argv: string[]) => void;
}

/** The download's view of the commands: an argv for a fresh download or a resume. */
export function commandsFor(c: FetchCommands): Pick<DownloadRequest, 'command' | 'resumeMinSize'> {
  return {
    command: (resume, vars) => {
      const cmd = resume ? c.resume : c.fetch;
      return { name: cmd.name, argv: fetchArgv(cmd, vars) };
    },
    resumeMinSize: c.resumeMinSize,
  };
}

/** Has `item` in the cache (downloading it unless it is there, verified); a DownloadError names its URL. */
export function fetchItem(fetcher: Fetcher, item: FetchItem, hooks: FetchHooks = {}): Promise<Downloaded> {
  const protocol = new URL(item.url).protocol.replace(/:$/, '');
  return download({
    url: item.url,
    file: item.file,
    sha256: item.sha256,
    ...commandsFor(fetcher.commands(protocol)),
    env: fetcher.env,
    max: LIMITS.patch.max,
    onProgress: hooks.onProgress && ((bytes) => hooks.onProgress!(item, bytes)),
    onCommand: hooks.onCommand && ((argv) => hooks.onCommand!(item, argv)),
  });
}
