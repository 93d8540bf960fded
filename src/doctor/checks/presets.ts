// kernel-presets: what kopt.conf's config keys (optimize, harden, native, disable, enable; their
// fragments in etc/kernel/config.d, src/presets/fragments.ts) came to in each installed kernel's
// .config (/usr/src/linux-*/.config, found through the dist-kernel file beside it, as kernel-config
// finds it): every option a gentoo-kopt fragment asks for that the .config does not have, and why
// where the tables know. An option this kernel version does not define is not counted (a fragment
// serves every version). With USE=hardened on the kernel, Gentoo's hardened fragments set beside
// harden. When app-admin/kernel-hardening-checker is installed, its JSON report on each .config,
// summarised (run bounded, through ctx.exec; never required, never re-implemented).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { readOptional } from '../../system/read.js';
import { readVdbField, type InstalledPackage } from '../../portage/vdb.js';
import { CONFIG_D_REL, PRESET_FRAGMENT_NAMES } from '../../presets/fragments.js';
import { HARDEN_BY_SYMBOL, hardenRows } from '../../presets/harden.js';
import { gentooHardened } from '../../presets/gentoo-hardened.js';
import { absentInVersion, kept, parseDotConfig, whyDropped } from '../../presets/why.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import { readKernelFile } from '../shared.js';
import type { DoctorContext } from '../context.js';
import type { Check } from '../check.js';

const CHECKER = 'app-admin/kernel-hardening-checker';
const CHECKER_TIMEOUT_MS = 60_000;

interface Fragment {
  name: string;
  mtimeMs: number;
  /** symbol -> value, in merge order. */
  values: Map<string, string>;
}

/** gentoo-kopt's preset fragments as they are on disk (a user may have edited them), in merge order. */
async function presetFragmentsOnDisk(ctx: DoctorContext, out: Finding[]): Promise<Fragment[]> {
  const dir = path.join(ctx.roots.configRoot, CONFIG_D_REL);
  const frags: Fragment[] = [];
  for (const name of Object.values(PRESET_FRAGMENT_NAMES)) {
    const file = path.join(dir, name);
    const text = await readKernelFile(file, out);
    if (text === undefined) continue;
    frags.push({ name, mtimeMs: (await stat(file)).mtimeMs, values: parseDotConfig(text) });
  }
  return frags;
}

/** Each installed kernel with its /usr/src tree's .config (the tree whose dist-kernel file names it). */
async function builtKernels(ctx: DoctorContext, out: Finding[]): Promise<{ k: InstalledPackage; file: string }[]> {
  const src = path.join(ctx.roots.eroot, 'usr/src');
  const trees = new Map<string, string>();
  for (const name of (await readdir(src).catch(() => [] as string[])).filter((n) => n.startsWith('linux-'))) {
    const text = await readKernelFile(path.join(src, name, 'dist-kernel'), out);
    const cpf = text?.trim().split(':')[0];
    if (cpf) trees.set(cpf, path.join(src, name));
  }
  const built: { k: InstalledPackage; file: string }[] = [];
  for (const k of await ctx.kernels()) {
    const tree = trees.get(`${k.cpv.category}/${k.cpv.pf}`);
    if (tree) built.push({ k, file: path.join(tree, '.config') });
  }
  return built;
}

function dropped(
  k: InstalledPackage,
  file: string,
  frags: Fragment[],
  config: Map<string, string>,
  mtimeMs: number,
): Finding[] {
  const pkg = `${k.cpv.category}/${k.cpv.pf}`;
  const newer = frags.filter((f) => f.mtimeMs > mtimeMs).map((f) => f.name);
  if (newer.length) return [finding('kernel-config-before-presets', { file }, { package: pkg, fragments: newer })];
  const requested = new Map<string, string>();
  for (const f of frags) for (const [symbol, value] of f.values) requested.set(symbol, value);
  const version = k.cpv.pv;
  const applicable = [...requested].filter(([symbol]) => !absentInVersion(symbol, version));
  const lost = applicable
    .filter(([symbol, value]) => !kept(value, config.get(symbol)))
    .map(([symbol, value]) => {
      const why = whyDropped(symbol, config);
      return { option: `CONFIG_${symbol}`, requested: value, actual: config.get(symbol) ?? '', ...(why && { why }) };
    });
  return lost.length
    ? [finding('kernel-config-dropped', { file }, { package: pkg, requested: applicable.length, dropped: lost })]
    : [];
}

/** USE=hardened on this kernel: Gentoo's hardened fragments against harden's rows. */
async function compareGentoo(ctx: DoctorContext, k: InstalledPackage, file: string): Promise<Finding[]> {
  const config = await ctx.config();
  if (config.global.harden === 'no') return [];
  const use = (await readVdbField(k.dir, 'USE').catch(() => undefined))?.split(/\s+/) ?? [];
  if (!use.includes('hardened')) return [];
  const toolchain = (await ctx.settings(k.cpv.cpn)).toolchain;
  const gentoo = gentooHardened(toolchain);
  const ours = new Map(hardenRows(config.global.harden, [toolchain]).map((r) => [r.symbol, r.value]));
  let agree = 0;
  const differ: { option: string; gentoo: string; kopt: string }[] = [];
  for (const [symbol, value] of ours) {
    const g = gentoo.get(symbol)?.value;
    if (g === undefined) continue;
    if (g === value) agree++;
    else differ.push({ option: `CONFIG_${symbol}`, gentoo: g, kopt: value });
  }
  const gentooOnly = [...gentoo]
    .filter(([s]) => !ours.has(s))
    .map(
      ([s, g]) =>
        `CONFIG_${s}=${g.value}${HARDEN_BY_SYMBOL.get(s)?.tier === 'excluded' ? ' (left out on purpose)' : ''}`,
    );
  const koptOnly = [...ours.keys()].filter((s) => !gentoo.has(s)).length;
  return [
    finding(
      'harden-gentoo-compare',
      { file },
      { package: `${k.cpv.category}/${k.cpv.pf}`, harden: config.global.harden, agree, differ, gentooOnly, koptOnly },
    ),
  ];
}

/** kernel-hardening-checker's JSON: the kconfig checks, and the names of those that fail. */
function parseChecker(stdout: string): { checked: number; failed: string[] } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!Array.isArray(data)) return undefined;
  const rows = data.filter(
    (r): r is { option_name: string; type?: string; check_result_bool?: boolean; check_result?: string } =>
      typeof r === 'object' && r !== null && typeof (r as { option_name?: unknown }).option_name === 'string',
  );
  const kconfig = rows.filter(
    (r) => r.type === undefined || r.type === 'kconfig' || r.option_name.startsWith('CONFIG_'),
  );
  const failed = kconfig
    .filter(
      (r) => r.check_result_bool === false || (r.check_result_bool === undefined && /^FAIL/.test(r.check_result ?? '')),
    )
    .map((r) => r.option_name);
  return { checked: kconfig.length, failed: [...new Set(failed)] };
}

async function runChecker(ctx: DoctorContext, k: InstalledPackage, file: string): Promise<Finding[]> {
  const pkg = `${k.cpv.category}/${k.cpv.pf}`;
  const program = path.join(ctx.roots.eroot, 'usr/bin/kernel-hardening-checker');
  const r = await ctx.exec.probe(program, ['-c', file, '-m', 'json'], CHECKER_TIMEOUT_MS);
  const report = r.error ? undefined : parseChecker(r.stdout);
  if (!report)
    return [
      finding(
        'hardening-checker-failed',
        { file },
        {
          package: pkg,
          reason:
            r.error ??
            (r.stdout.trim()
              ? 'its output is not the JSON list -m json prints'
              : `no output (exit ${r.exitCode ?? '?'}): ${r.stderr.trim().slice(0, 200)}`),
        },
      ),
    ];
  if (!report.failed.length) return [];
  const strict = new Set(hardenRows('strict', ['gnu', 'llvm']).map((row) => `CONFIG_${row.symbol}`));
  return [
    finding(
      'hardening-checker-report',
      { file },
      {
        package: pkg,
        checked: report.checked,
        failed: report.failed,
        inHarden: report.failed.filter((o) => strict.has(o)),
      },
    ),
  ];
}

export const kernelPresets: Check = {
  id: 'kernel-presets',
  describe:
    "installed kernels' .config against kopt.conf's optimize/harden/native/disable/enable fragments, USE=hardened and kernel-hardening-checker",
  kinds: [
    'kernel-config-dropped',
    'kernel-config-before-presets',
    'harden-gentoo-compare',
    'hardening-checker-report',
    'hardening-checker-failed',
    'file-unreadable',
  ],
  async run(ctx) {
    const out: Finding[] = [];
    const frags = await presetFragmentsOnDisk(ctx, out);
    const checker = (await ctx.installed([CHECKER]).catch(() => [])).length > 0;
    const built = await builtKernels(ctx, out);
    if (built.length === 0)
      throw new SkipCheck(
        'no installed kernel has a /usr/src/linux-*/.config (its dist-kernel file): nothing to compare',
      );
    if (frags.length === 0 && !checker && (await ctx.config()).global.harden === 'no') return out;
    for (const { k, file } of built) {
      const text = await readKernelFile(file, out);
      if (text === undefined) continue;
      const st = await stat(file);
      if (frags.length) out.push(...dropped(k, file, frags, parseDotConfig(text), st.mtimeMs));
      out.push(...(await compareGentoo(ctx, k, file)));
      if (checker) out.push(...(await runChecker(ctx, k, file)));
    }
    return out;
  },
};
