// The record of what sync-patches owns: every file it installed (path relative to the config root,
// sha256 of the bytes it wrote, which series entry and target it came from) and every directory it
// created. Ownership is decided by this record alone: a file not in it is the user's, whatever its name.
// It lives in ${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/managed.json and is written in the same
// transaction as the files it describes, so a rollback restores both together.
import { FsError } from '../errors.js';
import type { Roots } from '../portage/roots.js';
import { statePath } from '../system/paths.js';
import { areaPath } from '../system/areas.js';
import { array, dict, object, oneOf, parseState, str } from '../system/json-shape.js';
import { readOptional } from '../system/read.js';

export interface ManagedFile {
  sha256: string;
  series: string;
  entry: string;
  /** category/P of the target this file was installed for. */
  target: string;
}

export interface Manifest {
  format: 1;
  /** Keyed by path relative to the config root, e.g. "etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58/00-....patch". */
  files: Record<string, ManagedFile>;
  /** Directories created by sync-patches (relative to the config root); removed again when empty. */
  dirs: string[];
}

export const EMPTY_MANIFEST: Manifest = { format: 1, files: {}, dirs: [] };

export function manifestPath(roots: Roots): string {
  return statePath(roots, 'managed.json');
}

const MAX_ENTRIES = 100_000;
const managedFile = object<ManagedFile>({
  sha256: str(64, /^[0-9a-f]{64}$/, 'a sha256 (64 hex digits)'),
  series: str(256),
  entry: str(256),
  target: str(512),
});
// managed.json may name only patch files of a series and the directories on the way to them: a
// record claiming etc/portage/make.conf must not make sync-patches prune it (areas.ts).
const patchFile = areaPath('managed.json', { kind: 'file' });
const manifestShape = object<Manifest>({
  format: oneOf(1),
  files: dict((k, at) => void patchFile(k, at), managedFile, MAX_ENTRIES),
  dirs: array(areaPath('managed.json', { kind: 'dir' }), MAX_ENTRIES),
});

/** managed.json's text, checked field by field; a ConfigError naming the file and the field otherwise. */
export function parseManifest(text: string | Buffer, file: string): Manifest {
  const m = parseState(text, file, manifestShape, 'gentoo-kopt manifest (format 1)');
  return { format: 1, files: { ...m.files }, dirs: [...m.dirs] };
}

/**
 * managed.json: read with the bounded reader, never through a symbolic link, in a state directory
 * resolving inside the config root; an empty record when there is none. A file that cannot be read
 * is an FsError whose message starts with "cannot read" (doctor tells it from one that does not parse).
 */
export async function readManifest(roots: Roots): Promise<Manifest> {
  const file = manifestPath(roots);
  const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot }).catch(
    (err: unknown) => {
      if (!(err instanceof FsError) || err.message.startsWith('cannot read')) throw err;
      throw new FsError(`cannot read: ${err.message.replace(/^is /, 'it is ')}`, {
        file: err.file,
        hint: err.hint,
        cause: err,
      });
    },
  );
  return bytes === undefined ? { format: 1, files: {}, dirs: [] } : parseManifest(bytes, file);
}

/** Stable serialisation (sorted keys) so an unchanged manifest is byte-identical. */
export function serializeManifest(m: Manifest): string {
  const files: Record<string, ManagedFile> = {};
  for (const key of Object.keys(m.files).sort()) files[key] = m.files[key]!;
  return JSON.stringify({ format: 1, files, dirs: [...new Set(m.dirs)].sort() }, null, 2) + '\n';
}
