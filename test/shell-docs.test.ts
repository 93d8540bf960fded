// The man page and the shell completions, generated from the command table (src/docs/): the page as
// groff and man(1) read it, the bash completion run by real bash on sandbox roots, the zsh completion
// parsed by zsh and run with zsh's completion builtins stubbed. Each is also generated from a table with
// one more command, which must then appear without any other change.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COMMANDS, type CommandSpec } from '../src/commands/table.js';
import { CHECKS } from '../src/doctor/checks/registry.js';
import { manPage, roff } from '../src/docs/man.js';
import { bashCompletion } from '../src/docs/bash-completion.js';
import { completionModel } from '../src/docs/completion-model.js';
import { zshCompletion } from '../src/docs/zsh-completion.js';
import { gentooRoot } from './helpers/gentoo.js';
import { testdir } from './helpers/tree.js';

const IDS = CHECKS.map((c) => c.id);
const run = (cmd: string, args: string[], env: Record<string, string> = {}, input?: string) =>
  spawnSync(cmd, args, { encoding: 'utf8', input, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });

/** A command that is not in the table: what another branch may add. */
const EXTRA: CommandSpec = {
  name: 'hooks frobnicate',
  summary: 'a command added to the table later',
  arguments: [{ name: 'CPV', required: true, multiple: false, description: 'a kernel' }],
  options: [
    { name: 'colour', type: 'string', value: 'WHEN', choices: ['always', 'never'], description: 'when to colour' },
  ],
};
const WITH_EXTRA = [...COMMANDS, EXTRA];

/** The page as `man -l` renders it for a reader, whitespace collapsed (justification and wrapping vary). */
async function rendered(page: string): Promise<string> {
  const file = path.join(await testdir(), 'gentoo-kopt.1');
  await writeFile(file, page);
  const r = run('man', ['-l', file], { MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat', LC_ALL: 'C.UTF-8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.replace(/\s+/g, ' ');
}

describe('the man page', () => {
  it('has no groff warnings (groff -man -ww -z)', () => {
    const r = run('groff', ['-man', '-ww', '-z'], {}, manPage('0.1.0'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('groff -ww reports a broken request, so the check above can fail', () => {
    const r = run('groff', ['-man', '-ww', '-z'], {}, `${manPage('0.1.0')}.nosuchrequest\n\\fXx\n`);
    expect(r.stderr).not.toBe('');
  });

  it('renders every command with its summary, arguments and options, and the common options', async () => {
    const text = await rendered(manPage('0.1.0'));
    for (const c of COMMANDS) {
      expect(text).toContain(`gentoo-kopt ${c.name} `);
      expect(text, c.name).toContain(c.summary);
      for (const a of c.arguments) expect(text).toContain(a.description);
      for (const o of c.options) {
        expect(text, `${c.name} --${o.name}`).toContain(`--${o.name}${o.type === 'string' ? ` ${o.value}` : ''}`);
        expect(text).toContain(o.description);
      }
    }
    for (const o of ['--root DIR', '--json', '-h, --help', '-V, --version']) expect(text).toContain(o);
    expect(text).toContain('gentoo-kopt 0.1.0');
  });

  it('renders a command added to the table', async () => {
    const text = await rendered(manPage('0.1.0', WITH_EXTRA));
    expect(text).toContain('gentoo-kopt hooks frobnicate CPV [--colour WHEN]');
    expect(text).toContain('when to colour. One of: always, never.');
  });

  it.each([
    ['.starts with a dot', '\\&.starts with a dot'],
    ["'quote", "\\&'quote"],
    ['a\\b-c', 'a\\eb\\-c'],
  ])('roff(%j) is %j', (text, out) => expect(roff(text)).toBe(out));
});

/** Real bash: sources the completion, sets COMP_WORDS/COMP_CWORD/COMP_LINE as readline would, prints COMPREPLY. */
async function complete(script: string, words: string[], env: Record<string, string> = {}, cwd?: string) {
  const file = path.join(await testdir(), 'gentoo-kopt.bash');
  await writeFile(file, script);
  const driver = [
    'set -u',
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}',
    '_gentoo_kopt',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['-c', driver, 'driver', file, 'gentoo-kopt', ...words], {
    encoding: 'utf8',
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('the bash completion', () => {
  const script = bashCompletion(IDS);
  const ALL_FIRST = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!)), 'help', '--version', '-V', '--help', '-h'];

  it('passes shellcheck', async () => {
    const file = path.join(await testdir(), 'gentoo-kopt.bash');
    await writeFile(file, script);
    const r = run('shellcheck', ['-s', 'bash', file]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([
    [[''], ALL_FIRST],
    [['ho'], ['hooks']],
    [
      ['hooks', ''],
      ['install', 'status', 'uninstall'],
    ],
    [['patches', ''], ['list']],
    [['hooks', 'install', '--p'], ['--pretend']],
    [
      ['hooks', 'status', '-'],
      ['--help', '--json', '--quiet', '--root', '--verbose', '-h', '-q', '-v'],
    ],
    [
      ['doctor', '--'],
      ['--check', '--exit', '--help', '--json', '--list', '--quiet', '--root', '--verbose'],
    ],
    [
      ['doctor', '--exit', ''],
      ['error', 'warning'],
    ],
    [['doctor', '--exit', '=', 'w'], ['warning']],
    [
      ['doctor', '--exit', '='],
      ['error', 'warning'],
    ],
    [['doctor', '--check', ''], IDS],
    [
      ['doctor', '--check', 'llvm-'],
      ['llvm-binaries', 'llvm-packages'],
    ],
    [['doctor', '--list', '--check', 'hooks', '--check', 'fl'], ['flags']],
    [['help', ''], ALL_FIRST.filter((w) => !w.startsWith('-'))],
    [
      ['help', 'hooks', ''],
      ['install', 'status', 'uninstall'],
    ],
    [['rollback', 'x'], []],
  ])('gentoo-kopt %j completes to %j', async (words, want) => {
    expect(await complete(script, words)).toEqual([...want].sort());
  });

  it('completes every command and every option of the table', async () => {
    for (const c of COMMANDS) {
      const [head, sub] = c.name.split(' ');
      expect(await complete(script, [head!.slice(0, 3)])).toContain(head);
      if (sub) expect(await complete(script, [head!, sub.slice(0, 2)])).toContain(sub);
      const options = await complete(script, [...c.name.split(' '), '-']);
      for (const o of c.options) expect(options, `${c.name} --${o.name}`).toContain(`--${o.name}`);
    }
  });

  describe('kernel versions', () => {
    const spec = {
      installed: ['sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-bin-6.12.58', 'dev-lang/rust-1.90.0'],
      available: [
        'sys-kernel/gentoo-kernel-6.12.58',
        'sys-kernel/vanilla-kernel-6.18.2',
        'sys-kernel/linux-firmware-20251111',
      ],
    };
    const WANT = ['sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/vanilla-kernel-6.18.2'];

    it.each([
      ['patches list --root DIR', (d: string) => ['patches', 'list', '--root', d, '']],
      ['verify --root=DIR (split at =)', (d: string) => ['verify', '--root', '=', d, 'sys-kernel/']],
      ['sync-patches --package', (d: string) => ['sync-patches', '--root', d, '--package', '']],
    ])('installed (VDB) and offered (repos.conf) under the root of %s', async (_, words) => {
      const { dir } = await gentooRoot(spec);
      expect(await complete(script, words(dir))).toEqual(WANT);
    });

    it('honours ROOT and PORTAGE_CONFIGROOT from the environment, and a relative --root', async () => {
      const { dir } = await gentooRoot(spec);
      expect(await complete(script, ['verify', 'sys-kernel/g'], { ROOT: dir, PORTAGE_CONFIGROOT: dir })).toEqual([
        'sys-kernel/gentoo-kernel-6.12.58',
      ]);
      expect(
        await complete(script, ['verify', '--root', path.basename(dir), 'sys-kernel/v'], {}, path.dirname(dir)),
      ).toEqual(['sys-kernel/vanilla-kernel-6.18.2']);
    });

    it('reads an installed version from the VDB alone when no repository offers it', async () => {
      const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.6.58-r1'] });
      expect(await complete(script, ['patches', 'list', '--root', dir, ''])).toEqual([
        'sys-kernel/gentoo-kernel-6.6.58-r1',
      ]);
    });

    it('completes one CPV for patches list, any number for verify', async () => {
      const { dir } = await gentooRoot(spec);
      expect(await complete(script, ['patches', 'list', '--root', dir, WANT[0]!, ''])).toEqual([]);
      expect(await complete(script, ['verify', '--root', dir, WANT[0]!, ''])).toEqual(WANT);
    });

    it('another root gives its own versions: nothing from this machine leaks in', async () => {
      const { dir } = await gentooRoot({ installed: ['sys-kernel/vanilla-kernel-5.15.1'] });
      expect(await complete(script, ['verify', '--root', dir, ''])).toEqual(['sys-kernel/vanilla-kernel-5.15.1']);
    });
  });

  it('completes directories for --root and files for --tarball', async () => {
    const dir = await testdir({ 'kroot/x': '', 'linux-6.12.tar.xz': '' });
    expect(await complete(script, ['doctor', '--root', path.join(dir, 'kr')])).toEqual([path.join(dir, 'kroot')]);
    expect(await complete(script, ['verify', '--tarball', path.join(dir, 'linux')])).toEqual([
      path.join(dir, 'linux-6.12.tar.xz'),
    ]);
  });

  it('completes a command added to the table, its option choices and its CPV, with no other change', async () => {
    const extra = bashCompletion(IDS, completionModel(IDS, WITH_EXTRA));
    expect(await complete(extra, ['hooks', 'fr'])).toEqual(['frobnicate']);
    expect(await complete(extra, ['hooks', 'frobnicate', '--colour', ''])).toEqual(['always', 'never']);
    const { dir } = await gentooRoot({ installed: ['sys-kernel/gentoo-kernel-6.12.58'] });
    expect(await complete(extra, ['hooks', 'frobnicate', '--root', dir, ''])).toEqual([
      'sys-kernel/gentoo-kernel-6.12.58',
    ]);
    expect(await complete(script, ['hooks', 'fr'])).toEqual([]);
  });
});

describe('the zsh completion', () => {
  const script = zshCompletion(IDS);

  it('parses (zsh -n)', async () => {
    const file = path.join(await testdir(), '_gentoo-kopt');
    await writeFile(file, script);
    const r = run('zsh', ['-n', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  /** Runs the completion in zsh with _arguments, _describe, _wanted and compadd replaced by printers. */
  async function zsh(words: string[], text = script) {
    const file = path.join(await testdir(), '_gentoo-kopt');
    await writeFile(file, text);
    const driver = [
      '_arguments() { print -r -- "_arguments $*" }',
      '_describe() { print -r -- "_describe ${(P)4}" }',
      '_wanted() { shift 4; print -r -- "kernels $*" }',
      'compadd() { print -r -- "compadd $*" }',
      'words=( gentoo-kopt "${@[2,-1]}" ); CURRENT=${#words}',
      'source "$1"',
    ].join('\n');
    const r = run('zsh', ['-f', '-c', driver, 'driver', file, ...words]);
    expect(r.stderr).toBe('');
    return r.stdout;
  }

  it('offers the commands first, a group its subcommands, and each command its own _arguments specs', async () => {
    expect(await zsh([''])).toMatch(/^_describe sync-patches:.* hooks:install, uninstall, status .*help:/m);
    expect(await zsh(['hooks', ''])).toMatch(/^_describe install:add the gentoo-kopt block/m);
    const doctor = await zsh(['doctor', '--check', '']);
    expect(doctor).toContain(`*--check=[run only this check (repeatable); --list shows the ids]:ID:(${IDS.join(' ')})`);
    expect(doctor).toContain('--exit=[');
    expect(doctor).toContain(':LEVEL:(error warning)');
    expect(await zsh(['patches', 'list', ''])).toContain('1:CPV:_gentoo-kopt_kernels');
  });

  it('has every command of the table, each option of it, and a command added to the table', () => {
    for (const c of COMMANDS) {
      const at = script.indexOf(`\t\t('${c.name}')\n`);
      expect(at, c.name).toBeGreaterThan(0);
      const body = script.slice(at, script.indexOf(';;', at));
      for (const o of c.options) expect(body, `${c.name} --${o.name}`).toContain(`--${o.name}`);
    }
    expect(zshCompletion(IDS, WITH_EXTRA)).toContain("('hooks frobnicate')");
  });

  it('lists the kernel versions installed and offered under --root', async () => {
    const { dir } = await gentooRoot({
      installed: ['sys-kernel/gentoo-kernel-6.12.58'],
      available: ['sys-kernel/vanilla-kernel-6.18.2'],
    });
    const driver = [
      '_wanted() { shift 4; print -rl -- "${@[2,-1]}" }',
      'words=( gentoo-kopt verify --root "$2" "" ); CURRENT=${#words}',
      'source <(sed \'$d\' "$1")',
      '_gentoo-kopt_kernels',
    ].join('\n');
    const file = path.join(await testdir(), '_gentoo-kopt');
    await writeFile(file, script);
    const r = run('zsh', ['-f', '-c', driver, 'driver', file, dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'sys-kernel/gentoo-kernel-6.12.58',
      'sys-kernel/vanilla-kernel-6.18.2',
    ]);
  });
});
