// For each target kernel: the series kopt.conf asks for, the catalog entry whose range holds its
// kernel version, and the verified bytes of that entry's files, named for the exact-version
// directory ${PORTAGE_CONFIGROOT}/etc/portage/patches/<category>/<P>/ (never a version-less one).
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { kernelVersion } from '../portage/kernel-version.js';
import type { KoptConfig, Settings } from '../config/kopt-conf.js';
import { settingsFor, whereIs } from '../config/kopt-conf.js';
import { matchEntry, type Catalog, type CatalogEntry } from './catalog.js';
import { findPatchFiles, readPatchFiles, type SourceRef } from './source.js';
import { cacheSource, itemOf, type FetchItem } from './fetch.js';
import { managedName } from './naming.js';
import { sha256 } from '../system/fs.js';
import type { DesiredFile } from './plan.js';
import type { Target } from './targets.js';

export interface SeriesMatch {
  series: string;
  /** The catalog entry id, or undefined when no entry's range holds the kernel version. */
  entry?: string;
  range?: string;
}

export interface TargetPlan {
  target: string; // category/P
  cpv: string; // category/PF
  kernel: string;
  reasons: string[];
  dir: string; // relative to the config root
  strict: boolean;
  series: SeriesMatch[];
}

export interface Desired {
  files: DesiredFile[];
  targets: TargetPlan[];
  warnings: string[];
}

/** Where files may come from besides patch-source: the download cache, and a way to fill it. */
export interface CacheOptions {
  /** The download cache (fetch.ts): each entry with an origin reads it after patch-source. */
  cache?: string;
  /** Downloads the files no source has into the cache (sync-patches; never the hook's sync). */
  fetchMissing?: (items: FetchItem[]) => Promise<void>;
}

export function patchDir(category: string, p: string): string {
  return path.posix.join('etc/portage/patches', category, p);
}

export async function desiredFiles(
  config: KoptConfig,
  catalog: Catalog,
  targets: Target[],
  opts: CacheOptions = {},
): Promise<Desired> {
  const files: DesiredFile[] = [];
  const plans: TargetPlan[] = [];
  const warnings: string[] = [];
  // Entries are read once per (sources, entry) however many targets share them.
  const cache = new Map<string, Map<string, Buffer>>();

  for (const { cpv, reasons } of targets) {
    const settings: Settings = settingsFor(config, cpv.cpn);
    const kernel = kernelVersion(cpv.pv);
    const target = `${cpv.category}/${cpv.p}`;
    const dir = patchDir(cpv.category, cpv.p);
    const plan: TargetPlan = {
      target,
      cpv: `${cpv.category}/${cpv.pf}`,
      kernel,
      reasons,
      dir,
      strict: settings.strict,
      series: [],
    };
    plans.push(plan);

    for (const [seriesIndex, name] of settings.series.entries()) {
      const series = catalog.series.get(name);
      if (!series) {
        const where = whereIs(config, 'series', cpv.cpn);
        throw new ConfigError(`unknown series '${name}'`, {
          ...where,
          hint: `known series: ${[...catalog.series.keys()].join(', ') || '(none)'}; see patches/README.md to add one in catalog.d/`,
        });
      }
      const entry: CatalogEntry | undefined = matchEntry(series, kernel);
      if (!entry) {
        plan.series.push({ series: name });
        warnings.push(
          `${target}: no '${name}' entry for kernel ${kernel}: nothing from that series is installed for it` +
            ` (entries: ${series.entries.map((e) => `${e.id} ${e.range}`).join('; ') || 'none'})`,
        );
        continue;
      }
      plan.series.push({ series: name, entry: entry.id, range: entry.range });
      const key = `${settings.patchSource.join('\0')}\0${name}\0${entry.id}`;
      let bytes = cache.get(key);
      if (!bytes) {
        const sources: SourceRef[] = settings.patchSource.map((spec) => ({
          spec,
          ...whereIs(config, 'patchSource', cpv.cpn),
        }));
        const { cache: dir, fetchMissing } = opts;
        if (entry.origin && dir) sources.push({ spec: cacheSource(dir, entry.origin), optional: true });
        if (entry.origin && dir && fetchMissing) {
          const { missing } = await findPatchFiles(sources, entry.files, entry.file);
          if (missing.length) await fetchMissing(missing.map((f) => itemOf(dir, entry, f, [target])));
        }
        bytes = await readPatchFiles(sources, entry.files, entry.file, entry.origin);
        cache.set(key, bytes);
      }
      for (const [fileIndex, f] of entry.files.entries()) {
        const content = bytes.get(f.path)!;
        files.push({
          rel: path.posix.join(dir, managedName(seriesIndex, name, fileIndex, f.path)),
          content,
          sha256: sha256(content),
          series: name,
          entry: entry.id,
          target,
        });
      }
    }
  }
  return { files, targets: plans, warnings };
}
