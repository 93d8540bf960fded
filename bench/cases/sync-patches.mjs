// sync-patches with nothing to do, as the hook's setup phase and a user's second run see it: a root
// with 20 installed gentoo-kernel versions (6.12.40 to 6.12.49, 6.18.1 to 6.18.10) and two series
// (the project's kopt-demo and a second one in catalog.d naming the same files under another series),
// everything synced by a first run. Baseline, same run: `gentoo-kopt --version`, node start-up with
// the least of gentoo-kopt loaded.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { interleaved, rows } from '../measure.mjs';

const VERSIONS = [
  ...Array.from({ length: 10 }, (_, i) => `6.12.${40 + i}`),
  ...Array.from({ length: 10 }, (_, i) => `6.18.${i + 1}`),
];

async function put(file, content) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** The second series: kopt-demo's entries of the built-in catalog, renamed. */
async function secondSeries(project) {
  const text = await readFile(path.join(project, 'patches/catalog.ini'), 'utf8');
  const entries = text.split(/^(?=\[)/m).filter((s) => s.startsWith('[kopt-demo '));
  if (entries.length === 0) throw new Error('patches/catalog.ini has no kopt-demo entries');
  return [
    '[series kopt-bench]',
    'description = a second series for the benchmark: kopt-demo under another name',
    '',
    ...entries.map((e) => e.replace('[kopt-demo ', '[kopt-bench ')),
  ].join('\n');
}

export async function generate(project) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kopt-bench-sync-'));
  for (const v of VERSIONS) {
    const dir = path.join(root, 'var/db/pkg/sys-kernel', `gentoo-kernel-${v}`);
    for (const [name, content] of Object.entries({
      SLOT: `${v}\n`,
      repository: 'gentoo\n',
      BUILD_TIME: '1763000000\n',
      COUNTER: '1000\n',
    }))
      await put(path.join(dir, name), content);
    await put(
      path.join(root, `var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-${v}.ebuild`),
      'EAPI=8\nSLOT="${PV}"\n',
    );
  }
  await put(path.join(root, 'var/db/repos/gentoo/profiles/repo_name'), 'gentoo\n');
  await put(
    path.join(root, 'etc/portage/repos.conf/gentoo.conf'),
    '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = %(EROOT)svar/db/repos/gentoo\n',
  );
  await put(path.join(root, 'etc/gentoo-kopt/catalog.d/bench.conf'), await secondSeries(project));
  await put(
    path.join(root, 'etc/gentoo-kopt/kopt.conf'),
    [
      'packages = sys-kernel/gentoo-kernel',
      'series = kopt-demo kopt-bench',
      `patch-source = ${path.join(project, 'patches/example')}`,
      '',
    ].join('\n'),
  );
  return root;
}

function timed(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`gentoo-kopt ${args.slice(1).join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

export default async function ({ project }) {
  const bin = path.join(project, 'dist/bin.js');
  const root = await generate(project);
  try {
    const sync = [bin, 'sync-patches', '--root', root];
    timed(sync); // the first run installs both series for every version
    const again = timed([...sync, '--json']);
    const report = JSON.parse(again.stdout);
    if (report.changed !== false) throw new Error(`the second sync-patches changed something: ${again.stdout}`);
    const runs = 15;
    const [version, noop] = interleaved(
      [[bin, '--version'], sync].map((args) => ({ command: process.execPath, args })),
      runs,
    );
    const figure = `sync-patches, nothing to do (${VERSIONS.length} kernels, 2 series)`;
    return rows({ figure, baseline: 'gentoo-kopt --version', goal: '<= 2x' }, noop, version, runs);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
