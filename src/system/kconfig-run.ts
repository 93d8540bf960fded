// The kernel's own Kconfig on a scratch copy of the files it reads: what `verify --config` runs. The
// files (from the tarball stream) go to a new directory below the temporary directory, which is removed
// at the end whatever happens; nothing outside it is written. There, as kernel-build.eclass does
// (kernel-build_merge_configs, then src_configure):
//  1. the ebuild's prepatches restricted to those files are applied (`patch -p1 -f -g0`, as eapply);
//  2. the base config becomes .config and the fragments are merged in order with the tree's own
//     `scripts/kconfig/merge_config.sh -m -r .config <fragment>...`;
//  3. `make O=build ARCH=... [LLVM=1] olddefconfig`, in two steps: `build_config` builds conf, a
//     wrapper in its place records the environment make gives it (the toolchain variables Kconfig's
//     probes read), then olddefconfig runs through the wrapper;
//  4. when `explain` names symbols, kconfig/kconfig-why.c is linked with the tree's kconfig objects and
//     run in that environment: why each symbol has the value it has.
// Processes get a clean environment (PATH, LC_ALL=C, HOME and TMPDIR inside the scratch directory), so
// the user's CC, CFLAGS or KCONFIG_* cannot change the answer; the toolchain is the one named (LLVM=1
// makes Kconfig probe clang, ld.lld and llvm-*: CC_IS_CLANG, CLANG_VERSION and every cc-option change).
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { KoptError, SourceError } from '../errors.js';
import { ProcessError } from './exec.js';
import { readBounded } from './read.js';

export interface KconfigJob {
  /** The tree's files, by path below its top directory. */
  files: ReadonlyMap<string, Buffer>;
  /** Those of `files` that are executable (the probe scripts Kconfig.include runs). */
  executable: ReadonlySet<string>;
  /** Applied in order before anything else (-p1). */
  prepatches: { name: string; content: Buffer }[];
  base: { name: string; content: Buffer };
  /** Merged in this order after the base. */
  fragments: { name: string; content: Buffer }[];
  /** The kernel's ARCH. */
  arch: string;
  llvm: boolean;
  /** kconfig-why.c's source. */
  whySource: Buffer;
  /** The symbols to explain, given the final .config (none: kconfig-why is not built). */
  explain(config: string): string[];
}

export interface KconfigRun {
  /** The .config olddefconfig wrote. */
  config: string;
  /** What merge_config.sh printed. */
  mergeLog: string;
  /** kconfig-why's output ('' when nothing was to be explained or it failed: whyError says why). */
  why: string;
  whyError?: string;
  /** The variables conf ran with that decide what Kconfig's toolchain probes find. */
  toolchain: Record<string, string>;
  ms: { merge: number; olddefconfig: number; why: number };
}

/** The variables Kconfig reads from the environment (include/config/auto.conf.cmd lists them). */
const CONF_ENV = [
  'srctree',
  'ARCH',
  'SRCARCH',
  'KERNELVERSION',
  'CC',
  'LD',
  'NM',
  'OBJCOPY',
  'AR',
  'PAHOLE',
  'RUSTC',
  'BINDGEN',
  'PYTHON3',
  'CC_VERSION_TEXT',
  'RUSTC_VERSION_TEXT',
  'CLANG_FLAGS',
  'USERCFLAGS',
  'USERLDFLAGS',
];
const SHOWN = ['CC', 'LD', 'CC_VERSION_TEXT', 'CLANG_FLAGS'];
const OUTPUT_MAX = 4 * 1024 ** 2;
const TIMEOUT_MS = 10 * 60_000;
/** make's jobs: building conf is a dozen host objects; two jobs take most of the gain. */
const JOBS = Math.min(2, os.availableParallelism());

async function put(dir: string, rel: string, data: Buffer | string, mode?: number): Promise<void> {
  const full = path.join(dir, rel);
  if (!full.startsWith(dir + path.sep)) throw new Error(`refusing to write outside the scratch tree: ${rel}`);
  try {
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, data, mode === undefined ? {} : { mode });
  } catch (err) {
    throw new SourceError(`cannot copy '${rel}' to the scratch tree Kconfig runs in: ${(err as Error).message}`, {
      hint: 'the sources hold a file where another one needs a directory: they are not a kernel tree',
      cause: err,
    });
  }
}

/** One process in the scratch directory; its output (stdout and stderr, capped) or a ProcessError. */
async function run(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; input?: Buffer; what: string },
): Promise<string> {
  const r = await execa(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    all: true,
    reject: false,
    maxBuffer: OUTPUT_MAX,
    timeout: TIMEOUT_MS,
    ...(opts.input ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  const said = String(r.all ?? '').trim();
  if ((r as { code?: string }).code === 'ENOENT')
    throw new ProcessError(`${command} is not installed (${opts.what})`, command, true);
  if (r.failed)
    throw new ProcessError(
      `${opts.what} failed${r.timedOut ? ` (no end after ${TIMEOUT_MS / 60_000} min)` : ''}: ${said.split('\n').slice(-8).join('\n') || r.shortMessage}`,
      `${command} ${args.join(' ')}`,
      false,
    );
  return said;
}

const since = (t: number): number => Math.round(performance.now() - t);

/** Runs `job` (see the header) and removes every file it wrote. */
export async function runKconfig(job: KconfigJob): Promise<KconfigRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-kconfig-'));
  try {
    const src = path.join(dir, 'src');
    const build = path.join(dir, 'build');
    await mkdir(src);
    await mkdir(build);
    for (const [rel, data] of job.files) await put(src, rel, data, job.executable.has(rel) ? 0o755 : 0o644);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LC_ALL: 'C',
      HOME: dir,
      TMPDIR: dir,
    };
    for (const p of job.prepatches)
      await run('patch', ['-p1', '-f', '-g0', '--no-backup-if-mismatch', '-s'], {
        cwd: src,
        env,
        input: p.content,
        what: `applying ${p.name} to the Kconfig files`,
      });

    let t = performance.now();
    await put(build, '.config', job.base.content);
    const frags: string[] = [];
    for (const [i, f] of job.fragments.entries()) {
      const rel = `fragments/${String(i).padStart(3, '0')}-${path.basename(f.name)}`;
      await put(dir, rel, f.content);
      frags.push(path.join(dir, rel));
    }
    const mergeLog = frags.length
      ? await run('sh', [path.join(src, 'scripts/kconfig/merge_config.sh'), '-m', '-r', '.config', ...frags], {
          cwd: build,
          env,
          what: "the kernel's merge_config.sh -m -r",
        })
      : '';
    const merge = since(t);

    t = performance.now();
    const make = ['-s', `-j${JOBS}`, '-C', src, `O=${build}`, `ARCH=${job.arch}`, ...(job.llvm ? ['LLVM=1'] : [])];
    await run('make', [...make, 'build_config'], {
      cwd: dir,
      env,
      what: "building the kernel's kconfig (make build_config)",
    });
    const conf = path.join(build, 'scripts/kconfig/conf');
    await rename(conf, `${conf}.real`).catch((err: unknown) => {
      throw new SourceError(
        'make build_config built no scripts/kconfig/conf: this is not a kernel tree Kconfig can run in',
        {
          hint: 'verify --config needs a kernel.org tarball (linux-X.Y.tar.xz)',
          cause: err,
        },
      );
    });
    await put(build, 'scripts/kconfig/conf', '#!/bin/sh\nenv >"$0.env"\nexec "$0.real" "$@"\n', 0o755);
    await chmod(conf, 0o755);
    await run('make', [...make, 'olddefconfig'], { cwd: dir, env, what: 'make olddefconfig' });
    const olddefconfig = since(t);
    const config = (await readBounded(path.join(build, '.config'), 'kernel-config')).toString('utf8');
    const confEnv = new Map(
      (await readBounded(`${conf}.env`, 'config'))
        .toString('utf8')
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
        .filter(([k]) => CONF_ENV.includes(k)),
    );
    const toolchain = Object.fromEntries(SHOWN.filter((k) => confEnv.has(k)).map((k) => [k, confEnv.get(k)!]));

    t = performance.now();
    const symbols = job.explain(config);
    const explained = symbols.length > 0 ? await explain(job, { dir, src, build, env, confEnv, symbols }) : { why: '' };
    return { config, mergeLog, ...explained, toolchain, ms: { merge, olddefconfig, why: since(t) } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * kconfig-why on `symbols`: linked with the kconfig objects build_config left, run in conf's
 * environment. Its failure is not the answer's: the dropped options are known without it.
 */
async function explain(
  job: KconfigJob,
  w: {
    dir: string;
    src: string;
    build: string;
    env: Record<string, string>;
    confEnv: Map<string, string>;
    symbols: string[];
  },
): Promise<{ why: string; whyError?: string }> {
  try {
    const objDir = path.join(w.build, 'scripts/kconfig');
    const objs = (await readdir(objDir))
      .filter((n) => n.endsWith('.o') && n !== 'conf.o')
      .map((n) => path.join(objDir, n));
    const expr = (await readBounded(path.join(w.src, 'scripts/kconfig/expr.h'), 'source')).toString('utf8');
    const hasInclude = (await readdir(path.join(w.src, 'scripts'))).includes('include');
    await put(w.dir, 'kconfig-why.c', job.whySource);
    await run(
      job.llvm ? 'clang' : 'gcc',
      [
        '-O1',
        // 6.1's struct property has `struct file *file`, 6.12's `const char *filename`
        ...(expr.includes('struct file *file;') ? ['-DKCONFIG_STRUCT_FILE'] : []),
        '-I',
        path.join(w.src, 'scripts/kconfig'),
        ...(hasInclude ? ['-I', path.join(w.src, 'scripts/include')] : []),
        '-o',
        path.join(w.dir, 'kconfig-why'),
        path.join(w.dir, 'kconfig-why.c'),
        ...objs,
      ],
      { cwd: w.dir, env: w.env, what: 'building kconfig-why' },
    );
    const why = await run(path.join(w.dir, 'kconfig-why'), ['Kconfig', '.config', ...w.symbols], {
      cwd: w.build,
      env: { ...w.env, ...Object.fromEntries(w.confEnv) },
      what: 'kconfig-why',
    });
    return { why };
  } catch (err) {
    if (err instanceof ProcessError || err instanceof KoptError) return { why: '', whyError: err.message };
    throw err;
  }
}
