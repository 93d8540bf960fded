// The few files a verification needs, out of a kernel tarball (linux-6.1.tar.xz: 1.3 GB, 80,000
// members) in one streaming pass: every member is drained without a copy except the wanted ones, whose
// top-level directory (`linux-6.1/`) is stripped, as `patch -p1` in the unpacked tree would see them.
// Nothing is written anywhere. Kernel tarballs hold legitimate symbolic links, so a link is only
// recorded (never followed): a patch on it fails, as patch(1) refuses to patch through one. A member
// whose name is absolute or climbs out with `..` makes the whole tarball refused: no real kernel
// tarball has one, nor a GNU sparse member (tar-walk.ts refuses those for everyone).
// Sizes are bounded: a kept member may be at most LIMITS.source (64 MiB: the largest file of a kernel
// tree is a few MiB) and is refused by its header, naming it, before it is buffered;
// the stream may not decompress to more than DISTFILE_MAX (linux-6.x.tar.xz is 1.4 GB of tar).
import { SourceError } from '../errors.js';
import { tarKindOf, TarWalkError, walkTar } from '../system/tar-walk.js';
import { LIMITS } from '../system/read.js';

/** The most a kernel distfile (tarball, incremental patch, patchset) may decompress to: 10x the largest real one. */
export const DISTFILE_MAX = 16 * 1024 ** 3;

/** Hints for the ways walking a distfile fails (TarWalkError's reasons). */
export function distfileHint(err: TarWalkError): string {
  if (err.notFound) return 'install app-arch/xz-utils';
  if (err.reason === 'read') return 'check the path, and that the file is readable';
  if (err.reason === 'refused') return HOSTILE_HINT;
  return 'the file is damaged: download it again';
}

const REGULAR = new Set(['file', 'contiguous-file']);
/** How a member that is not a regular file is described (patch(1) refuses all of them). */
const SPECIAL: Record<string, string> = {
  symlink: 'a symbolic link',
  link: 'a hard link',
  directory: 'a directory',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a fifo',
};

export interface Extracted {
  /** Wanted regular files, by path below the top-level directory. */
  files: Map<string, Buffer>;
  /** Wanted paths that are links, directories or devices in the tarball: what they are. */
  special: Map<string, string>;
  /** Wanted regular files stored executable (scripts Kconfig runs). */
  executable: Set<string>;
  /** Decompressed bytes read and members seen. */
  bytes: number;
  members: number;
}

/** The paths to keep: a Set, or a rule (`verify --config` keeps every Kconfig file); `size` is for progress lines. */
export interface WantedPaths {
  has(path: string): boolean;
  readonly size: number;
}

export interface ExtractProgress {
  bytes: number;
  kept: number;
  wanted: number;
}

const HOSTILE_HINT =
  'refusing the whole archive: a kernel tarball never has such a member; download it again from kernel.org';

/**
 * Streams `tarball` (.tar, .tar.gz, .tar.xz) and keeps the members whose path below the top-level
 * directory is in `wanted`. `progress` is called as bytes arrive (throttle it yourself).
 */
export async function extractWanted(
  tarball: string,
  wanted: WantedPaths,
  opts: { progress?: (p: ExtractProgress) => void; threads?: boolean } = {},
): Promise<Extracted> {
  const kind = tarKindOf(tarball);
  if (!kind)
    throw new SourceError(`'${tarball}' is not a .tar, .tar.gz or .tar.xz file`, {
      file: tarball,
      hint: 'name a kernel tarball such as linux-6.1.tar.xz',
    });
  const out: Extracted = { files: new Map(), special: new Map(), executable: new Set(), bytes: 0, members: 0 };
  const tops = new Set<string>();
  const report = (): void =>
    opts.progress?.({ bytes: out.bytes, kept: out.files.size + out.special.size, wanted: wanted.size });
  const hostile = (raw: string, why: string): SourceError =>
    new SourceError(`tarball member '${raw}' ${why}`, { file: tarball, hint: HOSTILE_HINT });

  try {
    await walkTar(tarball, kind, {
      threads: opts.threads ?? true,
      maxMember: LIMITS.source,
      maxTotal: DISTFILE_MAX,
      progress: (bytes) => {
        out.bytes = bytes;
        report();
      },
      visit: ({ name: raw, type }) => {
        out.members++;
        if (raw.startsWith('/')) throw hostile(raw, 'has an absolute name');
        const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
        if (parts.includes('..')) throw hostile(raw, "has a '..' component");
        if (parts.length === 0) return false;
        tops.add(parts[0]!);
        if (parts.length === 1) return false; // the top-level directory itself (or a stray top-level file)
        const path = parts.slice(1).join('/');
        if (!wanted.has(path)) return false;
        // A later member of the same name replaces an earlier one, as unpacking would.
        if (REGULAR.has(type)) {
          out.special.delete(path);
          return true;
        }
        out.files.delete(path);
        out.special.set(path, SPECIAL[type] ?? `a ${type}`);
        report();
        return false;
      },
      onData: ({ name: raw, mode }, data) => {
        const path = raw
          .split('/')
          .filter((p) => p !== '' && p !== '.')
          .slice(1)
          .join('/');
        out.files.set(path, data);
        if (mode !== undefined && mode & 0o100) out.executable.add(path);
        else out.executable.delete(path);
        report();
      },
    });
  } catch (err) {
    if (!(err instanceof TarWalkError)) throw err;
    throw new SourceError(err.message, { file: tarball, hint: distfileHint(err), cause: err.cause });
  }
  if (tops.size > 1) {
    throw new SourceError(
      `the tarball has ${tops.size} top-level entries (${[...tops].slice(0, 3).join(', ')}${tops.size > 3 ? ', ...' : ''}), not one directory`,
      {
        file: tarball,
        hint: 'a kernel tarball holds one directory (linux-6.1/); unpack this one yourself and use --source DIR',
      },
    );
  }
  return out;
}
