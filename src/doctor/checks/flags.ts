// flags: KCFLAGS as kernel builds get them (kopt.conf's kcflags; make.conf/package.env KCFLAGS where the
// hook does not replace them) against the wiki's flag table and the kernel's own rules. Kbuild appends
// KCFLAGS after its own flags (Makefile: KBUILD_CFLAGS += $(KCFLAGS)), so a flag here overrides the
// kernel's choices: -mno-sse/-mno-avx (arch/x86/Makefile), -fno-PIE, its LTO set-up.
import { whereIs } from '../../config/kopt-conf.js';
import { finding, type Finding, type FindingWhere, type Kind } from '../finding.js';
import { kernelRefs } from '../shared.js';
import type { DoctorContext } from '../context.js';
import type { Assignment } from '../portage-env.js';
import type { Check } from '../check.js';

type FlagKind = Extract<Kind, `kcflags-${string}`>;

/** First matching row wins. `binpkg`: only a problem when this host builds binary packages. */
const FLAG_RULES: readonly { kind: FlagKind; test: RegExp; binpkg?: boolean }[] = [
  { kind: 'kcflags-o3', test: /^-O3$/ },
  { kind: 'kcflags-ofast', test: /^-Ofast$/ },
  {
    kind: 'kcflags-fast-math',
    test: /^-f(fast-math|unsafe-math-optimizations|finite-math-only|associative-math|reciprocal-math)$/,
  },
  { kind: 'kcflags-lto', test: /^-f(lto([=-].*)?|fat-lto-objects)$/ },
  {
    kind: 'kcflags-simd',
    test: /^-m(mmx|3dnow[a-z]*|sse[0-9.]*[a-z]*|ssse3|avx[0-9a-z_.-]*|fma4?|f16c|xop|amx[a-z0-9_-]*|aes|vaes|pclmul|vpclmulqdq|gfni|sha(512)?|sm[34])$/,
  },
  { kind: 'kcflags-pie', test: /^(-f(pie|PIE|pic|PIC)|-pie)$/ },
  { kind: 'kcflags-native-binpkg', test: /^-march=native$/, binpkg: true },
];

/** The kind a flag gets (before the binary-package condition of -march=native), or undefined. */
export function flagKind(flag: string): FlagKind | undefined {
  return FLAG_RULES.find((r) => r.test.test(flag))?.kind;
}

/** Why this host builds binary packages (FEATURES=buildpkg, emerge --buildpkg by default), or undefined. */
export function binpkgReason(env: Map<string, Assignment>): string | undefined {
  let buildpkg = false;
  for (const token of (env.get('FEATURES')?.value ?? '').split(/\s+/)) {
    if (token === 'buildpkg') buildpkg = true;
    else if (token === '-buildpkg' || token === '-*') buildpkg = false;
  }
  if (buildpkg) return 'FEATURES=buildpkg';
  const opts = env.get('EMERGE_DEFAULT_OPTS')?.value ?? '';
  if (/(^|\s)(--buildpkg(=y)?|-[A-Za-z]*b[A-Za-z]*)(\s|$)/.test(opts)) return 'EMERGE_DEFAULT_OPTS has --buildpkg';
  return undefined;
}

interface Source {
  flags: string;
  where: FindingWhere;
}

/** The KCFLAGS sources that reach builds of one package, with where each is written. */
async function sources(ctx: DoctorContext, cpn: string, env: Map<string, Assignment>): Promise<Source[]> {
  const config = await ctx.config();
  const settings = await ctx.settings(cpn);
  const out: Source[] = [];
  if (settings.kcflags) out.push({ flags: settings.kcflags, where: whereIs(config, 'kcflags', cpn) });
  // native = yes: the hook's -march=native (before 6.16) and X86_NATIVE_CPU (after) are the same choice
  if (settings.native) out.push({ flags: '-march=native', where: whereIs(config, 'native', cpn) });
  const fromEnv = env.get('KCFLAGS');
  if (fromEnv && !(settings.kcflags && (await ctx.hookActive(cpn))))
    out.push({ flags: fromEnv.value, where: { file: fromEnv.file, line: fromEnv.line } });
  return out;
}

export const flags: Check = {
  id: 'flags',
  describe:
    'KCFLAGS against the wiki and the kernel: -O3, -Ofast/-ffast-math, -flto*, SIMD -m flags, PIE, -march=native on a binary-package host',
  kinds: FLAG_RULES.map((r) => r.kind),
  async run(ctx) {
    const config = await ctx.config();
    const grouped = new Map<
      string,
      { kind: FlagKind; where: FindingWhere; flag: string; packages: string[]; reason?: string }
    >();
    for (const ref of await kernelRefs(ctx, config.global.packages)) {
      // A make.conf or env file that does not parse skips the check (SkipCheck names it): which
      // KCFLAGS reach the build, and whether it makes binary packages, is unknown then.
      const env = await ctx.environment(ref);
      const reason = binpkgReason(env);
      for (const source of await sources(ctx, ref.cpn, env)) {
        for (const flag of source.flags.split(/\s+/).filter(Boolean)) {
          const rule = FLAG_RULES.find((r) => r.test.test(flag));
          if (!rule || (rule.binpkg && !reason)) continue;
          const key = JSON.stringify([rule.kind, source.where, flag]);
          const g = grouped.get(key) ?? {
            kind: rule.kind,
            where: source.where,
            flag,
            packages: [],
            ...(rule.binpkg && { reason }),
          };
          if (!g.packages.includes(ref.cpn)) g.packages.push(ref.cpn);
          grouped.set(key, g);
        }
      }
    }
    const out: Finding[] = [];
    for (const g of grouped.values()) {
      if (g.kind === 'kcflags-native-binpkg')
        out.push(finding(g.kind, g.where, { flag: g.flag, packages: g.packages, reason: g.reason! }));
      else out.push(finding(g.kind, g.where, { flag: g.flag, packages: g.packages }));
    }
    return out;
  },
};
