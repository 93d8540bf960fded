// llvm-packages: for toolchain = llvm, clang, llvm and lld of one LLVM major slot are installed (read
// from the VDB, under the current llvm-core/* names or the sys-devel/* names they had before
// profiles/updates/4Q-2024), and the slot kopt.conf pins is one of them. compiler-rt and libunwind,
// which the wiki's emerge line lists, are reported as optional: the kernel links neither.
import { whereIs } from '../../config/kopt-conf.js';
import { vdbPath } from '../../portage/roots.js';
import type { InstalledPackage } from '../../portage/vdb.js';
import { finding, type Finding } from '../finding.js';
import { LLVM_CPNS, LLVM_PACKAGES, llvmInstalled, llvmUsers, type LlvmPackage } from '../shared.js';
import type { Check } from '../check.js';

const REQUIRED = LLVM_PACKAGES.filter((p) => p.required);

/** slot -> the required packages present in it. */
function slotsOf(installed: Map<LlvmPackage, InstalledPackage[]>): Map<number, Set<LlvmPackage>> {
  const slots = new Map<number, Set<LlvmPackage>>();
  for (const row of REQUIRED) {
    for (const pkg of installed.get(row)!) {
      const n = Number(pkg.slot);
      if (!Number.isInteger(n) || n <= 0) continue;
      if (!slots.has(n)) slots.set(n, new Set());
      slots.get(n)!.add(row);
    }
  }
  return slots;
}

export const llvmPackages: Check = {
  id: 'llvm-packages',
  describe:
    'toolchain = llvm: clang, llvm and lld of one slot installed (llvm-core/* or old sys-devel/*), the pinned llvm-slot among them',
  kinds: ['llvm-incomplete', 'llvm-slot-missing', 'llvm-optional-missing', 'llvm-old-names'],
  async run(ctx) {
    const config = await ctx.config();
    const users = (await llvmUsers(ctx)).map((u) => u.cpn);
    const installed = llvmInstalled(await ctx.installed(LLVM_CPNS));
    const slots = slotsOf(installed);
    const complete = [...slots]
      .filter(([, rows]) => rows.size === REQUIRED.length)
      .map(([n]) => n)
      .sort((a, b) => a - b);
    const missingIn = (n: number): string[] => REQUIRED.filter((r) => !slots.get(n)?.has(r)).map((r) => r.current);
    const out: Finding[] = [];
    const inUse = new Set<number>();

    const pinned = new Map<number, string>();
    for (const cpn of users) {
      const slot = (await ctx.settings(cpn)).llvmSlot;
      if (slot !== undefined && !pinned.has(slot)) pinned.set(slot, cpn);
    }
    for (const [slot, cpn] of pinned) {
      if (complete.includes(slot)) inUse.add(slot);
      else
        out.push(
          finding('llvm-slot-missing', whereIs(config, 'llvmSlot', cpn), {
            slot,
            missing: missingIn(slot),
            installed: complete,
          }),
        );
    }
    const unpinned = [];
    for (const cpn of users) if ((await ctx.settings(cpn)).llvmSlot === undefined) unpinned.push(cpn);
    if (unpinned.length) {
      const newest = complete.at(-1);
      if (newest !== undefined) inUse.add(newest);
      else {
        // The slot closest to complete (then the newest) is the one to finish.
        const best = [...slots].sort(([a, x], [b, y]) => y.size - x.size || b - a)[0]?.[0];
        const missing = best === undefined ? REQUIRED.map((r) => r.current) : missingIn(best);
        out.push(
          finding(
            'llvm-incomplete',
            { file: vdbPath(ctx.roots) },
            { ...(best !== undefined && { slot: best }), missing, packages: unpinned },
          ),
        );
      }
    }

    for (const slot of inUse) {
      const missing = LLVM_PACKAGES.filter((r) => !r.required)
        .filter((r) => !installed.get(r)!.some((p) => !r.perSlot || Number(p.slot) === slot))
        .map((r) => (r.perSlot ? `${r.current}:${slot}` : r.current));
      if (missing.length) out.push(finding('llvm-optional-missing', { file: vdbPath(ctx.roots) }, { slot, missing }));
    }
    const old = [...installed.values()].flat().filter((p) => LLVM_PACKAGES.some((r) => r.old === p.cpv.cpn));
    if (old.length)
      out.push(
        finding(
          'llvm-old-names',
          { file: vdbPath(ctx.roots) },
          { packages: old.map((p) => `${p.cpv.category}/${p.cpv.pf}`) },
        ),
      );
    return out;
  },
};
