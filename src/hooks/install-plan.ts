// What `gentoo-kopt hooks install|uninstall` does to each file, decided from what is there now and
// what gentoo-kopt recorded writing (pure: no I/O). Ownership is the record alone, as for patch files
// (src/patches/manifest.ts): a file we did not record is the user's, whatever its name.
//
// The record, ${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/hooks.json, holds the sha256 of each file
// written, whether bashrc was created by us (uninstall then removes it when only our block was in it)
// and the directories we created. It is written in the same transaction as the files.
import { createHash } from 'node:crypto';
import { areaPath } from '../system/areas.js';
import { array, bool, dict, object, oneOf, parseState, str } from '../system/json-shape.js';

export const HOOKS_RECORD_REL = 'var/lib/gentoo-kopt/hooks.json';

export interface HooksRecord {
  format: 1;
  /** Path relative to the config root -> sha256 of the bytes written. */
  files: Record<string, string>;
  createdBashrc: boolean;
  /** Directories (relative to the config root) created by install: removed by uninstall when empty. */
  dirs: string[];
}

export const EMPTY_RECORD: HooksRecord = { format: 1, files: {}, createdBashrc: false, dirs: [] };

export type Role = 'hook' | 'settings' | 'lto-fragment';

/** The files install writes besides bashrc. A user may edit the fragment (kept); hook and settings are generated. */
export const USER_EDITABLE: Readonly<Record<Role, boolean>> = { hook: false, settings: false, 'lto-fragment': true };

/** What is at a managed path now, relative to what we want there and what we recorded. */
export type FileState = 'absent' | 'current' | 'ours' | 'edited' | 'foreign';

export type Action =
  | 'create'
  | 'update'
  | 'replace-edited'
  | 'remove'
  | 'unchanged'
  | 'keep-edited'
  | 'forget'
  | 'conflict'
  | 'none';

export interface Decision {
  rel: string;
  role: Role;
  state: FileState;
  action: Action;
  /** Bytes to write for create / update / replace-edited. */
  content?: string;
  /** sha256 to record (undefined: not ours any more). */
  recordSha?: string;
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function fileState(
  current: Buffer | undefined,
  desired: string | undefined,
  recorded: string | undefined,
): FileState {
  if (current === undefined) return 'absent';
  if (desired !== undefined && current.equals(Buffer.from(desired))) return 'current';
  if (recorded === undefined) return 'foreign';
  return sha256(current) === recorded ? 'ours' : 'edited';
}

/** Install: bring `rel` to `desired` (undefined: the file should not exist), respecting ownership. */
export function decideInstall(
  rel: string,
  role: Role,
  current: Buffer | undefined,
  desired: string | undefined,
  recorded: string | undefined,
): Decision {
  const state = fileState(current, desired, recorded);
  const d = { rel, role, state };
  if (desired === undefined) {
    if (state === 'absent') return { ...d, action: recorded ? 'forget' : 'none' };
    if (state === 'ours') return { ...d, action: 'remove' };
    if (state === 'edited') return { ...d, action: USER_EDITABLE[role] ? 'forget' : 'remove' };
    return { ...d, action: 'none' }; // foreign: not ours to remove
  }
  const write = { content: desired, recordSha: sha256(desired) };
  switch (state) {
    case 'absent':
      return { ...d, action: 'create', ...write };
    case 'current':
      return { ...d, action: 'unchanged', recordSha: write.recordSha };
    case 'ours':
      return { ...d, action: 'update', ...write };
    case 'edited':
      return USER_EDITABLE[role]
        ? { ...d, action: 'keep-edited', recordSha: recorded }
        : { ...d, action: 'replace-edited', ...write };
    default:
      return { ...d, action: 'conflict' };
  }
}

/** Uninstall: remove `rel` if it is ours (an edited user-editable file is kept and forgotten). */
export function decideUninstall(
  rel: string,
  role: Role,
  current: Buffer | undefined,
  recorded: string | undefined,
): Decision {
  const state = fileState(current, undefined, recorded);
  const d = { rel, role, state };
  if (state === 'absent') return { ...d, action: recorded ? 'forget' : 'none' };
  if (state === 'ours' || (state === 'edited' && !USER_EDITABLE[role])) return { ...d, action: 'remove' };
  if (state === 'edited') return { ...d, action: 'keep-edited' };
  return { ...d, action: 'none' };
}

// hooks.json may name only the hook's own files (areas.ts) and the directories on the way to them.
const hookFile = areaPath('hooks.json', { kind: 'file' });
const recordShape = object<HooksRecord>({
  format: oneOf(1),
  files: dict((k, at) => void hookFile(k, at), str(64, /^[0-9a-f]{64}$/, 'a sha256 (64 hex digits)'), 1000),
  createdBashrc: bool,
  dirs: array(areaPath('hooks.json', { kind: 'dir' }), 1000),
});

/** hooks.json's text, checked field by field; a ConfigError naming the file and the field otherwise. */
export function parseRecord(text: string | Buffer, file: string): HooksRecord {
  const r = parseState(text, file, recordShape, 'gentoo-kopt hooks record (format 1)');
  return { format: 1, files: { ...r.files }, createdBashrc: r.createdBashrc, dirs: [...r.dirs] };
}

export function serializeRecord(r: HooksRecord): string {
  const files: Record<string, string> = {};
  for (const k of Object.keys(r.files).sort()) files[k] = r.files[k]!;
  return (
    JSON.stringify({ format: 1, files, createdBashrc: r.createdBashrc, dirs: [...new Set(r.dirs)].sort() }, null, 2) +
    '\n'
  );
}
