// Timing of whole processes for the bench cases: wall time, and the CPU time (user + system) the
// process and its children used, read from this process's /proc/self/stat (cutime and cstime count
// every child waited for: spawnSync waits). On a shared, loaded machine the wall time mostly measures
// the scheduler; CPU time is what the program itself costs. Ticks are 10 ms, so CPU is a mean over runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function childTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]); // cutime, cstime (fields 16 and 17 of proc(5))
}

/** Runs `command args` once; throws unless it exits 0. Returns wall and CPU milliseconds. */
export function run(command, args, opts = {}) {
  const ticks = childTicks();
  const t = process.hrtime.bigint();
  const r = spawnSync(command, args, { stdio: 'ignore', ...opts });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}`);
  return { wall, cpu: (childTicks() - ticks) * TICK_MS };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Runs every command `runs` times, interleaved (one of each per round, so that all share the
 * machine's noise). Returns per command: the median wall time and the mean CPU time.
 */
export function interleaved(commands, runs) {
  const samples = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of commands.entries()) samples[j].push(run(c.command, c.args, c.opts));
  }
  return samples.map((s) => ({ wall: median(s.map((x) => x.wall)), cpu: mean(s.map((x) => x.cpu)) }));
}

/** Two rows for one figure: wall time (median) and CPU time (mean), each against the same baseline. */
export function rows({ figure, baseline, goal }, value, base, runs) {
  return [
    {
      figure: `${figure}: wall, median of ${runs}`,
      value: value.wall,
      unit: 'ms',
      baseline,
      baselineValue: base.wall,
      goal,
    },
    {
      figure: `${figure}: CPU, mean of ${runs}`,
      value: value.cpu,
      unit: 'ms',
      baseline,
      baselineValue: base.cpu,
      goal,
    },
  ];
}
