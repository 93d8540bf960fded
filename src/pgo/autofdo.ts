// Clang AutoFDO/Propeller profiles of the running kernel (the kernel's Documentation/dev-tools/autofdo.rst
// and propeller.rst): which `perf record` samples branches on this CPU, and where a dist-kernel's
// vmlinux is. Pure, except reading the CPU's description (bounded) under a root.
import path from 'node:path';
import type { Roots } from '../portage/roots.js';
import { lstatIfExists } from '../system/fs.js';
import { readOptional } from '../system/read.js';

/** autofdo.rst's sample period: "a suitable prime number, like 500009". */
export const PERIOD = '500009';

/** The branch-sampling perf events autofdo.rst gives, by CPU vendor. */
const EVENTS: Record<'intel' | 'amd', { args: string[]; what: string }> = {
  intel: { args: ['-e', 'BR_INST_RETIRED.NEAR_TAKEN:k'], what: 'Intel LBR' },
  amd: { args: ['--pfm-events', 'RETIRED_TAKEN_BRANCH_INSTRUCTIONS:k'], what: 'AMD BRS / LbrExtV2' },
};

export interface Sampling {
  vendor: 'intel' | 'amd' | 'other';
  /** The PMU reports a branch stack (caps/branches > 0). */
  branches: boolean;
  /** The CPU flags say it runs under a hypervisor. */
  vm: boolean;
  amdFlag: boolean;
}

/** What /proc/cpuinfo and the PMU's sysfs say about branch sampling, under `roots.root`. */
export async function detectSampling(roots: Pick<Roots, 'root'>): Promise<Sampling> {
  const cpuinfo = (await readOptional(path.join(roots.root, 'proc/cpuinfo'), 'proc').catch(() => undefined))?.toString(
    'utf8',
  );
  const vendor = /^vendor_id\s*:\s*GenuineIntel/m.test(cpuinfo ?? '')
    ? 'intel'
    : /^vendor_id\s*:\s*AuthenticAMD/m.test(cpuinfo ?? '')
      ? 'amd'
      : 'other';
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo ?? '')?.[1] ?? '').trim().split(/\s+/));
  let branches = false;
  for (const pmu of ['cpu', 'cpu_core', 'cpu_atom']) {
    const f = path.join(roots.root, 'sys/bus/event_source/devices', pmu, 'caps/branches');
    if (!(await lstatIfExists(f))?.isFile()) continue;
    const n = Number((await readOptional(f, 'proc').catch(() => undefined))?.toString('utf8').trim());
    if (n > 0) branches = true;
  }
  return { vendor, branches, vm: flags.has('hypervisor'), amdFlag: flags.has('brs') || flags.has('amd_lbr_v2') };
}

/** The `perf record` arguments for this CPU, or why there are none. */
export function recordArgs(s: Sampling, out: string, command: string[]): { args: string[] } | { refused: string } {
  if (!s.branches || s.vendor === 'other' || (s.vendor === 'amd' && !s.amdFlag))
    return {
      refused: `this CPU${s.vm ? ' (a virtual machine)' : ''} offers no branch-stack sampling (Intel LBR, AMD BRS or LbrExtV2): AutoFDO and Propeller cannot be recorded here${s.vm ? '; record on the host, or pass LBR through to the guest' : ''}`,
    };
  return { args: ['record', ...EVENTS[s.vendor].args, '-a', '-N', '-b', '-c', PERIOD, '-o', out, '--', ...command] };
}

export const samplingName = (s: Sampling): string => (s.vendor === 'other' ? 'none' : EVENTS[s.vendor].what);

/** kernel-build.eclass installs vmlinux (USE=debug only) as /usr/src/linux-<KV>/vmlinux. */
export const vmlinuxPath = (roots: Pick<Roots, 'root'>, release: string): string =>
  path.join(roots.root, 'usr/src', `linux-${release}`, 'vmlinux');

/** The PV of a running dist-kernel from its release (`6.13.2-gentoo-dist` -> `6.13.2`). */
export function pvOfRelease(release: string): string | undefined {
  const m = /^(\d+\.\d+(?:\.\d+)?)(?:-rc(\d+))?/.exec(release);
  if (!m) return undefined;
  return m[2] ? `${m[1]!.replace(/\.0$/, '')}_rc${m[2]}` : m[1];
}
