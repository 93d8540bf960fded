// What checks get (pkgcheck's addons): the roots, and every input loaded on first use and shared
// between checks. A load that fails is recorded once (the `inputs` check turns it into a finding
// naming the file) and throws SkipCheck in every check that needed it: never a crash. Reads only.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KoptError, FsError } from '../errors.js';
import { isErrno } from '../system/fs-errors.js';
import { readOptional, type FileKind, type ReadOptions } from '../system/read.js';
import { loadConfig, settingsFor, type KoptConfig, type Settings } from '../config/kopt-conf.js';
import { loadReposConf, type ReposConf } from '../portage/repos-conf.js';
import {
  listInstalled,
  readEntries,
  type InstalledPackage,
  type VdbEntryName,
  type VdbProblem,
} from '../portage/vdb.js';
import { portageConfigPath, vdbPath, type Roots } from '../portage/roots.js';
import { loadCatalog, type Catalog } from '../patches/catalog.js';
import { findBlock, HOOK_REL, type BlockInfo } from '../hooks/bashrc-block.js';
import { parseSettings, SETTINGS_REL } from '../hooks/settings.js';
import { LLVM_SLOT_TOOLS } from '../hooks/toolchain.js';
import { readLedger, type Ledger } from '../system/ledger.js';
import { bzip2Decompress, probe } from '../system/probe.js';
import { SkipCheck } from './finding.js';
import {
  environmentFor,
  loadMakeConfOrigins,
  loadPackageEnv,
  type Assignment,
  type MakeConfOrigins,
  type PackageEnv,
  type PackageRef,
} from './portage-env.js';

export interface LoadFailure {
  what: string;
  kind: 'unreadable' | 'malformed';
  file?: string;
  line?: number;
  message: string;
  hint?: string;
}

export interface HookFiles {
  bashrc: string;
  bashrcText?: string;
  block?: BlockInfo;
  /** The block's markers are broken (findBlock's ConfigError). */
  blockError?: KoptError;
  settingsFile: string;
  settings?: Map<string, string>;
  settingsText?: string;
  hookFile: string;
  hookText?: Buffer;
}

export interface LlvmSlotDir {
  slot: number;
  bin: string;
  /** Tools present as executable regular files. */
  tools: Set<string>;
}

/** Processes doctor may run (src/system/probe.ts); a test may pass its own. */
export interface DoctorExec {
  probe: typeof probe;
  bzip2: typeof bzip2Decompress;
}

export interface DoctorOptions {
  /** /proc/meminfo of the machine that builds (default: ${ROOT}/proc/meminfo, else this machine's). */
  meminfo?: string;
  exec?: DoctorExec;
}

export interface DoctorContext {
  roots: Roots;
  env: NodeJS.ProcessEnv;
  options: DoctorOptions;
  exec: DoctorExec;
  failures: LoadFailure[];
  config(): Promise<KoptConfig>;
  makeConf(): Promise<MakeConfOrigins>;
  packageEnv(): Promise<PackageEnv>;
  /**
   * The VDB as doctor sees it (the inputs check): every entry by name (a -MERGING- directory, a stray
   * file, a name that is not category/PF), and read whole the entries of the packages in `groups` (the
   * same reads `installed` makes) and of every other sys-kernel/*-kernel; no other entry's files are
   * read. Throws SkipCheck without a VDB.
   */
  vdb(groups: readonly (readonly string[])[]): Promise<{ packages: InstalledPackage[]; problems: VdbProblem[] }>;
  /** Every VDB entry by name (category/PF and its directory), no file of it read; SkipCheck without a VDB. */
  vdbNames(): Promise<VdbEntryName[]>;
  /** Installed versions of these packages only (their categories alone are read); SkipCheck without a VDB. */
  installed(cpns: readonly string[]): Promise<InstalledPackage[]>;
  repos(): Promise<ReposConf>;
  catalog(): Promise<Catalog>;
  hooks(): Promise<HookFiles>;
  /** What gentoo-kopt installed (the ownership ledger, with the first release's records laid over it). */
  ledger(): Promise<Ledger>;
  llvmSlots(): Promise<LlvmSlotDir[]>;
  /** Installed versions of the configured kernel packages. */
  kernels(): Promise<InstalledPackage[]>;
  /** make.conf + package.env for one package, with origins. */
  environment(pkg: PackageRef): Promise<Map<string, Assignment>>;
  /** The block is in bashrc and the compiled settings name this package: kopt.conf applies to its builds. */
  hookActive(cpn: string): Promise<boolean>;
  settings(cpn: string): Promise<Settings>;
}

function failureOf(what: string, err: KoptError): LoadFailure {
  const base = {
    what,
    message: err.message,
    ...(err.file && { file: err.file }),
    ...(err.line && { line: err.line }),
    ...(err.hint && { hint: err.hint }),
  };
  return { ...base, kind: err instanceof FsError ? 'unreadable' : 'malformed' };
}

export function createContext(roots: Roots, env: NodeJS.ProcessEnv, options: DoctorOptions = {}): DoctorContext {
  const failures: LoadFailure[] = [];
  const memo = new Map<string, Promise<unknown>>();
  // Loads once; a KoptError is recorded once and becomes a SkipCheck for every caller.
  function once<T>(what: string, load: () => Promise<T>): () => Promise<T> {
    return () => {
      let p = memo.get(what) as Promise<T> | undefined;
      if (!p) {
        p = load().catch((err: unknown) => {
          if (err instanceof SkipCheck) throw err;
          if (!(err instanceof KoptError)) throw err;
          failures.push(failureOf(what, err));
          throw new SkipCheck(`${what} could not be read: ${err.describe()}`);
        });
        p.catch(() => undefined);
        memo.set(what, p);
      }
      return p;
    };
  }

  // The VDB by names alone (a directory listing, as `find` does), and the entries of some packages read
  // whole: a 2,000-package VDB is 8,000 files, and doctor needs a handful of entries.
  const vdbNames = once('the VDB', async () => {
    await requireVdb(roots);
    return listInstalled(roots);
  });
  const vdbEntries = (cpns: readonly string[]) => {
    const key = [...new Set(cpns)].sort();
    return once(`the VDB entries of ${key.join(' ')}`, async () => {
      await requireVdb(roots);
      return readEntries((await listInstalled(roots, { cpns: key })).entries);
    })();
  };

  const ctx: DoctorContext = {
    roots,
    env,
    options,
    exec: options.exec ?? { probe, bzip2: bzip2Decompress },
    failures,
    config: once('kopt.conf', () => loadConfig(roots)),
    makeConf: once('make.conf', () => loadMakeConfOrigins(roots)),
    packageEnv: once('package.env', async () => loadPackageEnv(roots, (await ctx.makeConf()).expand)),
    vdb: async (groups) => {
      const listed = await vdbNames();
      // Every kernel package the hook would act on, too (sys-kernel/*-kernel): kopt.conf may not load.
      const covered = new Set(groups.flat());
      const kernels = listed.entries
        .map((e) => e.cpv)
        .filter((c) => c.category === 'sys-kernel' && c.pn.endsWith('-kernel') && !covered.has(c.cpn))
        .map((c) => c.cpn);
      const reads = await Promise.all([...groups, ...(kernels.length ? [kernels] : [])].map(vdbEntries));
      const problems = new Map(
        [...listed.problems, ...reads.flatMap((r) => r.problems)].map((p) => [`${p.file}\0${p.message}`, p]),
      );
      return { packages: reads.flatMap((r) => r.packages), problems: [...problems.values()] };
    },
    vdbNames: async () => (await vdbNames()).entries,
    installed: async (cpns) => (await vdbEntries(cpns)).packages,
    repos: once('repos.conf', () => loadReposConf(roots)),
    catalog: once('the patch catalog', () => loadCatalog(roots)),
    hooks: once('the hook files', () => loadHookFiles(roots)),
    ledger: once('the ownership ledger', async () => (await readLedger(roots)).ledger),
    llvmSlots: once('the LLVM slots', () => scanLlvmSlots(roots)),
    kernels: once('the installed kernels', async () => ctx.installed((await ctx.config()).global.packages)),
    environment: async (pkg) => environmentFor(await ctx.makeConf(), await ctx.packageEnv(), pkg),
    hookActive: async (cpn) => {
      const h = await ctx.hooks();
      return !!h.block && h.block.state !== 'absent' && !!h.settings?.has(`${cpn}.toolchain`);
    },
    settings: async (cpn) => settingsFor(await ctx.config(), cpn),
  };
  return ctx;
}

async function requireVdb(roots: Roots): Promise<void> {
  const dir = vdbPath(roots);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new SkipCheck(`no VDB at ${dir} (is ROOT right?)`);
}

/**
 * A file's text through the bounded reader, or undefined when it (or a directory on the way) does not
 * exist; anything else is an FsError naming it.
 */
async function readBytes(file: string, kind: FileKind, opts: ReadOptions = {}): Promise<Buffer | undefined> {
  try {
    return await readOptional(file, kind, opts);
  } catch (err) {
    if (err instanceof FsError && isErrno(err.cause, 'ENOTDIR')) return undefined;
    throw err;
  }
}

const readText = async (file: string, kind: FileKind, opts: ReadOptions = {}): Promise<string | undefined> =>
  (await readBytes(file, kind, opts))?.toString('utf8');

async function loadHookFiles(roots: Roots): Promise<HookFiles> {
  const bashrc = portageConfigPath(roots, 'bashrc');
  const out: HookFiles = {
    bashrc,
    settingsFile: path.join(roots.configRoot, SETTINGS_REL),
    hookFile: path.join(roots.configRoot, HOOK_REL),
  };
  // bashrc is the user's (Portage sources it; /dev/null is an empty one); the rest are gentoo-kopt's own.
  out.bashrcText = await readText(bashrc, 'config', { devNull: true });
  try {
    out.block = findBlock(out.bashrcText ?? '', bashrc);
  } catch (err) {
    if (!(err instanceof KoptError)) throw err;
    out.blockError = err;
  }
  out.settingsText = await readText(out.settingsFile, 'config');
  if (out.settingsText !== undefined) out.settings = parseSettings(out.settingsText);
  const hookText = await readBytes(out.hookFile, 'program');
  if (hookText !== undefined) out.hookText = hookText;
  return out;
}

/** ${EROOT}/usr/lib/llvm/<N>/bin: the slots on disk and which of the hook's tools each has. */
async function scanLlvmSlots(roots: Roots): Promise<LlvmSlotDir[]> {
  const base = path.join(roots.eroot, 'usr/lib/llvm');
  const names = await readdir(base).catch(() => [] as string[]);
  const slots: LlvmSlotDir[] = [];
  for (const name of names.filter((n) => /^[1-9][0-9]{0,5}$/.test(n))) {
    const bin = path.join(base, name, 'bin');
    const tools = new Set<string>();
    for (const tool of LLVM_SLOT_TOOLS) {
      const st = await stat(path.join(bin, tool)).catch(() => undefined);
      if (st?.isFile() && st.mode & 0o111) tools.add(tool);
    }
    slots.push({ slot: Number(name), bin, tools });
  }
  return slots.sort((a, b) => a.slot - b.slot);
}

/** The slot the hook would use for `settings`: the pinned one, else the newest complete slot on disk. */
export function hookSlot(settings: Settings, slots: LlvmSlotDir[]): number | undefined {
  if (settings.llvmSlot !== undefined) return settings.llvmSlot;
  return slots.filter((s) => s.tools.size === LLVM_SLOT_TOOLS.length).at(-1)?.slot;
}
