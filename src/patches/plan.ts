// sync-patches' plan: the patch files each target should have (desired.ts), owned through the ledger
// (src/system/ownership.ts) as owner `patches`. A user may edit a patch of ours: it is kept and
// reported (--force replaces it, after a backup). Reads the tree, writes nothing: the operations go
// to src/system/transaction.ts.
import type { Roots } from '../portage/roots.js';
import type { LoadedLedger, OwnedFile } from '../system/ledger.js';
import { planOwned, type OwnedPlan } from '../system/ownership.js';

export interface DesiredFile {
  /** Relative to the config root. */
  rel: string;
  content: Buffer;
  sha256: string;
  series: string;
  entry: string;
  /** category/P of the target the file is for. */
  target: string;
}

export type PatchPlan = OwnedPlan<'patches'>;
export type PatchFile = OwnedFile<'patches'>;

/** `prunable(target)`: whether this run may remove the files of a target it no longer wants (default: all). */
export function planPatches(
  roots: Roots,
  desired: DesiredFile[],
  loaded: LoadedLedger,
  opts: { force: boolean; prunable?: (target: string) => boolean },
): Promise<PatchPlan> {
  const wanted = desired.map(({ rel, content, ...facts }) => ({
    file: { path: rel, ...facts },
    content,
  }));
  const prunable = opts.prunable;
  return planOwned(roots, loaded, 'patches', wanted, {
    force: opts.force,
    editable: () => true,
    ...(prunable && { prunable: (f: PatchFile) => prunable(f.target) }),
  });
}
