// The ownership records of the first release, read so that the ledger can carry them over:
// managed.json (sync-patches: {format: 1, files: {PATH: {sha256, series, entry, target}}, dirs: [PATH]})
// and hooks.json (hooks install: {format: 1, files: {PATH: SHA256}, createdBashrc, dirs: [PATH]}).
// They are input like the ledger, checked the same way: every path in its owner's areas. The next
// write of any command writes their entries into ledger.json and removes them, in one transaction (a
// rollback of it gives them back).
import { areaPath, type Owner } from './areas.js';
import { array, bool, dict, object, oneOf, parseState, str } from './json-shape.js';
import { emptyLedger, type HookRole, type Ledger } from './ledger.js';
import { statePath } from './paths.js';
import { readOptional } from './read.js';
import type { Roots } from '../portage/roots.js';

const sha = str(64, /^[0-9a-f]{64}$/, 'a sha256 (64 hex digits)');
const keyIn = (owner: Owner) => {
  const file = areaPath(owner, { kind: 'file' });
  return (k: string, at: string): void => void file(k, at);
};
const dirsOf = (owner: Owner) => array(areaPath(owner, { kind: 'dir' }), 100_000);

const managed = object({
  format: oneOf(1),
  files: dict(keyIn('patches'), object({ sha256: sha, series: str(256), entry: str(256), target: str(512) }), 100_000),
  dirs: dirsOf('patches'),
});
const hooks = object({
  format: oneOf(1),
  files: dict(keyIn('hooks'), sha, 1000),
  createdBashrc: bool,
  dirs: dirsOf('hooks'),
});

/** The hook files of the first release, by path (the third area of the hooks is the LTO fragment). */
const ROLE: Record<string, HookRole> = {
  'etc/gentoo-kopt/kernel-hook.bash': 'hook',
  'etc/gentoo-kopt/hook-settings': 'settings',
};

/** Each record: its name, and its bytes (from `file`) as a part of the ledger. */
const RECORDS: Record<string, (bytes: Buffer, file: string) => Partial<Ledger>> = {
  'managed.json': (bytes, file) => {
    const r = parseState(bytes, file, managed, 'gentoo-kopt manifest (format 1)');
    const files = Object.entries(r.files).map(([path, f]) => ({ path, ...f }));
    return { patches: { files, dirs: r.dirs, created: [] } };
  },
  'hooks.json': (bytes, file) => {
    const r = parseState(bytes, file, hooks, 'gentoo-kopt hooks record (format 1)');
    const files = Object.entries(r.files).map(([path, sha256]) => ({
      path,
      sha256,
      role: ROLE[path] ?? 'lto-fragment',
    }));
    return { hooks: { files, dirs: r.dirs, created: r.createdBashrc ? ['etc/portage/bashrc'] : [] } };
  },
};

/** What the first release's records say, as a ledger, and which of them exist (relative paths). */
export async function readLegacy(roots: Roots): Promise<{ ledger: Ledger; files: string[] }> {
  const out = { ledger: emptyLedger(), files: [] as string[] };
  for (const [name, read] of Object.entries(RECORDS)) {
    const file = statePath(roots, name);
    const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot });
    if (bytes === undefined) continue;
    Object.assign(out.ledger, read(bytes, file));
    out.files.push(`var/lib/gentoo-kopt/${name}`);
  }
  return out;
}
