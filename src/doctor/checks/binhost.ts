// binhost: on a host with FEATURES=buildpkg (make.conf or package.env), the binary packages of the
// configured kernels in PKGDIR (default ${EPREFIX}/var/cache/binpkgs; GPKG `.gpkg.tar` and XPAK `.tbz2`/
// `.xpak`, flat or multi-instance) were built with what kopt.conf asks for now: KCFLAGS (with
// cpu-baseline applied) and the toolchain (CC's family and, for LLVM, its slot). Clients install what the
// package holds, so a package built before a change of kopt.conf spreads the old build. The saved
// environment is read from the package's metadata alone (src/system/binpkg.ts: bounded, capped).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { toolFamily } from '../../hooks/toolchain.js';
import { binpkgEnvironment } from '../../system/binpkg.js';
import { ProcessError } from '../../system/process-error.js';
import { hookSlot } from '../context.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { Assignment } from '../portage-env.js';
import type { Check } from '../check.js';

/** FEATURES has buildpkg after Portage's incremental reading (-buildpkg and -* turn it off). */
function buildsPackages(env: Map<string, Assignment>): boolean {
  let on = false;
  for (const t of (env.get('FEATURES')?.value ?? '').split(/\s+/)) {
    if (t === 'buildpkg') on = true;
    else if (t === '-buildpkg' || t === '-*') on = false;
  }
  return on;
}

/** `declare -x NAME="value"` of bin/save-ebuild-env.sh, for the names asked. */
function saved(text: string, name: string): string {
  const m = new RegExp(`^declare -[-a-zA-Z]*x[-a-zA-Z]* ${name}="((?:[^"\\\\]|\\\\.)*)"`, 'm').exec(text);
  return m ? m[1]!.replace(/\\([\\"$`])/g, '$1') : '';
}

const slotOf = (cc: string): number | undefined => {
  const m = /\/usr\/lib\/llvm\/(\d+)\/bin\/|^clang-(\d+)$/.exec(cc);
  return m ? Number(m[1] ?? m[2]) : undefined;
};
const norm = (s: string): string => s.split(/\s+/).filter(Boolean).join(' ');
const PACKAGE_FILE = /\.(gpkg\.tar|tbz2|xpak)$/;

/** The binary packages of cat/pn under PKGDIR: flat (cat/pf.tbz2) and multi-instance (cat/pn/pf-N.*). */
async function packagesOf(pkgdir: string, cpn: string): Promise<string[]> {
  const [cat, pn] = cpn.split('/') as [string, string];
  const list = async (dir: string, keep: (n: string) => boolean): Promise<string[]> =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((n) => PACKAGE_FILE.test(n) && keep(n))
      .sort()
      .map((n) => path.join(dir, n));
  const versioned = new RegExp(`^${pn.replace(/[+.]/g, '\\$&')}-[0-9]`);
  return [
    ...(await list(path.join(pkgdir, cat), (n) => versioned.test(n))),
    ...(await list(path.join(pkgdir, cat, pn), (n) => versioned.test(n))),
  ];
}

export const binhost: Check = {
  id: 'binhost',
  describe:
    "with FEATURES=buildpkg: the kernels' binary packages were built with kopt.conf's KCFLAGS and toolchain (their saved environment)",
  kinds: ['binpkg-settings-differ', 'file-unreadable'],
  async run(ctx) {
    const config = await ctx.config();
    const out: Finding[] = [];
    for (const cpn of config.global.packages) {
      const env = await ctx.environment({ cpn });
      if (!buildsPackages(env)) continue;
      const pkgdirValue = env.get('PKGDIR')?.value;
      const pkgdir = pkgdirValue
        ? path.join(ctx.roots.root, pkgdirValue)
        : path.join(ctx.roots.eroot, 'var/cache/binpkgs');
      const s = await ctx.settings(cpn);
      const slot = s.toolchain === 'llvm' ? hookSlot(s, await ctx.llvmSlots()) : undefined;
      for (const file of await packagesOf(pkgdir, cpn)) {
        let text: string | undefined;
        try {
          text = await binpkgEnvironment(file);
        } catch (err) {
          if (err instanceof ProcessError && err.notFound) throw new SkipCheck(`${err.message}: cannot read ${file}`);
          if (!(err instanceof KoptError || err instanceof ProcessError)) throw err;
          const hint = err instanceof KoptError ? err.hint : undefined;
          out.push(finding('file-unreadable', { file }, { message: err.message, ...(hint !== undefined && { hint }) }));
          continue;
        }
        if (text === undefined) continue;
        // cat/pf.tbz2, or cat/pn/pf-<BUILD_ID>.gpkg.tar (binpkg-multi-instance)
        const pf = path.basename(file).replace(PACKAGE_FILE, '');
        const cpv = `${cpn.split('/')[0]}/${path.dirname(file).endsWith(cpn) ? pf.replace(/-\d+$/, '') : pf}`;
        const kcflags = saved(text, 'KCFLAGS');
        const cc = saved(text, 'CC');
        const family = toolFamily(cc, saved(text, 'CHOST')) === 'llvm' ? 'llvm' : 'gnu';
        const changes: { variable: string; built: string; now: string }[] = [];
        if (norm(kcflags) !== norm(s.kcflags)) changes.push({ variable: 'KCFLAGS', built: kcflags, now: s.kcflags });
        const slotDiffers = family === 'llvm' && slot !== undefined && slotOf(cc) !== undefined && slotOf(cc) !== slot;
        if (family !== s.toolchain || slotDiffers)
          changes.push({
            variable: 'CC',
            built: cc,
            now: s.toolchain === 'llvm' ? `clang of LLVM ${slot ?? '(newest)'}` : 'GCC (${CHOST}-gcc)',
          });
        if (changes.length) out.push(finding('binpkg-settings-differ', { file }, { package: cpn, cpv, changes }));
      }
    }
    return out;
  },
};
