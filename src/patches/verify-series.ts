// sync-patches' dry run: each target's series against the kernel sources its emerge will patch
// (src/verify/), before anything is installed. A series that does not apply to a version is not
// installed for it (or, with strict, nothing is changed at all); a version whose distfiles are not
// downloaded is "not verified" and installed as before: only a failed dry run is proof.
import path from 'node:path';
import { KoptError } from '../errors.js';
import type { RepoIndex } from '../portage/repo-index.js';
import type { Roots } from '../portage/roots.js';
import { distfileFinder } from '../verify/distfiles.js';
import { failureSummary, notVerified } from '../verify/report.js';
import type { Verdict, VerifyStatus } from '../verify/verify.js';
import type { Desired } from './desired.js';

export interface TargetVerdict {
  target: string;
  status: VerifyStatus;
  /** One line: which patch and hunk failed, or why it was not verified. */
  summary: string;
}

/** Verifies every target that has series files; drops the files of the ones that fail. */
export async function verifyDesired(
  roots: Roots,
  env: NodeJS.ProcessEnv,
  desired: Desired,
  warnings: string[],
  configFile: string,
  index?: RepoIndex,
): Promise<TargetVerdict[]> {
  const checked = desired.targets.filter((t) => desired.files.some((f) => f.target === t.target));
  if (checked.length === 0) return [];
  const series = checked.map((t) => ({
    cpv: t.cpv,
    files: desired.files
      .filter((f) => f.target === t.target)
      .map((f) => ({ name: path.posix.basename(f.rel), content: f.content })),
  }));
  // The distfiles first: where none is downloaded (most runs, and every run that changes nothing
  // between two emerges) the verifier, with the tar walker, xz and GNU patch, is not even loaded.
  const find = distfileFinder(roots, env, index);
  const lookups = [];
  for (const t of checked) lookups.push(await find(t.cpv));
  const misses = lookups.flatMap((l) => (l.found ? [] : [l]));
  const verdicts: Verdict[] =
    misses.length === lookups.length
      ? misses.map((l, i) => notVerified(l.reason, l.hint, series[i]!.files))
      : await (await import('../verify/verify.js')).verifyTargets(roots, series, { env, lookups });
  const out: TargetVerdict[] = [];
  for (const [i, t] of checked.entries()) {
    const v = verdicts[i]!;
    out.push({ target: t.target, status: v.status, summary: failureSummary(v) });
    if (v.status !== 'fails') continue;
    if (t.strict) {
      throw new KoptError(
        `strict: the series for ${t.target} does not apply to its sources (${failureSummary(v)}); nothing was changed`,
        {
          file: configFile,
          hint: `gentoo-kopt verify ${t.cpv} shows every hunk; update the catalog entry for kernel ${t.kernel}, or set strict = no`,
        },
      );
    }
    warnings.push(
      `${t.target}: the series does not apply to its sources (${failureSummary(v)}): not installed for this version`,
    );
    desired.files = desired.files.filter((f) => f.target !== t.target);
  }
  return out;
}
