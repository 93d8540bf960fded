// The areas gentoo-kopt writes (src/system/areas.ts): which record may name which path, one line per
// case, and that every path a command writes lies in them (so a new file written elsewhere fails here,
// not in a user's crash recovery).
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { outsideAreas, resolveAreaLinks, type Claim, type PathKind } from '../src/system/areas.js';
import { HOOK_REL } from '../src/hooks/bashrc-block.js';
import { SETTINGS_REL } from '../src/hooks/settings.js';
import { LTO_FRAGMENT_REL } from '../src/hooks/lto-fragment.js';
import { LEDGER_REL } from '../src/system/ledger.js';
import { managedName } from '../src/patches/naming.js';
import { patchDir } from '../src/patches/desired.js';
import { TX_ID } from '../src/system/journal.js';
import { testdir } from './helpers/tree.js';

const P = 'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58';
const ok = (rel: string, claim: Claim, kind?: PathKind): [string, Claim, PathKind | undefined, boolean] => [
  rel,
  claim,
  kind,
  true,
];
const no = (rel: string, claim: Claim, kind?: PathKind): [string, Claim, PathKind | undefined, boolean] => [
  rel,
  claim,
  kind,
  false,
];

describe('outsideAreas', () => {
  it.each([
    ok(`${P}/00-gentoo-kopt-1-gcc-lto-01-0001-x.patch`, 'patches', 'file'),
    ok(`${P}/00-gentoo-kopt-1-s-01-x.diff`, 'transaction'),
    ok(P, 'patches', 'dir'),
    ok('etc', 'patches', 'dir'),
    no(`${P}/0001-mine.patch`, 'patches', 'file'),
    no(`${P}/00-gentoo-kopt-x.patch`, 'patches', 'dir'),
    no('etc/portage/patches/sys-kernel/.hidden/00-gentoo-kopt-x.patch', 'patches'),
    no(`${P}/sub/00-gentoo-kopt-x.patch`, 'transaction'),
    no('etc/portage/make.conf', 'patches'),
    no('etc/portage/make.conf', 'transaction'),
    no(HOOK_REL, 'patches'),
    ok(HOOK_REL, 'hooks', 'file'),
    ok('etc/kernel/config.d/50-gentoo-kopt-lto.config', 'hooks', 'file'),
    no('etc/kernel/config.d/50-mine.config', 'hooks'),
    ok('etc/portage', 'hooks', 'dir'),
    no('etc/portage/bashrc', 'hooks', 'file'),
    ok('etc/portage/bashrc', 'hooks', 'shared'),
    no('etc/portage/bashrc', 'patches', 'shared'),
    no(HOOK_REL, 'hooks', 'shared'),
    ok('etc/portage/bashrc', 'transaction', 'file'),
    ok('var/lib/gentoo-kopt/ledger.json', 'transaction', 'file'),
    ok('var/lib/gentoo-kopt/managed.json', 'transaction', 'file'),
    no('var/lib/gentoo-kopt/ledger.json', 'patches'),
    no('var/lib/gentoo-kopt/journal.json', 'transaction'),
    no('var/lib/gentoo-kopt/lock', 'transaction'),
    no('var/lib/gentoo-kopt/backups/20250101T000000Z-1-abcd.tar', 'transaction'),
    ok('var/lib/gentoo-kopt/backups/20250101T000000Z-1-abcd.tar', 'backup', 'file'),
    no('var/lib/gentoo-kopt/backups/mine.tar', 'backup', 'file'),
    no('../outside/victim', 'transaction'),
    no('/etc/passwd', 'transaction'),
    no('etc/./portage/bashrc', 'transaction'),
    no('etc//portage/bashrc', 'transaction'),
    no('etc/portage/', 'transaction'),
    no('', 'transaction'),
  ])('%s, named by %s as %s: %s', (rel, claim, kind, allowed) => {
    expect(outsideAreas(rel, claim, undefined, kind) === '').toBe(allowed);
  });

  it('says why, and where gentoo-kopt does write', () => {
    expect(outsideAreas('../x', 'transaction')).toBe('is not normalised (an empty, `.` or `..` component)');
    expect(outsideAreas('etc/portage/make.conf', 'patches', undefined, 'file')).toBe(
      'is not in an area gentoo-kopt writes (a record of sync-patches may name only etc/portage/patches/CATEGORY/P/00-gentoo-kopt-*.patch)',
    );
  });
});

describe('what the commands write lies in the areas', () => {
  it.each([
    [HOOK_REL, 'hooks'],
    [SETTINGS_REL, 'hooks'],
    [LTO_FRAGMENT_REL, 'hooks'],
    [
      path.posix.join(
        patchDir('sys-kernel', 'gentoo-kernel-6.12.58'),
        managedName(0, 'gcc-lto', 0, '6.1/misc/gcc-lto/0001-gcc-LTO-support-for-the-kernel.patch'),
      ),
      'patches',
    ],
    [
      path.posix.join(patchDir('sys-kernel', 'vanilla-kernel-6.13_rc3'), managedName(2, 'kopt-demo', 11, 'a/README')),
      'patches',
    ],
    [LEDGER_REL, 'transaction'],
  ] as const)('%s (%s)', (rel, claim) => {
    expect(outsideAreas(rel, claim, undefined, 'file')).toBe('');
    expect(outsideAreas(rel, 'transaction', undefined, 'file')).toBe('');
  });

  it('a backup is named by its transaction id', () => {
    expect(TX_ID.test('20250101T120000Z-1234-abcd')).toBe(true);
    expect(
      outsideAreas('var/lib/gentoo-kopt/backups/20250101T120000Z-1234-abcd.tar', 'backup', undefined, 'file'),
    ).toBe('');
  });
});

describe('resolveAreaLinks: bashrc kept as a link', () => {
  it('inside the root, the file it resolves to is in the bashrc area; outside, nothing is', async () => {
    const dir = await testdir({ 'etc/portage/bashrc': { symlink: '../../srv/bashrc' }, 'srv/bashrc': '# mine\n' });
    const links = await resolveAreaLinks(dir);
    expect([...links]).toEqual([['etc/portage/bashrc', 'srv/bashrc']]);
    expect(outsideAreas('srv/bashrc', 'transaction', links)).toBe('');
    expect(outsideAreas('srv/bashrc', 'patches', links)).not.toBe('');
    const out = await testdir({ 'etc/portage/bashrc': { symlink: '/etc/hostname' } });
    expect([...(await resolveAreaLinks(out))]).toEqual([]);
  });
});
