// CPVs and atoms. Valid/invalid atoms include the cases of Portage's lib/portage/tests/dep/test_isvalidatom.py
// and test_atom.py that apply without wildcards; the match table includes test_match_from_list.py's
// version, glob and slot cases. During development parsing and matching were also checked against
// Portage's Atom and match_from_list on random atoms.
import { describe, it, expect } from 'vitest';
import { atomMatches, cpvString, parseAtom, parseCpv, type Atom } from '../src/portage/atom.js';
import { VersionError } from '../src/errors.js';

describe('parseCpv', () => {
  it.each([
    ['sys-kernel/gentoo-kernel-6.18.32_p1', 'sys-kernel', 'gentoo-kernel', '6.18.32_p1', 'r0', '6.18.32_p1'],
    ['sys-kernel/gentoo-kernel-6.12.58-r1', 'sys-kernel', 'gentoo-kernel', '6.12.58', 'r1', '6.12.58-r1'],
    ['sys-kernel/vanilla-kernel-6.13_rc3', 'sys-kernel', 'vanilla-kernel', '6.13_rc3', 'r0', '6.13_rc3'],
    ['sys-kernel/gentoo-kernel-bin-6.12.58', 'sys-kernel', 'gentoo-kernel-bin', '6.12.58', 'r0', '6.12.58'],
    ['app-misc/foo-1-bar-2', 'app-misc', 'foo-1-bar', '2', 'r0', '2'],
    ['app-misc/foo-1-r0', 'app-misc', 'foo', '1', 'r0', '1-r0'],
    ['app-misc/foo-1-r01', 'app-misc', 'foo', '1', 'r01', '1-r01'],
    ['llvm-core/clang-20.1.8', 'llvm-core', 'clang', '20.1.8', 'r0', '20.1.8'],
    ['dev-lang/python-3.13.5_p1-r2', 'dev-lang', 'python', '3.13.5_p1', 'r2', '3.13.5_p1-r2'],
    ['media-libs/x264-0.0.20240101', 'media-libs', 'x264', '0.0.20240101', 'r0', '0.0.20240101'],
    ['foo/bar--baz-1-r1', 'foo', 'bar--baz', '1', 'r1', '1-r1'],
    ['foo/bar-baz---1', 'foo', 'bar-baz--', '1', 'r0', '1'],
    ['app-text/7plus-1', 'app-text', '7plus', '1', 'r0', '1'],
    ['x11-libs/gtk+-3.24', 'x11-libs', 'gtk+', '3.24', 'r0', '3.24'],
    ['cat.egory/foo_bar-1b', 'cat.egory', 'foo_bar', '1b', 'r0', '1b'],
  ])('%s', (s, category, pn, pv, pr, pvr) => {
    const cpv = parseCpv(s);
    expect(cpv).toMatchObject({
      category,
      pn,
      pv,
      pr,
      pvr,
      pf: `${pn}-${pvr}`,
      p: `${pn}-${pv}`,
      cpn: `${category}/${pn}`,
    });
    expect(cpv.version.raw).toBe(pvr);
    expect(cpv.slot).toBeUndefined();
    expect(cpvString(cpv)).toBe(s);
  });

  it.each([
    ['sys-kernel/gentoo-kernel-6.12.58:6.12.58', '6.12.58', undefined],
    ['llvm-core/clang-20.1.8:20/20.1', '20', '20.1'],
    ['sys-libs/db-4.8.30:4.8', '4.8', undefined],
  ])('%s has a slot', (s, slot, subslot) => {
    const cpv = parseCpv(s);
    expect([cpv.slot, cpv.subslot]).toEqual([slot, subslot]);
    expect(cpvString(cpv)).toBe(s.slice(0, s.indexOf(':')));
  });

  it.each([
    ['', /no category/],
    ['gentoo-kernel-6.12.58', /no category/],
    ['sys-kernel/gentoo-kernel', /no valid version/],
    ['sys-kernel/gentoo-kernel-', /no valid version/],
    ['sys-kernel/gentoo-kernel-6.12.', /no valid version/],
    ['sys-kernel/gentoo-kernel-v6.12', /no valid version/],
    ['sys-kernel/-6.12', /no valid version/],
    ['foo/bar-1-2', /'bar-1' ends in something that looks like a version/],
    ['foo/bar-123-1-r1', /'bar-123' ends in/],
    ['foo/bar-1-r1-1-r1', /'bar-1-r1' ends in/],
    ['foo/bar-1a-2', /'bar-1a' ends in/],
    ['foo/bar-baz-1--r1', /no valid version/],
    ['+cat/foo-1', /bad category/],
    ['.cat/foo-1', /bad category/],
    ['cat/+foo-1', /bad package name/],
    ['cat/foo.bar-1', /bad package name/],
    ['a/b/c-1', /bad package name/],
    ['=sys-kernel/gentoo-kernel-6.12.58', /bad category/],
    ['sys-kernel/gentoo-kernel-6.12.58:', /bad slot/],
    ['sys-kernel/gentoo-kernel-6.12.58:-1', /bad slot/],
    ['sys-kernel/gentoo-kernel-6.12.58:1/', /bad slot/],
    ['sys-kernel/gentoo-kernel-6.12.58:1=', /bad slot/],
  ])('rejects %j', (s, why) => {
    expect(() => parseCpv(s)).toThrow(VersionError);
    expect(() => parseCpv(s)).toThrow(why);
  });

  it('names file and line', () => {
    expect(() => parseCpv('sys-kernel/gentoo-kernel', { file: 'kopt.conf', line: 3 })).toThrow(
      expect.objectContaining({ file: 'kopt.conf', line: 3 }),
    );
  });
});

type Fields = Partial<Omit<Atom, 'version'>> & { version?: string };

function fields(a: Atom): Fields {
  const { raw: _raw, category: _c, pn: _p, version, ...rest } = a;
  return version ? { ...rest, version: version.raw } : rest;
}

describe('parseAtom', () => {
  it.each<[string, Fields]>([
    ['sys-apps/portage', { cpn: 'sys-apps/portage' }],
    ['=sys-apps/portage-2.1', { op: '=', cpn: 'sys-apps/portage', version: '2.1' }],
    ['=sys-apps/portage-2.1*', { op: '=', glob: true, cpn: 'sys-apps/portage', version: '2.1' }],
    ['>=sys-apps/portage-2.1', { op: '>=', cpn: 'sys-apps/portage', version: '2.1' }],
    ['<=sys-apps/portage-2.1', { op: '<=', cpn: 'sys-apps/portage', version: '2.1' }],
    ['>sys-apps/portage-2.1', { op: '>', cpn: 'sys-apps/portage', version: '2.1' }],
    ['<sys-apps/portage-2.1', { op: '<', cpn: 'sys-apps/portage', version: '2.1' }],
    ['~sys-apps/portage-2.1', { op: '~', cpn: 'sys-apps/portage', version: '2.1' }],
    ['sys-apps/portage:foo', { cpn: 'sys-apps/portage', slot: 'foo' }],
    [
      '=sys-apps/portage-2.1-r1:0[doc,a=,!b=,c?,!d?,-e]',
      {
        op: '=',
        cpn: 'sys-apps/portage',
        version: '2.1-r1',
        slot: '0',
        useDeps: ['doc', 'a=', '!b=', 'c?', '!d?', '-e'],
      },
    ],
    [
      '=sys-apps/portage-2.1-r1*:0[doc]',
      { op: '=', glob: true, cpn: 'sys-apps/portage', version: '2.1-r1', slot: '0', useDeps: ['doc'] },
    ],
    [
      '=sys-apps/portage-2.2*:foo::repo[bar?,!baz?,!doc=,build=]',
      {
        op: '=',
        glob: true,
        cpn: 'sys-apps/portage',
        version: '2.2',
        slot: 'foo',
        repo: 'repo',
        useDeps: ['bar?', '!baz?', '!doc=', 'build='],
      },
    ],
    ['sys-apps/portage:0::repo_name[doc]', { cpn: 'sys-apps/portage', slot: '0', repo: 'repo_name', useDeps: ['doc'] }],
    ['sys-apps/portage::repo_123-name', { cpn: 'sys-apps/portage', repo: 'repo_123-name' }],
    ['sys-kernel/gentoo-kernel::gentoo', { cpn: 'sys-kernel/gentoo-kernel', repo: 'gentoo' }],
    [
      'dev-libs/A[a(+),b(-)=,!c(+)=,d(-)?,!e(+)?,-f(-)]',
      { cpn: 'dev-libs/A', useDeps: ['a(+)', 'b(-)=', '!c(+)=', 'd(-)?', '!e(+)?', '-f(-)'] },
    ],
    ['dev-libs/A[a,a]', { cpn: 'dev-libs/A', useDeps: ['a', 'a'] }],
    ['!dev-libs/A', { blocker: '!', cpn: 'dev-libs/A' }],
    ['!!dev-libs/A', { blocker: '!!', cpn: 'dev-libs/A' }],
    ['!<sys-kernel/gentoo-kernel-6.1', { blocker: '!', op: '<', cpn: 'sys-kernel/gentoo-kernel', version: '6.1' }],
    ['!!=sys-apps/portage-45*', { blocker: '!!', op: '=', glob: true, cpn: 'sys-apps/portage', version: '45' }],
    ['virtual/ffmpeg:0/53', { cpn: 'virtual/ffmpeg', slot: '0', subslot: '53' }],
    ['virtual/ffmpeg:0/53=', { cpn: 'virtual/ffmpeg', slot: '0', subslot: '53', slotOp: '=' }],
    ['virtual/ffmpeg:=', { cpn: 'virtual/ffmpeg', slotOp: '=' }],
    ['virtual/ffmpeg:0=', { cpn: 'virtual/ffmpeg', slot: '0', slotOp: '=' }],
    ['virtual/ffmpeg:*', { cpn: 'virtual/ffmpeg', slotOp: '*' }],
    ['llvm-core/clang:20', { cpn: 'llvm-core/clang', slot: '20' }],
    [
      '>=sys-kernel/gentoo-kernel-6.12:6.12.58',
      { op: '>=', cpn: 'sys-kernel/gentoo-kernel', version: '6.12', slot: '6.12.58' },
    ],
    ['~sys-kernel/gentoo-kernel-6.12.58-r1', { op: '~', cpn: 'sys-kernel/gentoo-kernel', version: '6.12.58-r1' }],
    ['null/portage', { cpn: 'null/portage' }],
    ['=foo/bar--baz-1-r1', { op: '=', cpn: 'foo/bar--baz', version: '1-r1' }],
    ['=foo/bar-baz--1-r1', { op: '=', cpn: 'foo/bar-baz-', version: '1-r1' }],
    ['=foo/bar-baz---1', { op: '=', cpn: 'foo/bar-baz--', version: '1' }],
    ['~games-strategy/ufo2000-0.1', { op: '~', cpn: 'games-strategy/ufo2000', version: '0.1' }],
    ['=media-libs/x264-20060810', { op: '=', cpn: 'media-libs/x264', version: '20060810' }],
    ['=dev-libs/poppler-qt3-0.11*', { op: '=', glob: true, cpn: 'dev-libs/poppler-qt3', version: '0.11' }],
    ['foo/b', { cpn: 'foo/b' }],
    ['foo/666', { cpn: 'foo/666' }],
    ['app-text/7plus', { cpn: 'app-text/7plus' }],
  ])('%s', (s, want) => {
    const atom = parseAtom(s);
    expect(fields(atom)).toEqual(want);
    expect(atom.raw).toBe(s);
    expect(`${atom.category}/${atom.pn}`).toBe(atom.cpn);
  });

  it.each([
    ['', /no category/],
    ['portage', /no category/],
    ['=portage-2.1*', /no category/],
    ['sys-apps/portage-2.1', /needs an operator, e.g. '=sys-apps\/portage-2.1'/],
    ['sys-apps/portage-2.1:foo', /needs an operator/],
    ['app-doc/php-docs-20071125-r2', /needs an operator/],
    ['foo/bar-1', /needs an operator/],
    ['~sys-apps/portage', /'~' operator needs a version/],
    ['>=null/portage', /needs a version/],
    ['=null/portage', /needs a version/],
    ['>~category/foo-1.0', /bad category/],
    ['<~category/foo-1.0', /bad category/],
    ['###cat/foo-1.0', /bad category/],
    ['=foo/bar-1-r1-1-r1', /ends in something that looks like a version/],
    ['=foo/bar-123-1*', /ends in/],
    ['=foo/bar-baz-1--r1', /needs a version/],
    ['foo/-z-1', /bad package name/],
    ['null/portage*:0', /only allowed with the '=' operator/],
    ['~null/portage-2.1*', /only allowed with the '=' operator/],
    ['>=sys-kernel/gentoo-kernel-6*', /only allowed with the '=' operator/],
    ['sys-apps/portage-2.1:', /bad slot dependency ''/],
    ['sys-apps/portage:', /bad slot dependency/],
    ['cat/pkg:/slot', /bad slot dependency/],
    ['cat/pkg:+slot', /bad slot dependency/],
    ['cat/pkg:-slot', /bad slot dependency/],
    ['cat/pkg:.slot', /bad slot dependency/],
    ['virtual/ffmpeg:0/53*', /bad slot dependency/],
    ['virtual/ffmpeg:0*', /bad slot dependency/],
    ['sys-apps/portage-2.1:::repo', /bad repository/],
    ['sys-apps/portage::', /bad repository/],
    ['sys-apps/portage::-repo', /bad repository/],
    ['sys-apps/portage[doc]:0', /bad package name/],
    ['sys-apps/portage[doc]::repo_name', /bad package name/],
    ['sys-apps/portage:0[doc]::repo_name', /bad slot dependency/],
    ['cat/pkg]', /without '\['/],
    ['cat/pkg[]', /bad USE dependency ''/],
    ['=sys-apps/portage-2.2*:foo[!doc]', /bad USE dependency '!doc'/],
    ['=sys-apps/portage-2.2*:foo[-doc?]', /bad USE dependency/],
    ['=sys-apps/portage-2.2*:foo[-doc=]', /bad USE dependency/],
    ['=sys-apps/portage-2.2*:foo[bar][-baz]', /bad USE dependency/],
    ['=sys-apps/portage-2.2*:foo[bar,-baz,]', /bad USE dependency ''/],
    ['cat/pkg[a!]', /bad USE dependency/],
    ['cat/pkg[?a]', /bad USE dependency/],
    ['cat/pkg[a()]', /bad USE dependency/],
    ['cat/pkg[a(*)]', /bad USE dependency/],
    ['cat/pkg[a=(+)]', /bad USE dependency/],
    ['cat/pkg[!a-]', /bad USE dependency/],
    ['cat/pkg[a(+),-a]', /conflicting defaults for USE flag 'a'/],
    ['cat/pkg[-a(+),a(-)]', /conflicting defaults/],
    ['cat/pkg\n', /bad package name/],
    ['cat/Ҙ', /bad package name/],
    ['*/portage', /bad category/],
    ['sys-apps/*', /only allowed with the '=' operator/],
    ['sys-apps/port*age', /bad package name/],
    ['!!!dev-libs/A', /bad category/],
    [' sys-apps/portage', /bad category/],
  ])('rejects %j', (s, why) => {
    expect(() => parseAtom(s)).toThrow(VersionError);
    expect(() => parseAtom(s)).toThrow(why);
  });

  it('says which atom, where, and what an atom looks like', () => {
    let err: unknown;
    try {
      parseAtom('sys-kernel/gentoo-kernel-6.12.58', { file: 'kopt.conf', line: 12 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VersionError);
    const e = err as VersionError;
    expect(e.describe()).toMatch(/^kopt\.conf:12: invalid atom 'sys-kernel\/gentoo-kernel-6\.12\.58': /);
    expect(e.hint).toMatch(/=cat\/pkg-1\.2\*/);
  });
});

describe('atomMatches', () => {
  it.each<[string, string, string | undefined, boolean]>([
    // test_match_from_list.py
    ['=sys-apps/portage-45*', 'sys-apps/portage-045', undefined, true],
    ['!=sys-apps/portage-45*', 'sys-apps/portage-045', undefined, true],
    ['!!=sys-apps/portage-45*', 'sys-apps/portage-045', undefined, true],
    ['=sys-apps/portage-045', 'sys-apps/portage-045', undefined, true],
    ['=sys-apps/portage-045', 'sys-apps/portage-046', undefined, false],
    ['~sys-apps/portage-045', 'sys-apps/portage-045-r1', undefined, true],
    ['~sys-apps/portage-045', 'sys-apps/portage-046-r1', undefined, false],
    ['<=sys-apps/portage-045', 'sys-apps/portage-045', undefined, true],
    ['<=sys-apps/portage-045', 'sys-apps/portage-046', undefined, false],
    ['<sys-apps/portage-046', 'sys-apps/portage-045', undefined, true],
    ['<sys-apps/portage-046', 'sys-apps/portage-046', undefined, false],
    ['>=sys-apps/portage-045', 'sys-apps/portage-045', undefined, true],
    ['>=sys-apps/portage-047', 'sys-apps/portage-046-r1', undefined, false],
    ['>sys-apps/portage-044', 'sys-apps/portage-045', undefined, true],
    ['>sys-apps/portage-047', 'sys-apps/portage-046-r1', undefined, false],
    ['sys-apps/portage:0', 'sys-apps/portage-045', '0', true],
    ['sys-apps/portage:0', 'sys-apps/portage-045', '1', false],
    ['=cat/pkg-1-r1*', 'cat/pkg-1_alpha1', undefined, false],
    ['=cat/pkg-1.1*', 'cat/pkg-1.1-r1', undefined, true],
    ['=cat/pkg-1.1*', 'cat/pkg-1.10-r1', undefined, false],
    ['=cat/pkg-1-r1*', 'cat/pkg-1-r11', undefined, false],
    ['=cat/pkg-1_pre*', 'cat/pkg-1_pre1', undefined, true],
    ['=cat/pkg-1-r1*', 'cat/pkg-1-r1', undefined, true],
    ['=cat/pkg-1-r11*', 'cat/pkg-1-r11', undefined, true],
    ['=cat/pkg-1-r11*', 'cat/pkg-01-r11', undefined, true],
    ['=cat/pkg-01-r11*', 'cat/pkg-1-r11', undefined, true],
    ['=cat/pkg-01-r11*', 'cat/pkg-001-r11', undefined, true],
    ['=sys-fs/udev-1*', 'sys-fs/udev-123', undefined, false],
    ['=sys-fs/udev-1*', 'sys-fs/udev-123-r1', undefined, false],
    ['=sys-fs/udev-123*', 'sys-fs/udev-123', undefined, true],
    ['=sys-fs/udev-123*', 'sys-fs/udev-123-r1', undefined, true],
    ['=sys-apps/portage-2*', 'sys-apps/portage-2.1', undefined, true],
    ['=sys-apps/portage-2.1*', 'sys-apps/portage-2.1.2', undefined, true],
    ['virtual/ffmpeg:0/53', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['virtual/ffmpeg:0/53=', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['virtual/ffmpeg:0/52', 'virtual/ffmpeg-0.10.3', '0/53', false],
    ['virtual/ffmpeg:=', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['virtual/ffmpeg:0=', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['virtual/ffmpeg:*', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['virtual/ffmpeg:0', 'virtual/ffmpeg-0.10.3', '0/53', true],
    ['sys-libs/db:4.8/4.8', 'sys-libs/db-4.8.30', '4.8', true],
    ['sys-libs/db:4.8/4.8=', 'sys-libs/db-4.8.30', '4.8', true],
    ['sys-libs/db:4.8=', 'sys-libs/db-4.8.30', '4.8', true],
    ['sys-libs/db:*', 'sys-libs/db-4.8.30', '4.8', true],
    ['sys-libs/db:4.8/0', 'sys-libs/db-4.8.30', '4.8', false],
    ['sys-libs/db:4.8/0=', 'sys-libs/db-4.8.30', '4.8', false],
    // dist-kernels and this project's decisions
    ['sys-kernel/gentoo-kernel', 'sys-kernel/gentoo-kernel-6.12.58', undefined, true],
    ['sys-kernel/gentoo-kernel', 'sys-kernel/gentoo-kernel-bin-6.12.58', undefined, false],
    ['sys-kernel/gentoo-kernel', 'sys-kernel/vanilla-kernel-6.12.58', undefined, false],
    ['>=sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-6.12.58_p1', undefined, true],
    ['<sys-kernel/gentoo-kernel-6.13', 'sys-kernel/gentoo-kernel-6.13_rc3', undefined, true],
    ['=sys-kernel/gentoo-kernel-6.12*', 'sys-kernel/gentoo-kernel-6.12.58_p1-r1', undefined, true],
    ['=sys-kernel/gentoo-kernel-6.1*', 'sys-kernel/gentoo-kernel-6.12.58', undefined, false],
    ['=sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-6.12.58-r0', undefined, true],
    ['=sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-6.12.58-r1', undefined, false],
    ['~sys-kernel/gentoo-kernel-6.12.58-r2', 'sys-kernel/gentoo-kernel-6.12.58', undefined, true],
    ['~sys-kernel/gentoo-kernel-6.12.58', 'sys-kernel/gentoo-kernel-6.12.58_p1', undefined, false],
    ['~cat/pkg-1.0', 'cat/pkg-1.00', undefined, false],
    ['=cat/pkg-1.0', 'cat/pkg-1.00', undefined, true],
    ['sys-kernel/gentoo-kernel:6.12.58', 'sys-kernel/gentoo-kernel-6.12.58:6.12.58', undefined, true],
    ['sys-kernel/gentoo-kernel:6.12.58', 'sys-kernel/gentoo-kernel-6.12.58:6.12.58', '6.12.59', false],
    ['sys-kernel/gentoo-kernel:6.12.58', 'sys-kernel/gentoo-kernel-6.12.58', undefined, false],
    ['sys-kernel/gentoo-kernel:=', 'sys-kernel/gentoo-kernel-6.12.58', undefined, true],
    ['llvm-core/clang:20/20.1', 'llvm-core/clang-20.1.8:20/20.1', undefined, true],
    ['llvm-core/clang:20/20.2', 'llvm-core/clang-20.1.8:20/20.1', undefined, false],
    ['llvm-core/clang:20', 'llvm-core/clang-20.1.8:20/20.1', undefined, true],
    ['llvm-core/clang::gentoo[-debug]', 'llvm-core/clang-20.1.8', undefined, true],
  ])('%s ~ %s (slot %s): %s', (atom, cpv, slot, want) => {
    expect(atomMatches(parseAtom(atom), parseCpv(cpv), slot)).toBe(want);
  });
});
