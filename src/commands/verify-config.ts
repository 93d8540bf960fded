// gentoo-kopt verify --config: will the options of etc/kernel/config.d survive olddefconfig?
//   verify --config [CPV...]                            each version's distfiles: its tarball, the
//                                                       patches the ebuild applies, its base config
//   verify --config --tarball FILE [--base-config FILE]  any tarball; base: FILE, else the tree's
//                                                       defconfig for this machine's arch
// The toolchain is --toolchain, else kopt.conf's (for a CPV: its package's), else gnu without kopt.conf.
// Exit status: 0 every option kept; 1 an option is dropped; 4 nothing dropped but something could
// not be verified (no distfiles, no fragments to check is not a failure: exit 0 with a note).
import path from 'node:path';
import { loadConfig, settingsFor, type Toolchain } from '../config/kopt-conf.js';
import { KoptError, UsageError } from '../errors.js';
import { parseCpv, type Cpv } from '../portage/atom.js';
import { ProcessError } from '../system/exec.js';
import { readBounded } from '../system/read.js';
import { findTargets } from '../patches/targets.js';
import { configDistfiles } from '../verify/config-distfiles.js';
import {
  CONFIG_D,
  notVerifiedConfig,
  readConfigFragments,
  verifyConfigOrExplain,
  type ConfigJob,
} from '../verify/config.js';
import { renderConfigResults, type ConfigTargetResult } from '../verify/config-report.js';
import { hostArch, KCONFIG_ARCHES } from '../verify/kconfig-tree.js';
import type { CommandContext, CommandResult } from './types.js';

export interface VerifyConfigOptions {
  cpvs: string[];
  tarball?: string;
  baseConfig?: string;
  toolchain?: Toolchain;
}

export interface VerifyConfigReport {
  results: ConfigTargetResult[];
  ok: boolean;
  /** Set when etc/kernel/config.d holds no fragment: there is nothing to check. */
  note?: string;
}

const EXIT = { ok: 0, dropped: 1, unverified: 4 };

async function targetsOf(ctx: CommandContext, cpvs: string[]): Promise<Cpv[]> {
  if (cpvs.length > 0) return cpvs.map((s) => parseCpv(s));
  const config = await loadConfig(ctx.roots);
  return (await findTargets(ctx.roots, config.global.packages, [])).targets.map((t) => t.cpv);
}

const tools = (err: ProcessError): { reason: string; hint: string } => ({
  reason: err.message,
  hint: err.notFound
    ? "verify --config runs the kernel's own Kconfig: it needs make, a C compiler, flex, bison, patch and sh (the kernel build needs them too)"
    : "the kernel's Kconfig failed on these files: run it by hand (make olddefconfig) to see why",
});

export async function verifyConfigCommand(
  ctx: CommandContext,
  opts: VerifyConfigOptions,
): Promise<CommandResult<VerifyConfigReport>> {
  if (opts.tarball && opts.cpvs.length > 0) throw new UsageError('--config --tarball verifies one tarball, not a CPV');
  if (opts.baseConfig && !opts.tarball)
    throw new UsageError('--base-config goes with --tarball (a CPV has its own base config)');
  const arch = hostArch();
  if (!arch)
    throw new UsageError(
      `verify --config knows the kernels of ${KCONFIG_ARCHES.map((a) => a.keyword).join(', ')}; this machine is ${process.arch}`,
    );
  const fragments = await readConfigFragments(ctx.roots);
  const where = path.join(ctx.roots.configRoot, CONFIG_D);
  if (fragments.length === 0) {
    const note = `no *.config fragment in ${where}: nothing to verify`;
    return { data: { results: [], ok: true, note }, text: `${note}\n`, exitCode: EXIT.ok };
  }
  const config = await loadConfig(ctx.roots);
  const toolchainOf = (cpn?: string): Toolchain =>
    opts.toolchain ?? (config.exists ? (cpn ? settingsFor(config, cpn) : config.global).toolchain : 'gnu');
  const progress = ctx.tty && !ctx.json ? ctx.progress : undefined;
  const results: ConfigTargetResult[] = [];
  const run = async (target: string, job: Omit<ConfigJob, 'progress'>): Promise<void> => {
    let last = 0;
    const verdict = await verifyConfigOrExplain({
      ...job,
      ...(progress && {
        progress: (p) => {
          if (performance.now() - last < 100) return;
          last = performance.now();
          progress(`${target}: ${(p.bytes / 1e6).toFixed(0)} MB read, ${p.kept} Kconfig files kept`);
        },
      }),
    }).catch((err: unknown) => {
      if (err instanceof ProcessError) {
        const t = tools(err);
        return notVerifiedConfig(t.reason, t.hint, fragments);
      }
      throw err;
    });
    progress?.('');
    results.push({ target, verdict });
  };

  if (opts.tarball) {
    const base = opts.baseConfig
      ? { name: opts.baseConfig, content: await readBounded(opts.baseConfig, 'kernel-config') }
      : undefined;
    await run(path.basename(opts.tarball), {
      tarball: opts.tarball,
      ...(base ? { base } : {}),
      fragments,
      arch,
      llvm: toolchainOf() === 'llvm',
    });
  } else {
    for (const cpv of await targetsOf(ctx, opts.cpvs)) {
      const target = `${cpv.category}/${cpv.pf}`;
      const llvm = toolchainOf(cpv.cpn) === 'llvm';
      const found = await configDistfiles(ctx.roots, ctx.env, cpv, arch, !llvm).catch((err: unknown) => {
        if (!(err instanceof KoptError)) throw err;
        return { found: false as const, reason: err.describe(), hint: err.hint ?? 'download the distfiles again' };
      });
      if (!found.found) {
        results.push({ target, verdict: notVerifiedConfig(found.reason, found.hint, fragments) });
        continue;
      }
      const flag = (on: boolean, f: string) => `${on ? '' : '-'}${f}`;
      const notes = [
        `USE="${flag(found.use.debug, 'debug')} ${flag(found.use.hardened, 'hardened')}" ${found.use.from === 'vdb' ? 'as installed' : "from the ebuild's IUSE defaults (not installed; package.use is not read)"}`,
      ];
      await run(target, { ...found.job, fragments, arch, llvm, notes });
    }
  }
  if (results.length === 0) {
    const note = 'no kernel version to verify: name one (CPV), or list the kernels in kopt.conf';
    return { data: { results, ok: true, note }, text: `${note}\n`, exitCode: EXIT.ok };
  }
  const dropped = results.some((r) => r.verdict.status === 'dropped');
  const unverified = results.some((r) => r.verdict.status === 'not-verified');
  const exitCode = dropped ? EXIT.dropped : unverified ? EXIT.unverified : EXIT.ok;
  return { data: { results, ok: exitCode === 0 }, text: renderConfigResults(results), exitCode };
}
