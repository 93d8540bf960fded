// The profiles in the store (store.ts) and the check a profile passes before it is used: its record
// reads back, and every file it names is there and is what collect wrote (a .gcda of GCC 12+ with its
// object summary; an AutoFDO profile that is not empty). Reads only.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { vercmp } from '../portage/version.js';
import type { Roots } from '../portage/roots.js';
import { isErrno } from '../system/fs-errors.js';
import { readBounded } from '../system/read.js';
import { scanGcda } from './gcda.js';
import { PGO_REL, PV_RULE, readMeta, type ProfileMeta } from './store.js';

export interface StoredProfile {
  /** The profile directory, relative to the config root. */
  rel: string;
  meta: ProfileMeta;
}

const names = (dir: string): Promise<string[]> =>
  readdir(dir).catch((err: unknown) => (isErrno(err, 'ENOENT', 'ENOTDIR') ? [] : Promise.reject(err)));

/** The profiles of `cpn`, oldest version first. A directory without profile.json is not a profile. */
export async function listProfiles(roots: Pick<Roots, 'configRoot'>, cpn: string): Promise<StoredProfile[]> {
  const base = `${PGO_REL}/${cpn}`;
  const out: StoredProfile[] = [];
  for (const pv of (await names(path.join(roots.configRoot, base))).filter((n) => PV_RULE.test(n))) {
    const meta = await readMeta(roots, `${base}/${pv}`);
    if (meta) out.push({ rel: `${base}/${pv}`, meta });
  }
  return out.sort((a, b) => vercmp(a.meta.pv, b.meta.pv));
}

/** The files a profile of each kind must have besides profile.json. */
const KIND_FILES: Record<ProfileMeta['kind'], string[]> = {
  gcov: [],
  autofdo: ['kernel.afdo'],
  propeller: ['kernel.afdo', 'propeller_cc_profile.txt', 'propeller_ld_profile.txt'],
};

/** Throws ConfigError naming the file when the profile is incomplete or damaged. */
export async function checkProfile(roots: Pick<Roots, 'configRoot'>, p: StoredProfile): Promise<void> {
  const dir = path.join(roots.configRoot, p.rel);
  const hint = 'collect (or convert) the profile again, or remove the directory';
  for (const name of KIND_FILES[p.meta.kind]) {
    const bytes = await readBounded(path.join(dir, name), 'profile', { noFollow: true, inside: roots.configRoot });
    if (!bytes.length) throw new ConfigError('is empty', { file: path.join(dir, name), hint });
  }
  if (p.meta.kind !== 'gcov') return;
  const gcov = path.join(dir, 'gcov');
  const files = (await names(gcov)).filter((n) => n.endsWith('.gcda'));
  if (files.length !== p.meta.files)
    throw new ConfigError(`holds ${files.length} .gcda files; profile.json says ${p.meta.files}`, { file: gcov, hint });
  for (const name of files) {
    const f = path.join(gcov, name);
    const info = scanGcda(await readBounded(f, 'profile', { noFollow: true, inside: roots.configRoot }), f);
    if (!info.summary)
      throw new ConfigError('has no object summary: GCC would ignore it without a word', { file: f, hint });
  }
}
