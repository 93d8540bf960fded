// kernel-config: the fragments kernel-build.eclass merges into every dist-kernel's .config
// (${PORTAGE_CONFIGROOT}/etc/kernel/config.d/*.config, in glob order, later lines winning, then
// olddefconfig, which silently drops what the toolchain cannot do) against kopt.conf: an LTO choice the
// toolchain cannot satisfy, a later fragment undoing kopt.conf's lto, GCOV without DEBUG_FS. Then, for
// each installed kernel, the .config it was built with: /usr/src/linux-${KV_FULL}/.config, found through
// the `dist-kernel` file (CATEGORY/PF:SLOT) kernel-build.eclass writes beside it, must have the compiler
// (CONFIG_CC_IS_CLANG / CONFIG_CC_IS_GCC) and CONFIG_LTO_* that kopt.conf asks for. Every file is read
// through the bounded reader (LIMITS['kernel-config']); one that is not a readable regular file (a FIFO
// would hang merge_config.sh too) is a file-unreadable finding naming it.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { readOptional } from '../../system/read.js';
import { isGccLtoSeries } from '../../hooks/lto-fragment.js';
import type { Settings } from '../../config/kopt-conf.js';
import { compareC } from '../../portage/eapply-user.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import { readKernelFile } from '../shared.js';
import type { DoctorContext } from '../context.js';
import type { Check } from '../check.js';

interface Setting {
  value: string;
  file: string;
  line: number;
}

/** `CONFIG_X=v` and `# CONFIG_X is not set` (= 'n'), later assignments winning, with where each was made. */
export function parseKconfig(text: string, file: string, into: Map<string, Setting> = new Map()): Map<string, Setting> {
  text.split('\n').forEach((l, i) => {
    const set = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(l);
    const unset = /^# CONFIG_([A-Za-z0-9_]+) is not set/.exec(l);
    if (set) into.set(set[1]!, { value: set[2]!.trim(), file, line: i + 1 });
    else if (unset) into.set(unset[1]!, { value: 'n', file, line: i + 1 });
  });
  return into;
}

/** kopt.conf's lto -> the Kconfig choice it needs, and what that choice needs of a package's settings. */
const LTO_CHOICE: Record<string, { option: string; needs: string; ok(s: Settings): boolean }> = {
  thin: { option: 'LTO_CLANG_THIN', needs: 'toolchain = llvm (clang and ld.lld)', ok: (s) => s.toolchain === 'llvm' },
  full: { option: 'LTO_CLANG_FULL', needs: 'toolchain = llvm (clang and ld.lld)', ok: (s) => s.toolchain === 'llvm' },
  gcc: {
    option: 'LTO_GCC',
    needs: 'toolchain = gnu and the gcc-lto series',
    ok: (s) => s.toolchain === 'gnu' && s.series.some(isGccLtoSeries),
  },
};
const CHOICES = ['LTO_NONE', ...Object.values(LTO_CHOICE).map((c) => c.option)];
const COMPILER = [
  ['CC_IS_CLANG', 'llvm'],
  ['CC_IS_GCC', 'gnu'],
] as const;

async function fragmentFindings(
  ctx: DoctorContext,
  settings: Map<string, Settings>,
  lto: string,
  out: Finding[],
): Promise<void> {
  const dir = path.join(ctx.roots.configRoot, 'etc/kernel/config.d');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.config')).sort(compareC);
  const merged = new Map<string, Setting>();
  let chosen: { option: string; at: Setting } | undefined;
  for (const name of names) {
    const file = path.join(dir, name);
    const own = parseKconfig((await readKernelFile(file, out)) ?? '', file);
    for (const [k, v] of own) {
      merged.set(k, v);
      // In a Kconfig choice the last symbol set to y wins; a wanted symbol set to n is undone too.
      if (CHOICES.includes(k) && (v.value === 'y' || chosen?.option === k)) chosen = { option: k, at: v };
    }
  }
  for (const c of Object.values(LTO_CHOICE)) {
    const at = merged.get(c.option);
    if (at?.value !== 'y') continue;
    const lacking = [...settings].filter(([, s]) => !c.ok(s)).map(([cpn]) => cpn);
    if (lacking.length)
      out.push(
        finding(
          'fragment-lto-unsatisfiable',
          { file: at.file, line: at.line },
          { option: `CONFIG_${c.option}`, needs: c.needs, packages: lacking },
        ),
      );
  }
  const want = LTO_CHOICE[lto];
  if (want && chosen && !(chosen.option === want.option && chosen.at.value === 'y')) {
    const option = `CONFIG_${chosen.option}${chosen.at.value === 'y' ? '=y' : ' off'}`;
    out.push(
      finding(
        'fragment-lto-overridden',
        { file: chosen.at.file, line: chosen.at.line },
        { option, wanted: `CONFIG_${want.option}`, lto },
      ),
    );
  }
  const debugfs = merged.get('DEBUG_FS');
  if (merged.get('GCOV_KERNEL')?.value === 'y' && debugfs && debugfs.value !== 'y')
    out.push(finding('fragment-gcov-debugfs', { file: debugfs.file, line: debugfs.line }, {}));
}

/** category/PF -> the kernel tree whose dist-kernel file names it. */
async function kernelTrees(ctx: DoctorContext, findings: Finding[]): Promise<Map<string, string>> {
  const src = path.join(ctx.roots.eroot, 'usr/src');
  const out = new Map<string, string>();
  for (const name of (await readdir(src).catch(() => [] as string[])).filter((n) => n.startsWith('linux-'))) {
    const text = await readKernelFile(path.join(src, name, 'dist-kernel'), findings);
    const cpf = text?.trim().split(':')[0];
    if (cpf) out.set(cpf, path.join(src, name));
  }
  return out;
}

export const kernelConfig: Check = {
  id: 'kernel-config',
  describe:
    "config.d fragments fit the toolchain; installed kernels' .config has the compiler and CONFIG_LTO_* kopt.conf asks for",
  kinds: [
    'fragment-lto-unsatisfiable',
    'fragment-lto-overridden',
    'fragment-gcov-debugfs',
    'kernel-config-lto-dropped',
    'kernel-config-compiler',
    'kernel-config-absent',
    'file-unreadable',
  ],
  async run(ctx) {
    const config = await ctx.config();
    const settings = new Map<string, Settings>();
    for (const cpn of config.global.packages) settings.set(cpn, await ctx.settings(cpn));
    const out: Finding[] = [];
    await fragmentFindings(ctx, settings, config.global.lto, out);

    const kernels = await ctx.kernels();
    const trees = await kernelTrees(ctx, out);
    const built = kernels.filter((k) => trees.has(`${k.cpv.category}/${k.cpv.pf}`));
    if (built.length === 0 && out.length === 0) {
      throw new SkipCheck(
        kernels.length
          ? 'no /usr/src/linux-*/ tree records an installed kernel (its dist-kernel file): no .config to verify'
          : 'no configured kernel package is installed',
      );
    }
    for (const k of kernels) {
      const cpf = `${k.cpv.category}/${k.cpv.pf}`;
      const tree = trees.get(cpf);
      const found = out.length;
      const text = tree && (await readKernelFile(path.join(tree, '.config'), out));
      if (!text) {
        if (built.length && out.length === found)
          out.push(
            finding(
              'kernel-config-absent',
              { file: tree ? path.join(tree, '.config') : path.join(ctx.roots.eroot, 'usr/src') },
              { package: cpf },
            ),
          );
        continue;
      }
      const file = path.join(tree, '.config');
      const kc = parseKconfig(text, file);
      const s = settings.get(k.cpv.cpn)!;
      const got = COMPILER.find(([opt]) => kc.get(opt)?.value === 'y')?.[1];
      if (got && got !== s.toolchain)
        out.push(finding('kernel-config-compiler', { file }, { package: cpf, want: s.toolchain, got }));
      const want = LTO_CHOICE[s.lto];
      if (want && kc.get(want.option)?.value !== 'y')
        out.push(
          finding('kernel-config-lto-dropped', { file }, { package: cpf, option: `CONFIG_${want.option}`, lto: s.lto }),
        );
    }
    return out;
  },
};
