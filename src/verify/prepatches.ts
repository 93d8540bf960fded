// What the ebuild applies before eapply_user, read for the files a series touches only: the
// incremental kernel.org patch (patch-X.Y.Z.xz, up to ~100 MB of diff once decompressed) streamed
// through `xz -dc` and a line parser, and the Gentoo patchsets (tarballs of patches) walked member by
// member. Each file section is parsed (and checked) but its lines are kept only when it touches a
// wanted path, so memory holds the relevant sections, never a whole patch. When a kept section renames
// or copies a file, its source becomes wanted too and the reading starts over (rare: stable patches
// almost never rename). Sizes are bounded as for the kernel tarball (extract.ts): DISTFILE_MAX of
// decompressed data per file, LIMITS.patch per patchset member and per line of the incremental patch,
// and LIMITS.patch of kept hunk lines per patch (hunks.ts). The kept sections are written out again
// as one patch per prepatch (formatSections) for GNU patch to apply before the series.
import { SourceError } from '../errors.js';
import { compareC } from '../portage/eapply-user.js';
import { tarKindOf, TarWalkError, walkTar } from '../system/tar-walk.js';
import { type ProcessError, xzDecompressStream } from '../system/exec.js';
import { LIMITS } from '../system/read.js';
import { distfileHint, DISTFILE_MAX } from './extract.js';
import type { PatchsetKind } from './distfiles.js';
import { feedLines, PatchParser, pathsOf, type FilePatch } from './hunks.js';

export interface Prepatch {
  /** e.g. 'patch-6.1.50' or 'genpatches-6.1-60.base.tar.xz: 1500_XATTR_USER_PREFIX.patch' */
  name: string;
  /** The sections that touch wanted files, in order. */
  sections: FilePatch[];
}

export interface PrepatchSources {
  incremental?: string;
  patchsets: { file: string; kind: PatchsetKind }[];
}

const base = (f: string): string => f.replace(/^.*\//, '');

/** Which members of a patchset tarball the ebuild applies (see distfiles.ts), by member name. */
function appliedMember(kind: PatchsetKind, raw: string): boolean {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (raw.startsWith('/') || parts.includes('..')) return false; // never a real patchset member
  if (kind === 'genpatches') return parts.length === 1 && /\.patch$/.test(parts[0]!);
  return parts.length === 2 && /\.(patch|diff)$/.test(parts[1]!) && !parts[1]!.startsWith('.');
}

function parser(name: string, wanted: Set<string>): PatchParser {
  return new PatchParser(name, { keep: (f) => pathsOf(f).some((p) => wanted.has(p)) });
}

/** Streams an xz-compressed patch through the parser (latin1 lines, split across chunks). */
async function readIncremental(file: string, wanted: Set<string>): Promise<Prepatch> {
  const name = base(file).replace(/\.xz$/, '');
  const p = parser(base(file), wanted);
  const proc = xzDecompressStream(file);
  let rest = '';
  let parseError: unknown;
  let bytes = 0;
  let capped = false;
  const refuse = (message: string): SourceError =>
    new SourceError(message, {
      file,
      hint: 'no real incremental kernel patch is like this: download it again (emerge --fetchonly)',
    });
  try {
    for await (const chunk of proc.stdout) {
      bytes += (chunk as Buffer).length;
      if (bytes > DISTFILE_MAX) {
        parseError ??= refuse(`${base(file)} decompresses to more than ${DISTFILE_MAX} bytes: refusing to read more`);
        capped = true;
        proc.kill();
        break;
      }
      if (parseError) continue; // keep draining so xz can finish
      const text = rest + (chunk as Buffer).toString('latin1');
      const cut = text.lastIndexOf('\n') + 1;
      rest = text.slice(cut);
      if (rest.length > LIMITS.patch.max) {
        parseError = refuse(`${base(file)} has a line longer than ${LIMITS.patch.max} bytes`);
        rest = '';
      }
      try {
        feedLines(text.slice(0, cut), (l) => p.push(l));
      } catch (err) {
        parseError = err;
      }
    }
    if (!parseError && rest) p.push(rest);
  } catch (err) {
    parseError ??= err;
  }
  try {
    await proc.done;
  } catch (err) {
    if (capped) throw parseError; // killed by us at the cap
    const e = err as ProcessError;
    throw new SourceError(`cannot decompress ${base(file)}: ${e.message}`, {
      file,
      hint: e.notFound ? 'install app-arch/xz-utils' : 'the file is damaged: download it again (emerge --fetchonly)',
      cause: err,
    });
  }
  if (parseError) throw parseError;
  return { name, sections: p.end() };
}

async function readPatchset(file: string, kind: PatchsetKind, wanted: Set<string>): Promise<Prepatch[]> {
  const tkind = tarKindOf(file);
  if (!tkind) throw new SourceError(`'${base(file)}' is not a tarball`, { file });
  const out: Prepatch[] = [];
  try {
    await walkTar(file, tkind, {
      maxMember: LIMITS.patch,
      maxTotal: DISTFILE_MAX,
      visit: ({ name, type }) => (type === 'file' || type === 'contiguous-file') && appliedMember(kind, name),
      onData: ({ name }, data) => {
        const p = parser(`${file}: ${name}`, wanted);
        feedLines(data.toString('latin1'), (l) => p.push(l));
        out.push({ name: `${base(file)}: ${base(name)}`, sections: p.end() });
      },
    });
  } catch (err) {
    if (!(err instanceof TarWalkError)) throw err;
    throw new SourceError(err.message, {
      file,
      hint:
        err.reason === 'corrupt' || err.reason === 'decompress'
          ? 'the file is damaged: download it again (emerge --fetchonly)'
          : distfileHint(err),
      cause: err.cause,
    });
  }
  return out;
}

/** One pass: the prepatches in the ebuild's order, filtered for `wanted`. */
async function readAll(src: PrepatchSources, wanted: Set<string>): Promise<Prepatch[]> {
  const out: Prepatch[] = [];
  if (src.incremental) out.push(await readIncremental(src.incremental, wanted));
  // genpatches: the *.patch files of all genpatches tarballs share ${WORKDIR}: one sorted list.
  const gen: Prepatch[] = [];
  for (const ps of src.patchsets.filter((p) => p.kind === 'genpatches'))
    gen.push(...(await readPatchset(ps.file, ps.kind, wanted)));
  out.push(...gen.sort((a, b) => compareC(a.name.replace(/^.*: /, ''), b.name.replace(/^.*: /, ''))));
  for (const ps of src.patchsets.filter((p) => p.kind === 'patch-dir')) {
    out.push(...(await readPatchset(ps.file, ps.kind, wanted)).sort((a, b) => compareC(a.name, b.name)));
  }
  return out;
}

/**
 * The prepatches' sections that matter for `wanted` (which grows by the sources of renames and copies
 * into wanted paths; the caller must extract those from the base tarball too).
 */
export async function readPrepatches(src: PrepatchSources, wanted: Set<string>): Promise<Prepatch[]> {
  for (let pass = 0; ; pass++) {
    const patches = await readAll(src, wanted);
    const before = wanted.size;
    for (const s of patches.flatMap((p) => p.sections)) for (const p of pathsOf(s)) wanted.add(p);
    if (wanted.size === before || pass >= 4) return patches.filter((p) => p.sections.length > 0);
  }
}

/** A name as patch(1) reads it back: C-quoted (as git writes it) unless it is plain. */
const quote = (name: string): string =>
  /^[\w./+,@=-]+$/.test(name)
    ? name
    : `"${name.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;

/**
 * Kept sections written out as a patch for `patch -p1` again: names with `a/` and `b/`, /dev/null for
 * a side that is absent, git headers for creations, deletions, renames, copies and binaries (a section
 * of headers only gets an `index` line: it needs its file), `\ No newline at end of file` where a line
 * has none. Not kept, as verify looks at contents only: file modes, timestamps, CR LF header lines. A
 * section whose names patch(1) refuses (unsafe) cannot be written and is left out.
 */
export function formatSections(sections: FilePatch[]): Buffer {
  const out: string[] = [];
  for (const f of sections.filter((s) => !s.unsafe)) {
    const [a, b] = [f.old ?? f.new, f.new ?? f.old];
    if (f.git) {
      out.push(`diff --git ${quote(`a/${a}`)} ${quote(`b/${b}`)}\n`);
      if (f.create) out.push('new file mode 100644\n');
      if (f.delete) out.push('deleted file mode 100644\n');
      const how = f.rename ? 'rename' : f.copy ? 'copy' : undefined;
      if (how) out.push(`${how} from ${quote(f.old!)}\n${how} to ${quote(f.new!)}\n`);
      if (f.binary) out.push('GIT binary patch\n');
      // a section of headers only still needs its file; an all-zero hash would mean /dev/null
      else if (f.header && !how && f.hunks.length === 0) out.push('index 1111111..2222222 100644\n');
    }
    if (f.hunks.length > 0)
      out.push(`--- ${f.old ? quote(`a/${f.old}`) : '/dev/null'}\n+++ ${f.new ? quote(`b/${f.new}`) : '/dev/null'}\n`);
    for (const h of f.hunks) {
      out.push(`@@ -${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount} @@\n`);
      for (const [i, line] of h.lines.entries())
        out.push(`${h.ops[i]}${line}${line.endsWith('\n') ? '' : '\n\\ No newline at end of file\n'}`);
    }
  }
  return Buffer.from(out.join(''), 'latin1');
}
