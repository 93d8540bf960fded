// Dist-kernel PV -> kernel release (semver), the key patch-catalog ranges are written over.
import { describe, it, expect } from 'vitest';
import semver from 'semver';
import { kernelVersion } from '../src/portage/kernel-version.js';
import { VersionError } from '../src/errors.js';

describe('kernelVersion', () => {
  it.each([
    ['6.13_rc3', '6.13.0-rc3'],
    ['6.18.32_p1', '6.18.32'],
    ['6.12', '6.12.0'],
    ['6.12.58', '6.12.58'],
    ['5.15.170_p3', '5.15.170'],
    ['6.12_p2', '6.12.0'],
    ['6.18.32_p', '6.18.32'],
    ['6.0', '6.0.0'],
    ['6.1.0', '6.1.0'],
    ['6.14_rc1', '6.14.0-rc1'],
    ['6.14_rc10', '6.14.0-rc10'],
    ['4.19.325', '4.19.325'],
  ])('%s -> %s', (pv, want) => {
    expect(kernelVersion(pv)).toBe(want);
    expect(semver.valid(want)).toBe(want);
  });

  it.each([
    ['6.12.58-r1', /revision/],
    ['6.12.58-r0', /revision/],
    ['6.12a', /letter 'a'/],
    ['6', /2 or 3 numbers/],
    ['2.6.32.71', /2 or 3 numbers/],
    ['6.012', /leading zero/],
    ['06.12', /leading zero/],
    ['6.99999999999999999999.1', /a number too large for a kernel version/],
    ['6.12.9007199254740993', /a number too large for a kernel version/],
    ['6.13_alpha1', /_alpha does not occur/],
    ['6.13_beta2', /_beta does not occur/],
    ['6.13_pre20250101', /_pre does not occur/],
    ['6.13_rc', /_rc needs a number/],
    ['6.13_rc0', /_rc needs a number/],
    ['6.13_rc03', /_rc needs a number/],
    ['6.13.1_rc3', /_rc is not used on a version with 3 numbers/],
    ['6.13_rc3_p1', /more than one suffix/],
    ['6.18.32_p1_p2', /more than one suffix/],
    ['9999', /2 or 3 numbers/],
  ])('rejects %s', (pv, why) => {
    expect(() => kernelVersion(pv)).toThrow(VersionError);
    expect(() => kernelVersion(pv)).toThrow(why);
  });

  it.each(['', 'v6.12', '6.12.', 'linux-6.12'])('rejects the non-version %j with the PMS message', (pv) => {
    expect(() => kernelVersion(pv)).toThrow(`invalid version '${pv}'`);
  });

  it('names the value, file and line, with a hint', () => {
    let err: unknown;
    try {
      kernelVersion('6.13_beta1', { file: 'catalog.ini', line: 4 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VersionError);
    const e = err as VersionError;
    expect(e.describe()).toBe(
      "catalog.ini:4: '6.13_beta1' is not a dist-kernel version: _beta does not occur in kernel versions",
    );
    expect(e.hint).toMatch(/6\.13_rc3/);
  });

  it('orders like semver where PMS and semver agree on the kernel line', () => {
    const pvs = ['6.13', '6.12.58_p1', '6.13_rc3', '6.12.58', '6.13.1', '6.12'];
    const sorted = pvs.map((pv) => kernelVersion(pv)).sort(semver.compare);
    expect(sorted).toEqual(['6.12.0', '6.12.58', '6.12.58', '6.13.0-rc3', '6.13.0', '6.13.1']);
    expect(semver.satisfies(kernelVersion('6.12.58_p1'), '>=6.12.0 <6.13.0')).toBe(true);
    expect(semver.satisfies(kernelVersion('6.13_rc3'), '>=6.12.0 <6.13.0')).toBe(false);
  });
});
