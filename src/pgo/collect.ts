// Reading a kernel's gcov tree: /sys/kernel/debug/gcov/<absolute build dir>/<object>.gcda (the kernel's
// Documentation/dev-tools/gcov.rst), or a copy of it (`pgo collect --from DIR`). Reads, never writes.
//
// debugfs reports every .gcda with st_size 0 (they are seq files): each is read to its end, with a cap
// (system/read.ts). Beside each .gcda the kernel puts a <object>.gcno symbolic link to the build
// directory, dangling once the build tree is gone: those are skipped; any other symbolic link is
// refused (collect follows none, so nothing outside the tree is read). The build directory is the one
// holding init/main.gcda (every kernel profiles init/main.c); every .gcda must lie below it. The whole
// tree is read and checked before the caller writes anything.
import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, FsError } from '../errors.js';
import { parseCpv, type Cpv } from '../portage/atom.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { readBounded } from '../system/read.js';
import { scanGcda, withSummary, type GcdaInfo } from './gcda.js';

const MAX_FILES = 200_000;
const MAX_DEPTH = 64;
const MAX_TOTAL = 2 * 1024 * 1024 * 1024;
/** Portage's build directory of a package: .../<category>/<PF>/work/build (kernel-build.eclass: O=${WORKDIR}/build). */
const PORTAGE_BUILD = /\/([A-Za-z0-9_][A-Za-z0-9+_.-]*)\/([A-Za-z0-9_][A-Za-z0-9+_.-]*)\/work\/build$/;

export interface GcovTree {
  /** The directory read (resolved). */
  from: string;
  /** The absolute build directory of the instrumented kernel (as the kernel names it); unknown when DIR is that directory. */
  buildDir?: string;
  /** The package the build directory belongs to, when it is a Portage build directory. */
  cpv?: Cpv;
  gccMajor: number;
  /** Each object's profile, with the object summary GCC needs: path below the build directory, bytes. */
  files: { rel: string; bytes: Buffer }[];
  sumMax: number;
  /** How many files got an object summary (the kernel writes none). */
  summarised: number;
  /** How many of the objects ran at all (a counter above zero). */
  ran: number;
}

/** Why there is nothing to collect at `from`, as an error that says what to do. */
export class NothingToCollect extends FsError {}

interface Found {
  abs: string;
  rel: string;
}

async function walk(root: string, dir: string, depth: number, out: Found[]): Promise<void> {
  if (depth > MAX_DEPTH) throw new FsError(`is nested more than ${MAX_DEPTH} directories deep`, { file: dir });
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) =>
    Promise.reject(fsError(err, dir, 'list')),
  );
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) await walk(root, abs, depth + 1, out);
    else if (e.isSymbolicLink()) {
      if (e.name.endsWith('.gcno')) continue;
      throw new FsError('is a symbolic link in the gcov tree: collect follows none', {
        file: abs,
        hint: 'collect reads only regular .gcda files below the directory; remove the link (or copy the tree with cat, as debugfs gives it)',
      });
    } else if (e.isFile() && e.name.endsWith('.gcda')) {
      if (out.length >= MAX_FILES)
        throw new FsError(`holds more than ${MAX_FILES} .gcda files: not one kernel's`, { file: root });
      out.push({ abs, rel: path.relative(root, abs) });
    }
  }
}

/** The package of a Portage build directory (`.../sys-kernel/gentoo-kernel-6.12.58/work/build`), if it is one. */
export function packageOfBuildDir(buildDir: string): Cpv | undefined {
  const m = PORTAGE_BUILD.exec(buildDir);
  if (!m) return undefined;
  try {
    return parseCpv(`${m[1]}/${m[2]}`);
  } catch {
    return undefined;
  }
}

/**
 * Reads and checks the gcov tree at `from` (see the header). A missing or empty tree is a
 * NothingToCollect that says why (debugfs not mounted, a kernel without gcov, no data).
 */
export async function readGcovTree(from: string, opts: { debugfs?: string } = {}): Promise<GcovTree> {
  const st = await lstat(from).catch((err: unknown) =>
    isErrno(err, 'ENOENT', 'ENOTDIR') ? undefined : Promise.reject(fsError(err, from, 'inspect')),
  );
  if (!st) {
    if (opts.debugfs !== undefined) {
      const mounted = await readdir(opts.debugfs).then(
        (n) => n.length > 0,
        () => false,
      );
      if (!mounted)
        throw new NothingToCollect('debugfs is not mounted (nothing in it)', {
          file: opts.debugfs,
          hint: `mount it: mount -t debugfs none ${opts.debugfs}`,
        });
      throw new NothingToCollect('the running kernel is not instrumented: debugfs has no gcov directory', {
        file: from,
        hint: 'run gentoo-kopt pgo instrument, emerge the kernel it names, boot it and run your workload, then collect',
      });
    }
    throw new NothingToCollect('does not exist', { file: from, hint: 'name the directory that holds the gcov tree' });
  }
  if (!st.isDirectory())
    throw new FsError('is not a directory (a symbolic link is not followed)', {
      file: from,
      hint: 'name the gcov directory itself',
    });
  const root = await realpath(from);
  const found: Found[] = [];
  await walk(root, root, 0, found);
  if (!found.length)
    throw new NothingToCollect('holds no .gcda file: no profile data was written', {
      file: from,
      hint: 'boot the instrumented kernel (GCOV_KERNEL, GCOV_PROFILE_ALL) and run the workload before collecting',
    });
  const anchors = found.filter((f) => f.rel === 'init/main.gcda' || f.rel.endsWith('/init/main.gcda'));
  if (anchors.length !== 1)
    throw new ConfigError(
      anchors.length
        ? `holds ${anchors.length} kernels' init/main.gcda: collect one build directory at a time`
        : 'has no init/main.gcda: not the gcov tree of a kernel',
      {
        file: from,
        hint: anchors.length
          ? `name one of them with --from: ${anchors.map((a) => path.join(from, path.dirname(path.dirname(a.rel)))).join(', ')}`
          : 'collect from /sys/kernel/debug/gcov of an instrumented kernel (or a copy of it)',
      },
    );
  const base = path.dirname(path.dirname(anchors[0]!.rel)); // '' when --from names the build directory
  const buildDir = base ? `/${base}` : undefined;
  const shownDir = buildDir ?? from;
  const files: { rel: string; bytes: Buffer; info: GcdaInfo }[] = [];
  let total = 0;
  for (const f of found) {
    const rel = base ? path.relative(base, f.rel) : f.rel;
    if (rel.startsWith('..'))
      throw new ConfigError(`is outside the build directory ${shownDir}: not one kernel's profile`, { file: f.abs });
    if (rel.includes('#'))
      throw new ConfigError("has a '#' in its name: the profile store cannot name it", { file: f.abs });
    const bytes = await readBounded(f.abs, 'profile', { noFollow: true, inside: root });
    total += bytes.length;
    if (total > MAX_TOTAL) throw new FsError(`holds more than ${MAX_TOTAL} bytes of profiles`, { file: from });
    files.push({ rel, bytes, info: scanGcda(bytes, f.abs) });
  }
  const majors = new Set(files.map((f) => f.info.gccMajor));
  if (majors.size > 1)
    throw new ConfigError(`mixes .gcda files of GCC ${[...majors].sort().join(' and ')}: not one kernel build`, {
      file: from,
    });
  const maxArc = Math.max(...files.map((f) => f.info.maxArc));
  if (maxArc === 0)
    throw new NothingToCollect('holds .gcda files whose counters are all zero: no profile data was written', {
      file: from,
      hint: 'run the workload on the instrumented kernel (and do not write to gcov/reset) before collecting',
    });
  const sumMax = Math.min(maxArc, 0xffffffff);
  return {
    from: root,
    buildDir,
    cpv: buildDir ? packageOfBuildDir(buildDir) : undefined,
    gccMajor: [...majors][0]!,
    files: files.map((f) => ({ rel: f.rel, bytes: withSummary(f.bytes, f.info, sumMax) })),
    sumMax,
    summarised: files.filter((f) => !f.info.summary).length,
    ran: files.filter((f) => f.info.maxArc > 0).length,
  };
}
