// host-flags: with toolchain = llvm, the kernel's host tools (fixdep, Kconfig, objtool) are built by
// clang with make.conf's flags: kernel-build.eclass passes HOSTCFLAGS="${BUILD_CFLAGS}" and
// HOSTLDFLAGS="${BUILD_LDFLAGS}", which toolchain-funcs.eclass (tc-export_build_env) defaults to CFLAGS
// and LDFLAGS. GCC-only flags there (src/hooks/host-flags.ts, from clang's own answers) break them;
// the hook drops them for kernel builds and says so in the build log. This check names each flag
// where it is set (make.conf or an env file, with its line), for the packages it reaches.
import { filterHostFlags, gccOnly, type HostFlagsVar } from '../../hooks/host-flags.js';
import { finding, type Finding } from '../finding.js';
import { kernelRefs, llvmUsers } from '../shared.js';
import type { Check } from '../check.js';

export const hostFlags: Check = {
  id: 'host-flags',
  describe:
    "GCC-only flags in make.conf's CFLAGS/LDFLAGS (or BUILD_*) that reach clang through the kernel's host tools with toolchain = llvm",
  kinds: ['host-flags-gcc-only'],
  async run(ctx) {
    const users = await llvmUsers(ctx);
    const grouped = new Map<string, Finding<'host-flags-gcc-only'>>();
    for (const ref of await kernelRefs(
      ctx,
      users.map((u) => u.cpn),
    )) {
      const env = await ctx.environment(ref);
      const filtered = await ctx.hookActive(ref.cpn);
      for (const base of ['CFLAGS', 'LDFLAGS'] as HostFlagsVar[]) {
        // tc-export_build_env: `: ${BUILD_CFLAGS:=${CFLAGS}}`, an empty BUILD_CFLAGS counts as unset
        const own = env.get(`BUILD_${base}`);
        const a = own?.value.trim() ? own : env.get(base);
        if (!a) continue;
        const flags = a.value.split(/\s+/).filter((w) => w && gccOnly(w, base));
        if (flags.length === 0) continue;
        const variable = a === own ? `BUILD_${base}` : base;
        const key = JSON.stringify([variable, a.file, a.line]);
        const prev = grouped.get(key);
        if (prev) {
          if (!prev.packages.includes(ref.cpn)) prev.packages.push(ref.cpn);
          continue;
        }
        grouped.set(
          key,
          finding(
            'host-flags-gcc-only',
            { file: a.file, line: a.line },
            {
              variable,
              build: `BUILD_${base}`,
              flags,
              packages: [ref.cpn],
              filtered,
              suggested: filterHostFlags(a.value, base).value.trim(),
            },
          ),
        );
      }
    }
    return [...grouped.values()];
  },
};
