// Hostile and careless input to the readers: files that are not regular files, files and
// streams far larger than any real one, numbers and expansions without end, versions that overflow,
// secrets reached through `source`, and a bad command line. Each case runs the real executable on a
// throwaway root beside `outside/` (test/helpers/hostile.ts), with a timeout so that a hang fails the
// test instead of blocking the suite, and asserts the exact message, the exit status and that nothing
// outside the root changed.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { walkTar } from '../src/system/tar-walk.js';
import { LIMITS } from '../src/system/read.js';
import { kopt } from './helpers/cli.js';
import { defaultConf, PROJECT } from './helpers/gentoo.js';
import { compress, kernelTarball, numbered, tarOf, type Member } from './helpers/kernel-tarball.js';
import { hostileRoot, VICTIMS, type HostileRoot } from './helpers/hostile.js';

/** Long enough for a slow machine, far shorter than a hang. */
const TIMEOUT = 20_000;

/** The real CLI, killed after TIMEOUT. */
const run = (args: string[], env: Record<string, string> = {}) => kopt(args, { timeout: TIMEOUT, env });

const KERNEL = 'sys-kernel/gentoo-kernel-6.12.58';
const SHADOW = 'root:$6$s3cr3tHash$AbCdEf:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n';
/** What must never appear in any output: the content of outside/shadow. */
const SECRETS = /s3cr3tHash|AbCdEf|daemon|19000|99999/;

/** A root with one installed kernel, its ebuild, and a shadow file outside it. */
const kernelRoot = (): Promise<HostileRoot> =>
  hostileRoot({ installed: [KERNEL], available: [KERNEL] }, { ...VICTIMS, shadow: SHADOW });

type Replacement = 'fifo' | { symlink: string } | { text: string };

/** Puts a FIFO, a symlink or text at `rel` below the root, in place of whatever is there. */
async function put(root: HostileRoot, rel: string, what: Replacement): Promise<string> {
  const file = path.join(root.dir, rel);
  await rm(file, { recursive: true, force: true });
  await mkdir(path.dirname(file), { recursive: true });
  if (what === 'fifo') execFileSync('mkfifo', [file]);
  else if ('symlink' in what) await symlink(what.symlink, file);
  else await writeFile(file, what.text);
  return file;
}

/** doctor --json's findings of one check (JSON lines). */
function findings(stdout: string): { kind: string; where: { file?: string; line?: number }; message: string }[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.type === 'finding');
}

/** Exit status, the first stderr line, and nothing printed from outside/shadow, nor any stack trace. */
function expectError(r: { exitCode?: number; stdout: string; stderr: string }, status: number, line: string): void {
  expect(r.exitCode).toBe(status);
  expect(r.stderr.split('\n')[0]).toBe(`gentoo-kopt: error: ${line}`);
  expect(r.stdout + r.stderr).not.toMatch(SECRETS);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('the command line', () => {
  it.each([
    ['verify', ['--bogus'], "unknown option '--bogus'", 'verify [CPV...]'],
    ['sync-patches', ['-x'], "unknown option '-x'", 'sync-patches [--pretend]'],
    ['doctor', ['--chek', 'flags'], "unknown option '--chek' (did you mean '--check'?)", 'doctor [--check ID]'],
    ['patches list', ['--slot'], "option '--slot' needs a value", 'patches list CPV'],
    [
      'sync-patches',
      ['--root', '--pretend'],
      "option '--root' needs a value, not the option '--pretend' (write --root=VALUE for a value that starts with '-')",
      'sync-patches [--pretend]',
    ],
    ['hooks status', ['--json=yes'], "option '--json' takes no value", 'hooks status'],
  ])('%s %j: one line naming it, the usage, exit 2, no stack trace', async (command, args, message, usage) => {
    const root = await hostileRoot();
    const r = await run([...command.split(' '), `--root=${root.dir}`, ...args]);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`gentoo-kopt: error: ${message}`);
    expect(lines[1]).toMatch(new RegExp(`^usage: gentoo-kopt ${usage.replace(/[[\]().]/g, '\\$&')}`));
    expect(lines.slice(2).join('')).toBe('');
    expect(r.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|\n\s+at /);
    await root.outsideUnchanged();
  });

  it('--json: the usage error is data', async () => {
    const r = await run(['verify', '--json', '--bogus']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { kind: 'UsageError', message: "unknown option '--bogus'" } });
  });
});

describe('a FIFO or a device where a file should be: an error naming it, at once', () => {
  const FIFO = 'is a FIFO (named pipe), not a regular file';

  it.each([
    ['kopt.conf', 'etc/gentoo-kopt/kopt.conf'],
    ['a catalog file', 'etc/gentoo-kopt/catalog.d/x.conf'],
    ['a repos.conf file', 'etc/portage/repos.conf/x.conf'],
  ])('%s: sync-patches stops, exit 1', async (_what, rel) => {
    const root = await kernelRoot();
    const file = await put(root, rel, 'fifo');
    expectError(await run(['sync-patches', '--pretend', '--root', root.dir]), 1, `${file}: ${FIFO}`);
    await root.outsideUnchanged();
  });

  it.each([
    ['profiles/repo_name', 'var/db/repos/gentoo/profiles/repo_name'],
    ['kopt.conf', 'etc/gentoo-kopt/kopt.conf'],
  ])('%s as a link to /dev/zero: sync-patches stops, exit 1', async (_what, rel) => {
    const root = await kernelRoot();
    const file = await put(root, rel, { symlink: '/dev/zero' });
    expectError(
      await run(['sync-patches', '--pretend', '--root', root.dir]),
      1,
      `${file}: is a character device, not a regular file`,
    );
    await root.outsideUnchanged();
  });

  it.each([
    ['a FIFO', 'fifo' as const, FIFO],
    [
      'a link to /dev/zero',
      { symlink: '/dev/zero' },
      'bashrc is a symbolic link to /dev/zero, outside the config root',
    ],
  ])('bashrc as %s: hooks install and uninstall stop, exit 1, nothing written', async (_what, what, message) => {
    const root = await kernelRoot();
    const file = await put(root, 'etc/portage/bashrc', what);
    for (const action of ['install', 'uninstall'])
      expectError(await run(['hooks', action, '--root', root.dir]), 1, `${file}: ${message}`);
    await expect(readFile(path.join(root.dir, 'etc/gentoo-kopt/kernel-hook.bash'))).rejects.toThrow(/ENOENT/);
    await root.outsideUnchanged();
  });

  it.each([
    ['a VDB SLOT', `var/db/pkg/${KERNEL}/SLOT`],
    ['an ebuild', 'var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.12.59.ebuild'],
  ])('%s: sync-patches goes on without it, says so, and prunes nothing', async (_what, rel) => {
    const root = await kernelRoot();
    const file = await put(root, rel, 'fifo');
    const r = await run(['sync-patches', '--pretend', '--root', root.dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        ` * ${file}: ${FIFO}`,
        ' * problems while reading installed or available versions: nothing is pruned this run',
      ]),
    );
    await root.outsideUnchanged();
  });

  it.each([
    [
      'an env file',
      { 'etc/portage/package.env': `${KERNEL.replace(/-6.*/, '')} kernel.conf\n` },
      'etc/portage/env/kernel.conf',
      (f: string) => [f, undefined, FIFO],
    ],
    [
      'a make.conf source target',
      { 'etc/portage/make.conf': 'source extra.conf\n' },
      'etc/portage/extra.conf',
      (f: string, d: string) => [`${d}/etc/portage/make.conf`, 1, `source ${f}: ${FIFO}`],
    ],
  ])('%s: doctor reports it as a finding naming it', async (_what, tree, rel, expected) => {
    const root = await kernelRoot();
    for (const [k, v] of Object.entries(tree)) await put(root, k, { text: v });
    const file = await put(root, rel, 'fifo');
    const r = await run(['doctor', '--check', 'inputs', '--json', '--root', root.dir]);
    expect(r.exitCode).toBe(1);
    const [where, line, message] = expected(file, root.dir);
    expect(findings(r.stdout)).toEqual([
      expect.objectContaining({ where: line ? { file: where, line } : { file: where }, message }),
    ]);
    await root.outsideUnchanged();
  });
});

describe('content of files gentoo-kopt did not write is never printed, only file:line', () => {
  it('make.conf sourcing ../../../outside/shadow: doctor names the line, not what is on it', async () => {
    const root = await kernelRoot();
    await put(root, 'etc/portage/make.conf', { text: 'COMMON_FLAGS="-O2"\nsource ../../../outside/shadow\n' });
    const r = await run(['doctor', '--root', root.dir]);
    expect(r.stdout + r.stderr).not.toMatch(SECRETS);
    expect(r.stdout).toContain(`${root.outside}/shadow:2\n           expected NAME=value\n`);
    const j = await run(['doctor', '--check', 'inputs', '--json', '--root', root.dir]);
    expect(findings(j.stdout)).toEqual([
      expect.objectContaining({
        kind: 'file-malformed',
        where: { file: `${root.outside}/shadow`, line: 2 },
        message: 'expected NAME=value',
      }),
    ]);
    await root.outsideUnchanged();
  });

  it('package.env linked to outside/shadow: each line is "not a valid atom", nothing more', async () => {
    const root = await kernelRoot();
    await put(root, 'etc/portage/package.env', { symlink: path.join(root.outside, 'shadow') });
    const r = await run(['doctor', '--check', 'inputs', '--json', '--root', root.dir]);
    expect(r.stdout + r.stderr).not.toMatch(SECRETS);
    const file = path.join(root.dir, 'etc/portage/package.env');
    expect(findings(r.stdout).map((f) => [f.where, f.message])).toEqual(
      [1, 2].map((line) => [{ file, line }, 'not a valid atom (Portage ignores the line)']),
    );
    await root.outsideUnchanged();
  });

  it('hooks.json (a state file) linked to outside/shadow: doctor refuses the link, and JSON.parse never sees it', async () => {
    const root = await kernelRoot();
    const file = await put(root, 'var/lib/gentoo-kopt/hooks.json', { symlink: path.join(root.outside, 'shadow') });
    const r = await run(['doctor', '--check', 'inputs', '--json', '--root', root.dir]);
    expect(r.stdout + r.stderr).not.toMatch(SECRETS);
    expect(findings(r.stdout)).toEqual([
      expect.objectContaining({
        kind: 'file-unreadable',
        where: { file },
        message: 'is a symbolic link: gentoo-kopt does not follow links for its own state files',
      }),
    ]);
    await root.outsideUnchanged();
  });

  it.each([
    ['kopt.conf', 'etc/gentoo-kopt/kopt.conf', "expected 'key = value', '[section]' or a comment"],
    ['a catalog file', 'etc/gentoo-kopt/catalog.d/x.conf', "expected 'key = value', '[section]' or a comment"],
    ['a repos.conf file', 'etc/portage/repos.conf/x.conf', 'a line before any [section] header'],
  ])('%s linked to outside/shadow: sync-patches names file:line only', async (_what, rel, message) => {
    const root = await kernelRoot();
    const file = await put(root, rel, { symlink: path.join(root.outside, 'shadow') });
    expectError(await run(['sync-patches', '--pretend', '--root', root.dir]), 1, `${file}:1: ${message}`);
    await root.outsideUnchanged();
  });
});

describe('expansion is bounded', () => {
  it('repos.conf: ten levels of ten %(name)s references each is an error, not 10^10 steps', async () => {
    const root = await kernelRoot();
    const levels = Array.from({ length: 10 }, (_, i) => `a${i} = ${`%(a${i + 1})s`.repeat(10)}`);
    const file = await put(root, 'etc/portage/repos.conf/bomb.conf', {
      text: `[DEFAULT]\n${levels.join('\n')}\na10 = x\n`,
    });
    expectError(
      await run(['sync-patches', '--pretend', '--root', root.dir]),
      1,
      `${file}:2: 'a0': more than 100000 %(name)s references to resolve in this repos.conf`,
    );
    await root.outsideUnchanged();
  });

  it("repos.conf: more than ten levels is configparser's depth error", async () => {
    const root = await kernelRoot();
    const levels = Array.from({ length: 11 }, (_, i) => `b${i} = %(b${i + 1})s`);
    const file = await put(root, 'etc/portage/repos.conf/deep.conf', {
      text: `[DEFAULT]\n${levels.join('\n')}\nb11 = x\n`,
    });
    expectError(
      await run(['sync-patches', '--pretend', '--root', root.dir]),
      1,
      `${file}:2: 'b0': interpolation nested deeper than 10 (a loop?)`,
    );
    await root.outsideUnchanged();
  });

  it('make.conf: values that double line after line stop at the size bound', async () => {
    const root = await kernelRoot();
    const lines = ['A0="0123456789abcdef"', ...Array.from({ length: 40 }, (_, i) => `A${i + 1}="\${A${i}}\${A${i}}"`)];
    const file = await put(root, 'etc/portage/make.conf', { text: `${lines.join('\n')}\n` });
    const r = await run(['doctor', '--check', 'inputs', '--json', '--root', root.dir]);
    expect(r.exitCode).toBe(1);
    // 16 * 2^18 = 4 MiB: the value of A19 is the first one past it.
    expect(findings(r.stdout)).toEqual([
      expect.objectContaining({
        kind: 'file-malformed',
        where: { file, line: 20 },
        message: 'the value expands to more than 4194304 characters',
      }),
    ]);
    await root.outsideUnchanged();
  });
});

describe('doctor: kernel files, /proc and environment.bz2 are bounded too', () => {
  it('environment.bz2 that decompresses past the VDB limit: a finding, bzip2 killed, no crash', async () => {
    const root = await kernelRoot();
    const file = path.join(root.dir, `var/db/pkg/${KERNEL}/environment.bz2`);
    // Just over the cap (LIMITS.vdb: 16 MiB) of zeros: a few dozen bytes compressed.
    const bomb = execFileSync('bzip2', ['-c'], { input: Buffer.alloc(LIMITS.vdb.max + 1), maxBuffer: 1 << 20 });
    await writeFile(file, bomb);
    const r = await run(['doctor', '--check', 'rebuild-needed', '--json', '--root', root.dir]);
    expect(r.exitCode).toBe(1);
    expect(findings(r.stdout)).toEqual([
      expect.objectContaining({
        kind: 'file-unreadable',
        where: { file },
        message: `cannot read: environment.bz2 decompresses to more than ${LIMITS.vdb.max} bytes: refusing to read more`,
      }),
    ]);
    await root.outsideUnchanged();
  });

  it.each([
    ['environment.bz2', 'rebuild-needed', `var/db/pkg/${KERNEL}/environment.bz2`],
    ['a config.d fragment', 'kernel-config', 'etc/kernel/config.d/50-lto.config'],
    ['a dist-kernel file', 'kernel-config', 'usr/src/linux-6.12.58-gentoo-dist/dist-kernel'],
  ])('%s as a FIFO: a file-unreadable finding naming it, at once', async (_what, check, rel) => {
    const root = await kernelRoot();
    const file = await put(root, rel, 'fifo');
    const r = await run(['doctor', '--check', check, '--json', '--root', root.dir]);
    expect(r.exitCode).toBe(1);
    expect(findings(r.stdout)).toEqual([
      expect.objectContaining({
        kind: 'file-unreadable',
        where: { file },
        message: 'is a FIFO (named pipe), not a regular file',
      }),
    ]);
    await root.outsideUnchanged();
  });

  it("the root's proc/meminfo as a FIFO: this machine's is used instead, no hang", async () => {
    const root = await kernelRoot();
    await put(root, 'etc/gentoo-kopt/kopt.conf', {
      text: 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nlto = full\n',
    });
    const resources = async (): Promise<unknown[]> => {
      const r = await run(['doctor', '--check', 'resources', '--json', '--root', root.dir]);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return lines.filter((l) => l.type !== 'summary');
    };
    await rm(path.join(root.dir, 'proc/meminfo'), { force: true });
    const machine = await resources();
    expect(machine[0]).toMatchObject({ check: 'resources', status: expect.stringMatching(/^(ok|findings)$/) });
    await put(root, 'proc/meminfo', 'fifo');
    expect(await resources()).toEqual(machine);
    await root.outsideUnchanged();
  });
});

describe('versions past what a number holds', () => {
  it('gentoo-kernel-6.99999999999999999999.1 in the VDB and in an overlay: skipped with a note naming each, the rest synced', async () => {
    const big = 'sys-kernel/gentoo-kernel-6.99999999999999999999.1';
    const root = await hostileRoot({
      installed: [KERNEL, big],
      available: [KERNEL, 'sys-kernel/gentoo-kernel-6.12.99999999999999999999'],
    });
    const r = await run(['sync-patches', '--pretend', '--root', root.dir]);
    expect(r.exitCode).toBe(0);
    const why = (v: string): string =>
      `'${v}' is not a dist-kernel version: a number too large for a kernel version; skipped`;
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        ` * ${root.dir}/var/db/pkg/${big}: ${big}: ${why('6.99999999999999999999.1')}`,
        ` * ${root.dir}/var/db/repos/gentoo/sys-kernel/gentoo-kernel/gentoo-kernel-6.12.99999999999999999999.ebuild: sys-kernel/gentoo-kernel-6.12.99999999999999999999: ${why('6.12.99999999999999999999')}`,
      ]),
    );
    expect(r.stdout).toMatch(/^ {2}sys-kernel\/gentoo-kernel-6\.12\.58 +kernel 6\.12\.58 /m);
    await root.outsideUnchanged();
  });
});

describe('numbers in patches are bounded', () => {
  it("a hunk start above 2^53: GNU patch's verdict, at once, and the diff reader's refusal naming the patch and line", async () => {
    const root = await kernelRoot();
    const tarball = await kernelTarball(root.dir, { Makefile: numbered(20) }, { how: 'none', filler: 0 });
    const patch = await put(root, 'huge.patch', {
      text: '--- a/Makefile\n+++ b/Makefile\n@@ -99999999999999999,1 +99999999999999999,1 @@\n-line 1\n+line one\n',
    });
    const r = await run(['verify', '--tarball', tarball, '--patches', patch]);
    // GNU patch finds the hunk at line 1, an offset of -99999999999999998 lines, and applies it
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ {2}huge\.patch: applies with offset: Makefile hunk #1 at 1 \(offset -\d+ lines\); /m);
    expect(r.stdout).toContain(
      '; the diff reader refused it (no details): malformed patch: the hunk header has a line number or count of 2^31 or more (99999999999999999) (line 3)',
    );
    await root.outsideUnchanged();
  });
});

/** Sets the typeflag of `member`'s header in a plain tar archive, with the header checksum redone. */
function withTypeflag(archive: Buffer, member: string, flag: string): Buffer {
  const out = Buffer.from(archive);
  for (let at = 0; at + 512 <= out.length; at += 512) {
    if (out.toString('latin1', at, at + member.length + 1) !== `${member}\0`) continue;
    out.write(flag, at + 156, 'latin1');
    out.fill(' ', at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += out[i]!;
    out.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
    return out;
  }
  throw new Error(`no header for ${member}`);
}

describe('decompressed data is capped; members that are not files are refused', () => {
  const DEMO = path.join(PROJECT, 'patches/example');
  const FIRST = 'kopt-demo/6.12/0001-demo-lto-gcc-kconfig.patch';
  const SECOND = 'kopt-demo/6.12/0002-demo-lto-gcc-makefile.patch';
  const demoMember = async (name: string): Promise<Member> => ({
    name,
    content: await readFile(path.join(DEMO, name)),
  });

  /** A root whose kopt.conf takes its patches from `members`, as <root>/source.tar(.gz). */
  async function tarballSource(
    members: Member[],
    edit: (tar: Buffer) => Buffer = (t) => t,
  ): Promise<{ root: HostileRoot; tarball: string }> {
    const root = await kernelRoot();
    const tarball = path.join(root.dir, 'source.tar.gz');
    await writeFile(tarball, gzipSync(edit(await tarOf(members))));
    await put(root, 'etc/gentoo-kopt/kopt.conf', { text: defaultConf(tarball) });
    return { root, tarball };
  }
  const at = (root: HostileRoot): string => `(patch-source at ${root.dir}/etc/gentoo-kopt/kopt.conf:3)`;

  it("a patch-source member just over a patch file's limit: refused by its header, before it is read", async () => {
    const { root, tarball } = await tarballSource([
      { name: FIRST, content: Buffer.alloc(LIMITS.patch.max + 1) },
      await demoMember(SECOND),
    ]);
    const r = await run(['sync-patches', '--pretend', '--root', root.dir]);
    expectError(
      r,
      1,
      `${tarball}: tarball member '${FIRST}' is ${LIMITS.patch.max + 1} bytes: a patch file may be at most ${LIMITS.patch.max} bytes ${at(root)}`,
    );
    await root.outsideUnchanged();
  });

  it("a GNU sparse member (typeflag 'S') holding the right bytes is not taken for a file", async () => {
    const { root, tarball } = await tarballSource([await demoMember(FIRST), await demoMember(SECOND)], (t) =>
      withTypeflag(t, FIRST, 'S'),
    );
    const r = await run(['sync-patches', '--pretend', '--root', root.dir]);
    expectError(
      r,
      1,
      `${tarball}: tarball member '${FIRST}' is of a type gentoo-kopt does not read (a GNU sparse file, a volume header or another non-POSIX kind) ${at(root)}`,
    );
    await root.outsideUnchanged();
  });

  it('a member with GNU.sparse.* pax attributes is refused, wanted or not', async () => {
    const sparse = {
      name: 'other/x.bin',
      content: 'x',
      pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '1' },
    } as Member;
    const { root, tarball } = await tarballSource([sparse, await demoMember(FIRST), await demoMember(SECOND)]);
    const r = await run(['sync-patches', '--pretend', '--root', root.dir]);
    expectError(
      r,
      1,
      `${tarball}: tarball member 'other/x.bin' is a GNU sparse file (GNU.sparse.* pax attributes) ${at(root)}`,
    );
    await root.outsideUnchanged();
  });

  it.each([['gzip'], ['xz']] as const)(
    'walkTar (%s): the whole stream is capped, and the decompressor stopped there',
    async (how) => {
      const root = await kernelRoot();
      const file = path.join(root.dir, `t${how === 'xz' ? '.tar.xz' : '.tar.gz'}`);
      await writeFile(file, compress(await tarOf([{ name: 'zeros', content: Buffer.alloc(4 << 20) }]), how));
      const walk = walkTar(file, how, {
        maxMember: LIMITS.patch,
        maxTotal: 1 << 20,
        visit: () => false,
        onData: () => undefined,
      });
      await expect(walk).rejects.toMatchObject({
        reason: 'refused',
        message: `${path.basename(file)} decompresses to more than ${1 << 20} bytes: refusing to read more`,
      });
      await root.outsideUnchanged();
    },
  );

  it("verify --tarball: a kept member just over a source file's limit is an error naming it", async () => {
    const max = 64 * 1024 * 1024; // LIMITS.source
    const root = await kernelRoot();
    const tarball = await kernelTarball(root.dir, { Makefile: Buffer.alloc(max + 1) }, { how: 'gzip', filler: 0 });
    const patch = await put(root, 'p.patch', { text: '--- a/Makefile\n+++ b/Makefile\n@@ -1,1 +1,1 @@\n-x\n+y\n' });
    const r = await run(['verify', '--tarball', tarball, '--patches', patch]);
    expectError(
      r,
      1,
      `${tarball}: tarball member 'linux-6.1/Makefile' is ${max + 1} bytes: a kernel source file may be at most ${max} bytes`,
    );
    await root.outsideUnchanged();
  });

  it.each([
    [
      '--tarball',
      (fifo: string, other: string) => ['--tarball', fifo, '--patches', other],
      (fifo: string) => `${fifo}: cannot read linux-6.1.tar.xz: it is a FIFO (named pipe), not a regular file`,
    ],
    [
      '--patches',
      (fifo: string, other: string) => ['--tarball', other, '--patches', fifo],
      (fifo: string) => `${fifo}: is a FIFO (named pipe), not a regular file`,
    ],
  ])('verify %s naming a FIFO: an error naming it, at once', async (option, args, message) => {
    const root = await kernelRoot();
    const fifo = await put(root, option === '--tarball' ? 'linux-6.1.tar.xz' : 'fifo.patch', 'fifo');
    const other =
      option === '--tarball'
        ? await put(root, 'p.patch', { text: '--- a/Makefile\n+++ b/Makefile\n@@ -1,1 +1,1 @@\n-x\n+y\n' })
        : await kernelTarball(root.dir, { Makefile: 'x\n' }, { how: 'gzip', filler: 0 });
    expectError(await run(['verify', ...args(fifo, other)]), 1, message(fifo));
    await root.outsideUnchanged();
  });
});

describe('work that bad input can make quadratic is bounded; what it can break is a message, not a stack trace', () => {
  async function verifyOne(patchText: string, makefile = numbered(20)) {
    const root = await kernelRoot();
    const tarball = await kernelTarball(root.dir, { Makefile: makefile }, { how: 'gzip', filler: 0 });
    const patch = await put(root, 'x.patch', { text: patchText });
    return { root, r: await run(['verify', '--tarball', tarball, '--patches', patch]) };
  }

  it('a failing hunk of 200,000 lines against a file as long: its report costs no more than a short one', async () => {
    const body = `${' x\n'.repeat(199_999)}-y\n+z\n`;
    const { root, r } = await verifyOne(
      `--- a/Makefile\n+++ b/Makefile\n@@ -1,200000 +1,200000 @@\n${body}`,
      numbered(200_000),
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(
      "  x.patch: FAILS\n      Makefile: hunk #1 (patch line 3) FAILED at 1: line 1 should be 'x', is 'line 1'\n",
    );
    await root.outsideUnchanged();
  });

  it("a tarball holding both 'a' and 'a/b': an error naming the path, no stack trace", async () => {
    const root = await kernelRoot();
    const tarball = path.join(root.dir, 'linux-6.1.tar.gz');
    await writeFile(
      tarball,
      gzipSync(
        await tarOf([
          { name: 'linux-6.1/', type: 'directory' },
          { name: 'linux-6.1/a', content: 'x\n' },
          { name: 'linux-6.1/a/b', content: 'y\n' },
        ]),
      ),
    );
    const patch = await put(root, 'p.patch', {
      text: '--- a/a\n+++ b/a\n@@ -1,1 +1,1 @@\n-x\n+X\n--- a/a/b\n+++ b/a/b\n@@ -1,1 +1,1 @@\n-y\n+Y\n',
    });
    expectError(
      await run(['verify', '--tarball', tarball, '--patches', patch]),
      1,
      "cannot copy 'a/b' to the scratch tree GNU patch runs in: EEXIST",
    );
    await root.outsideUnchanged();
  });
});
