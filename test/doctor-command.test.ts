// `gentoo-kopt doctor` as a command: --list, --check, the exit policy, JSON lines, text grouped by
// check with colour only where it belongs, checks that cannot run reported as skipped with the reason,
// and a root broken in many ways at once giving findings that name each file, never a crash or a write.
import { describe, it, expect } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { doctorCommand, type DoctorReport } from '../src/commands/doctor.js';
import { CHECKS } from '../src/doctor/checks/registry.js';
import { runChecks, type Check } from '../src/doctor/check.js';
import { createContext } from '../src/doctor/context.js';
import { finding } from '../src/doctor/finding.js';
import { UsageError } from '../src/errors.js';
import { resolveRoots } from '../src/portage/roots.js';
import { snapshot, testdir, writeTree } from './helpers/tree.js';
import { doctorRoot, type DoctorRoot } from './helpers/doctor-root.js';

const run = (
  root: DoctorRoot,
  opts: Partial<Parameters<typeof doctorCommand>[1]> = {},
  ctx: Partial<DoctorRoot['ctx']> = {},
) => doctorCommand({ ...root.ctx, ...ctx }, { list: false, exit: 'error', ...opts });
const report = (r: Awaited<ReturnType<typeof run>>): DoctorReport => r.data as DoctorReport;
const statusOf = (r: DoctorReport): Record<string, string> => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));

/** The healthy root with its bashrc block removed: one warning (hooks-not-installed), nothing else. */
async function oneWarning(): Promise<DoctorRoot> {
  const root = await doctorRoot();
  await writeFile(path.join(root.dir, 'etc/portage/bashrc'), '# my own bashrc\n');
  return root;
}

describe('doctor --list and --check', () => {
  it('--list names every check with its description and finding kinds, as text and as JSON lines', async () => {
    const root = await doctorRoot();
    const r = await run(root, { list: true });
    for (const c of CHECKS)
      expect(r.text).toMatch(new RegExp(`^${c.id} +${c.describe.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const lines = r.jsonText
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { check: string; kinds: string[] });
    expect(lines.map((l) => l.check)).toEqual(CHECKS.map((c) => c.id));
    expect(lines[0]!.kinds).toEqual([...CHECKS[0]!.kinds]);
    expect(r.exitCode).toBe(0);
  });

  it('--check runs only the named checks, in registry order', async () => {
    const root = await doctorRoot();
    const r = report(await run(root, { checks: ['resources', 'hooks', 'hooks'] }));
    expect(r.checks.map((c) => c.id)).toEqual(['hooks', 'resources']);
  });

  it('an unknown check id is a usage error (exit status 2) with a suggestion', async () => {
    const root = await doctorRoot();
    const err = await run(root, { checks: ['hook'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toContain("did you mean 'hooks'?");
  });
});

describe('the exit policy', () => {
  it('the healthy root of the golden fixtures gets a clean bill: every check runs and passes', async () => {
    const root = await doctorRoot();
    const r = await run(root, { exit: 'warning' });
    expect(statusOf(report(r))).toEqual(Object.fromEntries(CHECKS.map((c) => [c.id, 'ok'])));
    expect(r.exitCode).toBe(0);
  });

  it('a warning fails --exit warning only', async () => {
    const root = await oneWarning();
    const atError = await run(root);
    expect(report(atError).summary).toMatchObject({ error: 0, warning: 1 });
    expect(atError.exitCode).toBe(0);
    expect((await run(root, { exit: 'warning' })).exitCode).toBe(1);
  });

  it('info findings and skipped checks never fail', async () => {
    const root = await doctorRoot();
    await writeFile(
      path.join(root.dir, 'etc/gentoo-kopt/kopt.conf'),
      (await import('./helpers/doctor-root.js')).BASE_CONF.replace('lto = thin', 'lto = none'),
    );
    await writeTree(root.dir, { 'var/db/pkg/app-misc/-MERGING-hello-2.13/SLOT': '0\n' });
    const r = await run(root, { exit: 'warning', checks: ['inputs', 'resources'] });
    expect(statusOf(report(r))).toEqual({ inputs: 'findings', resources: 'skipped' });
    expect(r.exitCode).toBe(0);
  });

  it('a check that fails internally is reported as failed, with the error, and fails the run', async () => {
    const root = await doctorRoot();
    const broken: Check = {
      id: 'broken',
      describe: 'throws',
      kinds: [],
      run: async () => {
        throw new TypeError('boom');
      },
    };
    const fine: Check = {
      id: 'fine',
      describe: 'finds',
      kinds: ['vdb-merging'],
      run: async () => [finding('vdb-merging', { file: '/x' }, {})],
    };
    const [a, b] = await runChecks([broken, fine], createContext(root.roots, {}));
    expect(a).toMatchObject({ id: 'broken', status: 'failed', findings: [] });
    expect(a!.reason).toMatch(/^internal error: TypeError: boom/);
    expect(b).toMatchObject({
      status: 'findings',
      findings: [{ check: 'fine', kind: 'vdb-merging', level: 'info', fix: "rm -r '/x'" }],
    });
  });
});

describe('output', () => {
  it('--json: one JSON object per line: each check, then its findings, then a summary', async () => {
    const root = await oneWarning();
    const r = await run(root);
    const lines = r.jsonText
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.type === 'check').map((l) => l.check)).toEqual(CHECKS.map((c) => c.id));
    const at = lines.findIndex((l) => l.type === 'finding');
    expect(lines[at - 1]).toMatchObject({ type: 'check', check: 'hooks', status: 'findings', findings: 1 });
    expect(lines[at]).toEqual({
      type: 'finding',
      check: 'hooks',
      kind: 'hooks-not-installed',
      level: 'warning',
      where: { file: path.join(root.dir, 'etc/portage/bashrc') },
      message: expect.stringContaining('the gentoo-kopt block is not in'),
      fix: 'gentoo-kopt hooks install',
    });
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      error: 0,
      warning: 1,
      info: 0,
      ok: CHECKS.length - 1,
      skipped: 0,
      failed: 0,
      exit: 'error',
      exitCode: 0,
    });
  });

  it('text: grouped by check, each finding with where, what and the fix', async () => {
    const root = await oneWarning();
    const lines = (await run(root)).text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('hooks '));
    expect(lines[at]).toMatch(/^hooks +1 warning$/);
    expect(lines[at + 1]).toBe(`  warning  ${path.join(root.dir, 'etc/portage/bashrc')}`);
    expect(lines[at + 2]).toMatch(/^ {11}the gentoo-kopt block is not in /);
    expect(lines[at + 3]).toBe('           fix: gentoo-kopt hooks install');
    expect(lines[at + 4]).toMatch(/^patches +ok$/);
    expect(lines.at(-1)).toBe(`0 errors, 1 warning, 0 info; ${CHECKS.length - 1} checks ok (exit 0: --exit error)`);
  });

  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NOCOLOR: 'true' }, false],
    [true, { NOCOLOR: 'yes' }, false],
    [true, { NOCOLOR: 'no' }, true],
  ])('colour: tty %s, env %j -> %s', async (tty, env, coloured) => {
    const root = await oneWarning();
    const r = await run(root, { checks: ['hooks'] }, { tty, env });
    expect(r.text.includes('\x1b[')).toBe(coloured);
    expect(r.jsonText.includes('\x1b[')).toBe(false);
  });
});

describe('checks that cannot run, and bad input', () => {
  it('an empty root: every check that needs the VDB, LLVM or an LTO setting is skipped with the reason', async () => {
    const dir = await testdir({ 'etc/portage/make.conf': 'CHOST="x86_64-pc-linux-gnu"\n' });
    const roots = resolveRoots({ root: dir, env: {} });
    const r = report(
      await doctorCommand({ roots, env: {}, json: false, tty: false }, { list: false, exit: 'warning' }),
    );
    const reasons = Object.fromEntries(r.checks.map((c) => [c.id, c.reason ?? c.status]));
    // Portage's default repos.conf names a gentoo repository this root does not have.
    expect(r.checks[0]!.findings.map((f) => [f.kind, f.kind === 'repo-ignored' && f.name])).toEqual([
      ['repo-ignored', 'gentoo'],
    ]);
    expect(reasons).toEqual({
      inputs: 'findings',
      'llvm-packages': 'toolchain = gnu for every configured kernel: LLVM is not used',
      'llvm-binaries': 'toolchain = gnu for every configured kernel: LLVM is not used',
      'mixed-toolchain': 'ok',
      flags: 'ok',
      hooks: `gentoo-kopt is not set up here (no ${dir}/etc/gentoo-kopt/kopt.conf) and its block is not in ${dir}/etc/portage/bashrc`,
      patches: `no VDB at ${dir}/var/db/pkg (is ROOT right?)`,
      'kernel-config': `no VDB at ${dir}/var/db/pkg (is ROOT right?)`,
      'rebuild-needed': `no VDB at ${dir}/var/db/pkg (is ROOT right?)`,
      resources: 'lto = none: there is no LTO link to size',
      'host-flags': 'toolchain = gnu for every configured kernel: LLVM is not used',
      modules: `no VDB at ${dir}/var/db/pkg (is ROOT right?)`,
      binhost: 'ok',
      'kernel-presets': `no VDB at ${dir}/var/db/pkg (is ROOT right?)`,
      pgo: 'ok',
    });
  });

  it('no repository: patches is skipped with the reason, and inputs says why the repository is gone', async () => {
    const root = await doctorRoot();
    await writeTree(root.dir, { 'var/db/repos/': '' });
    await rm(path.join(root.dir, 'var/db/repos/gentoo'), { recursive: true });
    const r = report(await run(root, { checks: ['inputs', 'patches'] }));
    expect(r.checks[1]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no repository exists') });
    expect(r.checks[0]!.findings.map((f) => f.kind)).toEqual(['repo-ignored']);
  });

  it('a root broken everywhere: each bad file is a finding naming it; what depends on it is skipped; nothing is written', async () => {
    const root = await doctorRoot();
    const d = root.dir;
    await writeTree(d, {
      'etc/gentoo-kopt/kopt.conf': 'packages = sys-kernel/gentoo-kernel\ntoolchain = clang\n',
      'etc/portage/make.conf': 'CFLAGS="-O2\n',
      'etc/portage/package.env': '!!! sys-kernel/gentoo-kernel x.conf\n',
      'var/db/pkg/sys-kernel/gentoo-kernel-6.12.58/SLOT': '\n',
      'var/db/pkg/sys-kernel/not a package/SLOT': '0\n',
      'var/db/pkg/stray-file': 'x\n',
      'var/lib/gentoo-kopt/hooks.json': '{ not json',
      'etc/gentoo-kopt/catalog.d/bad.conf': '[series x\n',
      'var/db/pkg/sys-kernel/gentoo-kernel-6.12.58/environment.bz2': 'not bzip2 data\n',
    });
    const before = await snapshot(d);
    const r = report(await run(root));
    expect(await snapshot(d)).toEqual(before);
    const inputs = r.checks[0]!.findings.map((f) => [f.kind, f.where.file?.replace(d, ''), f.where.line]);
    expect(inputs).toEqual(
      expect.arrayContaining([
        ['file-malformed', '/etc/gentoo-kopt/kopt.conf', 2],
        ['file-malformed', '/etc/portage/make.conf', 1],
        ['file-malformed', '/etc/gentoo-kopt/catalog.d/bad.conf', 1],
        ['file-malformed', '/var/lib/gentoo-kopt/hooks.json', undefined],
        ['vdb-corrupt', '/var/db/pkg/sys-kernel/gentoo-kernel-6.12.58/SLOT', undefined],
        ['vdb-corrupt', '/var/db/pkg/sys-kernel/not a package', undefined],
        ['vdb-corrupt', '/var/db/pkg/stray-file', undefined],
      ]),
    );
    expect(r.summary.failed).toBe(0);
    for (const c of r.checks.filter((c) => c.status === 'skipped'))
      expect(c.reason).toMatch(/could not be read: .*(kopt\.conf|make\.conf|catalog)/);
    expect(statusOf(r)).toMatchObject({
      'llvm-packages': 'skipped',
      flags: 'skipped',
      patches: 'skipped',
      resources: 'skipped',
    });
  });

  it('the VDB: every entry is listed by name, only the kernel and LLVM entries are read whole', async () => {
    const root = await doctorRoot();
    await writeTree(root.dir, {
      'var/db/pkg/app-misc/hello-2.12/SLOT': '0 1\n',
      'var/db/pkg/app-misc/-MERGING-hello-2.13/SLOT': '0\n',
      'var/db/pkg/sys-kernel/vanilla-kernel-6.12.1/SLOT': '\n',
      'var/db/pkg/llvm-core/clang-20.1.8/COUNTER': 'x\n',
    });
    const r = report(await run(root, { checks: ['inputs'] }));
    expect(r.checks[0]!.findings.map((f) => [f.kind, f.where.file?.replace(root.dir, '')]).sort()).toEqual([
      ['vdb-corrupt', '/var/db/pkg/llvm-core/clang-20.1.8/COUNTER'],
      ['vdb-corrupt', '/var/db/pkg/sys-kernel/vanilla-kernel-6.12.1/SLOT'],
      ['vdb-merging', '/var/db/pkg/app-misc/-MERGING-hello-2.13'],
    ]);
  });

  const ENV_CHECKS = ['inputs', 'mixed-toolchain', 'flags', 'rebuild-needed'];
  it.each([
    ['does not parse', { 'etc/portage/env/src.conf': 'CC="gcc"\nKCFLAGS="-O3\n' }, 'etc/portage/env/src.conf', 2],
    ['sources a missing file', { 'etc/portage/env/src.conf': 'source gone.conf\n' }, 'etc/portage/env/src.conf', 1],
  ])(
    'an env file of a kernel that %s: inputs names it, the checks that need the environment are skipped naming it',
    async (_, tree, file, line) => {
      const root = await doctorRoot();
      await writeTree(root.dir, { ...tree, 'etc/portage/package.env': 'sys-kernel/gentoo-kernel src.conf\n' });
      const r = report(await run(root, { checks: ENV_CHECKS }));
      expect(r.checks[0]!.findings.map((f) => [f.kind, f.where.file, f.where.line])).toEqual([
        ['file-malformed', path.join(root.dir, file), line],
      ]);
      const envFile = path.join(root.dir, 'etc/portage/env/src.conf');
      for (const c of r.checks.slice(1)) {
        expect(c, c.id).toMatchObject({
          status: 'skipped',
          reason: expect.stringContaining(
            `the env file ${envFile} (package.env for sys-kernel/gentoo-kernel) could not be read: ${path.join(root.dir, file)}:${line}: `,
          ),
        });
      }
    },
  );

  it('a broken env file mapped only to another package stops no kernel check', async () => {
    const root = await doctorRoot();
    await writeTree(root.dir, {
      'etc/portage/env/src.conf': 'KCFLAGS="-O3\n',
      'etc/portage/package.env': 'app-misc/hello src.conf\n',
    });
    const r = report(await run(root, { checks: ENV_CHECKS }));
    expect(statusOf(r)).toEqual({ inputs: 'findings', 'mixed-toolchain': 'ok', flags: 'ok', 'rebuild-needed': 'ok' });
  });

  it('a variable an env file sets through `source`: the finding and its fix name the sourced file and line', async () => {
    const root = await doctorRoot();
    await writeTree(root.dir, {
      'etc/portage/package.env': 'sys-kernel/gentoo-kernel src.conf\n',
      'etc/portage/env/src.conf': 'KCFLAGS="-O2 -pipe"\nsource gnu.conf\n',
      'etc/portage/env/gnu.conf': '# the GNU tools\nCC="gcc"\n',
    });
    const [f] = report(await run(root, { checks: ['mixed-toolchain'] })).checks[0]!.findings;
    const gnu = path.join(root.dir, 'etc/portage/env/gnu.conf');
    expect(f).toMatchObject({ kind: 'toolchain-conflict', variable: 'CC', where: { file: gnu, line: 2 } });
    expect(f!.fix).toContain(`remove CC from ${gnu} `);
  });

  it.each([
    [
      'make.conf, second on its line',
      { 'etc/portage/make.conf': 'CHOST="x86_64-pc-linux-gnu"\nCOMMON_FLAGS="-O2" KCFLAGS="-O3 -pipe"\n' },
      'etc/portage/make.conf',
      2,
    ],
    [
      'a file make.conf sources',
      {
        'etc/portage/make.conf': 'CHOST="x86_64-pc-linux-gnu"\nsource kernel.conf\n',
        'etc/portage/kernel.conf': '# flags for the kernel\n\nCOMMON_FLAGS="-O2"  KCFLAGS="-O3 -pipe"\n',
      },
      'etc/portage/kernel.conf',
      3,
    ],
  ])('KCFLAGS in %s: the flags finding names its file and line', async (_, tree, file, line) => {
    const root = await doctorRoot();
    await writeTree(root.dir, tree);
    const kopt = path.join(root.dir, 'etc/gentoo-kopt/kopt.conf');
    await writeFile(kopt, (await readFile(kopt, 'utf8')).replace(/^kcflags = .*\n/m, ''));
    const [f, ...more] = report(await run(root, { checks: ['flags'] })).checks[0]!.findings;
    expect(more).toEqual([]);
    expect(f).toMatchObject({ kind: 'kcflags-o3', where: { file: path.join(root.dir, file), line } });
  });

  it.each([
    ['ledger.json', 'does not parse', 'file-malformed', { 'var/lib/gentoo-kopt/ledger.json': '{ garbage' }],
    ['ledger.json', 'cannot be read', 'file-unreadable', { 'var/lib/gentoo-kopt/ledger.json/x': '' }],
    ['managed.json', 'does not parse', 'file-malformed', { 'var/lib/gentoo-kopt/managed.json': '{ garbage' }],
  ])('%s that %s: inputs reports %s, a kind it lists; patches goes on without it', async (name, _, kind, tree) => {
    const root = await doctorRoot();
    const file = path.join(root.dir, 'var/lib/gentoo-kopt', name);
    await rm(path.join(root.dir, 'var/lib/gentoo-kopt/ledger.json'), { force: true });
    await writeTree(root.dir, tree);
    const r = report(await run(root, { checks: ['inputs', 'patches'] }));
    expect(r.checks[0]!.findings.map((f) => [f.kind, f.where.file])).toEqual([[kind, file]]);
    expect(CHECKS.find((c) => c.id === 'inputs')!.kinds).toContain(kind);
    expect(r.checks[1]).toMatchObject({ id: 'patches', status: 'ok', findings: [] });
  });
});
