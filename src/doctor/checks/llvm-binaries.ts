// llvm-binaries: every tool the hook exports (src/hooks/toolchain.ts) is an executable file in
// ${EROOT}/usr/lib/llvm/<N>/bin for the slot the hook will use; `clang --version` and `ld.lld --version`
// report major N; and the linker is not older than the compiler (an LTO link reads the compiler's
// bitcode). The tools run (src/system/probe.ts) only when ROOT is / or they are runnable on this machine
// (a script, or an ELF file for this CPU); otherwise the installed versions come from the VDB.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { compareVersions, parseVersion } from '../../portage/version.js';
import { LLVM_SLOT_TOOLS } from '../../hooks/toolchain.js';
import { hookSlot, type DoctorContext, type LlvmSlotDir } from '../context.js';
import { finding, type Finding } from '../finding.js';
import { llvmInstalled, LLVM_CPNS, LLVM_PACKAGES, llvmUsers } from '../shared.js';
import type { Check } from '../check.js';

/** Which package installs each tool into the slot's bin directory. */
const TOOL_PACKAGE: Record<string, string> = {
  clang: 'llvm-core/clang',
  'clang++': 'llvm-core/clang',
  'ld.lld': 'llvm-core/lld',
};
const packageOf = (tool: string): string => TOOL_PACKAGE[tool] ?? 'llvm-core/llvm';

/** ELF e_machine of this CPU (node's process.arch): an ELF for another machine cannot run here. */
const ELF_MACHINE: Record<string, number> = {
  x64: 62,
  ia32: 3,
  arm64: 183,
  arm: 40,
  ppc64: 21,
  ppc: 20,
  riscv64: 243,
  s390x: 22,
  loong64: 258,
  mips: 8,
  mipsel: 8,
};

/** The probes: how each tool prints its version. */
const VERSION_RE: Record<string, RegExp> = { clang: /clang version (\d+\.\d+\.\d+)/, 'ld.lld': /LLD (\d+\.\d+\.\d+)/ };

async function runnable(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return `${file} cannot be opened`;
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    if (bytesRead >= 2 && head.toString('latin1', 0, 2) === '#!') return undefined;
    if (bytesRead >= 20 && head.toString('latin1', 0, 4) === '\x7fELF') {
      const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
      return machine === ELF_MACHINE[process.arch]
        ? undefined
        : `${file} is built for another machine (ELF machine ${machine})`;
    }
    return `${file} is neither a script nor an ELF program for this machine`;
  } finally {
    await fh.close();
  }
}

async function versionOf(ctx: DoctorContext, bin: string, tool: string): Promise<{ version?: string; error?: string }> {
  const r = await ctx.exec.probe(path.join(bin, tool), ['--version']);
  const m = VERSION_RE[tool]!.exec(r.stdout);
  if (m) return { version: m[1]! };
  return { error: `${tool} --version ${r.error ?? (r.ok ? 'printed no version' : `exited ${r.exitCode}`)}` };
}

/** clang and lld of `slot` as the VDB records them, for the linker comparison when nothing can run. */
async function vdbVersions(ctx: DoctorContext, slot: number): Promise<{ clang?: string; lld?: string }> {
  const installed = llvmInstalled(await ctx.installed(LLVM_CPNS).catch(() => []));
  const pick = (name: string): string | undefined =>
    installed.get(LLVM_PACKAGES.find((r) => r.name === name)!)!.find((p) => Number(p.slot) === slot)?.cpv.pv;
  return { clang: pick('clang'), lld: pick('lld') };
}

async function checkSlot(ctx: DoctorContext, dir: LlvmSlotDir, lto: string): Promise<Finding[]> {
  const where = { file: dir.bin };
  const liveRoot = ctx.roots.root === '/';
  const why = liveRoot
    ? undefined
    : ((await runnable(path.join(dir.bin, 'clang'))) ?? (await runnable(path.join(dir.bin, 'ld.lld'))));
  let clang: string | undefined;
  let lld: string | undefined;
  let source = 'binaries';
  const out: Finding[] = [];
  if (why === undefined) {
    const [c, l] = await Promise.all([versionOf(ctx, dir.bin, 'clang'), versionOf(ctx, dir.bin, 'ld.lld')]);
    for (const [tool, v] of [
      ['clang', c],
      ['ld.lld', l],
    ] as const) {
      if (v.version && Number(v.version.split('.')[0]) !== dir.slot)
        out.push(finding('llvm-version-mismatch', where, { tool, slot: dir.slot, reported: v.version }));
    }
    const failed = c.error ?? l.error;
    if (failed) out.push(finding('llvm-version-unchecked', where, { slot: dir.slot, reason: failed }));
    [clang, lld] = [c.version, l.version];
  } else {
    out.push(
      finding('llvm-version-unchecked', where, {
        slot: dir.slot,
        reason: `ROOT is ${ctx.roots.root} and ${why}; the installed versions come from the VDB`,
      }),
    );
    ({ clang, lld } = await vdbVersions(ctx, dir.slot));
    source = 'vdb';
  }
  if (clang && lld && compareVersions(parseVersion(lld), parseVersion(clang)) < 0) {
    out.push(finding('llvm-linker-older', where, { slot: dir.slot, clang, lld, source, lto }));
  }
  return out;
}

export const llvmBinaries: Check = {
  id: 'llvm-binaries',
  describe:
    'toolchain = llvm: every tool the hook exports is executable in /usr/lib/llvm/<N>/bin, reports major N, lld not older than clang',
  kinds: ['llvm-tool-missing', 'llvm-version-mismatch', 'llvm-linker-older', 'llvm-version-unchecked'],
  async run(ctx) {
    const users = await llvmUsers(ctx);
    const slots = await ctx.llvmSlots();
    const base = path.join(ctx.roots.eroot, 'usr/lib/llvm');
    const out: Finding[] = [];
    const seen = new Set<number | undefined>();
    for (const { settings } of users) {
      const slot = hookSlot(settings, slots);
      if (seen.has(slot)) continue;
      seen.add(slot);
      const dir = slots.find((s) => s.slot === slot);
      if (slot === undefined || !dir || dir.tools.size < LLVM_SLOT_TOOLS.length) {
        // No usable slot: name the one to complete (pinned, else the fullest, newest), or all of LLVM.
        const target = dir ?? [...slots].sort((a, b) => b.tools.size - a.tools.size || b.slot - a.slot)[0];
        const tools = LLVM_SLOT_TOOLS.filter((t) => !target?.tools.has(t));
        const n = slot ?? target?.slot;
        const where = { file: n === undefined ? base : path.join(base, String(n), 'bin') };
        out.push(
          finding('llvm-tool-missing', where, {
            ...(n !== undefined && { slot: n }),
            tools,
            packages: [...new Set(tools.map(packageOf))],
          }),
        );
        continue;
      }
      out.push(...(await checkSlot(ctx, dir, settings.lto)));
    }
    return out;
  },
};
