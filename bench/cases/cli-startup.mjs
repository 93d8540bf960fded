// CLI start-up: `gentoo-kopt --version` against `node -e 0`, the floor for any Node.js program.
import path from 'node:path';
import { spawnSync } from 'node:child_process';

function timeRuns(args, runs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export default async function ({ project }) {
  const bin = path.join(project, 'dist/bin.js');
  const runs = 21;
  // interleave to share the machine's noise between both
  let kopt = 0;
  let node = 0;
  for (let round = 0; round < 3; round++) {
    node += timeRuns(['-e', '0'], runs);
    kopt += timeRuns([bin, '--version'], runs);
  }
  return [
    {
      figure: 'CLI start-up (gentoo-kopt --version, median)',
      value: kopt / 3,
      unit: 'ms',
      baseline: 'node -e 0',
      baselineValue: node / 3,
      goal: '< 1.5x',
    },
  ];
}
