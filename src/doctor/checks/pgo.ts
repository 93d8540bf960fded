// pgo: what `gentoo-kopt pgo` set up still holds. A profile in use must be there and intact (the hook
// builds without a missing one, and GCC would ignore a .gcda without its object summary); a kernel of
// another line than the profile's gets none (the hook applies a profile to its own PV only); and once
// the profile is in use, the gcov-instrumented kernel should not be the one running (debugfs still
// has gcov/). The running kernel is read at ${ROOT}/sys/kernel/debug/gcov.
// A package instrumented for Clang AutoFDO or Propeller needs what `pgo record` and `pgo convert` use:
// the installed kernel's vmlinux (a dist-kernel installs it with USE=debug only), perf, the hook's LLVM
// slot's llvm-profgen (and create_llvm_prof for Propeller), and a CPU that samples branches (the same
// detection as `pgo record`, from ${ROOT}/proc/cpuinfo and the PMU's sysfs).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { kernelVersion } from '../../portage/kernel-version.js';
import { vercmp } from '../../portage/version.js';
import { detectSampling, recordArgs, vmlinuxPath } from '../../pgo/autofdo.js';
import { checkProfile, listProfiles } from '../../pgo/profiles.js';
import { readPgoState, stateFile, type PgoEntry } from '../../pgo/store.js';
import { lstatIfExists } from '../../system/fs.js';
import { readOptional } from '../../system/read.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { Check } from '../check.js';
import { hookSlot, type DoctorContext } from '../context.js';

const line = (pv: string): string | undefined => {
  try {
    return kernelVersion(pv).split('.').slice(0, 2).join('.');
  } catch {
    return undefined;
  }
};

const executable = async (file: string): Promise<boolean> => {
  const st = await stat(file).catch(() => undefined);
  return !!st?.isFile() && (st.mode & 0o111) !== 0;
};

/** The release (`6.12.58-gentoo-dist`) of the newest installed version of `cpn` whose /usr/src tree names it. */
async function newestRelease(ctx: DoctorContext, cpn: string): Promise<string | undefined> {
  const src = path.join(ctx.roots.root, 'usr/src');
  const byCpf = new Map<string, string>();
  for (const name of (await readdir(src).catch(() => [] as string[])).filter((n) => n.startsWith('linux-'))) {
    const text = await readOptional(path.join(src, name, 'dist-kernel'), 'config').catch(() => undefined);
    const cpf = text?.toString('utf8').trim().split(':')[0];
    if (cpf) byCpf.set(cpf, name.slice('linux-'.length));
  }
  const installed = (
    await ctx.installed([cpn]).catch((err: unknown) => {
      if (err instanceof SkipCheck) return []; // no VDB: no installed kernel to look at
      throw err;
    })
  )
    .filter((p) => byCpf.has(`${p.cpv.category}/${p.cpv.pf}`))
    .sort((a, b) => vercmp(a.cpv.pv, b.cpv.pv));
  const newest = installed.at(-1);
  return newest && byCpf.get(`${newest.cpv.category}/${newest.cpv.pf}`);
}

/** AutoFDO/Propeller set up for the next build: what recording and converting its profile need. */
async function clangFindings(ctx: DoctorContext, cpn: string, e: PgoEntry, out: Finding[]): Promise<void> {
  const release = await newestRelease(ctx, cpn);
  const vmlinux = release && vmlinuxPath(ctx.roots, release);
  if (vmlinux && !(await lstatIfExists(vmlinux))?.isFile())
    out.push(
      finding(
        'pgo-vmlinux-missing',
        { file: vmlinux },
        {
          package: cpn,
          pgoKind: e.kind,
          packageUse: path.join(ctx.roots.configRoot, 'etc/portage/package.use/gentoo-kopt-pgo'),
        },
      ),
    );
  const tools: string[] = [];
  const packages: string[] = [];
  const perf = path.join(ctx.roots.eroot, 'usr/bin/perf');
  if (!(await executable(perf))) {
    tools.push(perf);
    packages.push('dev-util/perf');
  }
  const slot = hookSlot(await ctx.settings(cpn), await ctx.llvmSlots());
  const profgen = slot !== undefined && path.join(ctx.roots.eroot, 'usr/lib/llvm', String(slot), 'bin/llvm-profgen');
  if (profgen && !(await executable(profgen))) {
    tools.push(profgen);
    packages.push(`llvm-core/llvm:${slot}`);
  }
  let unpackaged = false;
  if (e.kind === 'propeller') {
    const dirs = ['usr/local/bin', 'usr/bin'].map((d) => path.join(ctx.roots.eroot, d, 'create_llvm_prof'));
    if (!(await Promise.all(dirs.map(executable))).some(Boolean)) {
      tools.push(dirs[0]!);
      unpackaged = true;
    }
  }
  if (tools.length)
    out.push(
      finding('pgo-tool-missing', { file: tools[0]! }, { package: cpn, pgoKind: e.kind, tools, packages, unpackaged }),
    );
  const plan = recordArgs(await detectSampling(ctx.roots), 'perf.data', []);
  if ('refused' in plan)
    out.push(
      finding(
        'pgo-no-branch-sampling',
        { file: path.join(ctx.roots.root, 'proc/cpuinfo') },
        { package: cpn, pgoKind: e.kind, reason: plan.refused },
      ),
    );
}

export const pgo: Check = {
  id: 'pgo',
  describe:
    'profile-guided kernels: the profile in use is intact and fits the installed kernel; no instrumented kernel left running',
  kinds: [
    'pgo-profile-broken',
    'pgo-profile-other-line',
    'pgo-instrumented-running',
    'pgo-vmlinux-missing',
    'pgo-tool-missing',
    'pgo-no-branch-sampling',
  ],
  async run(ctx) {
    const state = await readPgoState(ctx.roots);
    const out: Finding[] = [];
    for (const [cpn, e] of Object.entries(state.packages))
      if (e.mode === 'instrument' && e.kind !== 'gcov') await clangFindings(ctx, cpn, e, out);
    const used = Object.entries(state.packages).filter(([, e]) => e.mode === 'use');
    if (!used.length) return out; // no profile in use: nothing more that can be wrong
    const gcov = path.join(ctx.roots.root, 'sys/kernel/debug/gcov');
    const instrumented = (await lstatIfExists(gcov))?.isDirectory() ?? false;
    for (const [cpn, e] of used) {
      const dir = path.join(ctx.roots.configRoot, e.profile ?? '');
      const stored = (await listProfiles(ctx.roots, cpn)).find((p) => p.rel === e.profile);
      let problem = stored ? '' : 'is missing (no profile.json)';
      if (stored)
        await checkProfile(ctx.roots, stored).catch((err: unknown) => {
          if (!(err instanceof KoptError)) throw err;
          problem = `is damaged: ${err.file && err.file !== dir ? `${path.relative(dir, err.file)} ` : ''}${err.message}`;
        });
      if (problem) out.push(finding('pgo-profile-broken', { file: dir }, { package: cpn, problem }));
      const newest = (await ctx.installed([cpn]))
        .map((p) => p.cpv.pv)
        .sort(vercmp)
        .at(-1);
      if (e.pv && newest && line(newest) !== line(e.pv))
        out.push(
          finding(
            'pgo-profile-other-line',
            { file: stateFile(ctx.roots) },
            { package: cpn, pv: e.pv, installed: newest },
          ),
        );
      if (instrumented && e.kind === 'gcov' && e.pv)
        out.push(finding('pgo-instrumented-running', { file: gcov }, { package: cpn, pv: e.pv }));
    }
    return out;
  },
};
