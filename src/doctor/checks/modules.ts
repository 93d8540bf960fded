// modules: out-of-tree kernel modules (packages whose VDB INHERITED names linux-mod-r1: zfs-kmod,
// nvidia-drivers, ...). linux-mod-r1 builds them with the toolchain the kernel was built with: for a
// clang-built kernel it reads CONFIG_CLANG_VERSION and uses /usr/lib/llvm/<major>/bin. What is checked:
//  - the kernel release a module package installed into (its CONTENTS: /lib/modules/<release>/ or
//    /usr/lib/modules/<release>/), and that kernel's compiler (/usr/src/linux-<release>/.config);
//  - that LLVM slot is complete on disk (else the next module rebuild fails), and protected from
//    `emerge --depclean`: clang, lld and llvm of that slot are named with the slot in the world file
//    (var/lib/portage/world), or in the RDEPEND/DEPEND/BDEPEND of an installed package the world file
//    names (one level, not the whole dependency graph);
//  - the modules are installed for the newest installed configured kernel (its CONTENTS' release).
import path from 'node:path';
import { readEntries, readVdbField, type VdbEntryName } from '../../portage/vdb.js';
import { compareVersions } from '../../portage/version.js';
import { readOptional } from '../../system/read.js';
import { LLVM_SLOT_TOOLS } from '../../hooks/toolchain.js';
import { finding, type Finding } from '../finding.js';
import { LLVM_PACKAGES } from '../shared.js';
import type { InstalledPackage } from '../../portage/vdb.js';
import type { DoctorContext } from '../context.js';
import type { Check } from '../check.js';

const RELEASE = /^(?:dir|obj|sym) \/(?:usr\/)?lib\/modules\/([^/\s]+)/gm;

/** The kernel releases a package installed files for (CONTENTS). */
async function releasesOf(pkg: InstalledPackage): Promise<string[]> {
  const contents = (await readVdbField(pkg.dir, 'CONTENTS')) ?? '';
  return [...new Set([...contents.matchAll(RELEASE)].map((m) => m[1]!))];
}

/** The LLVM major a kernel release was built with (CONFIG_CLANG_VERSION=190108 -> 19), or undefined (GCC, no tree). */
async function clangMajor(ctx: DoctorContext, release: string): Promise<number | undefined> {
  const config = path.join(ctx.roots.eroot, 'usr/src', `linux-${release}`, '.config');
  const text = (await readOptional(config, 'config').catch(() => undefined))?.toString('utf8') ?? '';
  const m = /^CONFIG_CLANG_VERSION=(\d+)$/m.exec(text);
  return m && Number(m[1]) > 0 ? Math.floor(Number(m[1]) / 10000) : undefined;
}

/** The world file's atoms (comments and blank lines skipped). */
async function worldAtoms(ctx: DoctorContext): Promise<string[]> {
  const file = path.join(ctx.roots.eroot, 'var/lib/portage/world');
  const text = (await readOptional(file, 'config').catch(() => undefined))?.toString('utf8') ?? '';
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** `cat/pn:N`, `=cat/pn-N*`, `~cat/pn-N.x`, ... : the atom names slot N of cpn. */
function namesSlot(atom: string, cpn: string, slot: number): boolean {
  const a = atom.replace(/\[.*$/, '').replace(/::.*$/, '');
  if (a === `${cpn}:${slot}` || a.startsWith(`${cpn}:${slot}/`) || a.startsWith(`${cpn}:${slot}=`)) return true;
  return new RegExp(`^[=~]${cpn.replace(/[.+]/g, '\\$&')}-${slot}(\\.|\\*|$)`).test(a);
}

/** The LLVM packages of `slot` that depclean may remove (see the header for what is checked). */
async function unprotected(ctx: DoctorContext, slot: number): Promise<string[]> {
  const world = await worldAtoms(ctx);
  const llvmNames = LLVM_PACKAGES.filter((p) => p.required).flatMap((row) => [row.current, row.old]);
  const worldCpns = [...new Set(world.map((a) => a.replace(/^!*/, '').replace(/:.*$/, '')))].filter((a) =>
    /^[^/\s]+\/[^/\s]+$/.test(a),
  );
  const installed = await ctx.installed([...worldCpns, ...llvmNames]);
  const deps: string[] = [];
  for (const pkg of installed.filter((p) => world.some((a) => a.replace(/:.*$/, '') === p.cpv.cpn))) {
    for (const field of ['RDEPEND', 'DEPEND', 'BDEPEND'])
      deps.push(...((await readVdbField(pkg.dir, field)) ?? '').split(/\s+/));
  }
  const out: string[] = [];
  for (const row of LLVM_PACKAGES.filter((p) => p.required)) {
    const names = [row.current, row.old];
    if (!installed.some((p) => names.includes(p.cpv.cpn) && p.slot === String(slot))) continue;
    const named = [...world, ...deps].some((a) => names.some((n) => namesSlot(a.replace(/^!*/, ''), n, slot)));
    if (!named) out.push(`${row.current}:${slot}`);
  }
  return out;
}

export const modules: Check = {
  id: 'modules',
  describe:
    'out-of-tree modules (linux-mod-r1): the LLVM slot their kernel was built with is installed and kept by depclean; built for the newest kernel',
  kinds: ['module-llvm-missing', 'module-llvm-unprotected', 'module-kernel-old'],
  async run(ctx) {
    // INHERITED of every entry (one small file each: what eclass built it is in no other listing);
    // only the module packages are then read whole
    const names: VdbEntryName[] = [];
    for (const entry of await ctx.vdbNames()) {
      const inherited = (await readVdbField(entry.dir, 'INHERITED')) ?? '';
      if (inherited.split(/\s+/).includes('linux-mod-r1')) names.push(entry);
    }
    if (names.length === 0) return [];
    const mods = readEntries(names).packages;
    const slots = await ctx.llvmSlots();
    const kernels = await ctx.kernels().catch(() => [] as InstalledPackage[]);
    let newest: { pkg: InstalledPackage; release: string } | undefined;
    for (const pkg of kernels) {
      const release = (await releasesOf(pkg))[0];
      if (release && (!newest || compareVersions(pkg.cpv.version, newest.pkg.cpv.version) > 0))
        newest = { pkg, release };
    }
    const out: Finding[] = [];
    const bySlot = new Map<number, { modules: string[]; releases: string[] }>();
    for (const mod of mods) {
      const cpv = `${mod.cpv.category}/${mod.cpv.pf}`;
      const releases = await releasesOf(mod);
      for (const release of releases) {
        const slot = await clangMajor(ctx, release);
        if (slot === undefined) continue;
        const g = bySlot.get(slot) ?? { modules: [], releases: [] };
        if (!g.modules.includes(cpv)) g.modules.push(cpv);
        if (!g.releases.includes(release)) g.releases.push(release);
        bySlot.set(slot, g);
      }
      if (newest && releases.length && !releases.includes(newest.release))
        out.push(
          finding(
            'module-kernel-old',
            { file: path.join(mod.dir, 'CONTENTS') },
            {
              module: cpv,
              releases,
              newest: newest.release,
              kernel: `${newest.pkg.cpv.category}/${newest.pkg.cpv.pf}`,
            },
          ),
        );
    }
    for (const [slot, g] of [...bySlot].sort((a, b) => a[0] - b[0])) {
      const dir = slots.find((s) => s.slot === slot);
      const missing = LLVM_SLOT_TOOLS.filter((t) => !dir?.tools.has(t));
      const where = { file: path.join(ctx.roots.eroot, 'usr/lib/llvm', String(slot), 'bin') };
      if (missing.length) {
        out.push(
          finding('module-llvm-missing', where, {
            slot,
            modules: g.modules,
            releases: g.releases,
            missing,
            gone: !dir || dir.tools.size === 0,
          }),
        );
        continue;
      }
      const loose = await unprotected(ctx, slot);
      if (loose.length)
        out.push(
          finding(
            'module-llvm-unprotected',
            { file: path.join(ctx.roots.eroot, 'var/lib/portage/world') },
            { slot, modules: g.modules, releases: g.releases, packages: loose },
          ),
        );
    }
    return out;
  },
};
