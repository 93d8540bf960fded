// patches: sync-patches' own planning in pretend mode (findTargets, desiredFiles, planChanges: they only
// read) tells whether every target kernel has its series installed, unmodified and current, and which
// managed files are stale; the catalog's entries must not overlap; a target with no entry for a
// configured series is reported (an error when lto = gcc needs it); and a user patch in a version-less
// sys-kernel/<PN>/ directory, which eapply_user applies to every future version, gets the exact move to
// the directory of the version it was written for.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { whereIs } from '../../config/kopt-conf.js';
import { findOverlaps } from '../../patches/catalog.js';
import { findTargets, type Target } from '../../patches/targets.js';
import { desiredFiles, patchDir } from '../../patches/desired.js';
import { planPatches } from '../../patches/plan.js';
import { portageConfigPath } from '../../portage/roots.js';
import type { State } from '../../system/ownership.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { DoctorContext } from '../context.js';
import type { Check } from '../check.js';

const OUT_OF_SYNC: ReadonlySet<State> = new Set(['create', 'restore', 'update', 'repair']);
const fromError = (err: KoptError): Finding =>
  finding(
    'patches-unavailable',
    { file: err.file, line: err.line },
    { message: err.message, ...(err.hint !== undefined && { hint: err.hint }) },
  );

/** User patches in ${PN}/ of each configured package, with the exact-version directory to move them to. */
async function versionless(ctx: DoctorContext, packages: string[], targets: Target[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const cpn of packages) {
    const [category, pn] = cpn.split('/') as [string, string];
    const dir = portageConfigPath(ctx.roots, 'patches', category, pn);
    const names = await readdir(dir).catch(() => [] as string[]);
    const own = targets.filter((t) => t.cpv.cpn === cpn);
    // The newest installed version is the one the patch was most likely written for.
    const to = own.filter((t) => t.reasons.includes('installed')).at(-1) ?? own.at(-1);
    for (const name of names.filter((n) => /\.(patch|diff)$/.test(n) && !n.startsWith('.')).sort()) {
      const file = path.join(dir, name);
      if (!(await stat(file).catch(() => undefined))?.isFile()) continue;
      const target = to
        ? path.join(ctx.roots.configRoot, patchDir(category, to.cpv.p))
        : path.join(path.dirname(dir), `${pn}-VERSION`);
      out.push(
        finding(
          'patches-versionless',
          { file },
          { package: cpn, dir: target, target: to ? `${category}/${to.cpv.p}` : `${cpn}-VERSION` },
        ),
      );
    }
  }
  return out;
}

export const patches: Check = {
  id: 'patches',
  describe:
    'every target kernel has its series in sync and unmodified; no stale managed files, catalog overlaps or version-less user patches',
  kinds: [
    'patches-out-of-sync',
    'patches-edited',
    'patches-stale',
    'patches-conflict',
    'patches-versionless',
    'patches-no-series',
    'patches-unavailable',
    'catalog-overlap',
  ],
  async run(ctx) {
    const [config, catalog] = await Promise.all([ctx.config(), ctx.catalog()]);
    await ctx.kernels(); // no VDB: skipped, as findTargets would find nothing installed
    const repos = await ctx.repos();
    if (repos.repos.length === 0)
      throw new SkipCheck('no repository exists (repos.conf): which kernel versions are available cannot be told');
    const out: Finding[] = [];
    for (const [a, b] of findOverlaps(catalog))
      out.push(finding('catalog-overlap', { file: b.file, line: b.line }, { series: a.series, a: a.id, b: b.id }));

    const found = await findTargets(ctx.roots, config.global.packages, []);
    out.push(...(await versionless(ctx, config.global.packages, found.targets)));
    let desired;
    try {
      desired = await desiredFiles(config, catalog, found.targets);
    } catch (err) {
      if (!(err instanceof KoptError)) throw err;
      return [...out, fromError(err)];
    }
    const cpnOf = new Map(found.targets.map((x) => [`${x.cpv.category}/${x.cpv.p}`, x.cpv.cpn]));
    for (const t of desired.targets) {
      const cpn = cpnOf.get(t.target)!;
      const { lto } = await ctx.settings(cpn);
      for (const s of t.series.filter((s) => !s.entry)) {
        out.push(
          finding('patches-no-series', whereIs(config, 'series', cpn), {
            target: t.target,
            kernel: t.kernel,
            series: s.series,
            lto,
          }),
        );
      }
    }

    // A ledger that cannot be read is the inputs check's finding; the rest needs it.
    const ledger = await ctx
      .ledger()
      .catch((err: unknown) => (err instanceof SkipCheck ? undefined : Promise.reject(err)));
    if (!ledger) return out;
    const plan = await planPatches(ctx.roots, desired.files, { ledger, legacy: [] }, { force: false });
    const abs = (rel: string): string => path.join(ctx.roots.configRoot, rel);
    const pending = new Map<string, string[]>();
    for (const { state, file } of plan.changes) {
      const { target, series } = file;
      if (OUT_OF_SYNC.has(state)) pending.set(target, [...(pending.get(target) ?? []), path.posix.basename(file.path)]);
      else if (state === 'kept-edited')
        out.push(finding('patches-edited', { file: abs(file.path) }, { target, series }));
      else if (state === 'conflict')
        out.push(finding('patches-conflict', { file: abs(file.path) }, { target, series }));
      // With versions missing from the target list, "stale" cannot be told (sync-patches does not prune then either).
      else if ((state === 'remove' || state === 'kept-stale') && found.problems.length === 0)
        out.push(finding('patches-stale', { file: abs(file.path) }, { target, edited: state === 'kept-stale' }));
    }
    for (const [target, files] of pending) {
      const [category, p] = target.split('/') as [string, string];
      out.push(finding('patches-out-of-sync', { file: abs(patchDir(category, p)) }, { target, files }));
    }
    return out;
  },
};
