// What the gentoo-kopt block costs every phase of every package: Portage sources /etc/portage/bashrc
// in each phase (bin/ebuild.sh: __source_all_bashrcs), so a world update of a thousand packages
// sources it tens of thousands of times. Against it: starting one bash process (`bash -c :`), which
// Portage pays for every phase anyway.
//
// One bash process sources a user's bashrc without the block, then the bashrc that
// `gentoo-kopt hooks install` wrote (the same user lines plus the block), many times each, in
// alternating rounds timed with EPOCHREALTIME; (with - without) / sourcings is the block's cost per
// phase, the median over rounds. Rows: app-misc/foo (the block's `case` and its here-document), and
// sys-kernel/gentoo-kernel (an LLVM slot of stub tools) in four kinds of phase: the setup phase of a
// source build (one stat process for the hook, directory and settings, the whole hook, one stat for
// node and bin, and the sync: node= is replaced by `true` here, so the figure is the hook's own cost and
// not node's: informative); the setup phase of a binary package, which now costs most after that one
// (one stat process and the whole hook, no sync: `emerge --config` costs the same); prerm, which like
// postrm, info and pretend returns at once (see src/hooks/bashrc-block.ts); and a later phase of the
// build (compile), which repeats what setup recorded. Beside them, the stat process the block runs, timed
// alone: the least a phase that checks can cost (bash has no builtin that shows mode bits; see
// src/hooks/bashrc-block.ts). The bash start-up baseline is timed by the same
// bash process, between the rounds, so both share the machine's noise.
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const USER_BASHRC =
  "# the user's own bashrc lines (the same in both files)\nif [[ ${EBUILD_PHASE} == setup ]]; then :; fi\n";

// rounds, sourcings per round and variant, `bash -c :` runs per round
const PLAN = {
  nonKernel: { rounds: 9, n: 3000, starts: 6 },
  kernelCheck: { rounds: 5, n: 60 },
  kernelLater: { rounds: 9, n: 1000 },
};

// (bash in a template literal: \${ is bash's ${)
const BENCH_SH = `
set -u
# einfo counts the sync-patches runs the setup phase announces (it runs only after node and bin passed)
SYNCS=0
einfo() { [[ $* != *' sync-patches --package '* ]] || SYNCS=$(( SYNCS + 1 )); }
ewarn() { :; }; eerror() { :; }; die() { echo "die: $*" >&2; exit 1; }
us() { local t=\${EPOCHREALTIME}; printf -v "$1" '%s' "\${t/./}"; }
# sources <file> <n> times; sets elapsed (microseconds)
run() { local i t0 t1; us t0; for (( i = 0; i < $2; i++ )); do source "$1"; done; us t1; elapsed=$(( t1 - t0 )); }
# one round: both files, in alternating order; prints "<label> <with - without, microseconds>"
round() {
	local label=$1 n=$2 r=$3 a b
	if (( r % 2 )); then run "$PLAIN" "$n"; a=$elapsed; run "$INSTALLED" "$n"; b=$elapsed
	else run "$INSTALLED" "$n"; b=$elapsed; run "$PLAIN" "$n"; a=$elapsed; fi
	echo "$label $(( b - a )) $n"
}
# n runs of the stat process the block runs (its floor for a checking phase: bash shows no mode bits)
stats() {
	local i t0 t1 x h=\${PORTAGE_CONFIGROOT%/}/etc/gentoo-kopt/kernel-hook.bash
	us t0
	for (( i = 0; i < $1; i++ )); do x=$(exec stat -c '%u %a %.1A %s' -- "\${h%/*}/." "$h" "\${h%/*}/hook-settings" 2>/dev/null); done
	us t1
	[[ -n $x ]] || { echo 'die: stat printed nothing' >&2; exit 1; }
	echo "stat $(( t1 - t0 )) $1"
}
starts() { local i t0 t1; for (( i = 0; i < $1; i++ )); do us t0; bash -c :; us t1; echo "start $(( t1 - t0 ))"; done; }

export CATEGORY=app-misc PN=foo PV=1.0 PR=r0 P=foo-1.0 PF=foo-1.0 EBUILD_PHASE=compile
for (( r = 0; r < NK_ROUNDS; r++ )); do round nonkernel "$NK_N" "$r"; starts "$NK_STARTS"; done
echo "check-nonkernel KCFLAGS=\${KCFLAGS-unset} CC=\${CC-unset}"

export CATEGORY=sys-kernel PN=gentoo-kernel PV=6.6.58 P=gentoo-kernel-6.6.58 PF=gentoo-kernel-6.6.58 SLOT=6.6.58
export EBUILD_PHASE=setup
for (( r = 0; r < KC_ROUNDS; r++ )); do round kernel-setup "$KC_N" "$r"; done
export MERGE_TYPE=binary
for (( r = 0; r < KC_ROUNDS; r++ )); do round kernel-binsetup "$KC_N" "$r"; stats "$KC_N"; done
export MERGE_TYPE=source EBUILD_PHASE=prerm
for (( r = 0; r < KL_ROUNDS; r++ )); do round kernel-prerm "$KL_N" "$r"; done
# the record of this build's setup, then the phases after it
export EBUILD_PHASE=setup
source "$INSTALLED"
export EBUILD_PHASE=compile
for (( r = 0; r < KL_ROUNDS; r++ )); do round kernel-later "$KL_N" "$r"; done
echo "check-kernel KCFLAGS=\${KCFLAGS-unset} CC=\${CC-unset} SYNCS=$(( SYNCS > 0 ))"
`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A config root with the user's bashrc, then `gentoo-kopt hooks install` (the real block, hook and settings). */
async function installed(project, dir) {
  const root = path.join(dir, 'root');
  const eprefix = path.join(dir, 'eprefix');
  const { LLVM_SLOT_TOOLS } = await import(pathToFileURL(path.join(project, 'dist/hooks/toolchain.js')).href);
  for (const tool of LLVM_SLOT_TOOLS) {
    const file = path.join(eprefix, 'usr/lib/llvm/20/bin', tool);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '#!/bin/sh\n');
    await chmod(file, 0o755);
  }
  await mkdir(path.join(root, 'etc/portage'), { recursive: true });
  await mkdir(path.join(root, 'etc/gentoo-kopt'), { recursive: true });
  await writeFile(path.join(root, 'etc/portage/bashrc'), USER_BASHRC);
  await writeFile(
    path.join(root, 'etc/gentoo-kopt/kopt.conf'),
    'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nkcflags = -O2 -march=x86-64-v3 -pipe\n',
  );
  const r = spawnSync(process.execPath, [path.join(project, 'dist/bin.js'), 'hooks', 'install', '--root', root], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`gentoo-kopt hooks install failed: ${r.stderr || r.stdout}`);
  // the setup phase's sync: `true` by its absolute path instead of node (the figure is the hook's)
  const settings = path.join(root, 'etc/gentoo-kopt/hook-settings');
  const trueProgram = spawnSync('bash', ['-c', 'type -P true'], { encoding: 'utf8' }).stdout.trim();
  if (!trueProgram.startsWith('/')) throw new Error('no `true` program in PATH');
  await writeFile(settings, (await readFile(settings, 'utf8')).replace(/^node=.*$/m, `node=${trueProgram}`));
  const plain = path.join(dir, 'plain-bashrc');
  await writeFile(plain, USER_BASHRC);
  const bashrc = path.join(root, 'etc/portage/bashrc');
  if (!(await readFile(bashrc, 'utf8')).startsWith(USER_BASHRC))
    throw new Error('hooks install did not keep the user bashrc');
  return { root, eprefix, plain, bashrc };
}

export default async function ({ project }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-bench-hook-'));
  try {
    const s = await installed(project, dir);
    const r = spawnSync('bash', ['--noprofile', '--norc', '-c', BENCH_SH], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LC_ALL: 'C',
        PLAIN: s.plain,
        INSTALLED: s.bashrc,
        PORTAGE_CONFIGROOT: `${s.root}/`,
        ROOT: `${s.root}/`,
        EPREFIX: s.eprefix,
        BROOT: s.eprefix,
        CHOST: 'x86_64-pc-linux-gnu',
        MERGE_TYPE: 'source',
        NK_ROUNDS: String(PLAN.nonKernel.rounds),
        NK_N: String(PLAN.nonKernel.n),
        NK_STARTS: String(PLAN.nonKernel.starts),
        KC_ROUNDS: String(PLAN.kernelCheck.rounds),
        KC_N: String(PLAN.kernelCheck.n),
        KL_ROUNDS: String(PLAN.kernelLater.rounds),
        KL_N: String(PLAN.kernelLater.n),
      },
    });
    if (r.status !== 0) throw new Error(`bench bash exited ${r.status}: ${r.stderr}`);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const perPhase = (label) => median(lines.filter((l) => l[0] === label).map((l) => Number(l[1]) / Number(l[2])));
    const start = median(lines.filter((l) => l[0] === 'start').map((l) => Number(l[1])));
    // the figures mean something only if the hook stayed out of app-misc/foo and ran for the kernel
    const check = (label) =>
      lines
        .find((l) => l[0] === label)
        ?.slice(1)
        .join(' ') ?? '';
    if (check('check-nonkernel') !== 'KCFLAGS=unset CC=unset')
      throw new Error(`the hook acted for app-misc/foo: ${check('check-nonkernel')}`);
    if (
      !/^KCFLAGS=-O2 -march=x86-64-v3 -pipe CC=\S+\/usr\/lib\/llvm\/20\/bin\/clang SYNCS=1$/.test(check('check-kernel'))
    ) {
      throw new Error(`the hook did not export the kernel toolchain: ${check('check-kernel')}`);
    }
    const baseline = 'bash -c : (one bash start, median)';
    const { nonKernel: nk, kernelCheck: kc, kernelLater: kl } = PLAN;
    return [
      {
        figure: `bashrc block, app-misc/foo, per phase (${nk.rounds}x${nk.n} sourcings)`,
        value: perPhase('nonkernel'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: '< 0.01x',
      },
      {
        figure: `block + hook, gentoo-kernel setup phase, sync-patches = true (${kc.rounds}x${kc.n})`,
        value: perPhase('kernel-setup'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: 'informative',
      },
      {
        figure: `block + hook, gentoo-kernel setup of a binary package (checks, no sync) (${kc.rounds}x${kc.n})`,
        value: perPhase('kernel-binsetup'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: '< 1 ms',
      },
      {
        figure: `of which one stat process, as the block runs it: a check's floor (${kc.rounds}x${kc.n})`,
        value: perPhase('stat'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: 'informative',
      },
      {
        figure: `block, gentoo-kernel prerm (returns at once, as postrm, info, pretend) (${kl.rounds}x${kl.n})`,
        value: perPhase('kernel-prerm'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: '< 1 ms',
      },
      {
        figure: `block, gentoo-kernel compile (repeats setup's record) (${kl.rounds}x${kl.n})`,
        value: perPhase('kernel-later'),
        unit: 'us',
        baseline,
        baselineValue: start,
        goal: '< 1 ms',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
