// The real executable (dist/bin.js, built by `npm test` before vitest runs) in real processes:
// exit statuses, --json, errors on stderr naming file and line, nothing written on bad input.
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import tar from 'tar-stream';
import { snapshot } from './helpers/tree.js';
import { gentooRoot, defaultConf, EXAMPLE_SOURCE, PROJECT } from './helpers/gentoo.js';
import { worldReadable } from './helpers/installed.js';
import { kopt } from './helpers/cli.js';
import { COMMANDS, COMMON_OPTIONS, PROGRAM_OPTIONS, type OptionSpec } from '../src/commands/table.js';
import { usageLine } from '../src/commands/help.js';

const PACKAGE_VERSION = JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')).version;
const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Help text with its wrapped lines joined back (a continuation line is indented past the term). */
const unwrap = (text: string): string => text.replace(/\n {3,}/g, ' ');
/** `  -p, --pretend  show what ...` as the help prints an option of the table. */
const optionLine = (o: OptionSpec): RegExp =>
  new RegExp(
    `^  ${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'string' ? ` ${reEscape(o.value!)}` : ''} +${reEscape(o.description)}$`,
    'm',
  );

async function tarball(
  members: { name: string; type?: 'file' | 'symlink'; linkname?: string; body?: string }[],
): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const m of members) {
    if (m.type === 'symlink') pack.entry({ name: m.name, type: 'symlink', linkname: m.linkname });
    else pack.entry({ name: m.name }, m.body ?? '');
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

describe('gentoo-kopt, the executable', () => {
  // src/version.ts holds the version (no file is read for it): it must be package.json's
  it.each(['--version', '-V'])('%s prints the version of package.json', async (flag) => {
    const r = await kopt([flag]);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, `gentoo-kopt ${PACKAGE_VERSION}`, '']);
  });

  it('an unknown command: one line naming it (with the nearest command), the commands, exit 2', async () => {
    const r = await kopt(['docter', '--root', '/nonexistent']);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe("gentoo-kopt: error: unknown command 'docter' (did you mean 'doctor'?)");
    expect(lines[1]).toBe('usage: gentoo-kopt COMMAND [ARGUMENTS] [OPTIONS]');
    for (const c of COMMANDS) expect(r.stderr).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    expect(r.stdout).toBe('');
  });

  it('a group word alone names the commands it can start, exit 2; with --help they are its help', async () => {
    const r = await kopt(['hooks']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("gentoo-kopt: error: 'hooks' needs a command: install, uninstall, status");
    const help = await kopt(['hooks', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^ {2}hooks status +say whether/m);
    expect(help.stdout).not.toContain('sync-patches');
  });

  it('--help lists every command with its summary, the common options, --version', async () => {
    const r = await kopt(['--help']);
    expect(r.exitCode).toBe(0);
    const text = unwrap(r.stdout);
    for (const c of COMMANDS) expect(text).toMatch(new RegExp(`^  ${c.name} +${reEscape(c.summary)}$`, 'm'));
    for (const o of [...COMMON_OPTIONS, ...PROGRAM_OPTIONS]) expect(text).toMatch(optionLine(o));
    expect((await kopt([])).exitCode).toBe(2);
  });

  it.each(COMMANDS.map((c) => [c.name, c.name, c] as const))(
    '%s --help and help %s: the usage and every option of the table, with its description',
    async (name, _same, command) => {
      const r = await kopt([...name.split(' '), '--help']);
      expect(r.exitCode, r.stderr).toBe(0);
      const text = unwrap(r.stdout);
      expect(text.split('\n')[0]).toBe(`usage: ${usageLine(command)}`);
      expect(text).toContain(command.summary);
      for (const o of [...command.options, ...COMMON_OPTIONS]) expect(text).toMatch(optionLine(o));
      for (const a of command.arguments)
        expect(text).toMatch(new RegExp(`^  ${a.name} +${reEscape(a.description)}$`, 'm'));
      expect((await kopt(['help', ...name.split(' ')])).stdout).toBe(r.stdout);
    },
  );

  it.each([
    [['patches', 'list'], 'missing argument CPV', 'patches list CPV [--slot SLOT]'],
    [['patches', 'list', 'a/b-1', 'c/d-2'], "unexpected argument 'c/d-2'", 'patches list CPV'],
    [['sync-patches', 'extra'], "unexpected argument 'extra'", 'sync-patches [--pretend]'],
    [['sync-patches', '--frob'], "unknown option '--frob'", 'sync-patches [--pretend]'],
    [['doctor', '--exit', 'never'], '--exit never: expected error or warning', 'doctor [--check ID]...'],
  ])('%j: one line naming what is wrong, the usage, exit 2', async (args, message, usage) => {
    const r = await kopt([...args, '--root', '/nonexistent']);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`gentoo-kopt: error: ${message}`);
    expect(lines.at(-1)).toMatch(new RegExp(`^usage: gentoo-kopt ${reEscape(usage)}`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('sync-patches --json reports what it did, and a second run reports nothing to do', async () => {
    const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    const first = await kopt(['sync-patches', '--json', '--root', dir]);
    expect(first.exitCode).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.changed).toBe(true);
    expect(report.changes.map((c: { state: string }) => c.state)).toEqual(['create', 'create']);
    const second = await kopt(['sync-patches', '--root', dir]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('nothing to do');
  });

  it('honours ROOT and PORTAGE_CONFIGROOT from the environment', async () => {
    const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    const r = await kopt(['sync-patches', '--json'], { env: { ROOT: dir, PORTAGE_CONFIGROOT: dir } });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).targets[0].target).toBe('sys-kernel/gentoo-kernel-6.12.58');
  });

  it('an invalid --package version is an error naming it, exit 1, nothing written', async () => {
    const { dir } = await gentooRoot({ installed: [] });
    const before = await snapshot(dir);
    const r = await kopt(['sync-patches', '--package', 'sys-kernel/gentoo-kernel-6.x', '--root', dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/gentoo-kernel-6\.x/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a bad kopt.conf is reported as file:line with a hint, exit 1, --json gives the same as data', async () => {
    const { dir } = await gentooRoot({ conf: defaultConf() + 'toolchain = clang\n' });
    const r = await kopt(['sync-patches', '--root', dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${dir}/etc/gentoo-kopt/kopt.conf:4:`);
    const j = await kopt(['sync-patches', '--json', '--root', dir]);
    expect(JSON.parse(j.stdout).error).toMatchObject({ kind: 'ConfigError', line: 4 });
  });

  it.each([
    ['a ../ member', [{ name: '../escape.patch', body: 'x' }]],
    ['an absolute member', [{ name: '/etc/evil.patch', body: 'x' }]],
    [
      'a symlink member',
      [{ name: 'kopt-demo/6.12/0001-demo-lto-gcc-kconfig.patch', type: 'symlink' as const, linkname: '/etc/shadow' }],
    ],
  ])('a patch-source tarball with %s is refused, nothing written', async (_what, members) => {
    const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    const tb = path.join(dir, 'src.tar');
    await writeFile(tb, await tarball(members));
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf(tb));
    const before = await snapshot(dir);
    const r = await kopt(['sync-patches', '--root', dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(tb);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a patch-source tarball (.tar.xz, GitHub-style top directory) works like the directory', async () => {
    const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    const tb = path.join(dir, 'src.tar.xz');
    await execa('tar', [
      '-cJf',
      tb,
      '--transform',
      's,^,kernel-patches-abc/,',
      '-C',
      path.join(PROJECT, 'patches/example'),
      'kopt-demo',
    ]);
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf(tb));
    const r = await kopt(['sync-patches', '--json', '--root', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).changes).toHaveLength(2);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'without permission to write: exit 1 naming the path, nothing written',
    async () => {
      // the series source is copied next to the root: uid 65534 may not enter the checkout (mktemp -d)
      const source = await mkdtemp(path.join(os.tmpdir(), 'kopt-src-'));
      await cp(EXAMPLE_SOURCE, source, { recursive: true });
      await worldReadable(source);
      const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'], conf: defaultConf(source) });
      await chmod(dir, 0o755);
      for (const d of [
        'etc',
        'etc/portage',
        'etc/gentoo-kopt',
        'var',
        'var/db',
        'var/db/pkg',
        'var/db/pkg/sys-kernel',
        'var/db/pkg/sys-kernel/gentoo-kernel-6.12.58',
        'var/db/repos',
        'var/db/repos/gentoo',
        'var/db/repos/gentoo/profiles',
        'etc/portage/repos.conf',
      ]) {
        await chmod(path.join(dir, d), 0o755);
      }
      await mkdir(path.join(dir, 'var/lib/gentoo-kopt'), { recursive: true, mode: 0o777 });
      await chmod(path.join(dir, 'var/lib/gentoo-kopt'), 0o777);
      await chmod(path.join(dir, 'var/lib'), 0o755);
      const before = await snapshot(dir);
      const r = await kopt(['sync-patches', '--root', dir], { uid: 65534 });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/permission|denied|EACCES/i);
      expect(r.stderr).toContain(`${dir}/etc/portage`);
      expect(await snapshot(dir)).toEqual(before);
      await rm(source, { recursive: true, force: true });
    },
  );
});

describe('two runs at once', () => {
  it("the second waits for the first's lock instead of failing (two kernels built in parallel)", async () => {
    const { dir } = await gentooRoot({ installed: [] });
    const runs = await Promise.all([
      kopt(['sync-patches', '--package', 'sys-kernel/gentoo-kernel-6.12.58', '--root', dir]),
      kopt(['sync-patches', '--package', 'sys-kernel/vanilla-kernel-6.18.3', '--root', dir]),
      kopt(['sync-patches', '--package', 'sys-kernel/gentoo-kernel-6.18.2', '--root', dir]),
    ]);
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(path.join(dir, 'etc/portage/patches/sys-kernel'))).sort()).toEqual([
      'gentoo-kernel-6.12.58',
      'gentoo-kernel-6.18.2',
      'vanilla-kernel-6.18.3',
    ]);
  });
});

describe('gentoo-kopt hooks, the executable', () => {
  it('install, status, uninstall: bashrc gets its bytes back, status exits 0 then 1', async () => {
    const { dir } = await gentooRoot({ installed: [] });
    const bashrc = path.join(dir, 'etc/portage/bashrc');
    const mine = '# mine\nexport A=1\n\npre_pkg_setup() { :; }\n';
    await writeFile(bashrc, mine);
    const pretend = await kopt(['hooks', 'install', '--pretend', '--root', dir]);
    expect(pretend.exitCode).toBe(0);
    expect(pretend.stdout).toContain('+# >>> gentoo-kopt >>>');
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(bashrc, 'utf8')).toBe(mine);
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    expect(await readFile(bashrc, 'utf8')).toMatch(/^# mine\n[\s\S]*# >>> gentoo-kopt >>>/);
    expect((await kopt(['hooks', 'status', '--root', dir])).exitCode).toBe(0);
    expect((await kopt(['hooks', 'uninstall', '--root', dir])).exitCode).toBe(0);
    expect(await readFile(bashrc, 'utf8')).toBe(mine);
    const status = await kopt(['hooks', 'status', '--json', '--root', dir]);
    expect(status.exitCode).toBe(1);
    expect(JSON.parse(status.stdout).overall).not.toBe('current');
  });
});

describe('gentoo-kopt hooks keeps every byte and tells the truth', () => {
  it('a bashrc with bytes that are not UTF-8 gets them back after install and uninstall', async () => {
    const { dir } = await gentooRoot({ installed: [] });
    const bashrc = path.join(dir, 'etc/portage/bashrc');
    const mine = Buffer.from('# caf\xe9 (latin-1), caf\u00e9 (UTF-8 below)\n', 'latin1');
    const bytes = Buffer.concat([mine, Buffer.from('# café\nexport A=1\n', 'utf8'), Buffer.from([0xff, 0xfe, 0x0a])]);
    await writeFile(bashrc, bytes);
    const { readFile } = await import('node:fs/promises');
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    expect((await readFile(bashrc)).subarray(0, bytes.length)).toEqual(bytes);
    expect((await kopt(['hooks', 'uninstall', '--root', dir])).exitCode).toBe(0);
    expect(await readFile(bashrc)).toEqual(bytes);
  });

  it('status is not "current" while a kept, hand-edited LTO fragment contradicts kopt.conf', async () => {
    const { dir } = await gentooRoot({ installed: [], conf: defaultConf() + 'toolchain = llvm\nlto = thin\n' });
    expect((await kopt(['hooks', 'install', '--root', dir])).exitCode).toBe(0);
    const fragment = path.join(dir, 'etc/kernel/config.d/50-gentoo-kopt-lto.config');
    const { appendFile } = await import('node:fs/promises');
    await appendFile(fragment, '# my note\n');
    await writeFile(path.join(dir, 'etc/gentoo-kopt/kopt.conf'), defaultConf() + 'toolchain = llvm\nlto = full\n');
    const install = await kopt(['hooks', 'install', '--root', dir]);
    expect(install.stdout).toContain('KEEP (edited by you)');
    const status = await kopt(['hooks', 'status', '--root', dir]);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).not.toContain('installed and current');
  });

  it('a config root reached through a symlink, with bashrc a symlink inside it', async () => {
    const { dir } = await gentooRoot({ installed: [] });
    const { symlink, readFile, mkdtemp } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'etc/portage/bashrc.real'), 'A=1\n');
    await symlink('bashrc.real', path.join(dir, 'etc/portage/bashrc'));
    const linkDir = await mkdtemp(path.join((await import('node:os')).tmpdir(), 'kopt-link-'));
    const link = path.join(linkDir, 'root');
    await symlink(dir, link);
    const r = await kopt(['hooks', 'install', '--root', link]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'etc/portage/bashrc.real'), 'utf8')).toMatch(/^A=1\n\n# >>> gentoo-kopt >>>/);
    expect((await import('node:fs')).lstatSync(path.join(dir, 'etc/portage/bashrc')).isSymbolicLink()).toBe(true);
    await (await import('node:fs/promises')).rm(linkDir, { recursive: true });
  });
});
