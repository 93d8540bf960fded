// verify --config on a real kernel tarball: Debian's linux-source-6.12 (/usr/src/linux-source-6.12.tar.xz),
// with the harden = strict and disable = KVM fragments of test/kconfig/fragments in a throwaway root's
// etc/kernel/config.d, toolchain gnu, base x86_64_defconfig: the acceptance case of the real-Kconfig test.
// What it does: one pass over the tarball keeping the ~2,300 files Kconfig reads, the kernel's own
// merge_config.sh, `make build_config olddefconfig` (builds conf: flex, bison, a dozen objects), and
// kconfig-why for the dropped options. Baselines, measured in this run, interleaved:
//  - the floor: `xz -dc TARBALL >/dev/null` (a pass over the tarball costs at least that);
//  - what a user would do by hand: `tar -xJf` of the whole tarball, merge_config.sh, make olddefconfig.
// The tarball is installed with apt-get when missing (Debian and derivatives, as root).
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const ROUNDS = 2;

function ensureTarball() {
  if (existsSync(TARBALL)) return;
  const apt = spawnSync('apt-get', ['install', '-y', 'linux-source-6.12'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (apt.status !== 0 || !existsSync(TARBALL))
    throw new Error(
      `${TARBALL} is missing and 'apt-get install linux-source-6.12' failed: install it to run this case`,
    );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(cmd, args, opts = {}) {
  const devnull = openSync('/dev/null', 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', devnull, 'pipe'], encoding: 'utf8', ...opts });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

/** The CLI as a user runs it; its wall time, peak RSS (GNU time, when there) and report. */
function verifyRun(project, root) {
  const useTime = existsSync('/usr/bin/time');
  const argv = [path.join(project, 'dist/bin.js'), 'verify', '--config', '--tarball', TARBALL, '--root', root];
  const args = [...argv, '--toolchain', 'gnu', '--json'];
  const [c, a] = useTime ? ['/usr/bin/time', ['-f', '%M', process.execPath, ...args]] : [process.execPath, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(c, a, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 1) throw new Error(`verify --config should exit 1 (options dropped), got ${r.status}: ${r.stderr}`);
  const v = JSON.parse(r.stdout).results[0].verdict;
  return { ms, rssMb: useTime ? Number(r.stderr.trim().split('\n').at(-1)) / 1024 : NaN, v };
}

/** By hand: unpack everything, merge the fragments, olddefconfig; (not timed) remove the tree. */
function byHand(fragments) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kopt-bench-'));
  try {
    const t = process.hrtime.bigint();
    if (spawnSync('tar', ['-xJf', TARBALL, '-C', dir], { stdio: 'ignore' }).status !== 0)
      throw new Error('tar -xJf failed');
    const top = path.join(dir, readdirSync(dir)[0]);
    copyFileSync(path.join(top, 'arch/x86/configs/x86_64_defconfig'), path.join(top, '.config'));
    timed('sh', ['scripts/kconfig/merge_config.sh', '-m', '-r', '.config', ...fragments], { cwd: top });
    timed('make', ['-s', '-j2', 'ARCH=x86_64', 'olddefconfig'], { cwd: top });
    return Number(process.hrtime.bigint() - t) / 1e6;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function ({ project }) {
  ensureTarball();
  const frags = path.join(project, 'test/kconfig/fragments');
  const fragments = ['harden-strict-gnu.config', 'disable-kvm.config'].map((f) => path.join(frags, f));
  const root = mkdtempSync(path.join(os.tmpdir(), 'kopt-bench-root-'));
  try {
    mkdirSync(path.join(root, 'etc/kernel/config.d'), { recursive: true });
    copyFileSync(fragments[0], path.join(root, 'etc/kernel/config.d/60-gentoo-kopt-harden.config'));
    copyFileSync(fragments[1], path.join(root, 'etc/kernel/config.d/61-gentoo-kopt-disable.config'));
    const floor = [];
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      floor.push(timed('xz', ['-dc', TARBALL]));
      runs.push(verifyRun(project, root));
    }
    const hand = byHand(fragments);
    const ms = median(runs.map((r) => r.ms));
    const v = runs[0].v;
    const dropped = v.options.filter((o) => o.status === 'dropped').length;
    const what = `verify --config linux-source-6.12, harden strict + disable KVM (${v.options.length} options, ${dropped} dropped; median of ${ROUNDS})`;
    return [
      {
        figure: what,
        value: ms,
        unit: 'ms',
        baseline: 'xz -dc tarball >/dev/null (the floor)',
        baselineValue: median(floor),
      },
      {
        figure: what,
        value: ms,
        unit: 'ms',
        baseline: 'tar -xJf + merge_config.sh + make olddefconfig (by hand, 1 run)',
        baselineValue: hand,
        goal: '< 1x',
      },
      {
        figure: 'verify --config: of which make build_config + olddefconfig (median)',
        value: median(runs.map((r) => r.v.stats.olddefconfigMs)),
        unit: 'ms',
        baseline: 'xz -dc tarball >/dev/null (the floor)',
        baselineValue: median(floor),
      },
      {
        figure: 'verify --config: peak RSS, largest process of the run (GNU time; max of runs)',
        value: Math.max(...runs.map((r) => r.rssMb)),
        unit: 'MB',
        baseline: 'budget',
        baselineValue: 250,
        goal: '< 1x',
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
