// `gentoo-kopt patches list CPV [--slot SLOT]`: exactly which user patches the next emerge of CPV applies
// (Portage's eapply_user, simulated by src/portage/eapply-user.ts), in order, and from which directory.
// The SLOT decides whether the `:SLOT` directories count: --slot (or CPV:SLOT), else the installed package's SLOT from
// the VDB, else SLOT=PV for a dist-kernel (their ebuilds set SLOT="${PV}"), else none.
import path from 'node:path';
import { cpvString, parseCpv, type Cpv } from '../portage/atom.js';
import { eapplyUser, type EapplyUserResult } from '../portage/eapply-user.js';
import { readVdbField } from '../portage/vdb.js';
import { portageConfigPath, vdbPath, type Roots } from '../portage/roots.js';
import type { CommandContext, CommandResult } from './types.js';

export type SlotSource = 'option' | 'installed' | 'inferred' | 'none';

export interface PatchesListData extends EapplyUserResult {
  cpv: string;
  slot: string | null;
  slotSource: SlotSource;
}

/** Packages whose ebuilds set SLOT="${PV}" (kernel-build.eclass dist-kernels, not the prebuilt -bin). */
const DIST_KERNEL = /^sys-kernel\/[^/]+-kernel$/;

const SLOT_NOTE: Record<SlotSource, (slot: string | null) => string> = {
  option: (s) => `SLOT ${s} (as given)`,
  installed: (s) => `SLOT ${s} (from the installed package)`,
  inferred: (s) => `SLOT ${s} (inferred: dist-kernels use SLOT=PV; pass --slot if that is wrong)`,
  none: () => 'SLOT unknown (not installed; pass --slot): the :SLOT directories were not considered',
};

async function findSlot(
  roots: Roots,
  cpv: Cpv,
  given?: string,
): Promise<{ slot: string | null; slotSource: SlotSource }> {
  if (given !== undefined && given !== '') return { slot: given, slotSource: 'option' };
  if (cpv.slot !== undefined)
    return { slot: cpv.subslot === undefined ? cpv.slot : `${cpv.slot}/${cpv.subslot}`, slotSource: 'option' };
  const installed = await readVdbField(vdbPath(roots, cpv.category, cpv.pf), 'SLOT');
  if (installed) return { slot: installed, slotSource: 'installed' };
  if (DIST_KERNEL.test(cpv.cpn)) return { slot: cpv.pv, slotSource: 'inferred' };
  return { slot: null, slotSource: 'none' };
}

export async function patchesListCommand(
  ctx: CommandContext,
  opts: { cpv: string; slot?: string },
): Promise<CommandResult<PatchesListData>> {
  const cpv = parseCpv(opts.cpv);
  const { slot, slotSource } = await findSlot(ctx.roots, cpv, opts.slot);
  const result = await eapplyUser(ctx.roots, cpv, slot ?? undefined);
  const data: PatchesListData = { cpv: cpvString(cpv), slot, slotSource, ...result };
  return { data, text: render(ctx.roots, cpv, data), exitCode: 0 };
}

function render(roots: Roots, cpv: Cpv, d: PatchesListData): string {
  const patchesDir = portageConfigPath(roots, 'patches');
  const rel = (p: string) => path.relative(patchesDir, p);
  const lines = [`${d.cpv}, ${SLOT_NOTE[d.slotSource](d.slot)}`];
  if (cpv.pn.endsWith('-bin'))
    lines.push('note: a prebuilt -bin package is not compiled; user patches change nothing in it');

  if (d.patches.length === 0) lines.push('', 'eapply_user applies no user patches.');
  else {
    lines.push(
      '',
      `eapply_user applies ${d.patches.length} user patch${d.patches.length === 1 ? '' : 'es'}, in this order:`,
    );
    const width = Math.max(...d.patches.map((p) => p.basename.length));
    d.patches.forEach((p, i) => {
      // DESIGN.md: a patch under ${PN}/ follows every version bump, the usual cause of a broken emerge.
      const anyVersion = p.dir === cpv.pn ? '  (no version in the directory name: applies to every version)' : '';
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${p.basename.padEnd(width)}  from ${rel(path.dirname(p.path))}/${anyVersion}`,
      );
      if (!p.files) return;
      if (p.files.length === 0)
        lines.push('      a directory without *.patch/*.diff files: eapply will stop the emerge');
      else lines.push(`      a directory: eapply applies ${p.files.map((f) => path.basename(f)).join(', ')}`);
    });
  }
  if (d.cancelled.length) {
    lines.push('', 'cancelled (a zero-size file or /dev/null symlink removes the basename):');
    for (const c of d.cancelled) lines.push(`  ${c.basename}  by ${rel(c.by)}`);
  }
  if (d.overridden.length) {
    lines.push('', 'not applied, superseded by an entry of the same name in a later directory:');
    for (const o of d.overridden) lines.push(`  ${rel(o.path)}  by ${rel(o.by)}`);
  }
  lines.push('', `directories searched under ${patchesDir} (later ones win a basename):`);
  for (const dir of d.dirs) lines.push(`  ${dir.exists ? 'found  ' : 'missing'}  ${rel(dir.path)}/`);
  return lines.join('\n') + '\n';
}
