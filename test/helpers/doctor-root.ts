// A healthy Gentoo root for doctor: every check runs and finds nothing. toolchain = llvm with lto = thin,
// LLVM 20 complete in the VDB and as runnable stub tools, gentoo-kernel-6.12.58 installed with the
// environment.bz2 and /usr/src .config a build under the hook leaves, the example series synced and the
// hook installed by the real sync-patches and hooks install. Golden fixtures break it one way each.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import { afterAll } from 'vitest';
import path from 'node:path';
import { writeTree, type Tree } from './tree.js';
import { EXAMPLE_SOURCE, PROJECT } from './gentoo.js';
import { resolveRoots, type Roots } from '../../src/portage/roots.js';
import { syncPatches } from '../../src/commands/sync-patches.js';
import { hooksCommand } from '../../src/commands/hooks.js';
import { LLVM_SLOT_TOOLS } from '../../src/hooks/toolchain.js';
import type { CommandContext } from '../../src/commands/types.js';

const execFileAsync = promisify(execFile);

export const KERNEL = 'sys-kernel/gentoo-kernel-6.12.58';

export const BASE_CONF = [
  'packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel',
  'series = kopt-demo',
  `patch-source = ${EXAMPLE_SOURCE}`,
  'toolchain = llvm',
  'lto = thin',
  'kcflags = -O2 -pipe',
  '',
].join('\n');

export const BASE_MAKE_CONF =
  'COMMON_FLAGS="-O2 -pipe"\nCFLAGS="${COMMON_FLAGS}"\nCHOST="x86_64-pc-linux-gnu"\nFEATURES="sandbox"\n';

/** What Portage saves for a kernel built under the hook with BASE_CONF (bin/save-ebuild-env.sh: declare -p). */
export function savedEnvironment(vars: Record<string, string>): string {
  return [
    'declare -x CATEGORY="sys-kernel"',
    ...Object.entries(vars).map(([k, v]) => `declare -x ${k}="${v}"`),
    'declare -- PORTAGE_COLORMAP=""',
    '',
  ].join('\n');
}

export const BASE_ENVIRONMENT = {
  CHOST: 'x86_64-pc-linux-gnu',
  KCFLAGS: '-O2 -pipe',
  CC: '/usr/lib/llvm/20/bin/clang',
  LLVM: '1',
};

export function bzip2(text: string): Buffer {
  const r = spawnSync('bzip2', ['-c'], { input: text });
  if (r.status !== 0) throw new Error(`bzip2 failed: ${r.stderr}`);
  return r.stdout;
}

export function vdbEntry(cpf: string, slot: string, extra: Tree = {}): Tree {
  const dir = `var/db/pkg/${cpf}`;
  const pf = cpf.split('/')[1]!;
  const tree: Tree = {
    [`${dir}/SLOT`]: `${slot}\n`,
    [`${dir}/repository`]: 'gentoo\n',
    [`${dir}/EAPI`]: '8\n',
    [`${dir}/COUNTER`]: '1\n',
    [`${dir}/PF`]: `${pf}\n`,
  };
  for (const [k, v] of Object.entries(extra)) tree[`${dir}/${k}`] = v;
  return tree;
}

/** An executable stub for each tool of an LLVM slot; clang and ld.lld answer --version like the real ones. */
export function llvmSlot(n: number, version = `${n}.1.8`, lldVersion = version): Tree {
  const tree: Tree = {};
  const say: Record<string, string> = {
    clang: `clang version ${version}\nTarget: x86_64-pc-linux-gnu`,
    'clang++': `clang version ${version}\nTarget: x86_64-pc-linux-gnu`,
    'ld.lld': `LLD ${lldVersion} (compatible with GNU linkers)`,
  };
  for (const tool of LLVM_SLOT_TOOLS) {
    tree[`usr/lib/llvm/${n}/bin/${tool}`] = {
      content: `#!/bin/sh\necho '${say[tool] ?? `LLVM version ${version}`}'\n`,
      mode: 0o755,
    };
  }
  return tree;
}

export function baseTree(): Tree {
  return {
    'etc/portage/make.conf': BASE_MAKE_CONF,
    // %(EROOT)s (repos.conf interpolation) keeps the root relocatable: fixtures copy it.
    'etc/portage/repos.conf/gentoo.conf':
      '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = %(EROOT)svar/db/repos/gentoo\n',
    'etc/gentoo-kopt/kopt.conf': BASE_CONF,
    'var/db/repos/gentoo/profiles/repo_name': 'gentoo\n',
    'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.12.58.ebuild': 'EAPI=8\nSLOT="${PV}"\n',
    ...vdbEntry(KERNEL, '6.12.58', { 'environment.bz2': bzip2(savedEnvironment(BASE_ENVIRONMENT)) }),
    ...vdbEntry('llvm-core/clang-20.1.8', '20/20.1'),
    ...vdbEntry('llvm-core/llvm-20.1.8', '20/20.1'),
    ...vdbEntry('llvm-core/lld-20.1.8', '20/20.1'),
    ...vdbEntry('llvm-runtimes/compiler-rt-20.1.8', '20'),
    ...vdbEntry('llvm-runtimes/libunwind-20.1.8', '0'),
    ...vdbEntry('app-misc/hello-2.12', '0'),
    ...llvmSlot(20),
    'usr/src/linux-6.12.58-gentoo-dist/dist-kernel': `${KERNEL}:6.12.58\n`,
    'usr/src/linux-6.12.58-gentoo-dist/.config':
      'CONFIG_CC_IS_CLANG=y\nCONFIG_CLANG_VERSION=200108\n# CONFIG_LTO_NONE is not set\nCONFIG_LTO_CLANG_THIN=y\n',
    'proc/meminfo': 'MemTotal:       32768000 kB\nMemFree:        30000000 kB\n',
  };
}

export interface DoctorRoot {
  dir: string;
  roots: Roots;
  ctx: CommandContext;
}

function rootAt(dir: string): DoctorRoot {
  const roots = resolveRoots({ root: dir, env: {} });
  return { dir, roots, ctx: { roots, env: {}, json: false, tty: false } };
}

/**
 * The program the installed settings name: node, and a file of this project standing in for
 * dist/bin.js (which exists only after a build); outside the root, so a copied root stays valid.
 */
export async function hookProgram(): Promise<{ node: string; bin: string }> {
  return { node: await realpath(process.execPath), bin: path.join(PROJECT, 'src/bin.ts') };
}

/** Builds the healthy root in `dir`: the tree, then the real sync-patches and hooks install. */
export async function buildDoctorRoot(dir: string): Promise<DoctorRoot> {
  await writeTree(dir, baseTree());
  const root = rootAt(dir);
  await syncPatches(root.ctx, { pretend: false, force: false, packages: [] });
  await hooksCommand(root.ctx, { action: 'install', pretend: false, program: await hookProgram() });
  return root;
}

let template: Promise<string> | undefined;
const made: string[] = [];
// Cleaned after the file, not after each test: fixture tests run concurrently (tree.ts's testdir
// cleans every dir after each test, which would pull roots from under running tests).
afterAll(async () => {
  if (template) made.push(await template);
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A fresh healthy root: a copy (cp -a) of one built once per test file; building runs sync-patches and
 * hooks install, copying is far cheaper. Paths inside are relative or interpolated, so a copy is whole.
 */
export async function doctorRoot(): Promise<DoctorRoot> {
  template ??= mkdtemp(path.join(os.tmpdir(), 'kopt-doctor-template-')).then(
    async (dir) => (await buildDoctorRoot(dir)).dir,
  );
  const source = await template;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-doctor-'));
  made.push(dir);
  await execFileAsync('cp', ['-a', '--', `${source}/.`, dir]);
  return rootAt(dir);
}

export { PROJECT };
