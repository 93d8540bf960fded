// What more than one doctor check looks at, so that checks never import each other: the kernel
// packages to evaluate, the kernels built with LLVM, and the LLVM packages by their current and
// pre-4Q-2024 names (profiles/updates/4Q-2024).
import type { Settings } from '../config/kopt-conf.js';
import type { InstalledPackage } from '../portage/vdb.js';
import type { DoctorContext } from './context.js';
import { KoptError } from '../errors.js';
import { readOptional } from '../system/read.js';
import { finding, SkipCheck, type Finding } from './finding.js';
import type { PackageRef } from './portage-env.js';

/** The packages to evaluate: installed versions of each configured kernel, else the bare name. */
export async function kernelRefs(ctx: DoctorContext, cpns: string[]): Promise<PackageRef[]> {
  const installed = await ctx.kernels().catch((err: unknown) => {
    if (err instanceof SkipCheck) return [];
    throw err;
  });
  return cpns.flatMap((cpn) => {
    const versions = installed.filter((p) => p.cpv.cpn === cpn);
    return versions.length ? versions.map((p) => ({ cpn, cpv: p.cpv })) : [{ cpn }];
  });
}

/** The configured kernels built with toolchain = llvm, with their settings; a skip when there are none. */
export async function llvmUsers(ctx: DoctorContext): Promise<{ cpn: string; settings: Settings }[]> {
  const users: { cpn: string; settings: Settings }[] = [];
  for (const cpn of (await ctx.config()).global.packages) {
    const settings = await ctx.settings(cpn);
    if (settings.toolchain === 'llvm') users.push({ cpn, settings });
  }
  if (users.length === 0) throw new SkipCheck('toolchain = gnu for every configured kernel: LLVM is not used');
  return users;
}

export interface LlvmPackage {
  name: string;
  current: string;
  old: string;
  /** Slotted by LLVM major (SLOT="20/20.1"); libunwind has SLOT 0. */
  perSlot: boolean;
  required: boolean;
}

export const LLVM_PACKAGES: readonly LlvmPackage[] = [
  { name: 'clang', current: 'llvm-core/clang', old: 'sys-devel/clang', perSlot: true, required: true },
  { name: 'llvm', current: 'llvm-core/llvm', old: 'sys-devel/llvm', perSlot: true, required: true },
  { name: 'lld', current: 'llvm-core/lld', old: 'sys-devel/lld', perSlot: true, required: true },
  {
    name: 'compiler-rt',
    current: 'llvm-runtimes/compiler-rt',
    old: 'sys-libs/compiler-rt',
    perSlot: true,
    required: false,
  },
  {
    name: 'libunwind',
    current: 'llvm-runtimes/libunwind',
    old: 'sys-libs/llvm-libunwind',
    perSlot: false,
    required: false,
  },
];

/** Every name the table knows, old and new: what the VDB is asked for. */
export const LLVM_CPNS: readonly string[] = LLVM_PACKAGES.flatMap((p) => [p.current, p.old]);

/** The installed LLVM packages by table row, under either name. */
export function llvmInstalled(packages: InstalledPackage[]): Map<LlvmPackage, InstalledPackage[]> {
  const out = new Map<LlvmPackage, InstalledPackage[]>(LLVM_PACKAGES.map((p) => [p, []]));
  for (const pkg of packages) {
    const row = LLVM_PACKAGES.find((p) => p.current === pkg.cpv.cpn || p.old === pkg.cpv.cpn);
    if (row) out.get(row)!.push(pkg);
  }
  return out;
}

/** A kernel config file's text; undefined when missing, and a file-unreadable finding in `out` when it cannot be read. */
export async function readKernelFile(file: string, out: Finding[]): Promise<string | undefined> {
  try {
    return (await readOptional(file, 'kernel-config'))?.toString('utf8');
  } catch (err) {
    if (!(err instanceof KoptError)) throw err;
    out.push(
      finding(
        'file-unreadable',
        { file: err.file ?? file },
        { message: err.message, ...(err.hint !== undefined && { hint: err.hint }) },
      ),
    );
    return undefined;
  }
}
