// hooks: the gentoo-kopt block in bashrc is present, intact, current and last; the hook and its
// compiled settings are installed and match this version and kopt.conf (compiled again with the
// program the installed settings name, so only kopt.conf changes count); the config fragments match
// lto and the presets (optimize, harden, native, disable, enable); the program the hook runs exists; and what root sources, trusts or runs (bashrc, kopt.conf, the hook
// and its directory, the settings, node and bin and their directories) is root's and not writable by
// group or others (the block and the hook refuse the same). Uses src/hooks/* for every "what should be there".
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, KoptError } from '../../errors.js';
import { programFile } from '../../program-files.js';
import { compileSettings } from '../../hooks/settings.js';
import { LTO_FRAGMENT_REL, ltoFragment } from '../../hooks/lto-fragment.js';
import { PRESET_FRAGMENT_NAMES, presetFragments, presetRel, type PresetKey } from '../../presets/fragments.js';

const PRESET_KEYS = Object.keys(PRESET_FRAGMENT_NAMES) as PresetKey[];
import { koptConfigPath } from '../../portage/roots.js';
import { sha256 } from '../../system/fs.js';
import type { KoptConfig } from '../../config/kopt-conf.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { DoctorContext, HookFiles } from '../context.js';
import type { Check } from '../check.js';
import type { UnsafeEffect } from '../kinds.js';

/** The hook this version of gentoo-kopt installs (<package>/hooks/, three levels above this module). */
const SHIPPED_HOOK = programFile('hooks/kernel-hook.bash');

const malformed = (err: KoptError): Finding =>
  finding(
    'file-malformed',
    { file: err.file, line: err.line },
    { message: err.message, ...(err.hint !== undefined && { hint: err.hint }) },
  );

async function readOrUndefined(file: string): Promise<Buffer | undefined> {
  return readFile(file).catch(() => undefined);
}

/** Settings compiled from kopt.conf now, with the program the installed file names. */
function settingsFindings(h: HookFiles, config: KoptConfig | undefined): Finding[] {
  if (h.settingsText === undefined)
    return [finding('hooks-file-missing', { file: h.settingsFile }, { role: 'settings' })];
  const out: Finding[] = [];
  const node = h.settings?.get('node') ?? '';
  const bin = h.settings?.get('bin') ?? '';
  if (config) {
    try {
      if (compileSettings(config, { node, bin }) !== h.settingsText)
        out.push(finding('hooks-file-outdated', { file: h.settingsFile }, { role: 'settings' }));
    } catch (err) {
      if (!(err instanceof KoptError)) throw err;
      out.push(
        err instanceof ConfigError
          ? malformed(err)
          : finding('hooks-file-outdated', { file: h.settingsFile }, { role: 'settings' }),
      );
    }
  }
  return out;
}

async function programFindings(h: HookFiles): Promise<Finding[]> {
  for (const key of ['node', 'bin'] as const) {
    const program = h.settings?.get(key);
    const st = program ? await stat(program).catch(() => undefined) : undefined;
    if (program && (!st?.isFile() || (key === 'node' && !(st.mode & 0o111)))) {
      return [finding('hooks-program-missing', { file: h.settingsFile }, { program })];
    }
  }
  return [];
}

/** The config fragments kopt.conf asks for (the LTO one, then the presets'), with their wanted bytes. */
async function wantedFragments(config: KoptConfig): Promise<{ rel: string; role: string; wanted?: string }[]> {
  const presets = await presetFragments(config);
  return [
    { rel: LTO_FRAGMENT_REL, role: 'lto-fragment', wanted: ltoFragment(config)?.content },
    ...PRESET_KEYS.map((key) => ({
      rel: presetRel(key),
      role: 'config-fragment',
      wanted: presets.find((p) => p.key === key)?.content,
    })),
  ];
}

async function fragmentFindings(ctx: DoctorContext, config: KoptConfig): Promise<Finding[]> {
  let fragments: Awaited<ReturnType<typeof wantedFragments>>;
  try {
    fragments = await wantedFragments(config);
  } catch (err) {
    if (!(err instanceof KoptError)) throw err;
    return [malformed(err)];
  }
  const out: Finding[] = [];
  for (const { rel, role, wanted } of fragments) {
    const file = path.join(ctx.roots.configRoot, rel);
    const now = await readOrUndefined(file);
    if (wanted !== undefined && now === undefined) {
      out.push(finding('hooks-file-missing', { file }, { role }));
      continue;
    }
    if (now === undefined || (wanted !== undefined && now.equals(Buffer.from(wanted)))) continue;
    // Only a fragment gentoo-kopt wrote and nobody edited is outdated; an edited one is the user's now.
    const ledger = await ctx
      .ledger()
      .catch((err: unknown) => (err instanceof SkipCheck ? undefined : Promise.reject(err)));
    const recorded = ledger?.hooks.files.find((f) => f.path === rel)?.sha256;
    if (recorded === sha256(now)) out.push(finding('hooks-file-outdated', { file }, { role }));
  }
  return out;
}

/**
 * Owner and mode of what root sources, trusts or runs, and of the directories that hold what the hook
 * checks (the bashrc block and the hook refuse the same). The expected owner is root, or the owner of
 * a config root other than /; root is always fine, as for the hook.
 */
async function safetyFindings(ctx: DoctorContext, h: HookFiles): Promise<Finding[]> {
  const expected =
    ctx.roots.configRoot === '/' ? 0 : ((await stat(ctx.roots.configRoot).catch(() => undefined))?.uid ?? 0);
  const targets: [file: string, effect: UnsafeEffect | undefined][] = [
    [h.bashrc, undefined],
    [koptConfigPath(ctx.roots), 'hook-not-read'], // etc/gentoo-kopt, the hook's directory
    [h.hookFile, 'hook-not-read'],
    [h.settingsFile, 'settings-ignored'],
  ];
  for (const key of ['node', 'bin'] as const) {
    const program = h.settings?.get(key);
    if (program && path.isAbsolute(program)) targets.push([program, 'not-run'], [path.dirname(program), 'not-run']);
  }
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const [file, effect] of targets) {
    if (seen.has(file)) continue;
    seen.add(file);
    const st = await stat(file).catch(() => undefined);
    if (!st) continue;
    const because = effect ? { effect } : {};
    if (st.mode & 0o022)
      out.push(finding('hooks-unsafe-mode', { file }, { mode: `0${(st.mode & 0o7777).toString(8)}`, ...because }));
    if (st.uid !== expected && st.uid !== 0) {
      const expectedName = expected === 0 ? 'root' : `uid ${expected} (the owner of ${ctx.roots.configRoot})`;
      out.push(finding('hooks-unsafe-owner', { file }, { uid: st.uid, expected, expectedName, ...because }));
    }
  }
  return out;
}

export const hooks: Check = {
  id: 'hooks',
  describe:
    'the bashrc block is present, intact, current and last; hook, compiled settings and LTO fragment current; what root sources or runs root-owned, not writable by others',
  kinds: [
    'hooks-not-installed',
    'hooks-block-outdated',
    'hooks-block-broken',
    'hooks-code-after-block',
    'hooks-file-missing',
    'hooks-file-outdated',
    'hooks-program-missing',
    'hooks-unsafe-mode',
    'hooks-unsafe-owner',
    'file-malformed',
  ],
  async run(ctx) {
    const h = await ctx.hooks();
    const config = await ctx.config().catch((err: unknown) => {
      if (err instanceof SkipCheck) return undefined;
      throw err;
    });
    if (h.blockError)
      return [
        finding(
          'hooks-block-broken',
          { file: h.bashrc, line: h.blockError.line },
          { message: h.blockError.message, ...(h.blockError.hint !== undefined && { hint: h.blockError.hint }) },
        ),
      ];
    if (!h.block || h.block.state === 'absent') {
      if (config && !config.exists)
        throw new SkipCheck(`gentoo-kopt is not set up here (no ${config.file}) and its block is not in ${h.bashrc}`);
      return [finding('hooks-not-installed', { file: h.bashrc }, {})];
    }
    const at = { file: h.bashrc, line: h.block.line };
    const out: Finding[] = [];
    if (h.block.state === 'outdated') out.push(finding('hooks-block-outdated', at, {}));
    if (h.block.codeAfter) out.push(finding('hooks-code-after-block', at, {}));
    if (h.hookText === undefined) out.push(finding('hooks-file-missing', { file: h.hookFile }, { role: 'hook' }));
    else {
      const shipped = await readOrUndefined(SHIPPED_HOOK);
      if (shipped && !shipped.equals(h.hookText))
        out.push(finding('hooks-file-outdated', { file: h.hookFile }, { role: 'hook' }));
    }
    out.push(...settingsFindings(h, config), ...(await programFindings(h)));
    if (config) out.push(...(await fragmentFindings(ctx, config)));
    out.push(...(await safetyFindings(ctx, h)));
    return out;
  },
};
