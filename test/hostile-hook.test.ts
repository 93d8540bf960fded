// The hook as an attacker or a careless admin would meet it: the real bashrc block and the real hook in
// real bash (helpers/portage-phases.ts), against files another user could have written, bad input in
// place of the settings, shell state the user's bashrc sets, and old saved environments. Every case
// states the exact message and proves that nothing ran (a marker file that must not appear).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { access, appendFile, chmod, chown, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir, writeTree, type Tree } from './helpers/tree.js';
import {
  PHASES,
  runPhase,
  runPhases,
  exported,
  messages,
  type Package,
  type Phase,
  type PhaseOptions,
} from './helpers/portage-phases.js';
import { insertBlock } from '../src/hooks/bashrc-block.js';
import { compileSettings } from '../src/hooks/settings.js';
import { parseConfig } from '../src/config/kopt-conf.js';
import { LLVM_SLOT_TOOLS, llvmEnv, TOOLCHAIN } from '../src/hooks/toolchain.js';
import { doctorRoot, type DoctorRoot } from './helpers/doctor-root.js';
import { doctorCommand, type DoctorReport } from '../src/commands/doctor.js';

const HOOK_SOURCE = path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash');
const KERNEL: Package = { category: 'sys-kernel', pn: 'gentoo-kernel', pv: '6.6.58' };
const PF = 'sys-kernel/gentoo-kernel-6.6.58';
const CONF = 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nkcflags = -O2 -pipe\nseries = kopt-demo\n';
const IS_ROOT = process.getuid?.() === 0;
/** A uid that is neither root nor us. */
const OTHER_UID = 65534;
/** A hang fails the test after this long (a phase takes well under a second). */
const TIMEOUT = 15_000;

interface Root {
  dir: string;
  o: PhaseOptions;
  conf: string;
  hook: string;
  settings: string;
  node: string;
  bin: string;
  /** The file a hostile command would create. */
  marker: string;
  stubLog: string;
}

/**
 * A config root with the block in bashrc, the hook and settings compiled from `conf`, an LLVM slot 20
 * under EPREFIX, and a stub node that logs its arguments and LC_ALL. Modes are set explicitly (0755
 * directories, 0644 files), so the umask of the test run does not matter.
 */
async function root(opts: { conf?: string; tree?: Tree; env?: Record<string, string> } = {}): Promise<Root> {
  const slot: Tree = {};
  for (const tool of LLVM_SLOT_TOOLS)
    slot[`eprefix/usr/lib/llvm/20/bin/${tool}`] = { content: '#!/bin/sh\n', mode: 0o755 };
  const dir = await testdir({ ...slot, ...opts.tree });
  const conf = path.join(dir, 'config/etc/gentoo-kopt');
  const r: Root = {
    dir,
    conf,
    hook: path.join(conf, 'kernel-hook.bash'),
    settings: path.join(conf, 'hook-settings'),
    node: path.join(dir, 'bin/node'),
    bin: path.join(dir, 'lib/dist/bin.js'),
    marker: path.join(dir, 'pwned'),
    stubLog: path.join(dir, 'stub.log'),
    o: {
      configRoot: path.join(dir, 'config'),
      tmp: path.join(dir, 'build/temp'),
      eprefix: path.join(dir, 'eprefix'),
      root: path.join(dir, 'root'),
      env: opts.env,
      timeoutMs: TIMEOUT,
    },
  };
  await writeTree(dir, {
    // what the hook passed on: its arguments, the locale, and any variable of its own (allexport)
    'bin/node': {
      content: `#!/bin/bash\nprintf 'ARGS %s LC_ALL=%s LEAKED=%s\\n' "$*" "\${LC_ALL-unset}" "$(compgen -e | grep -E '^(k_|kopt_|KOPT_|GENTOO_KOPT_)' | paste -sd, -)" >> '${r.stubLog}'\n`,
      mode: 0o755,
    },
    'lib/dist/bin.js': { content: '// stub\n', mode: 0o644 },
    'config/etc/portage/bashrc': insertBlock('', 'bashrc'),
    'config/etc/gentoo-kopt/kernel-hook.bash': { content: await readFile(HOOK_SOURCE), mode: 0o644 },
    'config/etc/gentoo-kopt/hook-settings': {
      content: compileSettings(parseConfig(opts.conf ?? CONF, path.join(conf, 'kopt.conf')), {
        node: r.node,
        bin: r.bin,
      }),
      mode: 0o644,
    },
  });
  for (const d of ['', 'config', 'config/etc', 'config/etc/gentoo-kopt', 'bin', 'lib', 'lib/dist'])
    await chmod(path.join(dir, d), 0o755);
  return r;
}

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );
const stubRuns = async (r: Root): Promise<string[]> =>
  (await readFile(r.stubLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
const blockRefusal = (r: Root): string =>
  `WARN gentoo-kopt: not reading ${r.hook}: it or its directory is unsafe (run: gentoo-kopt doctor)`;
const notSynced = `: ${PF} is built without syncing its patch series`;
const statuses = (rs: { status: number }[]): number[] => rs.map((x) => x.status);

/** The variables gentoo-kopt may export, after one phase. */
async function toolchainExports(r: Root, phase: Phase): Promise<Record<string, string | undefined>> {
  const ex = await exported(r.o.tmp, phase);
  return Object.fromEntries(
    ['KCFLAGS', 'LLVM', 'LLVM_IAS', ...TOOLCHAIN.map((t) => t.variable)].map((n) => [n, ex.get(n)]),
  );
}
const nothingExported = async (r: Root): Promise<void> => {
  for (const phase of PHASES)
    expect(Object.values(await toolchainExports(r, phase)).filter((v) => v !== undefined)).toEqual([]);
};

describe('the block reads the hook only when it and its directory are safe', () => {
  const appendMarker = (r: Root): Promise<void> => appendFile(r.hook, `\ntouch '${r.marker}'\n`);

  it.each([
    [
      'a world-writable hook (0666) with a command appended',
      async (r: Root) => {
        await appendMarker(r);
        await chmod(r.hook, 0o666);
      },
    ],
    [
      'a group-writable hook (0664) with a command appended',
      async (r: Root) => {
        await appendMarker(r);
        await chmod(r.hook, 0o664);
      },
    ],
    [
      'etc/gentoo-kopt at 0777, the hook replaced',
      async (r: Root) => {
        await chmod(r.conf, 0o777);
        await appendMarker(r);
      },
    ],
    [
      'etc/gentoo-kopt group-writable (0775), the hook replaced',
      async (r: Root) => {
        await chmod(r.conf, 0o775);
        await appendMarker(r);
      },
    ],
    [
      'the hook a symlink to a copy in a world-writable directory',
      async (r: Root) => {
        await mkdir(path.join(r.dir, 'drop'), { mode: 0o777 });
        await chmod(path.join(r.dir, 'drop'), 0o777);
        await appendMarker(r);
        await rename(r.hook, path.join(r.dir, 'drop/kernel-hook.bash'));
        await symlink(path.join(r.dir, 'drop/kernel-hook.bash'), r.hook);
      },
    ],
  ])('%s: refused with the fix, nothing runs, once per build', async (_name, spoil) => {
    const r = await root();
    await spoil(r);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await exists(r.marker)).toBe(false);
    expect(await messages(r.o.tmp)).toEqual([blockRefusal(r)]);
    expect(await stubRuns(r)).toEqual([]);
    await nothingExported(r);
  });

  it.skipIf(!IS_ROOT)('the hook replaced by a file of another user: refused', async () => {
    const r = await root();
    await appendMarker(r);
    await chown(r.hook, OTHER_UID, OTHER_UID);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await exists(r.marker)).toBe(false);
    expect(await messages(r.o.tmp)).toEqual([blockRefusal(r)]);
  });

  it.skipIf(!IS_ROOT)('etc/gentoo-kopt owned by another user: refused', async () => {
    const r = await root();
    await appendMarker(r);
    await chown(r.conf, OTHER_UID, OTHER_UID);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await exists(r.marker)).toBe(false);
    expect(await messages(r.o.tmp)).toEqual([blockRefusal(r)]);
  });

  it('a FIFO in place of the hook: refused at once, no hang', async () => {
    const r = await root();
    await rm(r.hook);
    expect(spawnSync('mkfifo', ['-m', '0644', r.hook]).status).toBe(0);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([blockRefusal(r)]);
  });

  it('a missing hook: nothing at all, as before', async () => {
    const r = await root();
    await rm(r.hook);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([]);
  });
});

describe('node and bin run in setup only when they and their directories are safe', () => {
  const markingNode = (r: Root): Promise<void> => writeFile(r.node, `#!/bin/bash\ntouch '${r.marker}'\n`);
  it.each([
    [
      'a world-writable node (0777)',
      async (r: Root) => {
        await markingNode(r);
        await chmod(r.node, 0o777);
      },
      (r: Root) => `${r.node} is writable by group or others (fix: chmod go-w '${r.node}')`,
    ],
    [
      "node's directory world-writable",
      async (r: Root) => {
        await markingNode(r);
        await chmod(path.dirname(r.node), 0o777);
      },
      (r: Root) => `${path.dirname(r.node)} is writable by group or others (fix: chmod go-w '${path.dirname(r.node)}')`,
    ],
    [
      'a group-writable bin (0664)',
      async (r: Root) => {
        await markingNode(r);
        await chmod(r.bin, 0o664);
      },
      (r: Root) => `${r.bin} is writable by group or others (fix: chmod go-w '${r.bin}')`,
    ],
    [
      "bin's directory world-writable",
      async (r: Root) => {
        await markingNode(r);
        await chmod(path.dirname(r.bin), 0o777);
      },
      (r: Root) => `${path.dirname(r.bin)} is writable by group or others (fix: chmod go-w '${path.dirname(r.bin)}')`,
    ],
    [
      'node a symlink into a world-writable directory',
      async (r: Root) => {
        await mkdir(path.join(r.dir, 'drop'));
        await chmod(path.join(r.dir, 'drop'), 0o777);
        await writeFile(path.join(r.dir, 'drop/node'), `#!/bin/bash\ntouch '${r.marker}'\n`, { mode: 0o755 });
        await rm(r.node);
        await symlink(path.join(r.dir, 'drop/node'), r.node);
      },
      (r: Root) => `${r.node} is not a regular file (run: gentoo-kopt hooks install)`,
    ],
  ])('%s: not run, an ewarn with the fix, the build goes on', async (_name, spoil, problem) => {
    const r = await root();
    await spoil(r);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await exists(r.marker)).toBe(false);
    expect((await messages(r.o.tmp)).filter((m) => !m.startsWith('INFO'))).toEqual([
      `WARN gentoo-kopt: ${problem(r)}${notSynced}`,
    ]);
    // the rest of the hook still applies kopt.conf
    expect(await toolchainExports(r, 'compile')).toEqual({ KCFLAGS: '-O2 -pipe', ...llvmEnv(r.o.eprefix!, 20) });
  });

  it.skipIf(!IS_ROOT)('node owned by another user: not run', async () => {
    const r = await root();
    await markingNode(r);
    await chown(r.node, OTHER_UID, OTHER_UID);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await exists(r.marker)).toBe(false);
    expect((await messages(r.o.tmp)).filter((m) => m.startsWith('WARN'))).toEqual([
      `WARN gentoo-kopt: ${r.node} is not owned by root (fix: chown root:root '${r.node}')${notSynced}`,
    ]);
  });

  it('strict = yes: an unsafe node stops the build, as a failed sync does', async () => {
    const r = await root({ conf: `${CONF}strict = yes\n` });
    await markingNode(r);
    await chmod(r.node, 0o777);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual([1]);
    expect(await exists(r.marker)).toBe(false);
    expect((await messages(r.o.tmp)).at(-1)).toBe(
      `DIE gentoo-kopt: ${r.node} is writable by group or others (fix: chmod go-w '${r.node}'); strict = yes stops the build`,
    );
  });
});

describe('the settings file as bad input: checked before it is read', () => {
  const ignored = (r: Root, why: string): string =>
    `WARN gentoo-kopt: ${r.settings} ${why}: settings ignored (run: gentoo-kopt hooks install)`;

  it('a FIFO: ignored at once, the setup phase does not hang', async () => {
    const r = await root();
    await rm(r.settings);
    expect(spawnSync('mkfifo', ['-m', '0644', r.settings]).status).toBe(0);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([ignored(r, 'is not a regular file')]);
    await nothingExported(r);
  });

  it('/dev/zero (a device node, or a symlink to it when not root): ignored, nothing read', async () => {
    const r = await root();
    await rm(r.settings);
    const made = IS_ROOT && spawnSync('mknod', ['-m', '0644', r.settings, 'c', '1', '5']).status === 0;
    if (!made) await symlink('/dev/zero', r.settings);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([ignored(r, 'is not a regular file')]);
    await nothingExported(r);
  });

  it('a symlink to a settings file in a world-writable directory: ignored', async () => {
    const r = await root();
    await mkdir(path.join(r.dir, 'drop'));
    await chmod(path.join(r.dir, 'drop'), 0o777);
    await rename(r.settings, path.join(r.dir, 'drop/hook-settings'));
    await symlink(path.join(r.dir, 'drop/hook-settings'), r.settings);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([ignored(r, 'is not a regular file')]);
    await nothingExported(r);
  });

  it('a huge file (over 64 KiB): ignored without reading it', async () => {
    const r = await root();
    await appendFile(r.settings, `${'#'.repeat(1023)}\n`.repeat(2048));
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await messages(r.o.tmp)).toEqual([
      `WARN gentoo-kopt: ${r.settings} is larger than 64 KiB: settings ignored (run: gentoo-kopt hooks install)`,
    ]);
    await nothingExported(r);
  });
});

/**
 * Shell state set in bashrc before the block, then the block, with the state recorded just before and
 * just after it, then the state taken back (so the emulator's own code runs as usual).
 */
const SNAPSHOT = (when: string): string =>
  `{ declare -p; declare -F; shopt -p; set +o; echo "flags=$-"; } > "\${T}/state.${when}.\${EBUILD_PHASE}" 2>&1\n`;
const VOLATILE =
  /^declare -[-a-zA-Z]* (_|BASH_LINENO|BASH_SOURCE|BASH_ARGC|BASH_ARGV|BASH_COMMAND|LINENO|RANDOM|SECONDS|SRANDOM|EPOCHREALTIME|EPOCHSECONDS|PIPESTATUS|KOPT_DONE|KOPT_EXPORT|KOPT_UNSET)(=|$)/;

/** What the hook exports on purpose: the rest of the state must come out of the block as it went in. */
const OURS = new RegExp(
  `^declare -x (${['KCFLAGS', 'LLVM', 'LLVM_IAS', ...TOOLCHAIN.map((t) => t.variable)].join('|')})=`,
);

async function state(r: Root, when: 'before' | 'after', phase: Phase): Promise<string[]> {
  return (await readFile(path.join(r.o.tmp, `state.${when}.${phase}`), 'utf8'))
    .split('\n')
    .filter((l) => l !== '' && !VOLATILE.test(l) && !OURS.test(l));
}

async function withState(r: Root, set: string, undo: string): Promise<void> {
  const bashrc = path.join(r.o.configRoot, 'etc/portage/bashrc');
  await writeFile(bashrc, `${set}\n${SNAPSHOT('before')}${insertBlock('', 'bashrc')}${SNAPSHOT('after')}${undo}\n`);
}

describe("shell state the user's bashrc sets does not change what the hook prints or exports", () => {
  const locales = (() => {
    // en_US.UTF-8, where [a-z] in a regular expression matches é and [0-9] matches ² (glibc 2.36)
    // (made once with localedef, when the locale sources are installed: Debian's `locales`)
    const dir = path.join(os.tmpdir(), 'gentoo-kopt-test-locales');
    if (!existsSync(path.join(dir, 'en_US.UTF-8/LC_COLLATE'))) {
      mkdirSync(dir, { recursive: true });
      spawnSync('localedef', ['-i', 'en_US', '-f', 'UTF-8', path.join(dir, 'en_US.UTF-8')]);
    }
    return existsSync(path.join(dir, 'en_US.UTF-8/LC_COLLATE')) ? dir : undefined;
  })();

  const cases: [
    name: string,
    set: string,
    undo: string,
    opts?: { edit?: (s: string) => string; tree?: Tree; env?: Record<string, string> },
  ][] = [
    ['IFS=- (splits "kopt-demo" in the summary)', 'IFS=-', "IFS=$' \\t\\n'"],
    [
      'nocasematch (a hand-edited toolchain=LLVM is not a value the hook accepts)',
      'shopt -s nocasematch',
      'shopt -u nocasematch',
      { edit: (s) => s.replace('gentoo-kernel.toolchain=llvm', 'gentoo-kernel.toolchain=LLVM') },
    ],
    ['extglob', 'shopt -s extglob', 'shopt -u extglob'],
    ["GLOBIGNORE='*' (every glob would come back empty)", "GLOBIGNORE='*'", 'unset GLOBIGNORE'],
    [
      'dotglob (a hidden fragment in config.d is not one kernel-build.eclass merges)',
      'shopt -s dotglob',
      'shopt -u dotglob',
      { tree: { 'eprefix/etc/kernel/config.d/.hidden.config': 'CONFIG_X=y\n' } },
    ],
    ['set -u', 'set -u', 'set +u'],
    ['set -e', 'set -e', 'set +e'],
    ['set -a (allexport: nothing of the hook reaches node or the environment)', 'set -a', 'set +a'],
    [
      'noglob, failglob, nullglob, nocaseglob',
      'set -f; shopt -s failglob nullglob nocaseglob',
      'set +f; shopt -u failglob nullglob nocaseglob',
    ],
    [
      'a function named stat',
      `stat() { touch "\${KOPT_MARKER}"; echo '0 drwxr-xr-x 1'; echo '0 -rw-r--r-- 1'; echo '0 -rw-r--r-- 1'; }`,
      'unset -f stat',
    ],
    ['a function named read', `read() { touch "\${KOPT_MARKER}"; return 1; }`, 'unset -f read'],
    [
      "set +B (no brace expansion: the hook looks for lto = gcc's patches in eapply_user's directories with one)",
      'set +B',
      'set -B',
      {
        edit: (s) => s.replace('gentoo-kernel.lto=none', 'gentoo-kernel.lto=gcc'),
        tree: { 'config/etc/portage/patches/sys-kernel/gentoo-kernel/00-gentoo-kopt-1-gcc-lto-01-0001-x.patch': 'x\n' },
      },
    ],
  ];
  if (locales) {
    cases.push([
      'LC_ALL=en_US.UTF-8 ([a-z] matches é: a hand-edited series "kopt-démo" is not accepted)',
      '',
      '',
      {
        edit: (s) => s.replace('series=kopt-demo', 'series=kopt-démo'),
        env: { LOCPATH: locales, LC_ALL: 'en_US.UTF-8' },
      },
    ]);
  }

  it.each(cases)('%s', async (_name, set, undo, opts = {}) => {
    const make = async (): Promise<Root> => {
      const r = await root({ tree: opts.tree });
      if (opts.edit) await writeFile(r.settings, opts.edit(await readFile(r.settings, 'utf8')));
      return r;
    };
    const plain = await make();
    await withState(plain, '', '');
    const r = await make();
    r.o.env = { ...opts.env, KOPT_MARKER: r.marker };
    plain.o.env = { KOPT_MARKER: plain.marker };
    await withState(r, set, undo);
    const [pr, rr] = [await runPhases(KERNEL, plain.o), await runPhases(KERNEL, r.o)];
    expect(statuses(rr)).toEqual(statuses(pr));
    const norm = (x: unknown, root: Root): unknown => JSON.parse(JSON.stringify(x).replaceAll(root.dir, '<dir>'));
    expect(norm(await messages(r.o.tmp), r)).toEqual(norm(await messages(plain.o.tmp), plain));
    for (const phase of PHASES.slice(0, pr.length)) {
      expect(norm(await toolchainExports(r, phase), r)).toEqual(norm(await toolchainExports(plain, phase), plain));
      expect(await state(r, 'after', phase)).toEqual(await state(r, 'before', phase));
    }
    // node ran the same way, with the user's own locale; no function of the user's ran
    expect(norm(await stubRuns(r), r)).toEqual(
      norm(
        (await stubRuns(plain)).map((l) =>
          opts.env?.LC_ALL ? l.replace('LC_ALL=unset', `LC_ALL=${opts.env.LC_ALL}`) : l,
        ),
        plain,
      ),
    );
    expect(await exists(r.marker)).toBe(false);
  });
});

/** What a block check in `phase` adds to the counting `stat`'s log: one stat process. */
const blockStat = (phase: string): string[] => [phase];

describe('which phases check, and which repeat what setup recorded', () => {
  /** A `stat` first in PATH that logs the phase it ran in. */
  async function countingStat(r: Root): Promise<string> {
    const log = path.join(r.dir, 'stat.log');
    await writeTree(r.dir, {
      'pathbin/stat': {
        content: `#!/bin/bash\necho "\${EBUILD_PHASE}" >> '${log}'\nexec /usr/bin/stat "$@"\n`,
        mode: 0o755,
      },
    });
    r.o.env = { ...r.o.env, PATH: `${path.join(r.dir, 'pathbin')}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    return log;
  }
  const lines = async (file: string): Promise<string[]> =>
    (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  /** Replaces the hook (safely: root's, 0644) by one that only leaves the marker: reading it shows. */
  const markingHook = (r: Root): Promise<void> => writeFile(r.hook, `touch '${r.marker}'\n`);

  it('setup stats once for the hook and once for node and bin; the later phases neither fork nor read the hook', async () => {
    const r = await root();
    const log = await countingStat(r);
    await runPhase(KERNEL, 'setup', r.o);
    await markingHook(r);
    // as real Portage runs them: misc-functions.sh ('') after install, preinst and postinst; package for buildpkg
    const later = [...PHASES.slice(1), '', 'package', 'preinst', '', 'postinst', ''] as const;
    expect(statuses(await runPhases(KERNEL, r.o, later))).toEqual(later.map(() => 0));
    expect(await lines(log)).toEqual([...blockStat('setup'), 'setup']);
    expect(await exists(r.marker)).toBe(false);
    for (const phase of [...PHASES, '', 'package', 'preinst', 'postinst'] as const) {
      expect(await toolchainExports(r, phase)).toEqual({ KCFLAGS: '-O2 -pipe', ...llvmEnv(r.o.eprefix!, 20) });
    }
  });

  it('clean (which only removes the build directory) neither reads the hook nor forks', async () => {
    const r = await root();
    const log = await countingStat(r);
    await markingHook(r);
    expect((await runPhase(KERNEL, 'clean', r.o)).status).toBe(0);
    expect(await lines(log)).toEqual([]);
    expect(await exists(r.marker)).toBe(false);
    expect(await messages(r.o.tmp)).toEqual([]);
  });

  it('a later phase repeats the exports over what bashrc sets before the block', async () => {
    const r = await root();
    const bashrc = path.join(r.o.configRoot, 'etc/portage/bashrc');
    await writeFile(bashrc, `export CC=gcc KCFLAGS=-O1\n${insertBlock('', 'bashrc')}`);
    await writeFile(r.settings, (await readFile(r.settings, 'utf8')).replace('.mixed=die', '.mixed=warn'));
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    for (const phase of PHASES)
      expect(await toolchainExports(r, phase)).toEqual({ KCFLAGS: '-O2 -pipe', ...llvmEnv(r.o.eprefix!, 20) });
  });

  it('a later phase repeats the unsets too (toolchain = gnu, LLVM tools set by bashrc before the block)', async () => {
    const r = await root({ conf: CONF.replace('toolchain = llvm', 'toolchain = gnu') });
    const log = await countingStat(r);
    const bashrc = path.join(r.o.configRoot, 'etc/portage/bashrc');
    await writeFile(bashrc, `export LD=ld.lld LLVM=1 BUILD_CC=clang\n${insertBlock('', 'bashrc')}`);
    await writeFile(r.settings, (await readFile(r.settings, 'utf8')).replace('.mixed=die', '.mixed=warn'));
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    expect(await lines(log)).toEqual([...blockStat('setup'), 'setup']);
    for (const phase of PHASES) {
      const ex = await exported(r.o.tmp, phase);
      expect([ex.get('LD'), ex.get('LLVM'), ex.get('BUILD_CC'), ex.get('KCFLAGS')]).toEqual([
        undefined,
        undefined,
        undefined,
        '-O2 -pipe',
      ]);
    }
  });

  it('config restores an environment that may be old: it checks again, and refuses a hook made unsafe since', async () => {
    const r = await root();
    const log = await countingStat(r);
    expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
    await appendFile(r.hook, `\ntouch '${r.marker}'\n`);
    await chmod(r.hook, 0o666);
    expect((await runPhase(KERNEL, 'config', r.o)).status).toBe(0);
    expect((await lines(log)).filter((p) => p === 'config')).toEqual(blockStat('config'));
    expect(await exists(r.marker)).toBe(false);
    expect((await messages(r.o.tmp)).at(-1)).toBe(blockRefusal(r));
  });

  it.each(['prerm', 'postrm', 'info', 'pretend'] as const)(
    '%s compiles nothing and hands nothing on: it neither stats nor reads the hook, even an unsafe one',
    async (phase) => {
      const r = await root();
      const log = await countingStat(r);
      expect(statuses(await runPhases(KERNEL, r.o))).toEqual(PHASES.map(() => 0));
      const before = (await messages(r.o.tmp)).length;
      await appendFile(r.hook, `\ntouch '${r.marker}'\n`);
      await chmod(r.hook, 0o666);
      expect((await runPhase(KERNEL, phase, r.o)).status).toBe(0);
      expect((await lines(log)).filter((p) => p === phase)).toEqual([]);
      expect(await exists(r.marker)).toBe(false);
      expect((await messages(r.o.tmp)).slice(before)).toEqual([]);
    },
  );

  it("a binary package's setup checks, whatever record its builder's environment holds", async () => {
    const r = await root();
    const log = await countingStat(r);
    // the builder's environment, as Portage extracts it from the binary package, with a current record
    await mkdir(r.o.tmp, { recursive: true });
    const now = Math.floor(Date.now() / 1000)
      .toString()
      .slice(0, 6);
    await writeFile(
      path.join(r.o.tmp, 'environment'),
      `declare -- KOPT_DONE="b${now} b${Number(now) + 1}"\ndeclare -a KOPT_EXPORT=([0]="KCFLAGS=-O0")\n`,
    );
    await appendFile(r.hook, `\ntouch '${r.marker}'\n`);
    await chmod(r.hook, 0o666);
    expect((await runPhase(KERNEL, 'setup', { ...r.o, mergeType: 'binary' })).status).toBe(0);
    expect(await lines(log)).toEqual(blockStat('setup'));
    expect(await exists(r.marker)).toBe(false);
    expect(await messages(r.o.tmp)).toEqual([blockRefusal(r)]);
    // the refusal is recorded: preinst and postinst of this merge repeat nothing, silently
    for (const phase of ['preinst', 'postinst'] as const)
      expect((await runPhase(KERNEL, phase, { ...r.o, mergeType: 'binary' })).status).toBe(0);
    expect(await lines(log)).toEqual(blockStat('setup'));
    expect((await toolchainExports(r, 'postinst')).KCFLAGS).toBeUndefined();
  });

  it("a record in the process environment (exported, so not the hook's) is not repeated: the phase checks", async () => {
    const r = await root();
    const log = await countingStat(r);
    const now = Math.floor(Date.now() / 1000)
      .toString()
      .slice(0, 6);
    r.o.env = { ...r.o.env, KOPT_DONE: `b${now} b${Number(now) + 1}`, KOPT_EXPORT: 'KCFLAGS=-O0' };
    expect((await runPhase(KERNEL, 'compile', r.o)).status).toBe(0);
    expect(await lines(log)).toEqual(blockStat('compile'));
    expect((await toolchainExports(r, 'compile')).KCFLAGS).toBe('-O2 -pipe');
  });

  it('a record older than its interval (a build resumed hours later) is not trusted', async () => {
    const r = await root();
    const log = await countingStat(r);
    expect(statuses(await runPhases(KERNEL, r.o, ['setup', 'unpack']))).toEqual([0, 0]);
    const env = path.join(r.o.tmp, 'environment');
    await writeFile(env, (await readFile(env, 'utf8')).replace(/KOPT_DONE="[^"]*"/, 'KOPT_DONE="b100000 b100001"'));
    await appendFile(r.hook, `\ntouch '${r.marker}'\n`);
    await chmod(r.hook, 0o666);
    expect((await runPhase(KERNEL, 'compile', r.o)).status).toBe(0);
    expect(await lines(log)).toEqual([...blockStat('setup'), 'setup', ...blockStat('compile')]);
    expect(await exists(r.marker)).toBe(false);
    expect((await messages(r.o.tmp)).at(-1)).toBe(blockRefusal(r));
  });
});

describe('doctor reports what the hook refuses', () => {
  async function hooksFindings(
    root: DoctorRoot,
  ): Promise<{ kind: string; file?: string; message: string; fix: string }[]> {
    const r = await doctorCommand(root.ctx, { checks: ['hooks'], list: false, exit: 'error' });
    return (r.data as DoctorReport).checks[0]!.findings.map((f) => ({
      kind: f.kind,
      file: f.where.file,
      message: f.message,
      fix: f.fix,
    }));
  }

  it('etc/gentoo-kopt writable by others: the block does not read the hook', async () => {
    const d = await doctorRoot();
    const dir = path.join(d.dir, 'etc/gentoo-kopt');
    await chmod(dir, 0o777);
    expect(await hooksFindings(d)).toEqual([
      {
        kind: 'hooks-unsafe-mode',
        file: dir,
        message:
          'mode 0777: writable by group or others, so anyone in them could make root run code during an emerge (the bashrc block does not read the hook then, so kopt.conf is not applied)',
        fix: `chmod go-w '${dir}'`,
      },
    ]);
  });

  it('the node program and its directory writable by others: the hook does not run it', async () => {
    const d = await doctorRoot();
    const bin = path.join(d.dir, 'opt/node/bin');
    await writeTree(d.dir, { 'opt/node/bin/node': { content: '#!/bin/sh\n', mode: 0o777 } });
    await chmod(bin, 0o777);
    const settings = path.join(d.dir, 'etc/gentoo-kopt/hook-settings');
    await writeFile(settings, (await readFile(settings, 'utf8')).replace(/^node=.*$/m, `node=${bin}/node`), {
      mode: 0o644,
    });
    const found = (await hooksFindings(d)).filter((f) => f.kind === 'hooks-unsafe-mode');
    const why =
      'writable by group or others, so anyone in them could make root run code during an emerge (the hook does not run it then, so kernels are built without syncing their patches)';
    expect(found).toEqual([
      { kind: 'hooks-unsafe-mode', file: `${bin}/node`, message: `mode 0777: ${why}`, fix: `chmod go-w '${bin}/node'` },
      { kind: 'hooks-unsafe-mode', file: bin, message: `mode 0777: ${why}`, fix: `chmod go-w '${bin}'` },
    ]);
  });

  it.skipIf(!IS_ROOT)('a bin owned by another user: the hook does not run it', async () => {
    const d = await doctorRoot();
    await writeTree(d.dir, { 'opt/kopt/dist/bin.js': { content: '// x\n', mode: 0o644 } });
    const file = path.join(d.dir, 'opt/kopt/dist/bin.js');
    await chown(file, OTHER_UID, OTHER_UID);
    const settings = path.join(d.dir, 'etc/gentoo-kopt/hook-settings');
    await writeFile(settings, (await readFile(settings, 'utf8')).replace(/^bin=.*$/m, `bin=${file}`), { mode: 0o644 });
    expect((await hooksFindings(d)).filter((f) => f.kind === 'hooks-unsafe-owner')).toEqual([
      {
        kind: 'hooks-unsafe-owner',
        file,
        message: `owned by uid ${OTHER_UID}, not root: that user could make root run code during an emerge (the hook does not run it then, so kernels are built without syncing their patches)`,
        fix: `chown root '${file}'`,
      },
    ]);
  });
});

describe("the block's stat", () => {
  /** The block alone in bash, for a kernel's config phase, on a config root holding a hook that says it ran. */
  async function blockRun(mode: number, prelude = ''): Promise<{ out: string; err: string }> {
    const dir = await testdir();
    await writeTree(dir, {
      'etc/gentoo-kopt/kernel-hook.bash': { content: 'echo hook-read\n', mode },
      'etc/gentoo-kopt/hook-settings': 'format=1\n',
      bashrc: insertBlock('', 'bashrc'),
    });
    await chmod(path.join(dir, 'etc/gentoo-kopt'), 0o755);
    const script = `${prelude}\newarn() { echo "ewarn: $*" >&2; }\nsource '${dir}/bashrc'\necho "stat after the block: $(type -t stat)"\n`;
    const r = spawnSync('bash', ['--noprofile', '--norc', '-c', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        CATEGORY: 'sys-kernel',
        PN: 'gentoo-kernel',
        EBUILD_PHASE: 'config',
        PORTAGE_CONFIGROOT: `${dir}/`,
      },
    });
    return { out: r.stdout, err: r.stderr };
  }

  it.each([
    [0o644, 'hook-read\n', ''],
    [0o664, '', 'ewarn: gentoo-kopt: not reading'],
    [0o646, '', 'ewarn: gentoo-kopt: not reading'],
  ])('mode %o: read or refused, and `stat` is the program again after the block', async (mode, out, err) => {
    const r = await blockRun(mode);
    expect(r.out).toBe(`${out}stat after the block: file\n`);
    expect(r.err.startsWith(err)).toBe(true);
    if (!err) expect(r.err).toBe('');
  });

  // bash's loadables: app-shells/bash[plugins] on Gentoo, bash-builtins on Debian (.ci/run installs it)
  const statLoadable = ['/usr/lib64/bash/stat', '/usr/lib/bash/stat'].find((f) => existsSync(f));
  it.skipIf(!statLoadable)(
    'a stat builtin the user loaded stays loaded, and the block still runs the stat program (`exec stat`)',
    async () => {
      // the loadable does not know -c: had the block run it, the hook would be refused
      for (const [mode, out, err] of [
        [0o644, 'hook-read\n', ''],
        [0o664, '', 'ewarn: gentoo-kopt: not reading'],
      ] as const) {
        const r = await blockRun(mode, `enable -f ${statLoadable} stat`);
        expect(r.out).toBe(`${out}stat after the block: builtin\n`);
        expect(r.err.startsWith(err)).toBe(true);
        if (!err) expect(r.err).toBe('');
      }
    },
  );
});
