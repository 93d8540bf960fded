// doctor on a generated root with a 2,000-package VDB (a typical desktop: 13 files per entry, INHERITED
// among them as in every real entry: the modules check reads it), LLVM 20
// with runnable stub tools, three installed kernels with their environment.bz2 and /usr/src .config, the
// example series synced and the hook installed by the real commands. Every check runs, so the figure
// includes the processes doctor starts (bzip2 -dc per kernel, clang/ld.lld --version).
// Baselines, same run and root: `find <vdb>`, listing the VDB tree, the least any VDB reader must do;
// and, when PORTAGE_SRC names a Portage checkout (source mode: .portage_not_installed in it; see
// ../shared/tools/portage-harness), real Portage on the same root: `portageq has_version <root>
// sys-kernel/gentoo-kernel` and `emerge --info`, run as the harness runs Portage (env -i, PATH, HOME,
// PORTAGE_CONFIGROOT and ROOT the generated root, PORTAGE_USERNAME/GRPNAME root).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { interleaved, rows } from '../measure.mjs';

const PACKAGES = 2000;
const CATEGORIES = [
  'app-arch',
  'app-misc',
  'app-text',
  'dev-lang',
  'dev-libs',
  'dev-python',
  'media-libs',
  'net-misc',
  'sys-apps',
  'sys-libs',
  'x11-libs',
  'kde-frameworks',
];
const KERNELS = ['6.12.58', '6.12.59', '6.12.60'];
const LLVM_TOOLS = [
  'clang',
  'clang++',
  'ld.lld',
  'llvm-ar',
  'llvm-nm',
  'llvm-strip',
  'llvm-objcopy',
  'llvm-objdump',
  'llvm-readelf',
];

async function put(file, content, mode) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, mode ? { mode } : undefined);
}

const bzip2 = (text) => spawnSync('bzip2', ['-c'], { input: text }).stdout;

async function vdbEntry(root, category, pf, slot, extra = {}) {
  const dir = path.join(root, 'var/db/pkg', category, pf);
  const files = {
    SLOT: `${slot}\n`,
    repository: 'gentoo\n',
    BUILD_TIME: '1763000000\n',
    COUNTER: `${Math.floor(Math.random() * 1e5)}\n`,
    EAPI: '8\n',
    CATEGORY: `${category}\n`,
    PF: `${pf}\n`,
    USE: 'amd64 elibc_glibc kernel_linux ssl\n',
    IUSE: 'ssl test\n',
    KEYWORDS: 'amd64 ~arm64\n',
    CONTENTS: `dir /usr\nobj /usr/bin/${pf} 0123456789abcdef 1763000000\n`,
    'environment.bz2': 'BZh9\n',
    INHERITED: 'toolchain-funcs multilib flag-o-matic\n',
    ...extra,
  };
  for (const [name, content] of Object.entries(files)) await put(path.join(dir, name), content);
}

export async function generate(project) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kopt-bench-doctor-'));
  for (let i = 0; i < PACKAGES - KERNELS.length - 5; i++)
    await vdbEntry(root, CATEGORIES[i % CATEGORIES.length], `pkg${i}-1.${i % 7}.${i % 13}`, '0');
  for (const pn of ['clang', 'llvm', 'lld']) await vdbEntry(root, 'llvm-core', `${pn}-20.1.8`, '20/20.1');
  await vdbEntry(root, 'llvm-runtimes', 'compiler-rt-20.1.8', '20');
  await vdbEntry(root, 'llvm-runtimes', 'libunwind-20.1.8', '0');
  const env =
    'declare -x CHOST="x86_64-pc-linux-gnu"\ndeclare -x KCFLAGS="-O2 -pipe"\ndeclare -x CC="/usr/lib/llvm/20/bin/clang"\n' +
    'declare -- FILLER="x"\n'.repeat(4000);
  for (const v of KERNELS) {
    await vdbEntry(root, 'sys-kernel', `gentoo-kernel-${v}`, v, { 'environment.bz2': bzip2(env) });
    await put(
      path.join(root, `var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-${v}.ebuild`),
      'EAPI=8\nSLOT="${PV}"\n',
    );
    await put(path.join(root, `usr/src/linux-${v}-gentoo-dist/dist-kernel`), `sys-kernel/gentoo-kernel-${v}:${v}\n`);
    await put(
      path.join(root, `usr/src/linux-${v}-gentoo-dist/.config`),
      'CONFIG_CC_IS_CLANG=y\n# CONFIG_LTO_NONE is not set\nCONFIG_LTO_CLANG_THIN=y\n',
    );
  }
  for (const tool of LLVM_TOOLS) {
    const say = tool.startsWith('clang')
      ? 'clang version 20.1.8'
      : tool === 'ld.lld'
        ? 'LLD 20.1.8 (compatible with GNU linkers)'
        : 'LLVM version 20.1.8';
    await put(path.join(root, 'usr/lib/llvm/20/bin', tool), `#!/bin/sh\necho '${say}'\n`, 0o755);
  }
  await put(path.join(root, 'var/db/repos/gentoo/profiles/repo_name'), 'gentoo\n');
  await put(
    path.join(root, 'etc/portage/repos.conf/gentoo.conf'),
    '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = %(EROOT)svar/db/repos/gentoo\n',
  );
  await put(
    path.join(root, 'etc/portage/make.conf'),
    'COMMON_FLAGS="-O2 -pipe"\nCFLAGS="${COMMON_FLAGS}"\nCHOST="x86_64-pc-linux-gnu"\nFEATURES="sandbox"\n',
  );
  await put(path.join(root, 'etc/portage/package.env'), 'dev-lang/rust nolto.conf\n');
  await put(path.join(root, 'etc/portage/env/nolto.conf'), 'CFLAGS="${CFLAGS} -fno-lto"\n');
  await put(path.join(root, 'proc/meminfo'), 'MemTotal:       32768000 kB\n');
  await put(
    path.join(root, 'etc/gentoo-kopt/kopt.conf'),
    [
      'packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel',
      'series = kopt-demo',
      `patch-source = ${path.join(project, 'patches/example')}`,
      'toolchain = llvm',
      'lto = thin',
      'kcflags = -O2 -pipe',
      '',
    ].join('\n'),
  );

  const dist = (m) => import(pathToFileURL(path.join(project, 'dist', m)).href);
  const { resolveRoots } = await dist('portage/roots.js');
  const roots = resolveRoots({ root, env: {} });
  const ctx = { roots, env: {}, json: false, tty: false };
  await (await dist('commands/sync-patches.js')).syncPatches(ctx, { pretend: false, force: false, packages: [] });
  const program = { node: await realpath(process.execPath), bin: path.join(project, 'dist/bin.js') };
  await (await dist('commands/hooks.js')).hooksCommand(ctx, { action: 'install', pretend: false, program });
  return { root, ctx, doctor: (await dist('commands/doctor.js')).doctorCommand };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** portageq and emerge from the checkout in PORTAGE_SRC, as the harness runs them; none without one. */
function portageCommands(root) {
  const src = process.env.PORTAGE_SRC;
  if (!src || !existsSync(path.join(src, '.portage_not_installed'))) return [];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: os.tmpdir(),
    LANG: 'C.UTF-8',
    PORTAGE_CONFIGROOT: root,
    ROOT: root,
    PORTAGE_USERNAME: 'root',
    PORTAGE_GRPNAME: 'root',
  };
  const python = process.env.PYTHON ?? 'python3';
  const tool = (name, args) => ({ command: python, args: [path.join(src, 'bin', name), ...args], opts: { env } });
  return [
    {
      name: 'portageq has_version R sys-kernel/gentoo-kernel',
      goal: '<= 0.5x',
      run: tool('portageq', ['has_version', root, 'sys-kernel/gentoo-kernel']),
    },
    { name: 'emerge --info', goal: '<= 0.3x', run: tool('emerge', ['--info']) },
  ];
}

export default async function ({ project }) {
  const { root, ctx, doctor } = await generate(project);
  try {
    const vdb = path.join(root, 'var/db/pkg');
    const first = await doctor(ctx, { list: false, exit: 'error' });
    const failed = first.data.checks.filter((c) => c.status !== 'ok');
    if (failed.length)
      throw new Error(
        `the generated root is not clean: ${failed.map((c) => `${c.id}: ${c.reason ?? c.findings.map((f) => f.message).join(', ')}`).join('; ')}`,
      );
    const runs = 15;
    const inProcess = [];
    for (let i = 0; i < runs; i++) inProcess.push(await time(() => doctor(ctx, { list: false, exit: 'error' })));
    const result = [
      {
        figure: `doctor, all ${first.data.checks.length} checks, in-process (median of ${runs})`,
        value: median(inProcess),
        unit: 'ms',
        baseline: `find <vdb> (${PACKAGES} packages)`,
        baselineValue: NaN,
        goal: 'informative',
      },
    ];
    const bin = path.join(project, 'dist/bin.js');
    const commands = [
      { command: 'find', args: [vdb], opts: {} },
      { command: process.execPath, args: [bin, 'doctor', '--root', root], opts: {} },
      // the floor: Node.js starting and stopping, no program at all
      { command: process.execPath, args: ['-e', '0'], opts: {} },
    ];
    const portage = portageCommands(root);
    commands.push(...portage.map((p) => p.run));
    const [find, cli, node, ...baselines] = interleaved(commands, runs);
    result[0].baselineValue = find.wall;
    const figure = 'gentoo-kopt doctor --root R (CLI, 2,000-package root)';
    result.push(...rows({ figure, baseline: `find <vdb>`, goal: 'informative' }, cli, find, runs));
    for (const [i, p] of portage.entries()) {
      result.push(...rows({ figure, baseline: p.name, goal: p.goal }, cli, baselines[i], runs));
      // what is left for gentoo-kopt under the goal once Node.js itself has started
      result.push(
        ...rows({ figure: 'node -e 0 (the floor)', baseline: p.name, goal: 'informative' }, node, baselines[i], runs),
      );
    }
    if (portage.length === 0)
      process.stderr.write('doctor: PORTAGE_SRC is not set to a Portage checkout: no portageq/emerge baselines\n');
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
