// CLI start-up: `gentoo-kopt --version`, `--help`, `hooks status` and `patches list` against
// `node -e 0`, the floor for any Node.js program. The two commands run on a small root made for the
// purpose: kopt.conf and the hook installed by `hooks install`; one kernel version installed, with
// the series synced, for `patches list`.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { interleaved, run, rows } from '../measure.mjs';

const CV = 'sys-kernel/gentoo-kernel-6.12.58';

async function put(file, content) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function smallRoot(project, bin) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kopt-bench-cli-'));
  const pf = CV.split('/')[1];
  for (const [name, content] of Object.entries({ SLOT: '6.12.58\n', repository: 'gentoo\n', COUNTER: '1\n' }))
    await put(path.join(root, 'var/db/pkg/sys-kernel', pf, name), content);
  await put(path.join(root, `var/db/repos/gentoo/sys-kernel/gentoo-kernel/${pf}.ebuild`), 'EAPI=8\nSLOT="${PV}"\n');
  await put(path.join(root, 'var/db/repos/gentoo/profiles/repo_name'), 'gentoo\n');
  await put(
    path.join(root, 'etc/portage/repos.conf/gentoo.conf'),
    '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = %(EROOT)svar/db/repos/gentoo\n',
  );
  await put(
    path.join(root, 'etc/gentoo-kopt/kopt.conf'),
    `packages = sys-kernel/gentoo-kernel\nseries = kopt-demo\npatch-source = ${path.join(project, 'patches/example')}\ntoolchain = llvm\n`,
  );
  for (const args of [
    ['hooks', 'install'],
    ['sync-patches', '--no-verify'],
  ])
    run(process.execPath, [bin, ...args, '--root', root]);
  return root;
}

export default async function ({ project }) {
  const bin = path.join(project, 'dist/bin.js');
  const root = await smallRoot(project, bin);
  try {
    const commands = [
      { name: '--version', args: ['--version'], goal: '<= 1.15x' },
      { name: '--help', args: ['--help'], goal: '<= 1.15x' },
      { name: 'hooks status', args: ['hooks', 'status', '--root', root], goal: '<= 1.5x' },
      { name: `patches list ${CV}`, args: ['patches', 'list', CV, '--root', root], goal: '<= 1.5x' },
    ];
    const runs = 21;
    const [node, ...measured] = interleaved(
      [['-e', '0'], ...commands.map((c) => [bin, ...c.args])].map((args) => ({ command: process.execPath, args })),
      runs,
    );
    return commands.flatMap((c, j) =>
      rows({ figure: `gentoo-kopt ${c.name}`, baseline: 'node -e 0', goal: c.goal }, measured[j], node, runs),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
