// PMS version parsing and ordering. The first block retypes every case of Portage's own
// lib/portage/tests/versions/test_vercmp.py (as data); the rest are the cases this project relies on.
// During development the comparison was also checked against Portage's vercmp on random pairs.
import { describe, it, expect } from 'vitest';
import {
  compareVersions,
  isValidVersion,
  parseVersion,
  vercmp,
  versionWithoutRevision,
} from '../src/portage/version.js';
import { VersionError } from '../src/errors.js';

type Rel = '<' | '=' | '>';
const FLIP: Record<Rel, Rel> = { '<': '>', '=': '=', '>': '<' };
const relation = (a: string, b: string): Rel => {
  const c = vercmp(a, b);
  return c < 0 ? '<' : c > 0 ? '>' : '=';
};

// Portage test_vercmp.py: testVerCmpGreater, testVerCmpLess, testVerCmpEqual, testVerNotEqual.
const PORTAGE: [string, Rel, string][] = [
  ['6.0', '>', '5.0'],
  ['5.0', '>', '5'],
  ['1.0-r1', '>', '1.0-r0'],
  ['1.0-r1', '>', '1.0'],
  ['999999999999999999999999999999', '>', '999999999999999999999999999998'],
  ['1.0.0', '>', '1.0'],
  ['1.0.0', '>', '1.0b'],
  ['1b', '>', '1'],
  ['1b_p1', '>', '1_p1'],
  ['1.1b', '>', '1.1'],
  ['12.2.5', '>', '12.2b'],
  ['4.0', '<', '5.0'],
  ['5', '<', '5.0'],
  ['1.0_pre2', '<', '1.0_p2'],
  ['1.0_alpha2', '<', '1.0_p2'],
  ['1.0_alpha1', '<', '1.0_beta1'],
  ['1.0_beta3', '<', '1.0_rc3'],
  ['1.001000000000000000001', '<', '1.001000000000000000002'],
  ['1.00100000000', '<', '1.0010000000000000001'],
  ['999999999999999999999999999998', '<', '999999999999999999999999999999'],
  ['1.01', '<', '1.1'],
  ['1.0-r0', '<', '1.0-r1'],
  ['1.0', '<', '1.0-r1'],
  ['1.0', '<', '1.0.0'],
  ['1.0b', '<', '1.0.0'],
  ['1_p1', '<', '1b_p1'],
  ['1', '<', '1b'],
  ['1.1', '<', '1.1b'],
  ['12.2b', '<', '12.2.5'],
  ['4.0', '=', '4.0'],
  ['1.0', '=', '1.0'],
  ['1.0-r0', '=', '1.0'],
  ['1.0', '=', '1.0-r0'],
  ['1.0-r0', '=', '1.0-r0'],
  ['1.0-r1', '=', '1.0-r1'],
  ['1', '<', '2'],
  ['1.0_alpha', '<', '1.0_pre'],
  ['1.0_beta', '>', '1.0_alpha'],
  ['0', '<', '0.0'],
  ['1.0-r1', '>', '1.0-r0'],
  ['1.0-r1', '>', '1.0'],
  ['12.2b', '>', '12.2'],
];

// This project's cases: dist-kernel versions, the rules DESIGN.md names, and Portage corner cases
// (each confirmed with Portage's vercmp).
const OURS: [string, Rel, string][] = [
  ['6.12.58', '<', '6.12.58_p1'],
  ['6.12.58_p1', '<', '6.12.59'],
  ['6.12.58_p1', '<', '6.12.58_p2'],
  ['6.12.58_p1', '>', '6.12.58'],
  ['6.13_rc3', '<', '6.13'],
  ['6.13_rc3', '<', '6.13_rc10'],
  ['6.13_rc7', '>', '6.12.99'],
  ['6.13', '<', '6.13.1'],
  ['6.13', '<', '6.13.0'],
  ['6.18.32_p1', '=', '6.18.32_p1-r0'],
  ['6.12.58-r1', '<', '6.12.58_p1'],
  ['1.0.0', '>', '1.0'],
  ['1.01', '<', '1.1'],
  ['1.010', '=', '1.01'],
  ['1.0', '=', '1.00'],
  ['1.05', '<', '1.5'],
  ['1.0', '<', '1.5'],
  ['1.09', '<', '1.1'],
  ['01', '=', '1'],
  ['1.10', '>', '1.9'],
  ['1.2.3', '<', '1.2.10'],
  ['1-r3', '<', '1-r10'],
  ['1-r01', '=', '1-r1'],
  ['1-r9', '<', '1.0'],
  ['1_alpha', '<', '1_beta'],
  ['1_beta', '<', '1_pre'],
  ['1_pre', '<', '1_rc'],
  ['1_rc', '<', '1'],
  ['1', '<', '1_p'],
  ['1_p', '=', '1_p0'],
  ['1_alpha', '=', '1_alpha0'],
  ['1_p1', '<', '1_p10'],
  ['1_rc1', '<', '1_rc1_p1'],
  ['1_rc1', '>', '1_rc1_rc2'],
  ['1_alpha_p1', '<', '1_alpha_p2'],
  ['1_alpha_p1', '<', '1_beta'],
  ['1_alpha_p1', '>', '1_alpha'],
  ['1_alpha_p1', '>', '1_alpha_p'],
  ['1_p1_alpha', '<', '1_p1'],
  ['1_p1_p1', '>', '1_p1'],
  ['1a', '<', '1z'],
  ['1z', '<', '1.0'],
  ['1b_alpha', '>', '1a_p9'],
  ['1.2b', '<', '1.2.0'],
  ['20240101', '>', '2024.01.01'],
  ['2024.01.01', '<', '2024.1.1'],
  ['99999999999999999999.1', '<', '99999999999999999999.2'],
  ['1_p99999999999999999999', '<', '1_p100000000000000000000'],
  ['1-r99999999999999999999', '<', '1-r100000000000000000000'],
];

describe('compareVersions', () => {
  it.each([...PORTAGE, ...OURS])('%s %s %s', (a, rel, b) => {
    expect(relation(a, b)).toBe(rel);
    expect(relation(b, a)).toBe(FLIP[rel]);
  });

  it('sorts like Portage (test_cpv_sort_key, versions of a/b)', () => {
    const sorted = ['2_alpha', '2', '1'].map((v) => parseVersion(v)).sort(compareVersions);
    expect(sorted.map((v) => v.raw)).toEqual(['1', '2_alpha', '2']);
  });
});

describe('parseVersion', () => {
  it.each([
    ['6.18.32_p1', ['6', '18', '32'], '', [{ kind: 'p', n: '1' }], '0'],
    ['6.13_rc3', ['6', '13'], '', [{ kind: 'rc', n: '3' }], '0'],
    [
      '1.2b_alpha_p3-r10',
      ['1', '2'],
      'b',
      [
        { kind: 'alpha', n: '' },
        { kind: 'p', n: '3' },
      ],
      '10',
    ],
    ['01.020', ['01', '020'], '', [], '0'],
    ['5-r0', ['5'], '', [], '0'],
  ])('%s', (raw, numbers, letter, suffixes, revision) => {
    expect(parseVersion(raw)).toEqual({ raw, numbers, letter, suffixes, revision });
  });

  it.each([
    ['1.0-r3', '1.0'],
    ['6.18.32_p1', '6.18.32_p1'],
    ['2_rc1-r0', '2_rc1'],
  ])('%s without revision is %s', (raw, pv) => {
    expect(versionWithoutRevision(parseVersion(raw))).toBe(pv);
  });

  // Portage's ver_regexp also accepts '1\n' and '١' (Python's `$` matches before a final newline and
  // its `\d` matches any Unicode digit); no ebuild can carry either, so we reject them.
  const INVALID = [
    '',
    ' 1',
    '1 ',
    '1.',
    '.1',
    '1..2',
    'a',
    'v1',
    '1_foo',
    '1-r',
    '1-r1-r2',
    '1a1',
    '1ab',
    '1A',
    '1_p_',
    '1_',
    '1-',
    '-1',
    '1.0-r-1',
    '1_alpha-1',
    '1-1',
    '1.0r1',
    '1_rc1.2',
    '1\n',
    '1.2_P1',
    '1.2-R1',
    '1_pre-r1a',
    '1*',
    '١',
    '1.2.3_beta-r1_p1',
  ];
  it.each(INVALID.map((s) => [JSON.stringify(s), s]))('rejects %s', (_label, s) => {
    expect(isValidVersion(s)).toBe(false);
    expect(() => parseVersion(s)).toThrow(VersionError);
    expect(() => vercmp(s, '1')).toThrow(VersionError);
    expect(() => vercmp('1', s)).toThrow(VersionError);
  });

  it('names the value, file and line, and says what a version looks like', () => {
    const err = (() => {
      try {
        parseVersion('6.12.', { file: '/etc/gentoo-kopt/kopt.conf', line: 7 });
      } catch (e) {
        return e as VersionError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(VersionError);
    expect(err.describe()).toBe("/etc/gentoo-kopt/kopt.conf:7: invalid version '6.12.'");
    expect(err.hint).toMatch(/_alpha\/_beta\/_pre\/_rc\/_p/);
  });
});
