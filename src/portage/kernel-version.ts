// Maps a dist-kernel's PV (sys-kernel/gentoo-kernel, vanilla-kernel) to the kernel release it builds,
// as a strict semver string, so a patch catalog can use semver ranges (`>=6.12.0 <6.13.0`).
// The PV forms come from the gentoo repository: `6.12.58` (a stable release), `6.12` (the x.y.0
// release, which the kernel calls "6.12"), `6.13_rc3` (kernel 6.13-rc3), `6.18.32_p1` (a respin of
// the Gentoo patchset or config over the same kernel sources).
import valid from 'semver/functions/valid.js'; // not the index: it loads all of semver
import { VersionError, type Where } from '../errors.js';
import { parseVersion, type SuffixKind } from './version.js';

/**
 * What each PMS suffix means for a dist-kernel PV. `rc` becomes a semver pre-release and exists only
 * on x.y (the kernel has no x.y.z-rcN); `p` is a packaging respin and does not change the kernel.
 * alpha/beta/pre never occur in kernel versions.
 */
const SUFFIXES: Partial<Record<SuffixKind, { numbers: number[]; needsNumber: boolean; prerelease: boolean }>> = {
  rc: { numbers: [2], needsNumber: true, prerelease: true },
  p: { numbers: [2, 3], needsNumber: false, prerelease: false },
};

const HINT = 'dist-kernel versions look like 6.12, 6.12.58, 6.13_rc3 or 6.18.32_p1 (PV, without -rN)';

/**
 * `6.13_rc3` -> `6.13.0-rc3`, `6.18.32_p1` -> `6.18.32`, `6.12` -> `6.12.0`, `6.12.58` -> `6.12.58`.
 * Throws VersionError for anything that is not a kernel release: a revision (pass PV, not PVR), a
 * letter, alpha/beta/pre, more than one suffix, `_rc` without a number or on x.y.z, fewer than two or
 * more than three numeric components, or a component with a leading zero (semver forbids them).
 */
export function kernelVersion(pv: string, where: Where = {}): string {
  const v = parseVersion(pv, where);
  const fail = (why: string): VersionError =>
    new VersionError(`'${pv}' is not a dist-kernel version: ${why}`, { ...where, hint: HINT });
  if (/-r\d+$/.test(pv)) throw fail('it has a revision; pass the PV without -rN');
  if (v.letter) throw fail(`letter '${v.letter}' after the numbers`);
  if (v.numbers.length < 2 || v.numbers.length > 3) throw fail('a kernel version has 2 or 3 numbers');
  if (v.numbers.some((n) => /^0\d/.test(n))) throw fail('a number with a leading zero');
  // semver (and so the catalog's ranges) compares numbers as doubles: past 2^53 they would collide.
  if (v.numbers.some((n) => !Number.isSafeInteger(Number(n)))) throw fail('a number too large for a kernel version');
  if (v.suffixes.length > 1) throw fail('more than one suffix');
  const [major, minor, patch = '0'] = v.numbers;
  const base = `${major}.${minor}.${patch}`;
  const suffix = v.suffixes[0];
  if (!suffix) return checked(base, fail);
  const rule = SUFFIXES[suffix.kind];
  if (!rule) throw fail(`_${suffix.kind} does not occur in kernel versions`);
  if (!rule.numbers.includes(v.numbers.length)) {
    throw fail(`_${suffix.kind} is not used on a version with ${v.numbers.length} numbers`);
  }
  if (rule.needsNumber && !/^[1-9]\d*$/.test(suffix.n)) throw fail(`_${suffix.kind} needs a number from 1`);
  return checked(rule.prerelease ? `${base}-${suffix.kind}${suffix.n}` : base, fail);
}

/** The semver form, when semver takes it (it refuses, say, versions over 256 characters). */
function checked(version: string, fail: (why: string) => VersionError): string {
  if (valid(version) === null) throw fail('not a version the kernel ranges of a catalog can compare');
  return version;
}
