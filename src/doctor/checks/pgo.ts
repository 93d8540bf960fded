// pgo: what `gentoo-kopt pgo` set up still holds. A profile in use must be there and intact (the hook
// builds without a missing one, and GCC would ignore a .gcda without its object summary); a kernel of
// another line than the profile's gets none (the hook applies a profile to its own PV only); and once
// the profile is in use, the gcov-instrumented kernel should not be the one running (debugfs still
// has gcov/). The running kernel is read at ${ROOT}/sys/kernel/debug/gcov.
import path from 'node:path';
import { KoptError } from '../../errors.js';
import { kernelVersion } from '../../portage/kernel-version.js';
import { vercmp } from '../../portage/version.js';
import { checkProfile, listProfiles } from '../../pgo/profiles.js';
import { readPgoState, stateFile } from '../../pgo/store.js';
import { lstatIfExists } from '../../system/fs.js';
import { finding, type Finding } from '../finding.js';
import type { Check } from '../check.js';

const line = (pv: string): string | undefined => {
  try {
    return kernelVersion(pv).split('.').slice(0, 2).join('.');
  } catch {
    return undefined;
  }
};

export const pgo: Check = {
  id: 'pgo',
  describe:
    'profile-guided kernels: the profile in use is intact and fits the installed kernel; no instrumented kernel left running',
  kinds: ['pgo-profile-broken', 'pgo-profile-other-line', 'pgo-instrumented-running'],
  async run(ctx) {
    const state = await readPgoState(ctx.roots);
    const used = Object.entries(state.packages).filter(([, e]) => e.mode === 'use');
    if (!used.length) return []; // nothing set up: nothing that can be wrong
    const out: Finding[] = [];
    const gcov = path.join(ctx.roots.root, 'sys/kernel/debug/gcov');
    const instrumented = (await lstatIfExists(gcov))?.isDirectory() ?? false;
    for (const [cpn, e] of used) {
      const dir = path.join(ctx.roots.configRoot, e.profile ?? '');
      const stored = (await listProfiles(ctx.roots, cpn)).find((p) => p.rel === e.profile);
      let problem = stored ? '' : 'is missing (no profile.json)';
      if (stored)
        await checkProfile(ctx.roots, stored).catch((err: unknown) => {
          if (!(err instanceof KoptError)) throw err;
          problem = `is damaged: ${err.file && err.file !== dir ? `${path.relative(dir, err.file)} ` : ''}${err.message}`;
        });
      if (problem) out.push(finding('pgo-profile-broken', { file: dir }, { package: cpn, problem }));
      const newest = (await ctx.installed([cpn]))
        .map((p) => p.cpv.pv)
        .sort(vercmp)
        .at(-1);
      if (e.pv && newest && line(newest) !== line(e.pv))
        out.push(
          finding(
            'pgo-profile-other-line',
            { file: stateFile(ctx.roots) },
            { package: cpn, pv: e.pv, installed: newest },
          ),
        );
      if (instrumented && e.kind === 'gcov' && e.pv)
        out.push(finding('pgo-instrumented-running', { file: gcov }, { package: cpn, pv: e.pv }));
    }
    return out;
  },
};
