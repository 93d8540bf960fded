// inputs: every file doctor (and Portage) reads can be read and parsed. The context records a failed
// load once; this check reports it as a finding naming the file, and reports the problems loaders
// tolerate: corrupt or in-progress VDB entries, bad package.env lines and missing env files, and
// repositories Portage drops.
import path from 'node:path';
import { parseCpv } from '../../portage/atom.js';
import { vdbPath } from '../../portage/roots.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import { readAllEnvFiles } from '../portage-env.js';
import { LLVM_CPNS } from '../shared.js';
import type { Check } from '../check.js';

/** A loader's value, or undefined when it was skipped (its failure is in ctx.failures). */
async function attempt<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof SkipCheck) return undefined;
    throw err;
  }
}

/** category/PF of a VDB path, when it names one. */
function cpvOf(vdb: string, file: string): string | undefined {
  const [category, pf] = path.relative(vdb, file).split(path.sep);
  if (!category || !pf) return undefined;
  try {
    return `${category}/${parseCpv(`${category}/${pf}`).pf}`;
  } catch {
    return undefined;
  }
}

export const inputs: Check = {
  id: 'inputs',
  describe:
    'the files doctor reads parse: kopt.conf, make.conf, package.env and its env files, repos.conf, the catalog, the VDB (every entry by name, the kernel and LLVM ones whole), the ownership ledger',
  kinds: ['file-unreadable', 'file-malformed', 'vdb-corrupt', 'vdb-merging', 'package-env-missing', 'repo-ignored'],
  async run(ctx) {
    const [packageEnv, vdb, repos] = await Promise.all([
      attempt(ctx.packageEnv),
      // Every entry by name; read whole only those doctor uses (LLVM, the kernels): a corrupt entry of
      // any other package changes nothing doctor says.
      attempt(async () =>
        ctx.vdb([
          LLVM_CPNS,
          await ctx.config().then(
            (c) => c.global.packages,
            () => [],
          ),
        ]),
      ),
      attempt(ctx.repos),
      attempt(ctx.hooks),
      attempt(ctx.ledger),
      attempt(ctx.config),
      attempt(ctx.catalog),
    ]);
    const out: Finding[] = [];
    for (const f of ctx.failures) {
      const where = { file: f.file, line: f.line };
      const fields = { message: f.message, ...(f.hint !== undefined && { hint: f.hint }) };
      out.push(finding(f.kind === 'unreadable' ? 'file-unreadable' : 'file-malformed', where, fields));
    }
    if (packageEnv) {
      readAllEnvFiles(packageEnv);
      for (const p of packageEnv.problems) {
        const where = { file: p.file, line: p.line };
        if (p.kind === 'missing-env')
          out.push(finding('package-env-missing', where, { atom: p.atom!, name: p.name!, path: p.path! }));
        else
          out.push(
            finding(p.kind === 'unreadable' ? 'file-unreadable' : 'file-malformed', where, {
              message: p.message,
              ...(p.hint !== undefined && { hint: p.hint }),
            }),
          );
      }
    }
    for (const p of vdb?.problems ?? []) {
      const where = { file: p.file, line: p.line };
      if (p.kind === 'merging') out.push(finding('vdb-merging', where, {}));
      else if (p.kind === 'unreadable') out.push(finding('file-unreadable', where, { message: p.message }));
      else {
        const cpv = cpvOf(vdbPath(ctx.roots), p.file);
        out.push(finding('vdb-corrupt', where, { message: p.message, ...(cpv && { cpv }) }));
      }
    }
    for (const r of repos?.ignored ?? []) {
      out.push(
        finding(
          'repo-ignored',
          { file: r.file, line: r.line },
          { name: r.name, reason: r.reason, ...(r.location !== undefined && { location: r.location }) },
        ),
      );
    }
    return out;
  },
};
