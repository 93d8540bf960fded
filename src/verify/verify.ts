// The verification pipeline: will this series of patches apply, in this order, with `patch -p1 -f
// -g0`, to the tree the ebuild prepares? 1. read the series, collect the paths it touches; 2. read the
// prepatches (incremental patch, Gentoo patchsets) for those paths; 3. stream the kernel tarball once,
// keeping those files (or read them from an unpacked tree); 4. let GNU patch apply the prepatches,
// then the series, to a scratch copy of just those files (apply.ts). No distfiles, no verdict: "not
// verified", never "applies".
import { KoptError, SourceError } from '../errors.js';
import { ProcessError } from '../system/exec.js';
import type { Cpv } from '../portage/atom.js';
import type { Roots } from '../portage/roots.js';
import { applyWithGnuPatch, type ReadPatch, type Sources } from './apply.js';
import { distfileFinder, type DistfileLookup, type KernelDistfiles } from './distfiles.js';
import { extractWanted } from './extract.js';
import { feedLines, PatchParser } from './hunks.js';
import { readPrepatches, type Prepatch } from './prepatches.js';
import { readTree } from './read-tree.js';
import { notVerified } from './report.js';
import type { PatchVerdict } from './verdicts.js';

export { notVerified } from './report.js';

export interface SeriesPatch {
  name: string;
  content: Buffer;
}

/** What the series is checked against. */
export type Base =
  | { kind: 'distfiles'; files: KernelDistfiles }
  | { kind: 'tarball'; tarball: string }
  | { kind: 'source'; dir: string };

export type VerifyStatus = 'applies' | 'fails' | 'not-verified';

export interface Progress {
  phase: 'patchsets' | 'tarball' | 'apply';
  bytes: number;
  kept: number;
  wanted: number;
}

export interface VerifyOptions {
  progress?: (p: Progress) => void;
  /** Let xz use threads (default true). */
  threads?: boolean;
}

export interface Verdict {
  status: VerifyStatus;
  /** not-verified: why, and what to do. */
  reason?: string;
  hint?: string;
  against?: { kind: Base['kind']; base: string; incremental?: string; patchsets?: string[] };
  /** What the ebuild applies first, to the files the series touches. */
  before: { name: string; applied: boolean; files: string[]; problems: string[] }[];
  patches: PatchVerdict[];
  stats: { bytes: number; members: number; kept: number; ms: number };
}

function describeBase(base: Base): NonNullable<Verdict['against']> {
  if (base.kind === 'source') return { kind: 'source', base: base.dir };
  if (base.kind === 'tarball') return { kind: 'tarball', base: base.tarball };
  const f = base.files;
  return {
    kind: 'distfiles',
    base: f.base,
    ...(f.incremental ? { incremental: f.incremental } : {}),
    patchsets: f.patchsets.map((p) => p.file),
  };
}

interface Prepared {
  base: Base;
  series: ReadPatch[];
  /** Every path the series (and the prepatches' renames into it) may read or write. */
  wanted: Set<string>;
  prepatches: Prepatch[];
}

/** A series patch through the diff reader: its sections, or why it refused them (and what it saw first). */
function readSeriesPatch(p: SeriesPatch, wanted: Set<string>): ReadPatch {
  const parser = new PatchParser(p.name);
  try {
    feedLines(p.content.toString('latin1'), (l) => parser.push(l));
    const sections = parser.end();
    for (const path of parser.touched()) wanted.add(path);
    return { ...p, sections };
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    for (const path of parser.touched()) wanted.add(path);
    return { ...p, error: { ...(err.line ? { line: err.line } : {}), message: err.message } };
  }
}

/** Steps 1 and 2: the paths the series touches, and the prepatches filtered for them. */
async function prepare(base: Base, series: SeriesPatch[]): Promise<Prepared> {
  const wanted = new Set<string>();
  const read = series.map((p) => readSeriesPatch(p, wanted));
  const prepatches = base.kind === 'distfiles' ? await readPrepatches(base.files, wanted) : [];
  return { base, series: read, wanted, prepatches };
}

/** Step 3: the wanted files, from the tarball (one streaming pass) or the unpacked tree. */
async function load(
  base: Base,
  wanted: Set<string>,
  opts: VerifyOptions,
): Promise<Sources & { bytes: number; members: number }> {
  if (base.kind === 'source') return { ...(await readTree(base.dir, wanted)), bytes: 0, members: 0 };
  const progress = opts.progress;
  return extractWanted(base.kind === 'tarball' ? base.tarball : base.files.base, wanted, {
    threads: opts.threads ?? true,
    ...(progress ? { progress: (p) => progress({ phase: 'tarball', ...p }) } : {}),
  });
}

/** Step 4 on the prepared series' own files. Without GNU patch: not verified. */
async function finish(
  p: Prepared,
  sources: Sources,
  stats: { bytes: number; members: number },
  opts: VerifyOptions,
  started: number,
): Promise<Verdict> {
  const kept = sources.files.size + sources.special.size;
  opts.progress?.({ phase: 'apply', bytes: stats.bytes, kept, wanted: p.wanted.size });
  try {
    const { before, patches } = await applyWithGnuPatch(sources, p.prepatches, p.series);
    return {
      status: patches.every((v) => v.applied) ? 'applies' : 'fails',
      against: describeBase(p.base),
      before,
      patches,
      stats: { ...stats, kept, ms: Math.round(performance.now() - started) },
    };
  } catch (err) {
    if (!(err instanceof ProcessError && err.notFound)) throw err;
    return notVerified(
      'GNU patch is not installed: it is what eapply_user runs, and what verify runs',
      'emerge --oneshot sys-devel/patch (it is part of @system)',
      p.series,
    );
  }
}

/** Verifies `series` against `base`; see the header. Errors in the base itself (damaged tarball) throw. */
export async function verifySeries(base: Base, series: SeriesPatch[], opts: VerifyOptions = {}): Promise<Verdict> {
  const started = performance.now();
  if (base.kind === 'distfiles') opts.progress?.({ phase: 'patchsets', bytes: 0, kept: 0, wanted: 0 });
  const p = await prepare(base, series);
  const { bytes, members, ...sources } = await load(base, p.wanted, opts);
  return finish(p, sources, { bytes, members }, opts, started);
}

/**
 * For sync-patches: verifies `files` (a target's series, in eapply order) against the distfiles of
 * `cpv`. Without them: not verified (never "applies").
 */
export async function verifyTarget(
  roots: Roots,
  cpv: Cpv | string,
  files: SeriesPatch[],
  opts: VerifyOptions & { env?: NodeJS.ProcessEnv } = {},
): Promise<Verdict> {
  return (await verifyTargets(roots, [{ cpv, files }], opts))[0]!;
}

/**
 * verifyTarget for several versions at once: versions that share a base tarball (6.1.50 and 6.1.51
 * both unpack linux-6.1.tar.xz) share one streaming pass over it. Verdicts in the order given; a
 * damaged distfile makes that group "not verified" with the error as the reason.
 */
export async function verifyTargets(
  roots: Roots,
  targets: { cpv: Cpv | string; files: SeriesPatch[] }[],
  opts: VerifyOptions & { env?: NodeJS.ProcessEnv; lookups?: readonly DistfileLookup[] } = {},
): Promise<Verdict[]> {
  const verdicts: Verdict[] = new Array(targets.length);
  const groups = new Map<string, { index: number; files: KernelDistfiles; series: SeriesPatch[] }[]>();
  const find = distfileFinder(roots, opts.env ?? {});
  for (const [index, t] of targets.entries()) {
    const found = opts.lookups?.[index] ?? (await find(t.cpv));
    if (!found.found) verdicts[index] = notVerified(found.reason, found.hint, t.files);
    else
      groups.set(found.files.base, [
        ...(groups.get(found.files.base) ?? []),
        { index, files: found.files, series: t.files },
      ]);
  }
  const unverified = (err: unknown, series: SeriesPatch[]): Verdict => {
    if (!(err instanceof KoptError)) throw err;
    return notVerified(err.describe(), err.hint ?? 'download the distfile again', series);
  };
  for (const [tarball, members] of groups) {
    const started = performance.now();
    const prepared: (Prepared | undefined)[] = [];
    for (const m of members) {
      // one xz at a time; a damaged patch-X.Y.Z.xz leaves only its own version unverified
      prepared.push(
        await prepare({ kind: 'distfiles', files: m.files }, m.series).catch((err: unknown) => {
          verdicts[m.index] = unverified(err, m.series);
          return undefined;
        }),
      );
    }
    const wanted = new Set(prepared.flatMap((p) => (p ? [...p.wanted] : [])));
    let loaded: Awaited<ReturnType<typeof load>>;
    try {
      loaded = await load({ kind: 'tarball', tarball }, wanted, opts);
    } catch (err) {
      for (const [i, m] of members.entries()) if (prepared[i]) verdicts[m.index] = unverified(err, m.series);
      continue;
    }
    const { bytes, members: seen, files, special } = loaded;
    const only = <T>(m: Map<string, T>, p: Prepared): Map<string, T> =>
      new Map([...m].filter(([path]) => p.wanted.has(path)));
    for (const [i, m] of members.entries()) {
      const p = prepared[i];
      if (!p) continue;
      const own = { files: only(files, p), special: only(special, p) };
      verdicts[m.index] = await finish(p, own, { bytes, members: seen }, opts, started).catch((err: unknown) =>
        unverified(err, m.series),
      );
    }
  }
  return verdicts;
}
