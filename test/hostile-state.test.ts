// gentoo-kopt's own state as hostile input: journal.json, history.json, the ownership ledger and the
// first release's managed.json and hooks.json planted or damaged, state and config directories that are symbolic links out of the
// root, failures while a transaction finishes (GENTOO_KOPT_FAULT_AFTER=history, and ENOSPC or EIO
// injected with strace), a lock that is not a regular file, and what killed runs leave behind. Each
// case runs the real executable on a root R beside outside/ (test/helpers/hostile.ts) and asserts the
// exact message and that nothing outside R changed; a hang fails by timeout instead of blocking the
// suite.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { hostileRoot, VICTIMS, type HostileRoot } from './helpers/hostile.js';
import { defaultConf, EXAMPLE_SOURCE, install, uninstall } from './helpers/gentoo.js';
import { kopt } from './helpers/cli.js';
import { snapshot as snapshotTree, testdir, writeTree } from './helpers/tree.js';
import { HAVE_STRACE, runInjected, traceCalls } from './helpers/strace.js';

const STATE = 'var/lib/gentoo-kopt';
const KERNEL = 'sys-kernel/gentoo-kernel-6.12.58';
const P = 'etc/portage/patches/sys-kernel';
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const run = (args: string[], env: Record<string, string> = {}) => kopt(args, { timeout: 20_000, env });
const ID = '20250101T000000Z-999999-abcd';

/** Runs `fn` with every FIFO under `dir` moved aside (reading one, as a snapshot does, would block). */
async function fifosAside<T>(dir: string, fn: (fifos: string[]) => Promise<T>): Promise<T> {
  const fifos: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      if (e.isFIFO()) fifos.push(path.join(rel, e.name));
      else if (e.isDirectory()) await walk(path.join(rel, e.name));
    }
  };
  await walk('');
  const aside = await testdir();
  for (const [i, f] of fifos.entries()) await rename(path.join(dir, f), path.join(aside, String(i)));
  try {
    return await fn(fifos);
  } finally {
    for (const [i, f] of fifos.entries()) await rename(path.join(aside, String(i)), path.join(dir, f));
  }
}

/** helpers/tree.ts snapshot, with a FIFO described instead of read. */
const snapshot = (dir: string): Promise<Record<string, string>> =>
  fifosAside(dir, async (fifos) => ({
    ...(await snapshotTree(dir)),
    ...Object.fromEntries(fifos.map((f) => [f, 'fifo'])),
  }));

/** stderr's first line, the error as the user reads it. */
const errorLine = (stderr: string): string => stderr.split('\n')[0]!;
/** No stack trace: only `gentoo-kopt: ...` lines. */
const clean = (stderr: string): void =>
  expect(stderr.split('\n').filter((l) => l && !l.startsWith('gentoo-kopt: '))).toEqual([]);

/** A transaction record as gentoo-kopt writes it, with `changes` and any field replaced. */
const record = (changes: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  format: 1,
  id: ID,
  command: 'sync-patches',
  started: '2025-01-01T00:00:00.000Z',
  state: 'applying',
  changes,
  ...extra,
});

async function plant(h: HostileRoot, rel: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(path.join(h.dir, rel)), { recursive: true });
  await writeFile(path.join(h.dir, rel), typeof value === 'string' ? value : JSON.stringify(value));
}

/** Runs `args` on R and expects exit 1 with `message` about `file` (relative to R), R and outside unchanged. */
async function refused(h: HostileRoot, args: string[], file: string, message: string): Promise<void> {
  const before = await snapshot(h.dir);
  const r = await run([...args, '--root', h.dir]);
  expect(errorLine(r.stderr)).toBe(`gentoo-kopt: error: ${path.join(h.dir, file)}: ${message}`);
  expect(r.exitCode).toBe(1);
  clean(r.stderr);
  expect(await snapshot(h.dir)).toEqual(before);
  await fifosAside(h.dir, () => h.outsideUnchanged());
}

const NOT_NORMAL = 'is not normalised (an empty, `.` or `..` component)';
const TX_AREAS =
  'a transaction may name only etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch, etc/gentoo-kopt/kernel-hook.bash, etc/gentoo-kopt/hook-settings, ' +
  'etc/kernel/config.d/NN-gentoo-kopt-*.config, etc/portage/bashrc, var/lib/gentoo-kopt/ledger.json, var/lib/gentoo-kopt/managed.json, var/lib/gentoo-kopt/hooks.json, ' +
  'var/lib/gentoo-kopt/pgo/state.json, var/lib/gentoo-kopt/pgo/CATEGORY/PN/PV/PROFILE, var/lib/gentoo-kopt/pgo/CATEGORY/PN/PV/gcov/*.gcda, etc/gentoo-kopt/kopt.conf and the directories on the way to them';
const JOURNAL = 'is not a valid gentoo-kopt journal';
const HISTORY = 'is not a valid gentoo-kopt history';

describe('journal.json is input: recovery stops before touching anything', () => {
  const victim = 'a file outside the root\n';
  it.each([
    [
      'a path out of the root, before: absent',
      [
        {
          path: '../outside/victim',
          before: { kind: 'absent' },
          after: { kind: 'file', mode: 420, sha256: sha(victim) },
        },
      ],
      `changes[0].path: "../outside/victim" ${NOT_NORMAL}`,
    ],
    [
      'a user file, before: absent',
      [
        {
          path: 'etc/portage/make.conf',
          before: { kind: 'absent' },
          after: { kind: 'file', mode: 420, sha256: sha('x') },
        },
      ],
      `changes[0].path: "etc/portage/make.conf" is not in an area gentoo-kopt writes (${TX_AREAS})`,
    ],
    [
      'a directory out of the root, before: dir',
      [{ path: '../outside/made-by-recovery', before: { kind: 'dir', mode: 493 }, after: { kind: 'absent' } }],
      `changes[0].path: "../outside/made-by-recovery" ${NOT_NORMAL}`,
    ],
    [
      'an absolute path',
      [{ path: '/etc/passwd', before: { kind: 'absent' }, after: { kind: 'absent' } }],
      'changes[0].path: "/etc/passwd" is absolute (it must be relative to the config root)',
    ],
    [
      'a trailing slash',
      [{ path: 'etc/portage/patches/', before: { kind: 'absent' }, after: { kind: 'absent' } }],
      'changes[0].path: "etc/portage/patches/" ends in a slash',
    ],
    [
      'a directory where gentoo-kopt writes files',
      [{ path: `${P}/x/00-gentoo-kopt-a.patch`, before: { kind: 'dir', mode: 493 }, after: { kind: 'absent' } }],
      `changes[0].before.kind: gentoo-kopt never has a dir at "${P}/x/00-gentoo-kopt-a.patch"`,
    ],
    ['changes: [null]', [null], 'changes[0]: must be an object'],
    [
      'a change without a before',
      [{ path: 'etc/portage/bashrc', after: { kind: 'absent' } }],
      'changes[0].before: must be an object',
    ],
    [
      'a mode that is not a number',
      [
        {
          path: 'etc/portage/bashrc',
          before: { kind: 'file', mode: '644', sha256: sha('') },
          after: { kind: 'absent' },
        },
      ],
      'changes[0].before.mode: must be a whole number from 0 to 4095',
    ],
    [
      'an unknown kind',
      [{ path: 'etc/portage/bashrc', before: { kind: 'fifo' }, after: { kind: 'absent' } }],
      'changes[0].before.kind: must be one of "absent", "file", "symlink", "dir"',
    ],
  ])('%s', async (_name, changes, message) => {
    const h = await hostileRoot({ extra: { 'etc/portage/make.conf': 'COMMON_FLAGS="-O2"\n' } });
    await plant(h, `${STATE}/journal.json`, record(changes));
    await refused(h, ['sync-patches', '--no-verify'], `${STATE}/journal.json`, `${JOURNAL}: ${message}`);
  });

  it.each([
    ['a backup out of the root', { backup: '../outside/victim' }, `backup: "../outside/victim" ${NOT_NORMAL}`],
    [
      'a backup that is not its own',
      { backup: `${STATE}/backups/20250101T000000Z-1-abcd.tar` },
      `backup: is not the backup of transaction ${ID}`,
    ],
    ['no id', { id: undefined }, 'id: must be a transaction id'],
    ['transactions: "x" in place of a record', { changes: 'x' }, 'changes: must be an array'],
    ['an unknown state', { state: 'half-done' }, 'state: must be one of "applying", "done", "recovered"'],
  ])('%s', async (_name, extra, message) => {
    const h = await hostileRoot();
    await plant(h, `${STATE}/journal.json`, record([], extra));
    await refused(h, ['sync-patches', '--no-verify'], `${STATE}/journal.json`, `${JOURNAL}: ${message}`);
  });

  it('JSON that does not parse: the message does not echo the file', async () => {
    const h = await hostileRoot();
    await plant(h, `${STATE}/journal.json`, '{"secret": "root-password-123" ');
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/journal.json`,
      'is not valid JSON (expected gentoo-kopt journal)',
    );
    expect((await run(['sync-patches', '--root', h.dir])).stderr).not.toContain('root-password');
  });

  it('rollback --pretend reads it the same way', async () => {
    const h = await hostileRoot();
    await plant(
      h,
      `${STATE}/journal.json`,
      record([{ path: '../outside/victim', before: { kind: 'absent' }, after: { kind: 'absent' } }]),
    );
    await refused(
      h,
      ['rollback', '--pretend'],
      `${STATE}/journal.json`,
      `${JOURNAL}: changes[0].path: "../outside/victim" ${NOT_NORMAL}`,
    );
  });

  it.each([
    [
      'a symbolic link to a journal outside',
      (h: HostileRoot) => symlink(path.join(h.outside, 'journal.json'), path.join(h.dir, STATE, 'journal.json')),
      'is a symbolic link: gentoo-kopt does not follow links for its own state files',
    ],
    [
      'a FIFO',
      async (h: HostileRoot) => void execFileSync('mkfifo', [path.join(h.dir, STATE, 'journal.json')]),
      'is a FIFO (named pipe), not a regular file',
    ],
    [
      '/dev/zero',
      async (h: HostileRoot) => symlink('/dev/zero', path.join(h.dir, STATE, 'journal.json')),
      'is a symbolic link: gentoo-kopt does not follow links for its own state files',
    ],
  ])('journal.json as %s: an error at once', async (_name, make, message) => {
    const journal = JSON.stringify(
      record([{ path: 'etc/portage/bashrc', before: { kind: 'absent' }, after: { kind: 'absent' } }]),
    );
    const h = await hostileRoot({}, { ...VICTIMS, 'journal.json': journal });
    await mkdir(path.join(h.dir, STATE), { recursive: true });
    await make(h);
    await refused(h, ['sync-patches', '--no-verify'], `${STATE}/journal.json`, message);
  });
});

describe('history.json is input: rollback stops before touching anything', () => {
  const outsidePath = [
    {
      path: '../outside/victim',
      before: { kind: 'absent' },
      after: { kind: 'file', mode: 420, sha256: sha('a file outside the root\n') },
    },
  ];
  it.each([
    ['transactions: "x"', { format: 1, transactions: 'x' }, 'transactions: must be an array'],
    ['a record that is null', { format: 1, transactions: [null] }, 'transactions[0]: must be an object'],
    [
      'a path out of the root',
      { format: 1, transactions: [record(outsidePath, { state: 'done' })] },
      `transactions[0].changes[0].path: "../outside/victim" ${NOT_NORMAL}`,
    ],
    [
      'a user file',
      {
        format: 1,
        transactions: [
          record([{ path: 'etc/portage/make.conf', before: { kind: 'absent' }, after: { kind: 'absent' } }], {
            state: 'done',
          }),
        ],
      },
      `transactions[0].changes[0].path: "etc/portage/make.conf" is not in an area gentoo-kopt writes (${TX_AREAS})`,
    ],
    ['no format', { transactions: [] }, 'format: must be one of 1'],
  ])(
    '%s: rollback, rollback --pretend and rollback --force all refuse, naming history.json',
    async (_name, history, message) => {
      const h = await hostileRoot();
      await plant(h, `${STATE}/history.json`, history);
      for (const args of [['rollback'], ['rollback', '--pretend'], ['rollback', '--force']]) {
        await refused(h, args, `${STATE}/history.json`, `${HISTORY}: ${message}`);
      }
    },
  );
});

describe("the ledger and the first release's records are input: they own only gentoo-kopt's own files", () => {
  const PATCHES_ONLY = 'a record of sync-patches may name only etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch';
  const LEDGER = 'is not a valid gentoo-kopt ledger (format 1)';
  const ledger = (parts: Record<string, unknown>) => ({ format: 1, ...parts });
  const part = (p: Record<string, unknown>) => ({ files: [], dirs: [], created: [], ...p });

  it('the ledger claiming etc/portage/make.conf for sync-patches, with its real sha256: not pruned', async () => {
    const makeConf = 'COMMON_FLAGS="-O2 -pipe"\n';
    const h = await hostileRoot({ extra: { 'etc/portage/make.conf': makeConf } });
    const file = {
      path: 'etc/portage/make.conf',
      sha256: sha(makeConf),
      series: 'kopt-demo',
      entry: '6.1',
      target: 'sys-kernel/gentoo-kernel-6.1.0',
    };
    await plant(h, `${STATE}/ledger.json`, ledger({ patches: part({ files: [file] }) }));
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/ledger.json`,
      `${LEDGER}: patches.files[0].path: "etc/portage/make.conf" is not in an area gentoo-kopt writes (${PATCHES_ONLY})`,
    );
  });

  it.each([
    [
      'a hook file claimed by sync-patches',
      {
        patches: part({
          files: [{ path: 'etc/gentoo-kopt/hook-settings', sha256: sha('x'), series: 's', entry: 'e', target: 't' }],
        }),
      },
      `patches.files[0].path: "etc/gentoo-kopt/hook-settings" is not in an area gentoo-kopt writes (${PATCHES_ONLY})`,
    ],
    [
      'a role the hooks do not have',
      { hooks: part({ files: [{ path: 'etc/gentoo-kopt/hook-settings', sha256: sha('x'), role: 'root' }] }) },
      'hooks.files[0].role: must be one of "hook", "settings", "lto-fragment", "config-fragment"',
    ],
    [
      'a directory of the user',
      { hooks: part({ dirs: ['etc/portage/package.use'] }) },
      'hooks.dirs[0]: "etc/portage/package.use" is not in an area gentoo-kopt writes (a record of hooks install may name only the directories on the way to ' +
        'etc/gentoo-kopt/kernel-hook.bash, etc/gentoo-kopt/hook-settings, etc/kernel/config.d/NN-gentoo-kopt-*.config, etc/portage/bashrc)',
    ],
    [
      'make.conf as a file the hooks created',
      { hooks: part({ created: ['etc/portage/make.conf'] }) },
      'hooks.created[0]: "etc/portage/make.conf" is not in an area gentoo-kopt writes (a record of hooks install may name only etc/portage/bashrc)',
    ],
    [
      'a path out of the root',
      { patches: part({ dirs: ['../outside'] }) },
      `patches.dirs[0]: "../outside" ${NOT_NORMAL}`,
    ],
    [
      'one file twice',
      {
        hooks: part({
          files: [1, 2].map(() => ({ path: 'etc/gentoo-kopt/hook-settings', sha256: sha('x'), role: 'settings' })),
        }),
      },
      'hooks.files[1]: "etc/gentoo-kopt/hook-settings" appears twice',
    ],
  ])('the ledger naming %s: hooks uninstall refuses before touching anything', async (_name, parts, message) => {
    const h = await hostileRoot({ extra: { 'etc/portage/package.use/': '' } });
    await plant(h, `${STATE}/ledger.json`, ledger(parts));
    await refused(h, ['hooks', 'uninstall'], `${STATE}/ledger.json`, `${LEDGER}: ${message}`);
  });

  it('the ledger as a link to /dev/zero: an error, not gigabytes of memory', async () => {
    const h = await hostileRoot();
    await mkdir(path.join(h.dir, STATE), { recursive: true });
    await symlink('/dev/zero', path.join(h.dir, STATE, 'ledger.json'));
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/ledger.json`,
      'is a symbolic link: gentoo-kopt does not follow links for its own state files',
    );
  });

  it('managed.json claiming etc/portage/make.conf with its real sha256: sync-patches does not prune it', async () => {
    const makeConf = 'COMMON_FLAGS="-O2 -pipe"\n';
    const h = await hostileRoot({ extra: { 'etc/portage/make.conf': makeConf } });
    const files = {
      'etc/portage/make.conf': {
        sha256: sha(makeConf),
        series: 'kopt-demo',
        entry: '6.1',
        target: 'sys-kernel/gentoo-kernel-6.1.0',
      },
    };
    await plant(h, `${STATE}/managed.json`, { format: 1, files, dirs: [] });
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/managed.json`,
      `is not a valid gentoo-kopt manifest (format 1): files["etc/portage/make.conf"]: "etc/portage/make.conf" is not in an area gentoo-kopt writes (${PATCHES_ONLY})`,
    );
  });

  it('managed.json naming a directory outside the patches tree', async () => {
    const h = await hostileRoot({ extra: { 'etc/portage/package.use/': '' } });
    await plant(h, `${STATE}/managed.json`, { format: 1, files: {}, dirs: ['etc/portage/package.use'] });
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/managed.json`,
      'is not a valid gentoo-kopt manifest (format 1): dirs[0]: "etc/portage/package.use" is not in an area gentoo-kopt writes (a record of sync-patches may name only the directories on the way to etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch)',
    );
  });

  it('managed.json as /dev/zero: an error, not gigabytes of memory', async () => {
    const h = await hostileRoot();
    await mkdir(path.join(h.dir, STATE), { recursive: true });
    await symlink('/dev/zero', path.join(h.dir, STATE, 'managed.json'));
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/managed.json`,
      'is a symbolic link: gentoo-kopt does not follow links for its own state files',
    );
  });

  it('hooks.json naming a directory of the user: uninstall does not remove it', async () => {
    const h = await hostileRoot({ extra: { 'etc/portage/package.use/': '' } });
    await plant(h, `${STATE}/hooks.json`, {
      format: 1,
      files: {},
      createdBashrc: false,
      dirs: ['etc/portage/package.use'],
    });
    await refused(
      h,
      ['hooks', 'uninstall'],
      `${STATE}/hooks.json`,
      'is not a valid gentoo-kopt hooks record (format 1): dirs[0]: "etc/portage/package.use" is not in an area gentoo-kopt writes (a record of hooks install may name only the directories on the way to ' +
        'etc/gentoo-kopt/kernel-hook.bash, etc/gentoo-kopt/hook-settings, etc/kernel/config.d/NN-gentoo-kopt-*.config, etc/portage/bashrc)',
    );
  });
});

describe('writes stay inside the root: a symlinked directory on the way is followed only inside it', () => {
  const LLVM_THIN = 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nlto = thin\n';
  /** Replaces R/`rel` with a symbolic link to `target` (relative to R's parent). */
  async function linkOut(h: HostileRoot, rel: string, target: string): Promise<void> {
    const full = path.join(h.dir, rel);
    await rm(full, { recursive: true, force: true });
    await mkdir(path.dirname(full), { recursive: true });
    await symlink(path.join(h.parent, target), full);
  }
  const escapes = (h: HostileRoot, rel: string, target: string): string =>
    `leads outside the root ${h.dir}: ${path.join(h.dir, rel)} resolves to ${path.join(h.parent, target)}`;

  it.each([
    ['var/lib/gentoo-kopt', ['sync-patches', '--no-verify'], { installed: [KERNEL] }, STATE],
    [
      'var/lib/gentoo-kopt/backups (no copy of bashrc lands outside)',
      ['hooks', 'install'],
      { extra: { 'etc/portage/bashrc': '# the user bashrc\n' } },
      `${STATE}/backups`,
    ],
    ['etc/portage, for bashrc', ['hooks', 'install'], {}, 'etc/portage'],
    ['etc/gentoo-kopt', ['hooks', 'install'], {}, 'etc/gentoo-kopt'],
    ['etc/kernel/config.d', ['hooks', 'install'], { conf: LLVM_THIN }, 'etc/kernel/config.d'],
  ])('%s leading out of the root is refused, naming it', async (_name, args, spec, rel) => {
    // The link's target (with a kopt.conf, for etc/gentoo-kopt) is outside, and must stay as it is.
    const h = await hostileRoot(spec, { ...VICTIMS, 'dir/linked/kopt.conf': defaultConf() });
    await linkOut(h, rel, 'outside/dir/linked');
    await refused(h, [...args], rel, escapes(h, rel, 'outside/dir/linked'));
  });

  it('links that stay inside the root are followed: etc/portage in a checkout, var/lib/gentoo-kopt and config.d elsewhere in R', async () => {
    const h = await hostileRoot({
      installed: [KERNEL],
      conf: `${LLVM_THIN}series = kopt-demo\npatch-source = ${EXAMPLE_SOURCE}\n`,
    });
    for (const [rel, target] of [
      ['etc/portage', 'srv/git/portage'],
      [STATE, 'srv/state'],
      ['etc/kernel/config.d', 'srv/config.d'],
    ] as const) {
      const full = path.join(h.dir, rel);
      await mkdir(path.join(h.dir, target), { recursive: true });
      await rename(full, path.join(h.dir, target)).catch(() => undefined);
      await mkdir(path.dirname(full), { recursive: true });
      await symlink(path.relative(path.dirname(full), path.join(h.dir, target)), full);
    }
    await writeFile(path.join(h.dir, 'srv/git/portage/bashrc'), '# mine\n');
    const sync = await run(['sync-patches', '--no-verify', '--root', h.dir]);
    expect([sync.exitCode, sync.stderr]).toEqual([0, '']);
    const install = await run(['hooks', 'install', '--root', h.dir]);
    expect([install.exitCode, install.stderr]).toEqual([0, '']);
    expect((await readdir(path.join(h.dir, 'srv/git/portage/patches/sys-kernel/gentoo-kernel-6.12.58'))).length).toBe(
      2,
    );
    expect(await readFile(path.join(h.dir, 'srv/git/portage/bashrc'), 'utf8')).toMatch(
      /^# mine\n\n# >>> gentoo-kopt >>>/,
    );
    expect(await readdir(path.join(h.dir, 'srv/config.d'))).toEqual(['50-gentoo-kopt-lto.config']);
    expect((await readdir(path.join(h.dir, 'srv/state'))).sort()).toEqual([
      'backups',
      'history.json',
      'journal.json',
      'ledger.json',
    ]);
    expect((await run(['rollback', '--root', h.dir])).exitCode).toBe(0);
    expect(await readFile(path.join(h.dir, 'srv/git/portage/bashrc'), 'utf8')).toBe('# mine\n');
    await h.outsideUnchanged();
  });

  it('--root given through a symbolic link, with bashrc a link inside the root', async () => {
    const h = await hostileRoot({
      extra: { 'etc/portage/bashrc.d/main': '# mine\n', 'etc/portage/bashrc': { symlink: 'bashrc.d/main' } },
    });
    const via = path.join(await testdir(), 'root-link');
    await symlink(h.dir, via);
    const r = await run(['hooks', 'install', '--root', via]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(await readFile(path.join(h.dir, 'etc/portage/bashrc.d/main'), 'utf8')).toMatch(
      /^# mine\n\n# >>> gentoo-kopt >>>/,
    );
    expect((await run(['rollback', '--root', via])).exitCode).toBe(0);
    expect(await readFile(path.join(h.dir, 'etc/portage/bashrc.d/main'), 'utf8')).toBe('# mine\n');
    await h.outsideUnchanged();
  });
});

describe('a transaction that fails while finishing is undone like one that fails while applying', () => {
  it('GENTOO_KOPT_FAULT_AFTER=history: history.json, the journal and the tree end byte for byte as they were', async () => {
    const h = await hostileRoot({ installed: [KERNEL] });
    expect((await run(['sync-patches', '--no-verify', '--root', h.dir])).exitCode).toBe(0);
    await install(h.dir, 'sys-kernel/gentoo-kernel-6.12.60');
    await uninstall(h.dir, KERNEL); // the next sync installs 6.12.60's series and prunes 6.12.58's
    const before = await snapshot(h.dir);
    const r = await run(['sync-patches', '--no-verify', '--root', h.dir], { GENTOO_KOPT_FAULT_AFTER: 'history' });
    expect(errorLine(r.stderr)).toBe(
      'gentoo-kopt: error: injected fault after writing history.json (GENTOO_KOPT_FAULT_AFTER test hook)',
    );
    expect(r.exitCode).toBe(1);
    expect(await snapshot(h.dir)).toEqual(before);
  });

  it.skipIf(!HAVE_STRACE).each([
    [
      'ENOSPC renaming history.json into place',
      'history.json',
      1,
      'ENOSPC',
      'cannot write: no space left on device (ENOSPC)',
    ],
    ['EIO renaming the journal that says done', 'journal.json', 2, 'EIO', 'cannot write: input/output error'],
  ])(
    'hooks install, %s: the tree and the state directory end as they were',
    async (_name, file, nth, errno, message) => {
      const h = await hostileRoot({ extra: { 'etc/portage/bashrc': '# mine\n' } });
      const args = ['hooks', 'install', '--root', h.dir];
      // Which rename of the worker thread puts `file` in place (a trace pass, then a copy of the root for
      // the real run).
      const probe = await testdir();
      await execa('cp', ['-a', `${h.dir}/.`, probe]);
      const calls = (await traceCalls(['hooks', 'install', '--root', probe], ['rename'])).filter((c) =>
        c.line.includes(`, "${path.join(probe, STATE, file)}")`),
      );
      expect(calls.length).toBeGreaterThanOrEqual(nth);
      const before = await snapshot(h.dir);
      const r = await runInjected(args, `rename:error=${errno}:when=${calls[nth - 1]!.index}`);
      expect(r.injected).toBe(true);
      expect(errorLine(r.stderr)).toMatch(
        new RegExp(
          `^gentoo-kopt: error: ${path.join(h.dir, STATE, file).replace(/[.]/g, '\\.')}: ${message.replace(/[()]/g, '\\$&')}`,
        ),
      );
      expect(r.exitCode).toBe(1);
      expect(await snapshot(h.dir)).toEqual(before);
      await h.outsideUnchanged();
    },
  );
});

describe('the lock is input: anything but a regular file is an error naming it, at once', () => {
  it.each([
    ['a FIFO', (f: string) => void execFileSync('mkfifo', [f]), 'a FIFO (named pipe)'],
    ['a directory', (f: string) => mkdir(f), 'a directory'],
    ['a dangling symbolic link', (f: string) => symlink('/nonexistent/lock', f), 'a symbolic link'],
    ['a symbolic link to /dev/zero', (f: string) => symlink('/dev/zero', f), 'a symbolic link'],
    [
      'a symbolic link to a lock of a dead run',
      async (f: string) => {
        await writeFile(
          `${f}.real`,
          JSON.stringify({
            pid: 999999,
            command: 'sync-patches',
            started: '2025-01-01T00:00:00Z',
            host: 'x',
            token: 'abc',
          }),
        );
        await symlink(`${f}.real`, f);
      },
      'a symbolic link',
    ],
  ])('%s', async (_name, make, kind) => {
    const h = await hostileRoot();
    await mkdir(path.join(h.dir, STATE), { recursive: true });
    await make(path.join(h.dir, STATE, 'lock'));
    await refused(
      h,
      ['sync-patches', '--no-verify'],
      `${STATE}/lock`,
      `is ${kind}, not a lock gentoo-kopt made (it makes a regular file)`,
    );
  });
});

describe('recovery removes what killed runs left, and only that', () => {
  it("temp files and lock files of dead writers go; a live writer's, and names that are not gentoo-kopt's, stay", async () => {
    const h = await hostileRoot({ installed: [KERNEL] });
    const dead = 999_999; // above the default pid_max: no such process
    const live = execa('sleep', ['30']);
    try {
      const token = 'a'.repeat(16);
      const tar = (pid: number) => `20250101T000000Z-${pid}-abcd.tar`;
      const litter = [
        `lock.${dead}.${token}`,
        `.lock.${dead}.${token}.kopt-tmp-${dead}-0123abcd`,
        `lock.takeover.${dead}.${token}`,
        `.journal.json.kopt-tmp-${dead}-0123abcd`,
        `.history.json.kopt-tmp-${dead}-0123abcd`,
        `.ledger.json.kopt-tmp-${dead}-0123abcd`,
        `.managed.json.kopt-tmp-${dead}-0123abcd`,
        `.hooks.json.kopt-tmp-${dead}-0123abcd`,
        `backups/${tar(dead)}`,
        `backups/.${tar(dead)}.kopt-tmp-${dead}-0123abcd`,
      ];
      const kept = [
        `lock.${live.pid}.${token}`,
        `.journal.json.kopt-tmp-${live.pid}-0123abcd`,
        `backups/${tar(live.pid!)}`,
        'notes.txt',
        `lock.${dead}.not-a-token`,
        '.journal.json.bak',
        `.make.conf.kopt-tmp-${dead}-0123abcd`,
        'backups/mine.tar',
      ];
      await writeTree(h.dir, Object.fromEntries([...litter, ...kept].map((n) => [`${STATE}/${n}`, 'x'])));
      await writeFile(
        path.join(h.dir, STATE, 'lock.takeover'),
        JSON.stringify({
          pid: dead,
          command: 'sync-patches',
          started: '2025-01-01T00:00:00Z',
          host: hostname(),
          token,
        }),
      );
      const r = await run(['sync-patches', '--no-verify', '--root', h.dir]);
      expect([r.exitCode, r.stderr]).toEqual([0, '']);
      const left = [
        ...(await readdir(path.join(h.dir, STATE))),
        ...(await readdir(path.join(h.dir, STATE, 'backups'))).map((n) => `backups/${n}`),
      ];
      expect(
        left.filter((n) => ![...kept, 'backups', 'history.json', 'journal.json', 'ledger.json'].includes(n)),
      ).toEqual([]);
      expect(left).toEqual(expect.arrayContaining(kept));
      await h.outsideUnchanged();
    } finally {
      live.kill();
      await live.catch(() => undefined);
    }
  });
});
