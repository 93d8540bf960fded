// Patch sources: where the catalog's patch files come from. A source is a directory, or a tarball
// (.tar, .tar.gz/.tgz, .tar.xz/.txz) streamed through tar-stream (gzip by node:zlib, xz by `xz -dc`);
// nothing is unpacked to disk and only the requested members are kept in memory. Every file is checked
// against the catalog's sha256 before anyone may write it.
//
// Tarball member names: a leading "./" is dropped; a requested path matches a member of that name, or
// else a member with ONE extra top-level directory (GitHub archives: kernel-patches-<sha>/6.1/...).
// A tarball holding anything but files and directories (links, devices, fifos, GNU sparse files), or
// a name that is absolute or has a ".." component, is refused as a whole, whether or not that member
// was requested.
//
// Sizes are bounded: a patch file, in a directory or a tarball, may be at most LIMITS.patch (a kept
// tarball member is refused by its header, before anything is buffered), and a tarball may not
// decompress to more than PATCH_SOURCE_MAX in all (a 4.5 MB .tar.gz of a 4.5 GiB member of zeros).
import { createHash } from 'node:crypto';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatWhere, KoptError, SourceError } from '../errors.js';
import { fsError, isErrno } from '../system/fs-errors.js';
import { LIMITS, readBounded } from '../system/read.js';
import type { CatalogFile } from './catalog.js';
// tar-walk (tar-stream, and xz through execa) is loaded only for a tarball source.
import type { TarKind, TarWalkError } from '../system/tar-walk.js';

const tarWalk = () => import('../system/tar-walk.js');

/**
 * The most a patch-source tarball may decompress to. A collection of kernel patch series is tens of
 * megabytes (CachyOS kernel-patches, every kernel line, is far below); 1 GiB is room to spare.
 */
const PATCH_SOURCE_MAX = 1024 ** 3;

/** A patch source as the config names it, and where (kopt.conf file and line) it does. */
export interface SourceRef {
  spec: string;
  file?: string;
  line?: number;
  /** A source that may be absent (the download cache): then it holds nothing. */
  optional?: boolean;
}

type Kind = 'dir' | TarKind;
const SAFE_TYPES = new Set(['file', 'contiguous-file', 'directory']);
const CONFIG_HINT = 'check patch-source in kopt.conf';

function configured(ref: SourceRef): string {
  if (!ref.file) return '';
  return ` (patch-source at ${formatWhere(ref)})`;
}

/** An error about the source itself: located at the kopt.conf line that names it, when known. */
function badSource(ref: SourceRef, message: string, hint = CONFIG_HINT, cause?: unknown): SourceError {
  const where = ref.file ? { file: ref.file, line: ref.line } : { file: ref.spec };
  return new SourceError(`patch source '${ref.spec}': ${message}`, { ...where, hint, cause });
}

/** An error about something inside a tarball: located at the tarball. */
function badTarball(ref: SourceRef, message: string, hint: string, cause?: unknown): SourceError {
  return new SourceError(`${message}${configured(ref)}`, { file: ref.spec, hint, cause });
}

async function classify(ref: SourceRef): Promise<Kind | undefined> {
  let st;
  try {
    st = await stat(ref.spec);
  } catch (err) {
    if (ref.optional && isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    if (isErrno(err, 'ENOENT')) throw badSource(ref, 'does not exist', CONFIG_HINT, err);
    const e = fsError(err, ref.spec, 'inspect');
    if (!(e instanceof KoptError)) throw e;
    throw badSource(ref, e.message, e.hint ?? CONFIG_HINT, err);
  }
  if (st.isDirectory()) return 'dir';
  const tarball = st.isFile() ? (await tarWalk()).tarKindOf(ref.spec) : undefined;
  if (tarball) return tarball;
  throw badSource(ref, 'is neither a directory nor a .tar, .tar.gz, .tgz, .tar.xz or .txz file');
}

async function readFromDir(ref: SourceRef, wanted: CatalogFile[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const root = await realpath(ref.spec);
  for (const { path: rel } of wanted) {
    const full = path.join(ref.spec, rel);
    try {
      await lstat(full);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) continue; // not in this source: try the next one
      throw unreadable(ref, rel, fsError(err, full, 'inspect'));
    }
    let real: string;
    try {
      real = await realpath(full);
    } catch (err) {
      throw badSource(ref, `'${rel}' is a broken symbolic link`, 'fix or remove the link', err);
    }
    if (!real.startsWith(root + path.sep)) {
      throw badSource(
        ref,
        `'${rel}' is a symbolic link pointing outside the source (${real})`,
        'copy the file into the source directory',
      );
    }
    if (!(await stat(real)).isFile())
      throw badSource(ref, `'${rel}' is not a regular file`, 'patch files must be regular files');
    try {
      found.set(rel, await readBounded(real, 'patch'));
    } catch (err) {
      throw unreadable(ref, rel, err);
    }
  }
  return found;
}

/** `rel` of a directory source could not be read: the reader's own words (FsError), at the source. */
function unreadable(ref: SourceRef, rel: string, err: unknown): SourceError {
  if (!(err instanceof KoptError)) throw err;
  return badSource(ref, `'${rel}': ${err.message}`, err.hint ?? 'make it readable', err);
}

function memberName(ref: SourceRef, raw: string): string {
  const name = raw.replace(/^(\.\/+)+/, '').replace(/\/+$/, '');
  const hint = 'refusing the whole archive: unpack it yourself and check its contents, or use a trusted tarball';
  if (raw.startsWith('/')) throw badTarball(ref, `tarball member '${raw}' has an absolute name`, hint);
  if (name.split('/').includes('..')) throw badTarball(ref, `tarball member '${raw}' has a '..' component`, hint);
  return name;
}

async function readFromTar(ref: SourceRef, kind: TarKind, wanted: CatalogFile[]): Promise<Map<string, Buffer>> {
  const want = new Set(wanted.map((f) => f.path));
  const hits = new Map<string, { member: string; exact: boolean; data: Buffer }>();
  const targets = new Map<string, { target: string; exact: boolean }>();
  const { walkTar, TarWalkError } = await tarWalk();
  try {
    await walkTar(ref.spec, kind, {
      maxMember: LIMITS.patch,
      maxTotal: PATCH_SOURCE_MAX,
      visit({ name: raw, type }) {
        const name = memberName(ref, raw);
        if (!SAFE_TYPES.has(type)) {
          throw badTarball(
            ref,
            `tarball member '${raw}' is a ${type}`,
            'refusing the whole archive: patch tarballs may hold only files and directories',
          );
        }
        const stripped = name.split('/').slice(1).join('/');
        const exact = want.has(name);
        const target = exact ? name : want.has(stripped) ? stripped : undefined;
        if (type === 'directory' || target === undefined) return false;
        targets.set(raw, { target, exact });
        return true;
      },
      onData({ name: raw }, data) {
        const { target, exact } = targets.get(raw)!;
        const prev = hits.get(target);
        if (prev && prev.exact === exact) {
          throw badTarball(
            ref,
            `'${target}' is in the tarball twice: as '${prev.member}' and as '${raw}'`,
            'use a tarball with a single copy of each patch file',
          );
        }
        if (!prev || exact) hits.set(target, { member: raw, exact, data });
      },
    });
  } catch (err) {
    if (!(err instanceof TarWalkError)) throw err;
    const hint = TAR_HINTS[err.notFound ? 'notFound' : err.reason];
    throw badTarball(ref, err.message, hint, err.cause);
  }
  return new Map([...hits].map(([k, v]) => [k, v.data]));
}

const TAR_HINTS: Record<TarWalkError['reason'] | 'notFound', string> = {
  read: 'check the path, and that the file is readable',
  notFound: 'install app-arch/xz-utils',
  decompress: 'the file is damaged: download it again',
  corrupt: 'the file is damaged: download it again',
  refused: 'refusing the whole archive: patch tarballs hold only patch files and directories of a sane size',
};

/**
 * The bytes of each catalog file found in `sources` (the first that has it), verified against its
 * sha256, and the files none of them has. `catalogFile` is where the `file =` lines are (errors about a
 * file point there). Writes nothing.
 */
export async function findPatchFiles(
  sources: SourceRef[],
  files: CatalogFile[],
  catalogFile: string,
): Promise<{ found: Map<string, Buffer>; missing: CatalogFile[]; mismatched: Map<string, SourceError> }> {
  const kinds = await Promise.all(sources.map(classify)); // every named source must exist, used or not
  const found = new Map<string, Buffer>();
  // A wrong file in the download cache is not used, and not fatal here: fetch moves it aside.
  const mismatched = new Map<string, SourceError>();
  for (const [i, ref] of sources.entries()) {
    const wanted = files.filter((f) => !found.has(f.path));
    const kind = kinds[i];
    if (wanted.length === 0) break;
    if (kind === undefined) continue;
    const bytes = kind === 'dir' ? await readFromDir(ref, wanted) : await readFromTar(ref, kind, wanted);
    for (const f of wanted) {
      const data = bytes.get(f.path);
      if (data === undefined) continue;
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual !== f.sha256) {
        const err = new SourceError(
          `checksum mismatch for '${f.path}' from patch source '${ref.spec}': expected sha256 ${f.sha256}, got ${actual}`,
          {
            file: catalogFile,
            line: f.line,
            hint: ref.optional
              ? 'the download cache holds another version of this file: run gentoo-kopt fetch (it moves the file aside)'
              : 'the source holds another version of this file: use the exact file the catalog names',
          },
        );
        if (!ref.optional) throw err;
        mismatched.set(f.path, err);
        continue;
      }
      found.set(f.path, data);
    }
  }
  return { found, missing: files.filter((f) => !found.has(f.path)), mismatched };
}

/** The error for a catalog file no source has: with an origin, `gentoo-kopt fetch` downloads it. */
export function missingFile(
  sources: SourceRef[],
  missing: CatalogFile,
  catalogFile: string,
  origin?: string,
): SourceError {
  const named = sources.map((s) => s.spec).join(', ');
  return new SourceError(`'${missing.path}' is in none of the patch sources${named ? ` (${named})` : ''}`, {
    file: catalogFile,
    line: missing.line,
    hint: origin
      ? `run: gentoo-kopt fetch (it downloads ${origin}${missing.path} into the cache), or add a patch-source holding it`
      : 'add a patch-source holding it (set patch-source in kopt.conf to a directory or tarball with the series files)',
  });
}

/**
 * The bytes of each catalog file, from the first source that has it, verified against its sha256.
 * `catalogFile` is where the `file =` lines are (errors about a file point there). Writes nothing.
 */
export async function readPatchFiles(
  sources: SourceRef[],
  files: CatalogFile[],
  catalogFile: string,
  origin?: string,
): Promise<Map<string, Buffer>> {
  if (files.length === 0) return new Map();
  if (sources.filter((s) => !s.optional).length === 0 && !origin) {
    throw new SourceError('no patch source is configured', {
      file: catalogFile,
      line: files[0]!.line,
      hint: 'set patch-source in kopt.conf to a directory or tarball holding the series files',
    });
  }
  const { found, missing, mismatched } = await findPatchFiles(sources, files, catalogFile);
  if (missing.length > 0)
    throw mismatched.get(missing[0]!.path) ?? missingFile(sources, missing[0]!, catalogFile, origin);
  return new Map(files.map((f) => [f.path, found.get(f.path)!]));
}
