// `gentoo-kopt hooks install|uninstall|status [--pretend]`: the bashrc block, the hook and its compiled
// settings under etc/gentoo-kopt/, and the LTO kernel config fragment, written in one transaction
// (backed up, undone by `gentoo-kopt rollback`), never touching a byte of bashrc outside the block or
// a file gentoo-kopt does not own. The hook is copied, not linked: removing the npm package cannot
// break emerge (the hook then only warns that it cannot sync patches).
import { createTwoFilesPatch } from 'diff';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsError } from '../errors.js';
import { loadConfig } from '../config/kopt-conf.js';
import { portageConfigPath, type Roots } from '../portage/roots.js';
import { findBlock, HOOK_REL, insertBlock, removeBlock, type BlockState } from '../hooks/bashrc-block.js';
import { compileSettings, SETTINGS_REL, type Program } from '../hooks/settings.js';
import { LTO_FRAGMENT_REL, ltoFragment } from '../hooks/lto-fragment.js';
import {
  decideInstall,
  decideUninstall,
  EMPTY_RECORD,
  HOOKS_RECORD_REL,
  parseRecord,
  serializeRecord,
  type Action,
  type Decision,
  type HooksRecord,
  type Role,
} from '../hooks/install-plan.js';
import { resolveAreaFile } from '../system/areas.js';
import { lstatIfExists } from '../system/fs.js';
import { acquireLock } from '../system/lock.js';
import { readBounded, readOptional } from '../system/read.js';
import { commitTransaction, recoverIncomplete, type Op } from '../system/transaction.js';
import type { CommandContext, CommandResult } from './types.js';

export interface HooksOptions {
  action: 'install' | 'uninstall' | 'status';
  pretend: boolean;
  /** The program the hook runs for sync-patches (default: this node and this package's dist/bin.js). */
  program?: Program;
  /** The hook to install (default: this package's hooks/kernel-hook.bash). */
  hookSource?: string;
}

export type Overall = 'current' | 'outdated' | 'not-installed';

export interface HooksReport {
  action: HooksOptions['action'];
  pretend: boolean;
  bashrc: { path: string; block: BlockState; action: 'insert' | 'update' | 'remove' | 'unchanged' | 'none' };
  files: { path: string; role: Role; state: Decision['state']; action: Action }[];
  overall: Overall;
  warnings: string[];
  changed: boolean;
  transaction?: string;
  diffs?: string[];
}

const PACKAGE_ROOT = new URL('../../', import.meta.url);

async function defaultProgram(): Promise<{ program: Program; warnings: string[] }> {
  const bin = fileURLToPath(new URL('dist/bin.js', PACKAGE_ROOT));
  const real = await realpath(bin).catch(() => undefined);
  const warnings = real
    ? []
    : [`${bin} does not exist (run npm run build): the hook will warn that it cannot sync patches`];
  return { program: { node: await realpath(process.execPath), bin: real ?? bin }, warnings };
}

async function readRecord(roots: Roots): Promise<HooksRecord> {
  const file = path.join(roots.configRoot, HOOKS_RECORD_REL);
  const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot });
  return bytes ? parseRecord(bytes, file) : { ...EMPTY_RECORD, files: {}, dirs: [] };
}

/** A file of the hooks' areas as it is now (bounded; every directory on the way inside the config root). */
const readArea = (roots: Roots, file: string): Promise<Buffer | undefined> =>
  readOptional(file, 'config', { inside: roots.configRoot });

/**
 * bashrc's path, following a symlink that stays inside the config root (the transaction writes there
 * only); the config root itself may be reached through a symlink (areas.ts resolveAreaFile).
 */
async function bashrcPath(roots: Roots): Promise<string> {
  return resolveAreaFile(roots.configRoot, path.relative(roots.configRoot, portageConfigPath(roots, 'bashrc')));
}

const ROOT_OWNER = { uid: 0, gid: 0 };
const amRoot = (): boolean => process.getuid?.() === 0;

/** Mode 0644, and owned by root when we are root: what the hook requires of the files it reads. */
async function safeMode(file: string): Promise<boolean> {
  const st = await lstatIfExists(file);
  return st !== undefined && (Number(st.mode) & 0o7777) === 0o644 && (!amRoot() || st.uid === 0);
}

/** The dirs among `rels` (relative to the config root) that do not exist yet, outermost first. */
async function missingDirs(roots: Roots, rels: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const rel of rels) {
    const parts = path.dirname(rel).split('/');
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!out.includes(dir) && !(await lstatIfExists(path.join(roots.configRoot, dir)))) out.push(dir);
    }
  }
  return out;
}

export async function hooksCommand(ctx: CommandContext, opts: HooksOptions): Promise<CommandResult<HooksReport>> {
  const { roots } = ctx;
  const write = opts.action !== 'status' && !opts.pretend;
  const lock = write ? await acquireLock(roots, `hooks ${opts.action}`) : undefined;
  try {
    if (write) await recoverIncomplete(roots);
    const report = await plan(roots, opts);
    if (write && report.ops.length) {
      const tx = await commitTransaction(roots, report.ops, { command: `hooks ${opts.action}` });
      report.data.transaction = tx.id;
      report.data.warnings.push(...tx.notes);
    }
    const data = report.data;
    const exitCode = opts.action === 'status' && data.overall !== 'current' ? 1 : 0;
    return { data, text: render(data), exitCode };
  } finally {
    await lock?.release();
  }
}

async function plan(roots: Roots, opts: HooksOptions): Promise<{ data: HooksReport; ops: Op[] }> {
  const install = opts.action !== 'uninstall';
  const warnings: string[] = [];
  const record = await readRecord(roots);
  const abs = (rel: string): string => path.join(roots.configRoot, rel);

  // What each managed file should hold (install, status) and what to do about it.
  const decisions: Decision[] = [];
  /** Same bytes but wrong mode or owner: removed and written again (a transaction skips same-content writes). */
  const replace = new Set<string>();
  if (install) {
    const config = await loadConfig(roots);
    const fragment = ltoFragment(config);
    const { program, warnings: programWarnings } = opts.program
      ? { program: opts.program, warnings: [] }
      : await defaultProgram();
    warnings.push(...programWarnings);
    const hookSource = opts.hookSource ?? fileURLToPath(new URL('hooks/kernel-hook.bash', PACKAGE_ROOT));
    const wanted: [string, Role, string | undefined][] = [
      [HOOK_REL, 'hook', (await readBounded(hookSource, 'program')).toString('utf8')],
      [SETTINGS_REL, 'settings', compileSettings(config, program)],
      [LTO_FRAGMENT_REL, 'lto-fragment', fragment?.content],
    ];
    for (const [rel, role, desired] of wanted) {
      const d = decideInstall(rel, role, await readArea(roots, abs(rel)), desired, record.files[rel]);
      // The hook ignores settings writable by others or not owned by root: same bytes are not enough.
      if (d.action === 'unchanged' && !(await safeMode(abs(rel)))) {
        decisions.push({ ...d, action: 'update', content: desired });
        replace.add(rel);
      } else decisions.push(d);
    }
  } else {
    const roles: [string, Role][] = [
      [HOOK_REL, 'hook'],
      [SETTINGS_REL, 'settings'],
      [LTO_FRAGMENT_REL, 'lto-fragment'],
    ];
    for (const [rel, role] of roles)
      decisions.push(decideUninstall(rel, role, await readArea(roots, abs(rel)), record.files[rel]));
  }
  const conflict = decisions.find((d) => d.action === 'conflict');
  if (conflict && opts.action === 'install') {
    throw new FsError('a file gentoo-kopt did not write is in the way; nothing was changed', {
      file: abs(conflict.rel),
      hint: 'move it aside (or merge it into your own file of another name), then run gentoo-kopt hooks install again',
    });
  }

  // bashrc: the block only.
  const bashrcFile = await bashrcPath(roots);
  const before = await readArea(roots, bashrcFile);
  // latin1 maps every byte to one char and back: bytes that are not UTF-8 survive (the block is ASCII).
  const text = before?.toString('latin1') ?? '';
  const shown = (t: string): string => Buffer.from(t, 'latin1').toString('utf8');
  const info = findBlock(text, bashrcFile);
  const after = install ? insertBlock(text, bashrcFile) : removeBlock(text, bashrcFile);
  if (install && info.codeAfter)
    warnings.push(
      `${bashrcFile}: code after the gentoo-kopt block runs later and can override what the hook exports: keep the block last`,
    );
  const bashrcAction: HooksReport['bashrc']['action'] =
    after === text
      ? info.state === 'absent' && !install
        ? 'none'
        : 'unchanged'
      : install
        ? info.state === 'absent'
          ? 'insert'
          : 'update'
        : 'remove';
  const removeBashrc = !install && record.createdBashrc && after === '' && before !== undefined;

  // The new record and the operations.
  const next: HooksRecord = {
    format: 1,
    files: {},
    createdBashrc: install && (record.createdBashrc || before === undefined),
    dirs: [],
  };
  const ops: Op[] = [];
  const diffs: string[] = [];
  const diff = (rel: string, from: string | undefined, to: string | undefined): void => {
    diffs.push(
      createTwoFilesPatch(
        from === undefined ? '/dev/null' : `a/${rel}`,
        to === undefined ? '/dev/null' : `b/${rel}`,
        from ?? '',
        to ?? '',
        '',
        '',
        { context: 3 },
      ),
    );
  };
  const bashrcRel = path.relative(roots.configRoot, bashrcFile);
  if (install) {
    const written = decisions.filter((d) => d.content !== undefined).map((d) => d.rel);
    const created = await missingDirs(roots, before === undefined ? [...written, bashrcRel] : written);
    next.dirs = [...new Set([...record.dirs, ...created])];
  }
  for (const d of decisions) {
    if (install && d.recordSha) next.files[d.rel] = d.recordSha;
    if (d.content !== undefined) {
      const old = await readArea(roots, abs(d.rel));
      if (replace.has(d.rel)) ops.push({ kind: 'remove', path: abs(d.rel) });
      ops.push({
        kind: 'write',
        path: abs(d.rel),
        content: Buffer.from(d.content),
        mode: 0o644,
        ...(amRoot() ? { owner: ROOT_OWNER } : {}),
      });
      diff(d.rel, old?.toString('utf8'), d.content);
    } else if (d.action === 'remove') {
      ops.push({ kind: 'remove', path: abs(d.rel) });
      diff(d.rel, (await readArea(roots, abs(d.rel)))?.toString('utf8'), undefined);
    }
    if (d.action === 'replace-edited')
      warnings.push(
        `${abs(d.rel)}: your edit is replaced (generated file; the old one is in the transaction's backup)`,
      );
    if (d.action === 'keep-edited')
      warnings.push(
        `${abs(d.rel)}: edited by you, so kept as it is and no longer updated (delete it to let gentoo-kopt write it again)`,
      );
  }
  if (removeBashrc) {
    ops.push({ kind: 'remove', path: bashrcFile });
    diff(bashrcRel, shown(text), undefined);
  } else if (after !== text) {
    const mode = before ? Number((await lstatIfExists(bashrcFile))!.mode) & 0o7777 : 0o644;
    ops.push({ kind: 'write', path: bashrcFile, content: Buffer.from(after, 'latin1'), mode });
    diff(bashrcRel, before === undefined ? undefined : shown(text), shown(after));
  }
  if (!install) for (const dir of [...record.dirs].sort().reverse()) ops.push({ kind: 'rmdir', path: abs(dir) });

  const recordText = install ? serializeRecord(next) : undefined;
  const oldRecord = await readOptional(abs(HOOKS_RECORD_REL), 'state', { noFollow: true, inside: roots.configRoot });
  const recordChanged = recordText === undefined ? oldRecord !== undefined : oldRecord?.toString('utf8') !== recordText;
  const changing = ops.length > 0 || recordChanged;
  if (changing && opts.action !== 'status') {
    if (recordText === undefined) ops.push({ kind: 'remove', path: abs(HOOKS_RECORD_REL) });
    else ops.push({ kind: 'write', path: abs(HOOKS_RECORD_REL), content: Buffer.from(recordText), mode: 0o644 });
  }

  const files = decisions.map((d) => ({ path: abs(d.rel), role: d.role, state: d.state, action: d.action }));
  // A file kept because the user edited it differs from what kopt.conf asks for: not current.
  const everythingCurrent =
    info.state === 'current' && decisions.every((d) => d.action === 'unchanged' || d.action === 'none');
  const overall: Overall =
    info.state === 'absent' && decisions.every((d) => d.state === 'absent' || d.state === 'foreign')
      ? 'not-installed'
      : everythingCurrent
        ? 'current'
        : 'outdated';
  const data: HooksReport = {
    action: opts.action,
    pretend: opts.pretend,
    bashrc: { path: bashrcFile, block: info.state, action: opts.action === 'status' ? 'none' : bashrcAction },
    files,
    overall,
    warnings,
    changed: opts.action !== 'status' && changing,
    ...(opts.pretend ? { diffs } : {}),
  };
  return { data, ops: opts.action === 'status' || opts.pretend ? [] : ops };
}

const VERB: Record<Action, string> = {
  create: 'install',
  update: 'update',
  'replace-edited': 'replace (edited by you; backed up)',
  remove: 'remove',
  unchanged: 'unchanged',
  'keep-edited': 'KEEP (edited by you)',
  forget: 'forget (already gone, or now yours)',
  conflict: 'CONFLICT (not written by gentoo-kopt)',
  none: 'nothing to do',
};

export function render(r: HooksReport): string {
  const out: string[] = [];
  if (r.action === 'status') {
    out.push(
      `gentoo-kopt hooks: ${r.overall === 'current' ? 'installed and current' : r.overall === 'outdated' ? 'installed but OUTDATED (run: gentoo-kopt hooks install)' : 'not installed'}`,
    );
    out.push(`  bashrc block  ${r.bashrc.block.padEnd(9)} ${r.bashrc.path}`);
    const stateOf = (f: HooksReport['files'][number]): string =>
      f.action === 'unchanged'
        ? 'current'
        : f.action === 'update' && f.state === 'current'
          ? 'UNSAFE mode or owner'
          : f.state === 'ours'
            ? 'outdated'
            : f.state;
    for (const f of r.files) out.push(`  ${f.role.padEnd(13)} ${stateOf(f).padEnd(9)} ${f.path}`);
  } else {
    out.push(r.pretend ? 'Would change:' : 'Changes:');
    out.push(`  ${r.bashrc.action.padEnd(9)} gentoo-kopt block in ${r.bashrc.path}`);
    for (const f of r.files) if (f.action !== 'none') out.push(`  ${VERB[f.action].padEnd(9)} ${f.path}`);
    if (!r.changed) out.push('  nothing to do');
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.transaction) out.push('', `Transaction ${r.transaction} applied; undo it with: gentoo-kopt rollback`);
  if (r.pretend && r.changed && r.diffs)
    out.push('', 'Nothing was written (--pretend). The changes as a diff:', '', ...r.diffs);
  return out.join('\n');
}
