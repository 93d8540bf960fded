// kopt.conf's config keys (optimize, harden, native, disable, enable) as kernel config fragments in
// ${PORTAGE_CONFIGROOT}/etc/kernel/config.d/NN-gentoo-kopt-<key>.config, owned by `hooks install`
// as the LTO fragment is (lto-fragment.ts says how kernel-build.eclass merges them). One fragment per
// key, none for a key left at its default. Their numbers order them: the presets first, the user's
// own `disable`/`enable` last, so `disable` can take back one hardening option. Everything is checked
// before anything is written: a symbol enabled and disabled, or a preset contradicted by kcflags,
// is a ConfigError naming kopt.conf's line.
import { ConfigError } from '../errors.js';
import { settingsFor, whereIs, type KoptConfig, type Settings, type Toolchain } from '../config/kopt-conf.js';

export type PresetKey = 'optimize' | 'harden' | 'native' | 'disable' | 'enable';

/** The file name of each key's fragment, in the order config.d merges them (glob order). */
export const PRESET_FRAGMENT_NAMES: Readonly<Record<PresetKey, string>> = {
  optimize: '45-gentoo-kopt-optimize.config',
  harden: '46-gentoo-kopt-harden.config',
  native: '47-gentoo-kopt-native.config',
  disable: '60-gentoo-kopt-disable.config',
  enable: '61-gentoo-kopt-enable.config',
};
export const CONFIG_D_REL = 'etc/kernel/config.d';
export const presetRel = (key: PresetKey): string => `${CONFIG_D_REL}/${PRESET_FRAGMENT_NAMES[key]}`;

/** One option a fragment asks for: symbol, value (n: not set), and a comment line above it. */
export interface Request {
  symbol: string;
  value: string;
  note?: string;
}

export interface PresetFragment {
  key: PresetKey;
  rel: string;
  content: string;
  requests: Request[];
}

/** `CONFIG_X=v`, or `# CONFIG_X is not set` for n (merge_config.sh and Kconfig read both). */
export const kconfigLine = (r: { symbol: string; value: string }): string =>
  r.value === 'n' ? `# CONFIG_${r.symbol} is not set` : `CONFIG_${r.symbol}=${r.value}`;

const OPTIMIZE: Record<NonNullable<Settings['optimize']>, Request[]> = {
  performance: [
    { symbol: 'CC_OPTIMIZE_FOR_PERFORMANCE', value: 'y' },
    { symbol: 'CC_OPTIMIZE_FOR_SIZE', value: 'n' },
  ],
  size: [
    { symbol: 'CC_OPTIMIZE_FOR_SIZE', value: 'y' },
    { symbol: 'CC_OPTIMIZE_FOR_PERFORMANCE', value: 'n' },
  ],
};
/** 6.16+ (arch/x86/Kconfig.cpu): needs X86_64 and a compiler taking -march=native (GCC, or Clang 19.1+). */
const NATIVE: Request[] = [{ symbol: 'X86_NATIVE_CPU', value: 'y' }];

/** The compiler flags a key contradicts (KCFLAGS comes last on every compile, so it would win). */
const KCFLAGS_AGAINST: { when(s: Settings): boolean; flag: RegExp; key: keyof Settings; why: string }[] = [
  {
    when: (s) => s.optimize === 'size',
    flag: /^-O([0-3g]|fast)?$/,
    key: 'optimize',
    why: 'undoes optimize = size',
  },
  {
    when: (s) => s.optimize === 'performance',
    flag: /^-O[sz]$/,
    key: 'optimize',
    why: 'undoes optimize = performance (for -Oz, set optimize = size and keep -Oz in kcflags)',
  },
  { when: (s) => s.native, flag: /^-march=/, key: 'native', why: 'overrides native = yes' },
];

const HEAD = (key: PresetKey, what: string): string[] => [
  `# ${what}: written by \`gentoo-kopt hooks install\` from kopt.conf (${key}).`,
  '# kernel-build.eclass merges every /etc/kernel/config.d/*.config into the .config of EVERY dist-kernel,',
  '# then olddefconfig drops, silently, what the kernel or toolchain cannot do (`gentoo-kopt doctor` shows',
  '# what was dropped). Change kopt.conf instead of editing here (an edited copy is kept and no longer',
  `# updated); \`gentoo-kopt hooks uninstall\` or removing ${key} from kopt.conf removes it.`,
];

function fragment(key: PresetKey, what: string, requests: Request[], extra: string[] = []): PresetFragment {
  const body = requests.flatMap((r) => [...(r.note ? [`# ${r.note}`] : []), kconfigLine(r)]);
  return {
    key,
    rel: presetRel(key),
    content: [...HEAD(key, what), ...extra, ...body, ''].join('\n'),
    requests,
  };
}

/** The toolchains kopt.conf's packages build with. */
const toolchainsOf = (config: KoptConfig): Set<Toolchain> =>
  new Set(config.global.packages.map((cpn) => settingsFor(config, cpn).toolchain));

/** Contradictions between keys, as ConfigErrors at the line that makes them. */
export function checkPresets(config: KoptConfig): void {
  const g = config.global;
  const disabled = new Set(g.disable);
  const both = g.enable.find((e) => disabled.has(e.symbol));
  if (both) {
    const [first, second] = [config.lines.disable ?? 0, config.lines.enable ?? 0].sort((a, b) => a - b);
    throw new ConfigError(`${both.symbol} is both in enable and in disable`, {
      file: config.file,
      line: second,
      hint: `keep it in one of the two (the other is at line ${first})`,
    });
  }
  const fixed = new Map(
    [...(g.optimize ? OPTIMIZE[g.optimize] : []), ...(g.native ? NATIVE : [])].map((r) => [r.symbol, r]),
  );
  const own = [
    ...g.disable.map((symbol) => ({ symbol, value: 'n', key: 'disable' as const })),
    ...g.enable.map((e) => ({ ...e, key: 'enable' as const })),
  ];
  for (const r of own) {
    const preset = fixed.get(r.symbol);
    if (preset && preset.value !== r.value)
      throw new ConfigError(
        `${r.key} sets ${r.symbol}, which ${g.native && r.symbol === 'X86_NATIVE_CPU' ? 'native' : 'optimize'} sets otherwise`,
        {
          ...whereIs(config, r.key),
          hint: `use ${g.native && r.symbol === 'X86_NATIVE_CPU' ? 'native' : 'optimize'} alone for this option`,
        },
      );
  }
  for (const cpn of g.packages) {
    const s = settingsFor(config, cpn);
    for (const rule of KCFLAGS_AGAINST) {
      if (!rule.when(s)) continue;
      const flag = s.kcflags.split(' ').find((f) => rule.flag.test(f));
      if (flag)
        throw new ConfigError(`kcflags ${flag} for ${cpn} ${rule.why}`, {
          ...whereIs(config, 'kcflags', cpn),
          hint: `KCFLAGS comes last on every compile: remove ${flag} from kcflags, or change ${rule.key}`,
        });
    }
  }
}

/**
 * The fragments kopt.conf asks for, in merge order (none for keys at their default). Throws like
 * checkPresets. The hardening table (harden-table.ts, the largest module of the program) is loaded only
 * for harden = base or strict.
 */
export async function presetFragments(config: KoptConfig): Promise<PresetFragment[]> {
  checkPresets(config);
  const g = config.global;
  const out: PresetFragment[] = [];
  if (g.optimize) out.push(fragment('optimize', `optimize = ${g.optimize}`, OPTIMIZE[g.optimize]));
  if (g.harden !== 'no') {
    const tcs = toolchainsOf(config);
    const rows = (await import('./harden.js')).hardenRows(g.harden, tcs);
    out.push(
      fragment(
        'harden',
        `harden = ${g.harden}`,
        rows.map((r) => ({
          symbol: r.symbol,
          value: r.value,
          note: `${r.reason} (run-time cost: ${r.cost}${r.costWhy ? `, ${r.costWhy}` : ''})`,
        })),
        [
          `# toolchain rows for: ${[...tcs].sort().join(', ')}. Options this kernel version does not define are ignored.`,
        ],
      ),
    );
  }
  if (g.native)
    out.push(
      fragment('native', 'native = yes', NATIVE, [
        '# X86_NATIVE_CPU exists from 6.16 on (GCC, or Clang 19.1+); for older kernels the hook adds -march=native to KCFLAGS.',
      ]),
    );
  if (g.disable.length)
    out.push(
      fragment(
        'disable',
        `disable = ${g.disable.join(' ')}`,
        g.disable.map((symbol) => ({ symbol, value: 'n' })),
      ),
    );
  if (g.enable.length)
    out.push(
      fragment(
        'enable',
        `enable = ${g.enable.length} option(s)`,
        g.enable.map((e) => ({ ...e })),
      ),
    );
  return out;
}
