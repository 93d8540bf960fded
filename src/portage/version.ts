// PMS package versions (PMS 3.2 syntax, 3.3 comparison), parsed and ordered exactly as Portage's
// lib/portage/versions.py (ver_regexp, vercmp) does. Numbers stay strings: versions such as
// 20240101123456789 or 999999999999999999999999999999 are valid and exceed a double.
import { VersionError, type Where } from '../errors.js';

export type SuffixKind = 'alpha' | 'beta' | 'pre' | 'rc' | 'p';

export interface Suffix {
  kind: SuffixKind;
  /** Digits as written; '' when the suffix has no number (`_p` == `_p0`). */
  n: string;
}

export interface Version {
  /** The version exactly as written, revision included. */
  raw: string;
  /** Numeric components as written (`['6', '12', '058']`). */
  numbers: string[];
  /** The optional single letter after the numbers (`1.2b`), '' when absent. */
  letter: string;
  suffixes: Suffix[];
  /** Revision digits as written, '0' when absent (`-r0` and no revision are equal). */
  revision: string;
}

/** The version grammar (Portage's `_vr`) without capture groups, for composing CPV and atom patterns. */
export const VERSION_SOURCE = String.raw`\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?`;

// Anchored with ^...$ and no flags: unlike Portage's ver_regexp (Python `$` also matches before a
// final newline, `\d` also matches non-ASCII digits) we accept ASCII only and no trailing newline.
const VERSION_RE = /^(\d+)((?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|p)\d*)*)(?:-r(\d+))?$/;
const SUFFIX_RE = /_(alpha|beta|pre|rc|p)(\d*)/g;

/** _alpha < _beta < _pre < _rc < (no suffix) < _p: Portage's suffix_value. */
const SUFFIX_RANK: Record<SuffixKind, number> = { alpha: -4, beta: -3, pre: -2, rc: -1, p: 0 };

const VERSION_HINT =
  'a PMS version is numbers separated by dots, an optional letter, optional ' +
  '_alpha/_beta/_pre/_rc/_p suffixes with optional numbers, and an optional -rN revision, e.g. 6.12.58_p1-r1';

export function isValidVersion(s: string): boolean {
  return VERSION_RE.test(s);
}

export function parseVersion(s: string, where: Where = {}): Version {
  const m = VERSION_RE.exec(s);
  if (!m) {
    throw new VersionError(`invalid version '${s}'`, { ...where, hint: VERSION_HINT });
  }
  const [, first = '', rest = '', letter = '', suffixText = '', revision = '0'] = m;
  const numbers = [first, ...(rest ? rest.slice(1).split('.') : [])];
  const suffixes = [...suffixText.matchAll(SUFFIX_RE)].map((sm) => ({
    kind: sm[1] as SuffixKind,
    n: sm[2] ?? '',
  }));
  return { raw: s, numbers, letter, suffixes, revision };
}

/** The version without its `-rN` part, as written (`1.0-r3` -> `1.0`): PV of a PVR. */
export function versionWithoutRevision(v: Version): string {
  return v.raw.replace(/-r\d+$/, '');
}

/** Unbounded non-negative integers in decimal, compared without converting to number. */
function compareIntegers(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

// A component after the first that starts with '0' compares as a decimal fraction (1.01 < 1.1,
// 1.010 == 1.01). Portage pads both with zeros to equal length and compares them as integers;
// stripping trailing zeros and comparing as strings (PMS 3.3) orders them the same way.
function compareFractions(a: string, b: string): number {
  const x = a.replace(/0+$/, '');
  const y = b.replace(/0+$/, '');
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareComponents(a: string[], b: string[]): number {
  const first = compareIntegers(a[0] ?? '0', b[0] ?? '0');
  if (first !== 0) return first;
  for (let i = 1; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    // A missing component ranks below any present one, so 1.0 < 1.0.0 (Portage's implicit -1).
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const c = x.startsWith('0') || y.startsWith('0') ? compareFractions(x, y) : compareIntegers(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

function compareSuffixes(a: Suffix[], b: Suffix[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    // A missing suffix is Portage's implicit `_p-1`: above _rc, below any _p (1 < 1_p0 == 1_p).
    const rank = (x ? SUFFIX_RANK[x.kind] : SUFFIX_RANK.p) - (y ? SUFFIX_RANK[y.kind] : SUFFIX_RANK.p);
    if (rank !== 0) return Math.sign(rank);
    if (!x || !y) return x ? 1 : -1;
    const n = compareIntegers(x.n || '0', y.n || '0');
    if (n !== 0) return n;
  }
  return 0;
}

/** Negative, zero or positive as a is older than, equal to or newer than b. */
export function compareVersions(a: Version, b: Version): number {
  const numbers = compareComponents(a.numbers, b.numbers);
  if (numbers !== 0) return numbers;
  if (a.letter !== b.letter) {
    // No letter sorts first: 1 < 1b, and 12.2b < 12.2.5 was settled by the components above.
    if (!a.letter || !b.letter) return a.letter ? 1 : -1;
    return a.letter < b.letter ? -1 : 1;
  }
  const suffixes = compareSuffixes(a.suffixes, b.suffixes);
  if (suffixes !== 0) return suffixes;
  return compareIntegers(a.revision, b.revision);
}

/** Portage's vercmp: -1, 0 or 1. Throws VersionError for an invalid version (Portage returns None). */
export function vercmp(a: string, b: string): number {
  return compareVersions(parseVersion(a), parseVersion(b));
}
