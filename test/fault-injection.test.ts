import { describe, it, expect } from 'vitest';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir, snapshot } from './helpers/tree.js';
import { resolveRoots } from '../src/portage/roots.js';
import { statePath } from '../src/system/paths.js';
import {
  commitTransaction,
  faultFromEnv,
  readHistory,
  recoverIncomplete,
  rollbackLast,
  type Op,
  type TxRecord,
} from '../src/system/transaction.js';
import { runDriver } from './fixtures/system-build.js';

const V = 'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58';
const start = {
  [`${V}/00-gentoo-kopt-0001.patch`]: 'old one\n',
  [`${V}/00-gentoo-kopt-0002.patch`]: { content: 'old two\n', mode: 0o600 },
  'etc/portage/patches/sys-kernel/gentoo-kernel/00-gentoo-kopt-mine.patch': 'the user owns this\n',
};
const rootsOf = (dir: string) => resolveRoots({ root: dir, env: {} });
const tree = async (dir: string) =>
  Object.fromEntries(Object.entries(await snapshot(dir)).filter(([k]) => !k.startsWith('var/')));
const journal = async (dir: string) =>
  JSON.parse(await readFile(statePath(rootsOf(dir), 'journal.json'), 'utf8')) as TxRecord;

/** Three writes (replace, replace, create in a new directory) and a removal. */
const ops = (dir: string): Op[] => [
  {
    kind: 'write',
    path: path.join(dir, V, '00-gentoo-kopt-0001.patch'),
    content: Buffer.from('new one\n'),
    mode: 0o644,
  },
  {
    kind: 'write',
    path: path.join(dir, V, '00-gentoo-kopt-0002.patch'),
    content: Buffer.from('new two\n'),
    mode: 0o644,
  },
  {
    kind: 'write',
    path: path.join(dir, 'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.60/00-gentoo-kopt-0001.patch'),
    content: Buffer.from('three\n'),
    mode: 0o644,
  },
  { kind: 'remove', path: path.join(dir, 'etc/portage/patches/sys-kernel/gentoo-kernel/00-gentoo-kopt-mine.patch') },
];
const asJson = (list: Op[]) =>
  JSON.stringify(list.map((o) => ('content' in o ? { ...o, content: o.content.toString('base64') } : o)));

describe('a failure in the middle of a transaction', () => {
  it.each([0, 1, 2, 4])('thrown after %i operation(s) leaves the old state exactly', async (n) => {
    const dir = await testdir(start);
    const before = await tree(dir);
    await expect(commitTransaction(rootsOf(dir), ops(dir), { command: 't', faultAfter: n })).rejects.toThrow(
      `injected fault after ${n} operation(s)`,
    );
    expect(await tree(dir)).toEqual(before);
    // undone completely: no journal, no backup left behind either
    await expect(stat(path.join(dir, 'var/lib/gentoo-kopt/journal.json'))).rejects.toThrow(/ENOENT/);
    await expect(stat(path.join(dir, 'var/lib/gentoo-kopt/backups'))).rejects.toThrow(/ENOENT/);
    expect(await readHistory(rootsOf(dir))).toEqual([]);
    expect(await recoverIncomplete(rootsOf(dir))).toEqual({ recovered: false });
  });

  it.each([1, 3, 4])('a crash (SIGKILL) after %i operation(s) is undone by the next recoverIncomplete', async (n) => {
    const dir = await testdir(start);
    const before = await tree(dir);
    const crashed = await runDriver(['commit', dir, asJson(ops(dir)), String(n), 'exit']);
    expect(crashed.signal).toBe('SIGKILL');
    expect(await tree(dir)).not.toEqual(before); // the crash really left a half-applied tree
    expect((await journal(dir)).state).toBe('applying');

    const { recovered, id } = await recoverIncomplete(rootsOf(dir));
    expect([recovered, id]).toEqual([true, (await journal(dir)).id]);
    expect(await tree(dir)).toEqual(before);
    expect((await journal(dir)).state).toBe('recovered');
    expect(await readHistory(rootsOf(dir))).toEqual([]);
    expect(await recoverIncomplete(rootsOf(dir))).toEqual({ recovered: false });

    // and the next transaction runs normally, pruning the crashed one's backup
    await commitTransaction(rootsOf(dir), ops(dir), { command: 't' });
    expect(await readdir(statePath(rootsOf(dir), 'backups'))).toHaveLength(1);
  });

  it('recovery removes a temp file the killed writer left, and is idempotent', async () => {
    const dir = await testdir(start);
    const before = await tree(dir);
    await runDriver(['commit', dir, asJson(ops(dir)), '2', 'exit']);
    // what a kill in the middle of writeFileAtomic leaves: a dot-named temp beside its target
    await writeFile(path.join(dir, V, '.00-gentoo-kopt-0002.patch.kopt-tmp-999-abcd0123'), 'half');
    await recoverIncomplete(rootsOf(dir));
    expect(await tree(dir)).toEqual(before);
  });

  it('a rollback killed half way is recovered, and the transaction can still be rolled back', async () => {
    const dir = await testdir(start);
    const before = await tree(dir);
    await commitTransaction(rootsOf(dir), ops(dir), { command: 'sync-patches' });
    const applied = await tree(dir);
    const crashed = await runDriver(['rollback', dir, '1', 'exit']);
    expect(crashed.signal).toBe('SIGKILL');
    expect(await recoverIncomplete(rootsOf(dir))).toMatchObject({ recovered: true });
    expect(await tree(dir)).toEqual(applied);
    const plan = await rollbackLast(rootsOf(dir));
    expect(plan?.command).toBe('sync-patches');
    expect(await tree(dir)).toEqual(before);
  });

  it('an error while applying the rollback leaves the rolled-back transaction in place', async () => {
    const dir = await testdir(start);
    await commitTransaction(rootsOf(dir), ops(dir), { command: 'sync-patches' });
    const applied = await tree(dir);
    await expect(rollbackLast(rootsOf(dir), { faultAfter: 2 })).rejects.toThrow(/injected fault/);
    expect(await tree(dir)).toEqual(applied);
    expect((await readHistory(rootsOf(dir))).map((t) => [t.command, t.rolledBackBy])).toEqual([
      ['sync-patches', undefined],
    ]);
  });

  it.each([
    ['', {}],
    ['2', { faultAfter: 2, faultMode: 'throw' }],
    ['0:exit', { faultAfter: 0, faultMode: 'exit' }],
    ['history', { faultAfter: 'history', faultMode: 'throw' }],
    ['history:exit', { faultAfter: 'history', faultMode: 'exit' }],
    ['x', {}],
  ])('GENTOO_KOPT_FAULT_AFTER=%j -> %j', (value, expected) => {
    expect(faultFromEnv({ GENTOO_KOPT_FAULT_AFTER: value })).toEqual(expected);
  });
});
