// Which kernel versions sync-patches works for: installed dist-kernels (VDB), the versions the
// repositories offer that are not older than the oldest installed one of the same package, and any
// version named with --package. Revisions share one directory (${P}), so targets are keyed by P.
import { parseCpv, type Cpv } from '../portage/atom.js';
import { compareVersions } from '../portage/version.js';
import { readInstalled } from '../portage/vdb.js';
import { repoIndex, type RepoIndex } from '../portage/repo-index.js';
import type { Roots } from '../portage/roots.js';
import { kernelVersion } from '../portage/kernel-version.js';
import { KoptError } from '../errors.js';

export type TargetReason = 'installed' | 'available' | 'requested';

export interface Target {
  cpv: Cpv;
  reasons: TargetReason[];
}

export interface TargetProblem {
  file: string;
  line?: number;
  message: string;
}

export interface Targets {
  targets: Target[];
  problems: TargetProblem[];
  /** Requested CPVs that are not among the configured packages: nothing is done for them. */
  ignored: string[];
  /**
   * Versions that are no kernel release (a live 9999 ebuild, four numbers, a letter): nothing can match
   * them, so they are not targets. A note, not a read problem: they do not stop pruning.
   */
  skipped: TargetProblem[];
}

/** Sorted by package, then version: the order every report lists them in. */
function byCpv(a: Target, b: Target): number {
  return a.cpv.cpn < b.cpv.cpn ? -1 : a.cpv.cpn > b.cpv.cpn ? 1 : compareVersions(a.cpv.version, b.cpv.version);
}

export async function findTargets(
  roots: Roots,
  packages: string[],
  requested: string[],
  index: RepoIndex = repoIndex(roots),
): Promise<Targets> {
  const byP = new Map<string, Target>();
  const skipped: TargetProblem[] = [];
  const add = (cpv: Cpv, reason: TargetReason, file: string): void => {
    try {
      kernelVersion(cpv.pv);
    } catch (err) {
      if (!(err instanceof KoptError)) throw err;
      if (!skipped.some((p) => p.file === file))
        skipped.push({ file, message: `${cpv.category}/${cpv.pf}: ${err.message}; skipped` });
      return;
    }
    const key = `${cpv.category}/${cpv.p}`;
    const t = byP.get(key);
    if (!t) byP.set(key, { cpv, reasons: [reason] });
    else if (!t.reasons.includes(reason)) t.reasons.push(reason);
  };

  const installed = await readInstalled(roots, { cpns: packages });
  const problems: TargetProblem[] = [...installed.problems];
  const oldest = new Map<string, Cpv>();
  for (const pkg of installed.packages) {
    add(pkg.cpv, 'installed', pkg.dir);
    const o = oldest.get(pkg.cpv.cpn);
    if (!o || compareVersions(pkg.cpv.version, o.version) < 0) oldest.set(pkg.cpv.cpn, pkg.cpv);
  }

  // Only packages with an installed version get their available versions: a package the user never
  // installed gets no directories (the hook syncs just in time when it is first emerged).
  if (oldest.size > 0) {
    for (const [cpn, floor] of oldest) {
      const avail = await index.versions(cpn);
      problems.push(...avail.problems);
      for (const pkg of avail.packages) {
        if (compareVersions(pkg.cpv.version, floor.version) >= 0) add(pkg.cpv, 'available', pkg.file);
      }
    }
  }

  const ignored: string[] = [];
  for (const spec of requested) {
    const cpv = parseCpv(spec);
    if (packages.includes(cpv.cpn)) add(cpv, 'requested', '--package');
    else ignored.push(spec);
  }
  return { targets: [...byP.values()].sort(byCpv), problems, ignored, skipped };
}
