// rebuild-needed: what each installed kernel was built with, from the environment Portage saved in its
// VDB entry (environment.bz2: the `declare -p` lines of bin/save-ebuild-env.sh, decompressed with
// `bzip2 -dc` through src/system/probe.ts), against what its next build gets: KCFLAGS and the toolchain
// (CC's family, and the LLVM slot its path names). "Next build" is what kopt.conf asks for (the hook
// applies it; a missing hook is the hooks check's finding), else what make.conf/package.env give.
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { llvmSlotBin, toolFamily } from '../../hooks/toolchain.js';
import { ProcessError } from '../../system/process-error.js';
import { hookSlot, type DoctorContext } from '../context.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { InstalledPackage } from '../../portage/vdb.js';
import type { Check } from '../check.js';
import { hookKcflags } from '../../hooks/native.js';

const WANTED = new Set(['KCFLAGS', 'CC', 'CHOST']);

function unquote(raw: string): string {
  if (raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  if (raw.startsWith("$'") && raw.endsWith("'")) {
    const esc: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"' };
    return raw.slice(2, -1).replace(/\\(.)/g, (_, c: string) => esc[c] ?? `\\${c}`);
  }
  if (raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1);
  return raw;
}

/** The variables of WANTED as `declare -x NAME="value"` lines record them (a value may span lines). */
export function savedVariables(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^declare -([-a-zA-Z]*) ([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\$'(?:[^'\\]|\\.)*'|'[^']*'|\S*)/gm;
  for (const m of text.matchAll(re)) {
    // Arrays (declare -a/-A) are not what make sees as a variable.
    if (WANTED.has(m[2]!) && !/[aA]/.test(m[1]!)) out.set(m[2]!, unquote(m[3]!));
  }
  return out;
}

const norm = (s: string): string => s.split(/\s+/).filter(Boolean).join(' ');
/** The LLVM slot a CC names: a path into /usr/lib/llvm/<N>/bin, or clang-<N> (the hook's name with distcc/ccache). */
const slotIn = (cc: string): number | undefined => {
  const m = /\/usr\/lib\/llvm\/(\d+)\/bin\/|^clang-(\d+)$/.exec(cc);
  return m ? Number(m[1] ?? m[2]) : undefined;
};

/** What the next build of `pkg` gets: KCFLAGS, the toolchain and (LLVM) the slot. */
async function nextBuild(
  ctx: DoctorContext,
  pkg: InstalledPackage,
): Promise<{ kcflags: string; cc: string; family: string; slot?: number }> {
  const cpn = pkg.cpv.cpn;
  const env = await ctx.environment({ cpn, cpv: pkg.cpv });
  const s = await ctx.settings(cpn);
  const envCC = env.get('CC')?.value ?? '';
  // kopt.conf is what the user asks for; a hook that is not installed is the hooks check's finding.
  if (!(await ctx.config()).exists && !(await ctx.hookActive(cpn))) {
    return {
      kcflags: env.get('KCFLAGS')?.value ?? '',
      cc: envCC,
      family: toolFamily(envCC) === 'llvm' ? 'llvm' : 'gnu',
      slot: slotIn(envCC),
    };
  }
  const kcflags = hookKcflags(s, pkg.cpv.pv) || (env.get('KCFLAGS')?.value ?? '');
  if (s.toolchain === 'gnu') return { kcflags, cc: toolFamily(envCC) === 'llvm' ? '' : envCC, family: 'gnu' };
  const slot = hookSlot(s, await ctx.llvmSlots());
  return {
    kcflags,
    cc: slot === undefined ? 'clang' : `${llvmSlotBin(ctx.roots.eprefix, slot)}/clang`,
    family: 'llvm',
    slot,
  };
}

export const rebuildNeeded: Check = {
  id: 'rebuild-needed',
  describe: 'installed kernels were built with the KCFLAGS and toolchain configured now (environment.bz2 in the VDB)',
  kinds: ['rebuild-needed', 'file-unreadable'],
  async run(ctx) {
    const kernels = await ctx.kernels();
    if (kernels.length === 0) throw new SkipCheck('no configured kernel package is installed');
    const out: Finding[] = [];
    let read = 0;
    // One bzip2 per kernel, all at once; results are used in the kernels' order. Its output is capped
    // (a VDB file's limit) and a non-regular file is refused: bad input is a finding, never a crash.
    const texts = await Promise.all(
      kernels.map((pkg) =>
        ctx.exec.bzip2(path.join(pkg.dir, 'environment.bz2')).then(
          (b) => b?.toString('utf8'),
          (err: unknown) => err,
        ),
      ),
    );
    for (const [i, pkg] of kernels.entries()) {
      const file = path.join(pkg.dir, 'environment.bz2');
      const text = texts[i];
      if (text === undefined) continue;
      if (typeof text !== 'string') {
        if (text instanceof ProcessError && text.notFound)
          throw new SkipCheck("bzip2 is not installed: the VDB's environment.bz2 cannot be read");
        if (!(text instanceof ProcessError || text instanceof KoptError)) throw text;
        const hint = text instanceof KoptError ? text.hint : undefined;
        out.push(finding('file-unreadable', { file }, { message: text.message, ...(hint !== undefined && { hint }) }));
        continue;
      }
      read++;
      const saved = savedVariables(text);
      const now = await nextBuild(ctx, pkg);
      const cc = saved.get('CC') ?? '';
      const family = toolFamily(cc, saved.get('CHOST') ?? '') === 'llvm' ? 'llvm' : 'gnu';
      const changes = [];
      if (norm(saved.get('KCFLAGS') ?? '') !== norm(now.kcflags))
        changes.push({ variable: 'KCFLAGS', built: saved.get('KCFLAGS') ?? '', now: now.kcflags });
      const slotChanged =
        family === 'llvm' &&
        now.family === 'llvm' &&
        slotIn(cc) !== undefined &&
        now.slot !== undefined &&
        slotIn(cc) !== now.slot;
      if (family !== now.family || slotChanged) changes.push({ variable: 'CC', built: cc, now: now.cc });
      if (changes.length === 0) continue;
      const slotOnly = changes.length === 1 && family === now.family;
      out.push(
        finding(
          'rebuild-needed',
          { file },
          { package: `${pkg.cpv.cpn}:${pkg.slot}`, cpv: `${pkg.cpv.category}/${pkg.cpv.pf}`, changes, slotOnly },
        ),
      );
    }
    if (read === 0 && out.length === 0)
      throw new SkipCheck(
        'no installed kernel has an environment.bz2 in its VDB entry: what it was built with is unknown',
      );
    return out;
  },
};
