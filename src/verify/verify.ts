// The verification pipeline: will this series of patches apply, in this order, with `patch -p1 -f
// -g0`, to the tree the ebuild prepares? 1. parse the series, collect the paths it touches; 2. read the
// prepatches (incremental patch, Gentoo patchsets) for those paths; 3. stream the kernel tarball once,
// keeping those files (or read them from an unpacked tree); 4. apply the prepatches, then the series,
// in memory, as patch(1) would; 5. when a verdict is uncertain (or asked), let GNU patch confirm on a
// scratch copy of just those files. No distfiles, no verdict: "not verified", never "applies".
import { KoptError } from '../errors.js';
import { ProcessError } from '../system/exec.js';
import type { Cpv } from '../portage/atom.js';
import type { Roots } from '../portage/roots.js';
import { findDistfiles, type KernelDistfiles } from './distfiles.js';
import { extractWanted } from './extract.js';
import { applyFile, applyPatchFile, type PatchVerdict, type Tree } from './files.js';
import { parsePatch, pathsOf } from './hunks.js';
import { splitLines } from './apply.js';
import { applyOverrules, confirmWithGnuPatch } from './confirm.js';
import { readPrepatches, type Prepatch } from './prepatches.js';
import { readTree } from './read-tree.js';

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
  phase: 'patchsets' | 'tarball' | 'apply' | 'confirm';
  bytes: number;
  kept: number;
  wanted: number;
}

export interface VerifyOptions {
  /** Confirm every verdict with GNU patch (otherwise only uncertain ones are). */
  confirm?: boolean;
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
  confirmed?: { why: 'asked' | 'uncertain'; agrees: boolean; differences: string[] };
  stats: { bytes: number; members: number; kept: number; ms: number };
}

export function notVerified(reason: string, hint: string, patches: SeriesPatch[] = []): Verdict {
  return {
    status: 'not-verified',
    reason,
    hint,
    before: [],
    patches: patches.map((p) => ({ name: p.name, applied: false, files: [], uncertain: [] })),
    stats: { bytes: 0, members: 0, kept: 0, ms: 0 },
  };
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

const copyTree = (t: Tree): Tree =>
  new Map([...t].map(([k, v]) => [k, v.kind === 'file' ? { kind: 'file', lines: [...v.lines] } : v]));

interface Prepared {
  base: Base;
  series: SeriesPatch[];
  /** Every path the series (and the prepatches' renames into it) may read or write. */
  wanted: Set<string>;
  prepatches: Prepatch[];
}

/** Steps 1 and 2: the paths the series touches, and the prepatches filtered for them. */
async function prepare(base: Base, series: SeriesPatch[]): Promise<Prepared> {
  const wanted = new Set<string>();
  for (const p of series) {
    try {
      for (const f of parsePatch(p.content, p.name)) for (const path of pathsOf(f)) wanted.add(path);
    } catch {
      /* a malformed patch is reported by applyPatchFile */
    }
  }
  const prepatches = base.kind === 'distfiles' ? await readPrepatches(base.files, wanted) : [];
  return { base, series, wanted, prepatches };
}

/** Step 3: the wanted files, from the tarball (one streaming pass) or the unpacked tree. */
async function load(
  base: Base,
  wanted: Set<string>,
  opts: VerifyOptions,
): Promise<{ tree: Tree; bytes: number; members: number }> {
  if (base.kind === 'source') return { tree: await readTree(base.dir, wanted), bytes: 0, members: 0 };
  const progress = opts.progress;
  const got = await extractWanted(base.kind === 'tarball' ? base.tarball : base.files.base, wanted, {
    threads: opts.threads ?? true,
    ...(progress ? { progress: (p) => progress({ phase: 'tarball', ...p }) } : {}),
  });
  const tree: Tree = new Map();
  for (const [path, data] of got.files) tree.set(path, { kind: 'file', lines: splitLines(data.toString('latin1')) });
  for (const [path, what] of got.special) tree.set(path, { kind: 'special', what });
  return { tree, bytes: got.bytes, members: got.members };
}

/** Steps 4 and 5 on a tree of its own: prepatches, series, and GNU patch's opinion when wanted. */
async function finish(
  p: Prepared,
  tree: Tree,
  stats: { bytes: number; members: number },
  opts: VerifyOptions,
  started: number,
): Promise<Verdict> {
  const before = p.prepatches.map((pp) => {
    const results = pp.sections.map((s) => applyFile(tree, s));
    const problems = results.flatMap((r) => [
      ...(r.problem ? [`${r.path}: ${r.problem}`] : []),
      ...r.hunks.filter((h) => !h.applied).map((h) => `${r.path}: hunk #${h.hunk} FAILED at ${h.at}`),
    ]);
    return { name: pp.name, applied: problems.length === 0, files: results.map((r) => r.path), problems };
  });
  const start = copyTree(tree);
  const patches = p.series.map((s) => applyPatchFile(tree, s.name, s.content));
  const verdict: Verdict = {
    status: patches.every((v) => v.applied) ? 'applies' : 'fails',
    against: describeBase(p.base),
    before,
    patches,
    stats: { ...stats, kept: start.size, ms: 0 },
  };
  const uncertain = patches.some((v) => v.uncertain.length > 0);
  if (opts.confirm || uncertain) {
    opts.progress?.({ phase: 'confirm', bytes: stats.bytes, kept: start.size, wanted: p.wanted.size });
    const why = opts.confirm ? 'asked' : 'uncertain';
    try {
      const c = await confirmWithGnuPatch(start, p.series, patches, tree);
      verdict.confirmed = { why, agrees: c.agrees, differences: c.differences };
      applyOverrules(patches, c.runs);
      // patch(1)'s exit statuses are the truth eapply acts on
      verdict.status = c.runs.every((r) => r.status === 0) ? 'applies' : 'fails';
    } catch (err) {
      if (!(err instanceof ProcessError && err.notFound)) throw err;
      verdict.confirmed = {
        why,
        agrees: false,
        differences: ['GNU patch (sys-devel/patch) is not installed: the in-memory verdict stands unconfirmed'],
      };
    }
  }
  verdict.stats.ms = Math.round(performance.now() - started);
  return verdict;
}

/** Verifies `series` against `base`; see the header. Errors in the base itself (damaged tarball) throw. */
export async function verifySeries(base: Base, series: SeriesPatch[], opts: VerifyOptions = {}): Promise<Verdict> {
  const started = performance.now();
  if (base.kind === 'distfiles') opts.progress?.({ phase: 'patchsets', bytes: 0, kept: 0, wanted: 0 });
  const p = await prepare(base, series);
  const { tree, ...stats } = await load(base, p.wanted, opts);
  opts.progress?.({ phase: 'apply', bytes: stats.bytes, kept: tree.size, wanted: p.wanted.size });
  return finish(p, tree, stats, opts, started);
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
  opts: VerifyOptions & { env?: NodeJS.ProcessEnv } = {},
): Promise<Verdict[]> {
  const verdicts: Verdict[] = new Array(targets.length);
  const groups = new Map<string, { index: number; files: KernelDistfiles; series: SeriesPatch[] }[]>();
  for (const [index, t] of targets.entries()) {
    const found = await findDistfiles(roots, opts.env ?? {}, t.cpv);
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
    const { tree, ...stats } = loaded;
    for (const [i, m] of members.entries()) {
      const p = prepared[i];
      if (!p) continue;
      const own = new Map([...copyTree(tree)].filter(([path]) => p.wanted.has(path)));
      verdicts[m.index] = await finish(p, own, stats, opts, started);
    }
  }
  return verdicts;
}
