// The profile store and pgo's state, under ${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/pgo/ (owner `pgo`
// in the ledger):
//
//   state.json                          which package is instrumented or uses which profile
//   <category>/<pn>/<PV>/profile.json   what was collected: kind, the package it was recorded on, the
//                                       build directory prefix, architecture, GCC version, counts
//   <category>/<pn>/<PV>/gcov/<rel>.gcda  one file per object, named as GCC looks for it with
//                                       -fprofile-use=<dir> -fprofile-prefix-path=<build dir>: the
//                                       object's path below the build directory with `/` as `#`
//   <category>/<pn>/<PV>/kernel.afdo, propeller_{cc,ld}_profile.txt   Clang AutoFDO / Propeller
//
// Keyed by PV, the version the profile was recorded on: a profile is applied automatically only to a
// build of that PV (revisions, -rN, are the same sources). Both files are input when read back: bounded
// reads, checked field by field (json-shape).
import path from 'node:path';
import type { Roots } from '../portage/roots.js';
import { dict, int, object, oneOf, optional, parseState, ShapeError, str, type Shape } from '../system/json-shape.js';
import { statePath } from '../system/paths.js';
import { readOptional } from '../system/read.js';

export type PgoKind = 'gcov' | 'autofdo' | 'propeller';
export type PgoMode = 'instrument' | 'use';

/** One package's pgo setting. */
export interface PgoEntry {
  mode: PgoMode;
  kind: PgoKind;
  /** use: the PV the profile is applied to (the hook applies it to builds of that PV only). */
  pv?: string;
  /** use: the profile directory, relative to the config root. */
  profile?: string;
}

export interface PgoState {
  packages: Record<string, PgoEntry>;
}

/** What collect (or convert) recorded about a profile. */
export interface ProfileMeta {
  kind: PgoKind;
  /** category/PF of the build the profile was recorded on. */
  cpv: string;
  pv: string;
  /** gcov: the absolute build directory of the instrumented kernel. */
  buildDir?: string;
  /** The kernel architecture it was recorded on (x86, arm64, ...). */
  arch: string;
  gccMajor?: number;
  files: number;
  sumMax?: number;
  collected: string;
}

export const PGO_REL = 'var/lib/gentoo-kopt/pgo';
export const STATE_REL = `${PGO_REL}/state.json`;
export const FRAGMENT_NAME = '60-gentoo-kopt-pgo.config';
export const FRAGMENT_REL = `etc/kernel/config.d/${FRAGMENT_NAME}`;

const CPN = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*\/[A-Za-z0-9_][A-Za-z0-9+_-]*$/;
/** A PV as the hook's rule takes it (src/hooks/settings.ts `pgo-pv`). */
export const PV_RULE = /^[0-9][0-9a-z._]*$/;

/** The store directory of a profile, relative to the config root. */
export const profileRel = (cpn: string, pv: string): string => `${PGO_REL}/${cpn}/${pv}`;
/** A stored .gcda's name: the object's path below the build directory, `/` as `#`. */
export const gcdaName = (rel: string): string => rel.replaceAll('/', '#');

const entryShape: Shape<PgoEntry> = object<PgoEntry>({
  mode: oneOf<PgoMode>('instrument', 'use'),
  kind: oneOf<PgoKind>('gcov', 'autofdo', 'propeller'),
  pv: optional(str(64, PV_RULE, 'a package version (PV)')),
  profile: optional(str(512, /^var\/lib\/gentoo-kopt\/pgo\/[^/]+\/[^/]+\/[0-9][0-9a-z._]*$/, 'a profile directory')),
});
const stateShape: Shape<PgoState> = (v, at) => {
  const s = object<{ format: 1; packages: Record<string, PgoEntry> }>({
    format: oneOf(1),
    packages: dict(
      (k, kat) => {
        if (!CPN.test(k)) throw new ShapeError(kat, 'must be a category/package name');
      },
      entryShape,
      1000,
    ),
  })(v, at);
  return { packages: s.packages };
};

const metaShape: Shape<ProfileMeta> = (v, at) =>
  object<ProfileMeta & { format: 1 }>({
    format: oneOf(1),
    kind: oneOf<PgoKind>('gcov', 'autofdo', 'propeller'),
    cpv: str(256, /^[A-Za-z0-9_][A-Za-z0-9+_.-]*\/[A-Za-z0-9_][A-Za-z0-9+_.-]*$/, 'a category/PF'),
    pv: str(64, PV_RULE, 'a package version (PV)'),
    buildDir: optional(str(4096, /^\//, 'an absolute directory')),
    arch: str(32, /^[a-z0-9_]+$/, 'a kernel architecture'),
    gccMajor: optional(int(1, 999)),
    files: int(0, 10_000_000),
    sumMax: optional(int(0, Number.MAX_SAFE_INTEGER)),
    collected: str(64),
  })(v, at);

export const stateFile = (roots: Pick<Roots, 'configRoot'>): string => statePath(roots, 'pgo', 'state.json');

/** state.json (an empty state when there is none). */
export async function readPgoState(roots: Pick<Roots, 'configRoot'>): Promise<PgoState> {
  const file = stateFile(roots);
  const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot });
  return bytes === undefined
    ? { packages: {} }
    : parseState(bytes, file, stateShape, 'gentoo-kopt pgo state (format 1)');
}

/** state.json's text, stable (packages sorted); undefined when no package has a setting. */
export function serializeState(s: PgoState): string | undefined {
  const names = Object.keys(s.packages).sort();
  if (!names.length) return undefined;
  const packages = Object.fromEntries(names.map((n) => [n, s.packages[n]]));
  return `${JSON.stringify({ format: 1, packages }, null, 2)}\n`;
}

export const metaFile = (roots: Pick<Roots, 'configRoot'>, rel: string): string =>
  path.join(roots.configRoot, rel, 'profile.json');

/** profile.json of the profile at `rel` (relative to the config root); undefined when there is none. */
export async function readMeta(roots: Pick<Roots, 'configRoot'>, rel: string): Promise<ProfileMeta | undefined> {
  const file = metaFile(roots, rel);
  const bytes = await readOptional(file, 'state', { noFollow: true, inside: roots.configRoot });
  if (bytes === undefined) return undefined;
  const { format: _f, ...meta } = parseState(
    bytes,
    file,
    metaShape,
    'gentoo-kopt profile record (format 1)',
  ) as ProfileMeta & {
    format?: 1;
  };
  return meta;
}

export const serializeMeta = (m: ProfileMeta): string => `${JSON.stringify({ format: 1, ...m }, null, 2)}\n`;

/** The keys and values the hook reads for `cpn` (src/hooks/settings.ts checks them against its rules). */
export function hookValues(roots: Pick<Roots, 'configRoot'>, entry: PgoEntry): [key: string, value: string][] {
  return [
    ['pgo-mode', entry.mode],
    ['pgo-kind', entry.kind],
    ['pgo-pv', entry.pv ?? ''],
    ['pgo-profile', entry.profile ? path.join(roots.configRoot, entry.profile) : ''],
  ];
}

/** The kernel architecture (Kbuild's ARCH, as SRCARCH) of a Node process.arch. */
export const KERNEL_ARCH: Readonly<Record<string, string>> = {
  x64: 'x86',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'powerpc',
  ppc: 'powerpc',
  riscv64: 'riscv',
  s390x: 's390',
  s390: 's390',
  mips: 'mips',
  mipsel: 'mips',
  loong64: 'loongarch',
};

/** Architectures that select ARCH_HAS_GCOV_PROFILE_ALL (arch/*\/Kconfig; not hppa, sparc, loongarch). */
export const GCOV_PROFILE_ALL_ARCHES: ReadonlySet<string> = new Set([
  'arm',
  'arm64',
  'csky',
  'microblaze',
  'mips',
  'powerpc',
  'riscv',
  's390',
  'sh',
  'um',
  'x86',
  'xtensa',
]);

export const hostArch = (): string => KERNEL_ARCH[process.arch] ?? process.arch;
