// gentoo-kopt fetch: downloads the files of every catalog entry the configured series need for the
// targets (the kernels sync-patches works on, and --package versions) from the entry's origin into the
// download cache, as Portage fetches distfiles (src/patches/fetch.ts, src/system/download.ts). Writes
// nothing under /etc/portage; sync-patches reads the cache after patch-source. A file that fails is
// reported with its URL and the others are still fetched; the exit status is 1 then.
import { loadConfig } from '../config/kopt-conf.js';
import { KoptError } from '../errors.js';
import { eerror, einfo, ewarn, PLAIN, type Style } from '../output.js';
import { loadCatalog } from '../patches/catalog.js';
import { cacheDir, fetchItem, itemOf, loadFetcher, neededEntries, type FetchItem } from '../patches/fetch.js';
import { findTargets } from '../patches/targets.js';
import { acquireLock } from '../system/lock.js';
import type { CommandContext, CommandResult } from './types.js';

export interface FetchOptions {
  packages: string[];
}

export type FetchStatus = 'cached' | 'fetched' | 'resumed' | 'failed';

export interface FetchedFile {
  url: string;
  file: string;
  series: string;
  entry: string;
  targets: string[];
  status: FetchStatus;
  bytes?: number;
  /** A cached file with the wrong checksum, moved aside before downloading again. */
  keptAside?: string;
  error?: string;
  hint?: string;
}

export interface FetchReport {
  cache: string;
  files: FetchedFile[];
  /** Matching entries with no origin: their files come from patch-source only. */
  local: { series: string; entry: string }[];
  warnings: string[];
  /** The commands run (--verbose shows them). */
  commands: string[];
}

const LOCK_WAIT_MS = 60_000;

/** An argument as a shell would need it written, for --verbose (nothing runs through a shell). */
const shown = (arg: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

const kib = (n: number): string => `${Math.max(1, Math.round(n / 1024))} KiB`;

export async function fetchPatches(ctx: CommandContext, opts: FetchOptions): Promise<FetchReport> {
  const { roots } = ctx;
  const config = await loadConfig(roots);
  const cache = await cacheDir(roots, ctx.env, config);
  const report: FetchReport = { cache, files: [], local: [], warnings: [], commands: [] };
  if (!config.exists) {
    report.warnings.push(
      `${config.file} does not exist: no series is configured, nothing to fetch (run: gentoo-kopt init)`,
    );
    return report;
  }
  const catalog = await loadCatalog(roots);
  const found = await findTargets(roots, config.global.packages, opts.packages);
  for (const p of found.problems) report.warnings.push(`${p.file}: ${p.message}`);
  const items: FetchItem[] = [];
  for (const { entry, targets } of neededEntries(config, catalog, found.targets)) {
    if (!entry.origin) report.local.push({ series: entry.series, entry: entry.id });
    else items.push(...entry.files.map((f) => itemOf(cache, entry, f, targets)));
  }
  if (items.length === 0) return report;

  const fetcher = await loadFetcher(roots, ctx.env);
  const lock = await acquireLock(roots, 'fetch', { waitMs: LOCK_WAIT_MS });
  try {
    for (const [i, item] of items.entries()) {
      const name = item.url.replace(/^.*\//, '');
      const line = (bytes: number): string => `fetch ${i + 1}/${items.length}: ${name} ${kib(bytes)}`;
      ctx.progress?.(line(0));
      const base = { url: item.url, file: item.file, series: item.series, entry: item.entry, targets: item.targets };
      try {
        const r = await fetchItem(fetcher, item, {
          onProgress: ctx.progress && ((_, bytes) => ctx.progress!(line(bytes))),
          onCommand: (_, argv) => report.commands.push(argv.map(shown).join(' ')),
        });
        const status: FetchStatus = r.status === 'fetched' && r.resumed ? 'resumed' : r.status;
        report.files.push({ ...base, status, bytes: r.bytes, ...(r.keptAside ? { keptAside: r.keptAside } : {}) });
      } catch (err) {
        if (!(err instanceof KoptError)) throw err;
        report.files.push({ ...base, status: 'failed', error: err.message, ...(err.hint ? { hint: err.hint } : {}) });
      }
    }
  } finally {
    ctx.progress?.('');
    await lock.release();
  }
  return report;
}

const VERB: Record<FetchStatus, string> = {
  cached: 'in the cache',
  fetched: 'fetched',
  resumed: 'fetched (resumed)',
  failed: 'FAILED',
};

export function renderFetch(r: FetchReport, style: Style = PLAIN): string {
  const out: string[] = [];
  if (r.files.length) out.push(`Cache: ${r.cache}`);
  for (const f of r.files) {
    if (f.status === 'failed') continue;
    out.push(...einfo(style, `${VERB[f.status].padEnd(17)} ${f.url}`));
    if (style.verbose) out.push(`     -> ${f.file}`);
    if (f.keptAside) out.push(...ewarn(style, `${f.file} had the wrong checksum: kept aside as ${f.keptAside}`));
  }
  if (style.verbose) for (const c of r.commands) out.push(`     ran: ${c}`);
  for (const l of r.local)
    out.push(...einfo(style, `${l.series} ${l.entry}: no origin in the catalog; its files come from patch-source`));
  if (r.files.length === 0 && r.local.length === 0)
    out.push(...einfo(style, 'nothing to fetch: no configured series matches a target kernel'));
  for (const w of r.warnings) out.push(...ewarn(style, w));
  for (const f of r.files.filter((x) => x.status === 'failed')) {
    out.push(...eerror(style, f.error!));
    if (f.hint) out.push(...eerror(style, `  ${f.hint}`));
  }
  return out.join('\n');
}

export async function fetchCommand(ctx: CommandContext, opts: FetchOptions): Promise<CommandResult<FetchReport>> {
  const report = await fetchPatches(ctx, opts);
  const failed = report.files.some((f) => f.status === 'failed');
  return { data: report, text: renderFetch(report, ctx.style), exitCode: failed ? 1 : 0 };
}
