// gentoo-kopt verify: will the patches apply, before emerge finds out?
//   verify [CPV...]                       each version's eapply_user patches (default: every target of
//                                         kopt.conf) against its distfiles
//   verify CPV... --patches P...          the named patches against each version's distfiles
//   verify [CPV...] --source DIR          ... against an unpacked tree instead of the distfiles
//   verify --tarball FILE --patches P...  any patches against any kernel tarball
// Exit status: 0 everything verified applies; 1 a series fails; 4 nothing fails but something could not
// be verified (no distfiles).
import { loadConfig } from '../config/kopt-conf.js';
import { KoptError, UsageError } from '../errors.js';
import { findTargets } from '../patches/targets.js';
import { parseCpv, type Cpv } from '../portage/atom.js';
import { eapplyUser } from '../portage/eapply-user.js';
import { vdbPath } from '../portage/roots.js';
import { readVdbField } from '../portage/vdb.js';
import path from 'node:path';
import { readBounded } from '../system/read.js';
import { readPatchArgs } from '../verify/read-tree.js';
import { progressLine, renderResults, type TargetResult } from '../verify/report.js';
import {
  notVerified,
  verifySeries,
  verifyTargets,
  type Progress,
  type SeriesPatch,
  type VerifyOptions,
} from '../verify/verify.js';
import type { CommandContext, CommandResult } from './types.js';

export interface VerifyCommandOptions {
  cpvs: string[];
  /** --patches: files or directories (eapply order). */
  patches: string[];
  tarball?: string;
  source?: string;
  /** --confirm: accepted as before, and changes nothing: every verdict is GNU patch's own. */
  confirm?: boolean;
}

export interface VerifyReport {
  results: TargetResult[];
  ok: boolean;
}

/** A context whose caller can show a progress line (the CLI passes one on a terminal). */
export type VerifyContext = CommandContext;

const EXIT = { ok: 0, fails: 1, unverified: 4 };

/** At most ten progress lines a second; '' at the end lets the caller clear the line. */
function progressFor(ctx: VerifyContext, target: string): VerifyOptions['progress'] {
  const show = ctx.tty && !ctx.json ? ctx.progress : undefined;
  if (!show) return undefined;
  let last = 0;
  let phase = '';
  return (p: Progress) => {
    const now = performance.now();
    if (p.phase === phase && now - last < 100) return; // the first line of each phase always shows
    [last, phase] = [now, p.phase];
    show(progressLine(target, p));
  };
}

/** eapply_user's patches for a version, read; SLOT as Portage has it (VDB), else PV (dist-kernels). */
async function userPatches(ctx: CommandContext, cpv: Cpv): Promise<SeriesPatch[]> {
  const slot = cpv.slot ?? (await readVdbField(vdbPath(ctx.roots, cpv.category, cpv.pf), 'SLOT')) ?? cpv.pv;
  const { patches } = await eapplyUser(ctx.roots, cpv, slot);
  const files = patches.flatMap((p) => p.files ?? [p.path]);
  return Promise.all(files.map(async (f) => ({ name: path.basename(f), content: await readBounded(f, 'patch') })));
}

async function targetsOf(ctx: CommandContext, cpvs: string[]): Promise<Cpv[]> {
  if (cpvs.length > 0) return cpvs.map((s) => parseCpv(s));
  const config = await loadConfig(ctx.roots);
  const found = await findTargets(ctx.roots, config.global.packages, []);
  return found.targets.map((t) => t.cpv);
}

export async function verifyCommand(
  ctx: VerifyContext,
  opts: VerifyCommandOptions,
): Promise<CommandResult<VerifyReport>> {
  if (opts.tarball && opts.source) throw new UsageError('--tarball and --source exclude each other');
  if (opts.tarball && opts.cpvs.length > 0)
    throw new UsageError('--tarball verifies the patches named with --patches, not a CPV');
  if ((opts.tarball || (opts.source && opts.cpvs.length === 0)) && opts.patches.length === 0) {
    throw new UsageError(`${opts.tarball ? '--tarball' : '--source without a CPV'} needs --patches DIR|FILE`);
  }
  const named = opts.patches.length > 0 ? await readPatchArgs(opts.patches) : undefined;
  const series = named?.map(({ name, content }) => ({ name, content }));
  const results: TargetResult[] = [];
  const clear = ctx.tty && !ctx.json ? ctx.progress : undefined;

  if (opts.tarball || (opts.source && opts.cpvs.length === 0)) {
    // Ad hoc: errors in the tarball itself are the answer, so they are thrown.
    const target = path.basename((opts.tarball ?? opts.source)!);
    const base = opts.tarball
      ? { kind: 'tarball' as const, tarball: opts.tarball }
      : { kind: 'source' as const, dir: opts.source! };
    try {
      results.push({
        target,
        verdict: await verifySeries(base, series!, { progress: progressFor(ctx, target) }),
      });
    } finally {
      clear?.('');
    }
  } else {
    // Versions first, then one verification for all of them: versions sharing a base tarball share
    // one pass over it.
    const todo: { target: string; cpv: Cpv; patches: SeriesPatch[]; at: number }[] = [];
    for (const cpv of await targetsOf(ctx, opts.cpvs)) {
      const target = `${cpv.category}/${cpv.pf}`;
      const patches = series ?? (await userPatches(ctx, cpv));
      if (patches.length === 0)
        results.push({
          target,
          verdict: notVerified('no user patches', 'nothing to verify'),
          note: 'no user patches for this version: nothing to verify',
        });
      else todo.push({ target, cpv, patches, at: results.push({ target, verdict: notVerified('pending', '') }) - 1 });
    }
    const label = todo.length === 1 ? todo[0]!.target : `${todo.length} versions`;
    const verifyOpts = { progress: progressFor(ctx, label), env: ctx.env };
    try {
      if (opts.source) {
        for (const t of todo) {
          try {
            results[t.at]!.verdict = await verifySeries({ kind: 'source', dir: opts.source }, t.patches, verifyOpts);
          } catch (err) {
            if (!(err instanceof KoptError)) throw err;
            results[t.at]!.verdict = notVerified(err.describe(), err.hint ?? 'fix it and run again', t.patches);
          }
        }
      } else {
        const verdicts = await verifyTargets(
          ctx.roots,
          todo.map((t) => ({ cpv: t.cpv, files: t.patches })),
          verifyOpts,
        );
        for (const [i, t] of todo.entries()) results[t.at]!.verdict = verdicts[i]!;
      }
    } finally {
      clear?.('');
    }
  }
  const real = results.filter((r) => !r.note);
  const fails = real.some((r) => r.verdict.status === 'fails');
  const unverified = real.some((r) => r.verdict.status === 'not-verified');
  const exitCode = fails ? EXIT.fails : unverified ? EXIT.unverified : EXIT.ok;
  return { data: { results, ok: exitCode === 0 }, text: renderResults(results), exitCode };
}
