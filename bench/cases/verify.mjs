// verify on a real kernel tarball: Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz,
// 1.3 GB of tar in 138 MB of xz, 84,000 members), with the project's own series in
// bench/fixtures/linux-6.1-series (4 patches, 7 files in 6 directories, one file created).
// Baselines, all measured in this run, interleaved (the machine is shared and noisy):
//  - the floor: `xz -dc TARBALL >/dev/null` (one thread): verify, with threads, at most 0.8x of it;
//  - the same decoder settings verify uses (`-T0 --memlimit-mt-decompress`, threads on multi-block
//    files with bounded memory): verify at most 1.10x of it, so the tar walk costs little;
//  - CPU time (user + system, verify's node and its xz together, by GNU time) against the threaded
//    xz's own: on a loaded machine wall times follow how many threads each contender has, the CPU
//    spent does not;
//  - what a user would do by hand: `tar -xJf` into a temporary directory, then `patch --dry-run`.
// Peak memory: the verify process itself (maxRSS), xz beside it (alone), and both in one verify run
// (xz's measured by GNU time through an `xz` wrapper first in PATH), against a budget of 150 MB.
// The tarball is installed with apt-get when missing (Debian and derivatives, as root).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TARBALL = '/usr/src/linux-source-6.1.tar.xz';
const ROUNDS = 3;

function ensureTarball() {
  if (existsSync(TARBALL)) return;
  const apt = spawnSync('apt-get', ['install', '-y', 'linux-source-6.1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (apt.status !== 0 || !existsSync(TARBALL))
    throw new Error(
      `${TARBALL} is missing and 'apt-get install linux-source-6.1' failed: install it (Debian) to run this case`,
    );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall time of a command with stdout to /dev/null; `rss`: its peak RSS via GNU time when available. */
function timed(cmd, args, { rss = false } = {}) {
  const devnull = openSync('/dev/null', 'w');
  const useTime = rss && existsSync('/usr/bin/time');
  const [c, a] = useTime ? ['/usr/bin/time', ['-f', '%M', cmd, ...args]] : [cmd, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(c, a, { stdio: ['ignore', devnull, 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, rssMb: useTime ? Number(r.stderr.trim().split('\n').at(-1)) / 1024 : NaN };
}

/**
 * verify in a fresh node process (as the CLI would run it); returns its wall time, CPU time (node and
 * xz: GNU time counts the children node waited for), own peak RSS, verdict. `env`: for the xz wrapper.
 */
function verifyRun(project, series, threads, env = process.env) {
  const code = `
    const { verifySeries } = await import(${JSON.stringify(pathToFileURL(path.join(project, 'dist/verify/verify.js')).href)});
    const { readPatchArgs } = await import(${JSON.stringify(pathToFileURL(path.join(project, 'dist/verify/read-tree.js')).href)});
    const t = performance.now();
    const series = (await readPatchArgs([${JSON.stringify(series)}])).map(({ name, content }) => ({ name, content }));
    const v = await verifySeries({ kind: 'tarball', tarball: ${JSON.stringify(TARBALL)} }, series, { threads: ${threads} });
    process.stdout.write(JSON.stringify({ ms: performance.now() - t, rssMb: process.resourceUsage().maxRSS / 1024, status: v.status, kept: v.stats.kept }));`;
  const node = [process.execPath, '--input-type=module', '-e', code];
  const useTime = existsSync('/usr/bin/time');
  const [c, a] = useTime ? ['/usr/bin/time', ['-f', '%U %S', ...node]] : [node[0], node.slice(1)];
  const t = process.hrtime.bigint();
  const r = spawnSync(c, a, { encoding: 'utf8', env });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`verify failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  if (out.status !== 'applies') throw new Error(`the benchmark series should apply, verify says ${out.status}`);
  const [user, sys] = useTime ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
  return { ...out, wall, cpuMs: (user + sys) * 1000 };
}

/** One verify run with an `xz` first in PATH that records xz's peak RSS: node's and xz's, in MB. */
function verifyRssTogether(project, series) {
  const real = spawnSync('sh', ['-c', 'command -v xz'], { encoding: 'utf8' }).stdout.trim();
  if (!real || !existsSync('/usr/bin/time')) return { node: NaN, xz: NaN };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kopt-bench-xz-'));
  try {
    const log = path.join(dir, 'rss');
    writeFileSync(path.join(dir, 'xz'), `#!/bin/sh\nexec /usr/bin/time -a -o '${log}' -f %M '${real}' "$@"\n`, {
      mode: 0o755,
    });
    const v = verifyRun(project, series, true, { ...process.env, PATH: `${dir}:${process.env.PATH}` });
    const xzKb = Math.max(...readFileSync(log, 'utf8').trim().split('\n').map(Number));
    return { node: v.rssMb, xz: xzKb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The least a reader of the decoder costs: verify's decoder writing into a pipe that `cat` reads (into
 * /dev/null), with no work per byte but the copy. Against the decoder's own time into /dev/null it is
 * how much of the 1.10x goal the pipe and a reader on the same cores take before verify reads a header
 * (node reading the same pipe through a stream, dropping every chunk, costs more than verify does).
 */
function readerFloor(mt) {
  return timedCpu('sh', ['-c', `xz ${mt.join(' ')} -dc '${TARBALL}' | cat`]);
}

/** Wall and CPU time of a command, stdout to /dev/null, by GNU time (NaN CPU without it). */
function timedCpu(cmd, args) {
  if (!existsSync('/usr/bin/time')) return { ...timed(cmd, args), cpuMs: NaN };
  const devnull = openSync('/dev/null', 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], {
    stdio: ['ignore', devnull, 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const [user, sys, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms, cpuMs: (user + sys) * 1000, rssMb: kb / 1024 };
}

/** By hand: unpack the whole tarball, dry-run each patch, (not timed) remove the tree. */
function byHand(series) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kopt-bench-'));
  try {
    const t = process.hrtime.bigint();
    const tar = spawnSync('tar', ['-xJf', TARBALL, '-C', dir], { stdio: 'ignore' });
    if (tar.status !== 0) throw new Error('tar -xJf failed');
    const top = path.join(dir, readdirSync(dir)[0]);
    for (const p of readdirSync(series)
      .filter((n) => n.endsWith('.patch'))
      .sort()) {
      const r = spawnSync('patch', ['-p1', '-f', '-g0', '--dry-run', '-i', path.join(series, p)], {
        cwd: top,
        stdio: 'ignore',
      });
      if (r.status !== 0) throw new Error(`patch --dry-run ${p} failed`);
    }
    return Number(process.hrtime.bigint() - t) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function ({ project }) {
  ensureTarball();
  const series = path.join(project, 'bench/fixtures/linux-6.1-series');
  const { xzThreadArgs } = await import(pathToFileURL(path.join(project, 'dist/system/exec.js')).href);
  const mt = await xzThreadArgs();
  const floor = [],
    floorMt = [],
    floorMtCpu = [],
    verify = [],
    verifyCpu = [],
    verify1 = [],
    reader = [],
    readerCpu = [],
    verifyRss = [],
    xzRss = [];
  for (let round = 0; round < ROUNDS; round++) {
    floor.push(timed('xz', ['-dc', TARBALL]).ms);
    const v = verifyRun(project, series, true);
    verify.push(v.wall);
    verifyCpu.push(v.cpuMs);
    verifyRss.push(v.rssMb);
    const m = timedCpu('xz', [...mt, '-dc', TARBALL]);
    floorMt.push(m.ms);
    floorMtCpu.push(m.cpuMs);
    xzRss.push(m.rssMb);
    verify1.push(verifyRun(project, series, false).wall);
    const r = readerFloor(mt);
    reader.push(r.ms);
    readerCpu.push(r.cpuMs);
  }
  const hand = byHand(series);
  const together = verifyRssTogether(project, series);
  const xz1Rss = timed('xz', ['-dc', TARBALL], { rss: true }).rssMb;
  const v = median(verify);
  const what = `verify linux-source-6.1 + 4 patches (median of ${ROUNDS})`;
  const decoder = `xz ${mt.join(' ') || '(no threads)'} -dc >/dev/null (verify's decoder)`;
  return [
    {
      figure: what,
      value: v,
      unit: 'ms',
      baseline: 'xz -dc tarball >/dev/null (the floor)',
      baselineValue: median(floor),
      goal: '<= 0.8x',
    },
    {
      figure: what,
      value: v,
      unit: 'ms',
      baseline: decoder,
      baselineValue: median(floorMt),
      goal: '<= 1.10x',
    },
    {
      figure: `verify's decoder into a pipe read by cat: the floor of any reader, wall (median of ${ROUNDS})`,
      value: median(reader),
      unit: 'ms',
      baseline: decoder,
      baselineValue: median(floorMt),
      goal: 'informative',
    },
    {
      figure: `verify: CPU time, node + xz (median of ${ROUNDS})`,
      value: median(verifyCpu),
      unit: 'ms',
      baseline: `${decoder}, CPU time`,
      baselineValue: median(floorMtCpu),
    },
    {
      figure: `verify's decoder into a pipe read by cat: CPU time, xz + cat (median of ${ROUNDS})`,
      value: median(readerCpu),
      unit: 'ms',
      baseline: `${decoder}, CPU time`,
      baselineValue: median(floorMtCpu),
      goal: 'informative',
    },
    {
      figure: 'verify with single-threaded xz (pipe-bound)',
      value: median(verify1),
      unit: 'ms',
      baseline: 'xz -dc tarball >/dev/null (the floor)',
      baselineValue: median(floor),
    },
    {
      figure: what,
      value: v,
      unit: 'ms',
      baseline: 'tar -xJf to a temp dir + patch --dry-run (by hand, 1 run)',
      baselineValue: hand,
      goal: '< 1x',
    },
    {
      figure: 'verify: peak RSS of the node process (max of runs)',
      value: Math.max(...verifyRss),
      unit: 'MB',
      baseline: 'budget',
      baselineValue: 150,
      goal: '< 1x',
    },
    {
      figure: 'verify: peak RSS of xz beside it (threaded)',
      value: Math.max(...xzRss),
      unit: 'MB',
      baseline: 'xz -dc, one thread',
      baselineValue: xz1Rss,
    },
    {
      figure: `verify: peak RSS, node (${together.node.toFixed(1)} MB) + xz (${together.xz.toFixed(1)} MB), one run`,
      value: together.node + together.xz,
      unit: 'MB',
      baseline: 'budget',
      baselineValue: 150,
      goal: '< 1x',
    },
  ];
}
