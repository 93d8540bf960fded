// The ownership ledger: what gentoo-kopt installed, by owner (`patches`: sync-patches, `hooks`: hooks
// install). For each owner, every file it installed with the sha256 of the bytes it wrote and its
// facts about it, the directories it created (removed again once empty) and the files it created but
// shares with the user (bashrc, of which only the block is gentoo-kopt's). Ownership is decided by
// this record alone: a file not in it is the user's, whatever its name. It lives in
// var/lib/gentoo-kopt/ledger.json, written in the same transaction as the files it describes, so a
// rollback restores both together:
//
//   {"format": 1,
//    "hooks": {"files": [{"path": "etc/gentoo-kopt/hook-settings", "sha256": "...", "role": "settings"}],
//              "dirs": ["etc/kernel/config.d"], "created": ["etc/portage/bashrc"]},
//    "patches": {"files": [{"path": "...", "sha256": "...", "entry": "6.12", "series": "...", "target": "..."}],
//                "dirs": [...], "created": []}}
//
// Paths are relative to the config root. The ledger is input: read with the bounded reader (a regular
// file, not a link, in a state directory inside the root), checked field by field, every path
// normalised and in an area its owner may name (areas.ts); nothing of it is echoed but a path that
// fails that check. An owner is a row of FACTS (its facts about a file) and a name in areas.ts. The
// first release's records are read too, and carried over by the next write (ledger-legacy.ts).
import path from 'node:path';
import { ShapeError, array, object, oneOf, optional, parseState, quote, str, type Shape } from './json-shape.js';
import { areaPath, type Owner } from './areas.js';
import { readLegacy } from './ledger-legacy.js';
import type { Op } from './plan.js';
import { readOptional } from './read.js';
import type { Roots } from '../portage/roots.js';

export type { Owner } from './areas.js';
export type HookRole = 'hook' | 'settings' | 'lto-fragment' | 'config-fragment';
export type PgoRole = 'fragment' | 'state' | 'profile';

/** What each owner records about a file besides its path and sha256. */
interface Facts {
  patches: { series: string; entry: string; target: string };
  hooks: { role: HookRole };
  init: Record<never, never>;
  pgo: { role: PgoRole };
}
const FACTS: { [O in Owner]: { [K in keyof Facts[O]]-?: Shape<Facts[O][K]> } } = {
  patches: { series: str(256), entry: str(256), target: str(512) },
  hooks: { role: oneOf<HookRole>('hook', 'settings', 'lto-fragment', 'config-fragment') },
  init: {},
  pgo: { role: oneOf<PgoRole>('fragment', 'state', 'profile') },
};

/** A file `O` installed: where, the sha256 of what it wrote, and its facts about it. */
export type OwnedFile<O extends Owner> = { path: string; sha256: string } & Facts[O];

/** An owner's part of the ledger. */
export interface Part<O extends Owner> {
  files: OwnedFile<O>[];
  /** Directories it created (relative to the config root), removed again once empty. */
  dirs: string[];
  /** Files it created and shares with the user: removed by it only when nothing of the user's is left. */
  created: string[];
}

export type Ledger = { [O in Owner]: Part<O> };

export const LEDGER_REL = 'var/lib/gentoo-kopt/ledger.json';
const OWNERS = Object.keys(FACTS) as Owner[];
const MAX_ENTRIES = 100_000;
export const emptyLedger = (): Ledger =>
  Object.fromEntries(OWNERS.map((o) => [o, { files: [], dirs: [], created: [] }])) as unknown as Ledger;

/** `shape`, refusing a second entry with the same path. */
const unique =
  <T extends string | { path: string }>(shape: Shape<T[]>): Shape<T[]> =>
  (v, at) => {
    const list = shape(v, at);
    const paths = list.map((e) => (typeof e === 'string' ? e : e.path));
    const i = paths.findIndex((p, j) => paths.indexOf(p) !== j);
    if (i >= 0) throw new ShapeError(`${at}[${i}]`, `${quote(paths[i]!)} appears twice`);
    return list;
  };

/** An owner's part, every path in the areas it may name. */
function partShape<O extends Owner>(owner: O): Shape<Part<O>> {
  const file = object({
    path: areaPath(owner, { kind: 'file' }),
    sha256: str(64, /^[0-9a-f]{64}$/, 'a sha256 (64 hex digits)'),
    ...FACTS[owner],
  });
  return object<Part<O>>({
    files: unique(array(file as Shape<OwnedFile<O>>, MAX_ENTRIES)),
    dirs: unique(array(areaPath(owner, { kind: 'dir' }), MAX_ENTRIES)),
    created: unique(array(areaPath(owner, { kind: 'shared' }), MAX_ENTRIES)),
  });
}
const ledgerShape: Shape<Partial<Ledger>> = object(
  Object.fromEntries([['format', oneOf(1)], ...OWNERS.map((o) => [o, optional(partShape(o))])]) as never,
);

/** ledger.json's bytes, checked (see the header); a ConfigError naming the file and the field otherwise. */
export function parseLedger(bytes: Buffer | string, file: string): Ledger {
  const parts = parseState(bytes, file, ledgerShape, 'gentoo-kopt ledger (format 1)');
  const ledger = emptyLedger();
  for (const o of OWNERS) if (parts[o]) Object.assign(ledger, { [o]: parts[o] });
  return ledger;
}

/** Stable text (owners, entries and fields sorted) so an unchanged ledger is byte-identical; undefined when empty. */
export function serializeLedger(l: Ledger): string | undefined {
  const parts = OWNERS.filter((o) => l[o].files.length || l[o].dirs.length || l[o].created.length)
    .sort()
    .map((o) => {
      const { files, dirs, created } = l[o] as Part<Owner>;
      const sorted = (xs: Record<string, unknown>) => Object.fromEntries(Object.entries(xs).sort());
      return [
        o,
        {
          files: [...files]
            .sort((a, b) => (a.path < b.path ? -1 : 1))
            .map(({ path: p, sha256, ...facts }) => ({ path: p, sha256, ...sorted(facts) })),
          dirs: [...new Set(dirs)].sort(),
          created: [...new Set(created)].sort(),
        },
      ];
    });
  return parts.length ? `${JSON.stringify({ format: 1, ...Object.fromEntries(parts) }, null, 2)}\n` : undefined;
}

/** The ledger as read, with what the next write must replace. */
export interface LoadedLedger {
  ledger: Ledger;
  /** ledger.json's bytes (undefined: there is none). */
  bytes?: Buffer;
  /** The first release's records that were read (relative to the config root): the next write removes them. */
  legacy: string[];
}

/**
 * The ledger of `roots`: ledger.json, with the first release's records laid over it. Those are newer
 * whenever both exist (every write of this release removes them, so only an older release can have
 * written them since), so their entries win, path by path.
 */
export async function readLedger(roots: Roots): Promise<LoadedLedger> {
  const file = path.join(roots.configRoot, LEDGER_REL);
  const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot });
  const ledger = bytes === undefined ? emptyLedger() : parseLedger(bytes, file);
  const legacy = await readLegacy(roots);
  for (const o of OWNERS) {
    const mine: Part<Owner> = ledger[o];
    const newer: Part<Owner> = legacy.ledger[o];
    const paths = new Set(newer.files.map((f) => f.path));
    mine.files = [...mine.files.filter((f) => !paths.has(f.path)), ...newer.files];
    mine.dirs = [...new Set([...mine.dirs, ...newer.dirs])];
    mine.created = [...new Set([...mine.created, ...newer.created])];
  }
  return { ledger, ...(bytes !== undefined && { bytes }), legacy: legacy.files };
}

/** The operations that make the ledger `next`: ledger.json written (removed when empty), the old records removed. */
export function ledgerOps(roots: Roots, loaded: LoadedLedger, next: Ledger): Op[] {
  const file = path.join(roots.configRoot, LEDGER_REL);
  const text = serializeLedger(next);
  const ops: Op[] = loaded.legacy.map((rel) => ({ kind: 'remove', path: path.join(roots.configRoot, rel) }));
  if (text === undefined) return loaded.bytes ? [{ kind: 'remove', path: file }, ...ops] : ops;
  if (loaded.bytes?.equals(Buffer.from(text))) return ops;
  return [{ kind: 'write', path: file, content: Buffer.from(text), mode: 0o644 }, ...ops];
}
