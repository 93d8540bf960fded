// A root written by the first release (test/fixtures/wave1-root.json: managed.json and hooks.json,
// the user's own patch and bashrc, a managed patch and the LTO fragment edited by the user) meets the
// current code: the first write carries both records into the ledger in its own transaction, every
// file of the user keeps its bytes, an edited file stays the user's, and a rollback of that
// transaction gives back the first release's root.
import { describe, it, expect } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { syncPatches } from '../src/commands/sync-patches.js';
import { hooksCommand } from '../src/commands/hooks.js';
import { rollbackCommand } from '../src/commands/rollback.js';
import { doctorCommand, type DoctorReport } from '../src/commands/doctor.js';
import { removeBlock } from '../src/hooks/bashrc-block.js';
import { resolveRoots } from '../src/portage/roots.js';
import { sha256 } from '../src/system/fs.js';
import { readLedger, type Ledger } from '../src/system/ledger.js';
import type { CommandContext } from '../src/commands/types.js';
import { snapshot } from './helpers/tree.js';
import { wave1Root, wave1Text } from './helpers/wave1.js';

const STATE = 'var/lib/gentoo-kopt';
const P = 'etc/portage/patches/sys-kernel';
const EDITED_PATCH = `${P}/gentoo-kernel-6.12.58/00-gentoo-kopt-1-kopt-demo-01-0001-demo-lto-gcc-kconfig.patch`;
const FRAGMENT = 'etc/kernel/config.d/50-gentoo-kopt-lto.config';
const USER_FILES = [
  `${P}/gentoo-kernel-6.12.58/0001-my-fix.patch`,
  'etc/gentoo-kopt/kopt.conf',
  'etc/portage/repos.conf/gentoo.conf',
  EDITED_PATCH,
  FRAGMENT,
];
const STUB = { node: '/usr/bin/node', bin: '/usr/lib/node_modules/gentoo-kopt/dist/bin.js' };
const ROLES: Record<string, string> = {
  'etc/gentoo-kopt/kernel-hook.bash': 'hook',
  'etc/gentoo-kopt/hook-settings': 'settings',
  [FRAGMENT]: 'lto-fragment',
};

/** What the two records of the first release say, written out by hand as a ledger. */
function oldRecords(): Ledger {
  const managed = JSON.parse(wave1Text(`${STATE}/managed.json`)) as {
    files: Record<string, { sha256: string; series: string; entry: string; target: string }>;
    dirs: string[];
  };
  const hooks = JSON.parse(wave1Text(`${STATE}/hooks.json`)) as {
    files: Record<string, string>;
    createdBashrc: boolean;
    dirs: string[];
  };
  expect(hooks.createdBashrc).toBe(false);
  return {
    patches: {
      files: Object.entries(managed.files).map(([p, f]) => ({ path: p, ...f })),
      dirs: managed.dirs,
      created: [],
    },
    hooks: {
      files: Object.entries(hooks.files).map(([p, sha]) => ({ path: p, sha256: sha, role: ROLES[p] as 'hook' })),
      dirs: hooks.dirs,
      created: [],
    },
    init: { files: [], dirs: [], created: [] },
    pgo: { files: [], dirs: [], created: [] },
  };
}

/** A ledger with every list sorted, to compare with one built by hand. */
const sorted = (l: Ledger) =>
  Object.fromEntries(
    Object.entries(l).map(([o, p]) => [
      o,
      {
        files: [...p.files].sort((a, b) => (a.path < b.path ? -1 : 1)),
        dirs: [...p.dirs].sort(),
        created: [...p.created].sort(),
      },
    ]),
  );
/** The root without the transaction records, which a rollback adds to. */
const tree = (s: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(s).filter(([k]) => !/^var\/lib\/gentoo-kopt\/(journal\.json|history\.json|backups)/.test(k)),
  );

async function wave1(): Promise<{ dir: string; ctx: CommandContext; before: Record<string, string> }> {
  const dir = await wave1Root();
  const ctx = { roots: resolveRoots({ root: dir, env: {} }), env: {}, json: false, tty: false };
  return { dir, ctx, before: await snapshot(dir) };
}

const read = (dir: string, rel: string) => readFile(path.join(dir, rel));

describe('a root written by the first release', () => {
  it('sync-patches first: nothing of the user changes, the old records become the ledger, rollback gives them back', async () => {
    const { dir, ctx, before } = await wave1();
    const { report } = await syncPatches(ctx, { pretend: false, force: false, packages: [], verify: false });
    expect(report.migrated).toEqual([`${STATE}/managed.json`, `${STATE}/hooks.json`]);
    expect(report.changes.map((c) => [c.path, c.state])).toEqual(
      oldRecords().patches.files.map((f) => [f.path, f.path === EDITED_PATCH ? 'kept-edited' : 'unchanged']),
    );
    const after = await snapshot(dir);
    const outsideState = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith(`${STATE}/`)));
    expect(outsideState(after)).toEqual(outsideState(before));
    expect(Object.keys(after).filter((k) => /(managed|hooks)\.json$/.test(k))).toEqual([]);

    const { ledger } = await readLedger(ctx.roots);
    expect(sorted(ledger)).toEqual(sorted(oldRecords()));
    // The edits stay the user's: the ledger keeps the sha256 of what the first release wrote.
    const files = [...ledger.patches.files, ...ledger.hooks.files];
    for (const rel of [EDITED_PATCH, FRAGMENT])
      expect(files.find((f) => f.path === rel)!.sha256).not.toBe(sha256(await read(dir, rel)));

    const r = await rollbackCommand(ctx, { pretend: false });
    expect(r.data.rollback?.id).toBe(report.transaction);
    expect(tree(await snapshot(dir))).toEqual(tree(before));
  });

  it('hooks install first: only its own unedited files and its block change, the ledger holds both owners', async () => {
    const { dir, ctx, before } = await wave1();
    const r = await hooksCommand(ctx, { action: 'install', pretend: false, program: STUB });
    expect(r.data.migrated).toEqual([`${STATE}/managed.json`, `${STATE}/hooks.json`]);
    expect(Object.fromEntries(r.data.files.map((f) => [f.role, f.state]))).toEqual({
      hook: 'update', // the hook of this release replaces the first release's, which nobody edited
      settings: 'unchanged',
      'lto-fragment': 'kept-edited',
    });
    for (const rel of USER_FILES)
      expect((await read(dir, rel)).toString('base64'), rel).toBe(before[rel]!.split(' ')[2]);
    const bashrc = (await read(dir, 'etc/portage/bashrc')).toString('latin1');
    expect(removeBlock(bashrc, 'bashrc')).toBe(removeBlock(wave1Text('etc/portage/bashrc'), 'bashrc'));

    const { ledger } = await readLedger(ctx.roots);
    const hook = await read(dir, 'etc/gentoo-kopt/kernel-hook.bash');
    const want = oldRecords();
    want.hooks.files = want.hooks.files.map((f) => (f.role === 'hook' ? { ...f, sha256: sha256(hook) } : f));
    expect(sorted(ledger)).toEqual(sorted(want));

    await rollbackCommand(ctx, { pretend: false });
    expect(tree(await snapshot(dir))).toEqual(tree(before));
  });

  it('--pretend and doctor read the old records and write nothing', async () => {
    const { dir, ctx, before } = await wave1();
    const { report } = await syncPatches(ctx, { pretend: true, force: false, packages: [], verify: false });
    expect([report.changed, report.migrated.length]).toEqual([true, 2]);
    const hooks = await hooksCommand(ctx, { action: 'status', pretend: false, program: STUB });
    expect(hooks.data.files.find((f) => f.role === 'lto-fragment')?.state).toBe('kept-edited');
    const doctor = await doctorCommand(ctx, { list: false, exit: 'error', checks: ['inputs', 'patches'] });
    const findings = (doctor.data as DoctorReport).checks.flatMap((c) => c.findings);
    expect(findings.map((f) => [f.kind, path.relative(dir, f.where.file ?? '')])).toEqual([
      ['patches-edited', EDITED_PATCH],
    ]);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('with only managed.json (the hook never installed): carried over, the hook files stay unowned', async () => {
    const { dir, ctx } = await wave1();
    await rm(path.join(dir, STATE, 'hooks.json'));
    const { report } = await syncPatches(ctx, { pretend: false, force: false, packages: [], verify: false });
    expect(report.migrated).toEqual([`${STATE}/managed.json`]);
    const { ledger, legacy } = await readLedger(ctx.roots);
    expect([legacy, ledger.patches.files.length, ledger.hooks]).toEqual([[], 4, { files: [], dirs: [], created: [] }]);
    // Files the ledger does not name are not ours: install refuses to replace them.
    await expect(hooksCommand(ctx, { action: 'install', pretend: false, program: STUB })).rejects.toThrow(
      /a file gentoo-kopt did not write is in the way/,
    );
  });

  it('a record an older release wrote after the ledger (a downgrade) wins over the ledger, path by path', async () => {
    const { dir, ctx } = await wave1();
    await syncPatches(ctx, { pretend: false, force: false, packages: [], verify: false });
    const rel = `${P}/gentoo-kernel-6.12.59/00-gentoo-kopt-1-kopt-demo-01-0001-demo-lto-gcc-kconfig.patch`;
    await writeFile(path.join(dir, rel), 'written by the older release\n');
    const record = {
      sha256: sha256('written by the older release\n'),
      series: 'kopt-demo',
      entry: '6.12',
      target: 'x/y-1',
    };
    await writeFile(
      path.join(dir, STATE, 'managed.json'),
      JSON.stringify({ format: 1, files: { [rel]: record }, dirs: [] }),
    );
    const { ledger } = await readLedger(ctx.roots);
    expect(ledger.patches.files.find((f) => f.path === rel)).toEqual({ path: rel, ...record });
    expect(ledger.patches.files).toHaveLength(oldRecords().patches.files.length);
    const { report } = await syncPatches(ctx, { pretend: false, force: false, packages: [], verify: false });
    expect(report.changes.find((c) => c.path === rel)?.state).toBe('update');
    expect((await readLedger(ctx.roots)).legacy).toEqual([]);
  });
});
