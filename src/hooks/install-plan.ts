// What `gentoo-kopt hooks install|uninstall|status` does: the bashrc block, the hook and its compiled
// settings under etc/gentoo-kopt/, and the kernel config fragments (LTO, and the presets of
// src/presets/fragments.ts), owned through the ledger
// (src/system/ownership.ts) as owner `hooks`, as sync-patches owns its patches. A user may edit the
// fragment (kept); the hook and its settings are generated (an edit is replaced, after a backup).
// Of bashrc only the block is ours: every other byte is kept, and the file is removed by uninstall
// only when install created it and nothing else is left in it. Reads the tree, writes nothing.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { FsError } from '../errors.js';
import { programFile } from '../program-files.js';
import { loadConfig } from '../config/kopt-conf.js';
import { portageConfigPath, type Roots } from '../portage/roots.js';
import { resolveAreaFile } from '../system/areas.js';
import { lstatIfExists, sha256 } from '../system/fs.js';
import { readLedger, type HookRole, type LoadedLedger, type OwnedFile } from '../system/ledger.js';
import { hookValues, readPgoState, type PgoState } from '../pgo/store.js';
import { planOwned, type State, type Wanted } from '../system/ownership.js';
import type { Op } from '../system/plan.js';
import { readBounded, readOptional } from '../system/read.js';
import { findBlock, HOOK_REL, insertBlock, removeBlock, type BlockState } from './bashrc-block.js';
import { LTO_FRAGMENT_REL, ltoFragment } from './lto-fragment.js';
import { presetFragments } from '../presets/fragments.js';
import { checkSymbols } from '../presets/symbols.js';
import { compileSettings, SETTINGS_REL, type Program } from './settings.js';

export interface HooksOptions {
  action: 'install' | 'uninstall' | 'status';
  pretend: boolean;
  /** Replace a fragment the user edited (after a backup). */
  force?: boolean;
  /** The program the hook runs for sync-patches (default: this node and this package's dist/bin.js). */
  program?: Program;
  /** The hook to install (default: this package's hooks/kernel-hook.bash). */
  hookSource?: string;
  /** pgo's settings to compile in (default: var/lib/gentoo-kopt/pgo/state.json as it is). */
  pgo?: PgoState;
  /** The ledger to plan against (default: as on disk): `gentoo-kopt pgo` passes the one its own plan leaves. */
  ledger?: LoadedLedger;
}

export type Overall = 'current' | 'outdated' | 'not-installed';

export interface HooksReport {
  action: HooksOptions['action'];
  pretend: boolean;
  bashrc: { path: string; block: BlockState; action: 'insert' | 'update' | 'remove' | 'unchanged' | 'none' };
  files: { path: string; role: HookRole; state: State }[];
  overall: Overall;
  warnings: string[];
  changed: boolean;
  /** The first release's records carried over into the ledger (or that would be). */
  migrated: string[];
  transaction?: string;
  diffs?: string[];
}

const BASHRC_REL = 'etc/portage/bashrc';
const hookFile = (p: string, role: HookRole, content: string | Buffer): Wanted<'hooks'> => ({
  file: { path: p, role, sha256: sha256(content) },
  content: Buffer.from(content),
});
const editable = (f: OwnedFile<'hooks'>): boolean => f.role === 'lto-fragment' || f.role === 'config-fragment';
/** States in which a file of ours, as we wrote it, is there. */
const OURS: ReadonlySet<State> = new Set(['unchanged', 'update', 'repair', 'replace-edited', 'remove']);

/** Warnings for the states that need the user's attention. */
const WARN: Partial<Record<State, string>> = {
  'replace-edited': 'your edit is replaced (generated file; the old one is in the transaction backup)',
  'kept-edited': 'edited by you, so kept as it is and no longer updated (delete it to let gentoo-kopt write it again)',
  'kept-stale': 'edited by you, so kept though no longer wanted (delete it yourself when you are done with it)',
};

async function defaultProgram(): Promise<{ program: Program; warnings: string[] }> {
  const bin = programFile('dist/bin.js');
  const real = await realpath(bin).catch(() => undefined);
  const warnings = real
    ? []
    : [`${bin} does not exist (run npm run build): the hook will warn that it cannot sync patches`];
  return { program: { node: await realpath(process.execPath), bin: real ?? bin }, warnings };
}

/** The files install writes, with their bytes (none for the fragment with lto = none). */
async function wantedFiles(roots: Roots, opts: HooksOptions, warnings: string[]): Promise<Wanted<'hooks'>[]> {
  const config = await loadConfig(roots);
  const fragment = ltoFragment(config);
  const presets = await presetFragments(config);
  warnings.push(...(await checkSymbols(config, roots)));
  const given = opts.program && { program: opts.program, warnings: [] };
  const { program, warnings: programWarnings } = given ?? (await defaultProgram());
  warnings.push(...programWarnings);
  const hookSource = opts.hookSource ?? programFile('hooks/kernel-hook.bash');
  const pgo = opts.pgo ?? (await readPgoState(roots));
  const extra = Object.fromEntries(Object.entries(pgo.packages).map(([cpn, e]) => [cpn, hookValues(roots, e)]));
  return [
    hookFile(HOOK_REL, 'hook', await readBounded(hookSource, 'program')),
    hookFile(SETTINGS_REL, 'settings', compileSettings(config, program, extra)),
    ...(fragment ? [hookFile(LTO_FRAGMENT_REL, 'lto-fragment', fragment.content)] : []),
    ...presets.map((p) => hookFile(p.rel, 'config-fragment', p.content)),
  ];
}

/** The report of `opts.action` and the operations that carry it out (none for status and --pretend). */
export async function planHooks(roots: Roots, opts: HooksOptions): Promise<{ data: HooksReport; ops: Op[] }> {
  const install = opts.action !== 'uninstall';
  const warnings: string[] = [];
  const loaded = opts.ledger ?? (await readLedger(roots));
  const wanted = install ? await wantedFiles(roots, opts, warnings) : [];

  // bashrc: the block only. Followed when it is a link inside the config root (areas.ts resolveAreaFile).
  const bashrcFile = await resolveAreaFile(
    roots.configRoot,
    path.relative(roots.configRoot, portageConfigPath(roots, 'bashrc')),
  );
  const bashrcRel = path.relative(roots.configRoot, bashrcFile);
  const before = await readOptional(bashrcFile, 'config', { inside: roots.configRoot });
  // latin1 maps every byte to one char and back: bytes that are not UTF-8 survive (the block is ASCII).
  const text = before?.toString('latin1') ?? '';
  const info = findBlock(text, bashrcFile);
  const after = install ? insertBlock(text, bashrcFile) : removeBlock(text, bashrcFile);
  if (install && info.codeAfter)
    warnings.push(
      `${bashrcFile}: code after the gentoo-kopt block runs later and can override what the hook exports: keep the block last`,
    );
  const created = loaded.ledger.hooks.created.includes(BASHRC_REL);
  const removeBashrc = !install && created && after === '' && before !== undefined;
  const plan = await planOwned(roots, loaded, 'hooks', wanted, {
    force: opts.force,
    editable,
    shared: [
      {
        path: bashrcRel,
        before,
        after: removeBashrc ? undefined : after === text ? before : Buffer.from(after, 'latin1'),
        mode: before ? Number((await lstatIfExists(bashrcFile))!.mode) & 0o7777 : 0o644,
        created: install && bashrcRel === BASHRC_REL && (created || before === undefined),
      },
    ],
  });
  const conflict = plan.changes.find((c) => c.state === 'conflict');
  if (conflict && opts.action === 'install') {
    throw new FsError('a file gentoo-kopt did not write is in the way; nothing was changed', {
      file: path.join(roots.configRoot, conflict.file.path),
      hint: 'move it aside (or merge it into your own file of another name), then run gentoo-kopt hooks install again',
    });
  }

  const files = plan.changes.map((c) => ({
    path: path.join(roots.configRoot, c.file.path),
    role: c.file.role,
    state: c.state,
  }));
  for (const f of files) if (WARN[f.state]) warnings.push(`${f.path}: ${WARN[f.state]}`);
  const overall: Overall =
    info.state === 'absent' && !files.some((f) => OURS.has(f.state))
      ? 'not-installed'
      : info.state === 'current' && files.every((f) => f.state === 'unchanged')
        ? 'current'
        : 'outdated';
  const bashrcAction: HooksReport['bashrc']['action'] =
    after === text
      ? info.state === 'absent' && !install
        ? 'none'
        : 'unchanged'
      : !install
        ? 'remove'
        : info.state === 'absent'
          ? 'insert'
          : 'update';
  const status = opts.action === 'status';
  const data: HooksReport = {
    action: opts.action,
    pretend: opts.pretend,
    bashrc: { path: bashrcFile, block: info.state, action: status ? 'none' : bashrcAction },
    files,
    overall,
    warnings,
    changed: !status && plan.ops.length > 0,
    migrated: status ? [] : plan.migrated,
    ...(opts.pretend && { diffs: await plan.diffs() }),
  };
  return { data, ops: status || opts.pretend ? [] : plan.ops };
}
