// mixed-toolchain: the environment a kernel package is built with (make.conf, then the
// /etc/portage/env files package.env maps to it; parsed, never executed) against kopt.conf. With the
// hook in effect, a variable naming a tool of the other toolchain is a conflict the hook reports (and
// dies on, unless mixed-toolchain = warn). Without it, kernel-build.eclass passes CC=, LD=, AR=, ... on
// make's command line with GNU defaults, so one LLVM tool means a mixed build, and LLVM=1 alone does
// nothing. Tool classification is the hook's own (toolFamily, src/hooks/toolchain.ts).
import { SHADOW_VARIABLES, TOOLCHAIN, toolFamily } from '../../hooks/toolchain.js';
import { finding, type Finding } from '../finding.js';
import { kernelRefs } from '../shared.js';
import type { Assignment } from '../portage-env.js';
import type { Check } from '../check.js';

const opposite = (t: string): string => (t === 'llvm' ? 'gnu' : 'llvm');

function withHook(cpn: string, env: Map<string, Assignment>, want: string, mixed: string): Finding[] {
  const chost = env.get('CHOST')?.value ?? '';
  const other = opposite(want);
  const out: Finding[] = [];
  const report = (variable: string, a: Assignment): void => {
    out.push(
      finding(
        'toolchain-conflict',
        { file: a.file, line: a.line },
        { package: cpn, variable, value: a.value, want, got: other, mixed },
      ),
    );
  };
  for (const variable of [...TOOLCHAIN.map((r) => r.variable), ...SHADOW_VARIABLES]) {
    const a = env.get(variable);
    if (a?.value.trim() && toolFamily(a.value, chost) === other) report(variable, a);
  }
  const llvm = env.get('LLVM');
  if (want === 'gnu' && llvm && llvm.value !== '' && llvm.value !== '0') report('LLVM', llvm);
  return out;
}

function withoutHook(cpn: string, env: Map<string, Assignment>): Finding[] {
  const chost = env.get('CHOST')?.value ?? '';
  const llvmVars = TOOLCHAIN.filter((r) => toolFamily(env.get(r.variable)?.value ?? '', chost) === 'llvm');
  const gnuVars = TOOLCHAIN.filter((r) => {
    const v = env.get(r.variable)?.value.trim();
    return !v || toolFamily(v, chost) === 'gnu';
  });
  const first = llvmVars[0] && env.get(llvmVars[0].variable)!;
  if (first && gnuVars.length) {
    return [
      finding(
        'toolchain-mixed',
        { file: first.file, line: first.line },
        { package: cpn, llvm: llvmVars.map((r) => r.variable), gnu: gnuVars.map((r) => r.variable) },
      ),
    ];
  }
  const llvm = env.get('LLVM');
  if (!first && llvm && llvm.value !== '' && llvm.value !== '0') {
    return [
      finding('llvm-variable-ignored', { file: llvm.file, line: llvm.line }, { package: cpn, value: llvm.value }),
    ];
  }
  return [];
}

export const mixedToolchain: Check = {
  id: 'mixed-toolchain',
  describe:
    'make.conf, package.env and its env files do not mix GNU and LLVM tools for a kernel package, with or without the hook',
  kinds: ['toolchain-conflict', 'toolchain-mixed', 'llvm-variable-ignored'],
  async run(ctx) {
    const config = await ctx.config();
    const out = new Map<string, Finding>();
    for (const ref of await kernelRefs(ctx, config.global.packages)) {
      const env = await ctx.environment(ref);
      const settings = await ctx.settings(ref.cpn);
      const found = (await ctx.hookActive(ref.cpn))
        ? withHook(ref.cpn, env, settings.toolchain, settings.mixedToolchain)
        : withoutHook(ref.cpn, env);
      // Several installed versions usually share one origin: report it once.
      for (const f of found) out.set(JSON.stringify(f), f);
    }
    return [...out.values()];
  },
};
