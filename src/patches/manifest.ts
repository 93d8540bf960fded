// The record of what sync-patches owns: every file it installed (path relative to the config root,
// sha256 of the bytes it wrote, which series entry and target it came from) and every directory it
// created. Ownership is decided by this record alone: a file not in it is the user's, whatever its name.
// It lives in ${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/managed.json and is written in the same
// transaction as the files it describes, so a rollback restores both together.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { statePath, type Roots } from '../portage/roots.js';

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

function isManagedFile(v: unknown): v is ManagedFile {
  const f = v as ManagedFile;
  return (
    typeof f === 'object' && f !== null &&
    typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256) &&
    typeof f.series === 'string' && typeof f.entry === 'string' && typeof f.target === 'string'
  );
}

export function parseManifest(text: string, file: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`not valid JSON: ${(err as Error).message}`, {
      file,
      hint: 'this file is written by gentoo-kopt; restore it with `gentoo-kopt rollback` or from a backup',
    });
  }
  const m = data as Manifest;
  const ok =
    typeof m === 'object' && m !== null && m.format === 1 &&
    typeof m.files === 'object' && m.files !== null && Object.values(m.files).every(isManagedFile) &&
    Array.isArray(m.dirs) && m.dirs.every((d) => typeof d === 'string') &&
    [...Object.keys(m.files), ...m.dirs].every((p) => !p.startsWith('/') && !p.split('/').includes('..'));
  if (!ok) throw new ConfigError('not a gentoo-kopt manifest (format 1)', { file });
  return { format: 1, files: { ...m.files }, dirs: [...m.dirs] };
}

export async function readManifest(roots: Roots): Promise<Manifest> {
  const file = manifestPath(roots);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { format: 1, files: {}, dirs: [] };
    throw new ConfigError(`cannot read: ${(err as Error).message}`, { file });
  }
  return parseManifest(text, file);
}

/** Stable serialisation (sorted keys) so an unchanged manifest is byte-identical. */
export function serializeManifest(m: Manifest): string {
  const files: Record<string, ManagedFile> = {};
  for (const key of Object.keys(m.files).sort()) files[key] = m.files[key]!;
  return JSON.stringify({ format: 1, files, dirs: [...new Set(m.dirs)].sort() }, null, 2) + '\n';
}
