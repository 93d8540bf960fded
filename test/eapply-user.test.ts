// The eapply_user simulator over a table of /etc/portage/patches layouts. Every layout is also checked
// against the real Portage by test/eapply-user-portage.sh, which asks this file to export the layouts
// (KOPT_EAPPLY_EXPORT=DIR) and runs each through Portage's own eapply_user.
import { describe, it, expect } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir, writeTree, type Entry, type Tree } from './helpers/tree.js';
import { eapplyUser, compareC, userPatchDirNames } from '../src/portage/eapply-user.js';
import { parseCpv } from '../src/portage/atom.js';
import { resolveRoots } from '../src/portage/roots.js';
import { FsError } from '../src/errors.js';
import { patchesListCommand } from '../src/commands/patches-list.js';

/** Stands for a real patch: one that creates its own file, so it applies to any tree in any order. */
const PATCH = Symbol('patch');
type LayoutEntry = Entry | typeof PATCH;

interface Layout {
  id: string;
  cpv: string;
  slot?: string;
  /** Paths relative to etc/portage/patches/sys-kernel. */
  files: Record<string, LayoutEntry>;
  /** Applied entries, in order, as 'dir/basename' ('dir/basename/' + inner basenames for a directory). */
  applied: string[];
  cancelled?: string[];
  /** Portage stops the emerge (the simulator throws). */
  dies?: boolean;
}

const K = 'sys-kernel/gentoo-kernel-6.12.58';
const PN = 'gentoo-kernel';
const P = 'gentoo-kernel-6.12.58';
const S = ':6.12.58';

const LAYOUTS: Layout[] = [
  {
    id: 'pn-only',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/01-a.patch`]: PATCH, [`${PN}/02-b.diff`]: PATCH },
    applied: [`${PN}/01-a.patch`, `${PN}/02-b.diff`],
  },
  {
    id: 'p-overrides-pn',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/10-x.patch`]: PATCH, [`${P}/10-x.patch`]: PATCH, [`${PN}/20-y.patch`]: PATCH },
    applied: [`${P}/10-x.patch`, `${PN}/20-y.patch`],
  },
  {
    id: 'p-r0-overrides-p',
    cpv: K,
    slot: '6.12.58',
    files: { [`${P}/10-x.patch`]: PATCH, [`${P}-r0/10-x.patch`]: PATCH, [`${PN}/10-x.patch`]: PATCH },
    applied: [`${P}-r0/10-x.patch`],
  },
  {
    id: 'slot-chain',
    cpv: K,
    slot: '6.12.58',
    // PN:SLOT beats PN, but P (no slot) beats PN:SLOT: the loop order is PN, PN:S, P, P:S, P-PR, P-PR:S.
    files: {
      [`${PN}/a.patch`]: PATCH,
      [`${PN}${S}/a.patch`]: PATCH,
      [`${PN}${S}/b.patch`]: PATCH,
      [`${P}/b.patch`]: PATCH,
      [`${P}${S}/c.patch`]: PATCH,
      [`${P}-r0/c.patch`]: PATCH,
      [`${P}-r0${S}/d.patch`]: PATCH,
    },
    applied: [`${PN}${S}/a.patch`, `${P}/b.patch`, `${P}-r0/c.patch`, `${P}-r0${S}/d.patch`],
  },
  {
    id: 'slot-subslot-stripped',
    cpv: K,
    slot: '6.12.58/6.12.58-x',
    files: { [`${PN}${S}/a.patch`]: PATCH, [`${PN}:6.12.58-x/b.patch`]: PATCH },
    applied: [`${PN}${S}/a.patch`],
  },
  {
    id: 'other-revisions-ignored',
    cpv: K,
    slot: '6.12.58',
    files: {
      [`${P}-r1/a.patch`]: PATCH,
      [`${P}-r0/b.patch`]: PATCH,
      'gentoo-kernel-6.12.57/c.patch': PATCH,
      'gentoo-kernel-6.12/d.patch': PATCH,
      'vanilla-kernel/e.patch': PATCH,
    },
    applied: [`${P}-r0/b.patch`],
  },
  {
    id: 'revision-r1',
    cpv: `${K}-r1`,
    slot: '6.12.58',
    files: {
      [`${P}-r0/a.patch`]: PATCH,
      [`${P}-r1/b.patch`]: PATCH,
      [`${P}-r1${S}/c.patch`]: PATCH,
      [`${P}/d.patch`]: PATCH,
    },
    applied: [`${P}-r1/b.patch`, `${P}-r1${S}/c.patch`, `${P}/d.patch`],
  },
  {
    id: 'empty-cancels',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/a.patch`]: PATCH, [`${PN}/b.patch`]: PATCH, [`${P}/a.patch`]: '' },
    applied: [`${PN}/b.patch`],
    cancelled: ['a.patch'],
  },
  {
    id: 'devnull-cancels',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/a.patch`]: PATCH, [`${PN}/b.patch`]: PATCH, [`${P}${S}/b.patch`]: { symlink: '/dev/null' } },
    applied: [`${PN}/a.patch`],
    cancelled: ['b.patch'],
  },
  {
    id: 'cancel-then-readd',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/a.patch`]: PATCH, [`${PN}${S}/a.patch`]: '', [`${P}-r0/a.patch`]: PATCH },
    applied: [`${P}-r0/a.patch`],
  },
  {
    id: 'non-patch-ignored',
    cpv: K,
    slot: '6.12.58',
    files: {
      [`${PN}/a.patch`]: PATCH,
      [`${PN}/README`]: 'notes',
      [`${PN}/b.patch.orig`]: PATCH,
      [`${PN}/c.PATCH`]: PATCH,
      [`${PN}/d.patch~`]: PATCH,
      [`${PN}/e.diff.gz`]: PATCH,
      [`${PN}/series`]: 'a.patch',
      [`${PN}/f.txt`]: PATCH,
    },
    applied: [`${PN}/a.patch`],
  },
  {
    id: 'dotfiles-ignored',
    cpv: K,
    slot: '6.12.58',
    files: { [`${PN}/a.patch`]: PATCH, [`${PN}/.hidden.patch`]: PATCH, [`${PN}/.patch`]: PATCH, [`${P}/.a.patch`]: '' },
    applied: [`${PN}/a.patch`],
  },
  {
    id: 'c-locale-order',
    cpv: K,
    slot: '6.12.58',
    files: Object.fromEntries(
      [
        'z.patch',
        'a.patch',
        'B.patch',
        'A.patch',
        '10-x.patch',
        '9-x.patch',
        '_u.patch',
        'é.patch',
        '~t.patch',
        '\u{ff5a}.patch',
        '\u{1f600}.patch',
        '01.diff',
      ].map((n) => [`${PN}/${n}`, PATCH]),
    ),
    applied: [
      '01.diff',
      '10-x.patch',
      '9-x.patch',
      'A.patch',
      'B.patch',
      '_u.patch',
      'a.patch',
      'z.patch',
      '~t.patch',
      'é.patch',
      '\u{ff5a}.patch',
      '\u{1f600}.patch',
    ].map((n) => `${PN}/${n}`),
  },
  {
    id: 'subdirectories',
    cpv: K,
    slot: '6.12.58',
    // A plain subdirectory is not searched; one named *.patch is handed to eapply, which applies the
    // *.patch/*.diff files in it (C order, no dotfiles) at that basename's place.
    files: {
      [`${PN}/extra/a.patch`]: PATCH,
      [`${PN}/b.patch`]: PATCH,
      [`${PN}/m.patch/2.diff`]: PATCH,
      [`${PN}/m.patch/1.patch`]: PATCH,
      [`${PN}/m.patch/notes.txt`]: 'x',
      [`${PN}/m.patch/.3.patch`]: PATCH,
      [`${PN}/z.patch`]: PATCH,
    },
    applied: [`${PN}/b.patch`, `${PN}/m.patch/1.patch`, `${PN}/m.patch/2.diff`, `${PN}/z.patch`],
  },
  {
    id: 'symlinks',
    cpv: K,
    slot: '6.12.58',
    files: {
      'store/real.patch': PATCH,
      [`${PN}/a.patch`]: { symlink: '../store/real.patch' },
      [`${PN}/b.patch`]: PATCH,
      [`${P}/b.patch`]: { symlink: '../store/missing.patch' },
    },
    applied: [`${PN}/a.patch`],
    cancelled: ['b.patch'],
  },
  {
    id: 'merged-global-sort',
    cpv: K,
    slot: '6.12.58',
    files: {
      [`${PN}/30-c.patch`]: PATCH,
      [`${PN}${S}/10-a.patch`]: PATCH,
      [`${P}/40-d.patch`]: PATCH,
      [`${P}${S}/20-b.patch`]: PATCH,
      [`${P}-r0/05-z.patch`]: PATCH,
      [`${P}-r0${S}/50-e.diff`]: PATCH,
    },
    applied: [
      `${P}-r0/05-z.patch`,
      `${PN}${S}/10-a.patch`,
      `${P}${S}/20-b.patch`,
      `${PN}/30-c.patch`,
      `${P}/40-d.patch`,
      `${P}-r0${S}/50-e.diff`,
    ],
  },
  { id: 'nothing', cpv: K, slot: '6.12.58', files: { 'vanilla-kernel/a.patch': PATCH }, applied: [] },
  {
    id: 'dir-is-a-file',
    cpv: K,
    slot: '6.12.58',
    files: { [PN]: 'not a directory', [`${P}/a.patch`]: PATCH },
    applied: [],
    dies: true,
  },
];

/** A patch that creates kopt-<marker>.txt, carrying the portage-harness marker. */
function patchText(marker: string): string {
  return `--- /dev/null\n+++ b/kopt-${marker}.txt\n@@ -0,0 +1 @@\n+HARNESS-PATCH-MARKER:${marker}\n`;
}

function markerOf(layout: Layout, rel: string): string {
  return `${layout.id}.${Object.keys(layout.files).indexOf(rel)}`;
}

function treeOf(layout: Layout): Tree {
  const tree: Tree = {};
  for (const [rel, entry] of Object.entries(layout.files)) {
    tree[`etc/portage/patches/sys-kernel/${rel}`] = entry === PATCH ? patchText(markerOf(layout, rel)) : entry;
  }
  return tree;
}

async function simulate(layout: Layout, configRoot: string) {
  const roots = resolveRoots({ env: { PORTAGE_CONFIGROOT: configRoot } });
  return eapplyUser(roots, parseCpv(layout.cpv), layout.slot);
}

describe('eapplyUser over patch-directory layouts', () => {
  it.each(LAYOUTS.filter((l) => !l.dies))('$id', async (layout) => {
    const root = await testdir(treeOf(layout));
    const result = await simulate(layout, root);
    const base = path.join(root, 'etc/portage/patches/sys-kernel');
    expect(result.base).toBe(base);
    const applied = result.patches.flatMap((p) =>
      p.files ? p.files.map((f) => path.relative(base, f)) : [`${p.dir}/${p.basename}`],
    );
    expect(applied).toEqual(layout.applied);
    for (const p of result.patches) expect(p.path).toBe(path.join(base, p.dir, p.basename));
    expect(result.cancelled.map((c) => c.basename)).toEqual(layout.cancelled ?? []);
  });

  it('throws FsError naming the path when a searched directory is not a directory', async () => {
    const layout = LAYOUTS.find((l) => l.id === 'dir-is-a-file')!;
    const root = await testdir(treeOf(layout));
    const err = await simulate(layout, root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).file).toBe(path.join(root, 'etc/portage/patches/sys-kernel/gentoo-kernel'));
  });

  it('reports overridden and cancelled entries with what replaced them', async () => {
    const root = await testdir(treeOf(LAYOUTS.find((l) => l.id === 'empty-cancels')!));
    const r = await simulate(LAYOUTS.find((l) => l.id === 'empty-cancels')!, root);
    const base = r.base;
    expect(r.overridden).toEqual([{ path: `${base}/${PN}/a.patch`, by: `${base}/${P}/a.patch` }]);
    expect(r.cancelled).toEqual([{ basename: 'a.patch', by: `${base}/${P}/a.patch` }]);
  });

  it('lists every searched directory in Portage order, existing or not', async () => {
    const root = await testdir(treeOf(LAYOUTS.find((l) => l.id === 'pn-only')!));
    const r = await simulate(LAYOUTS.find((l) => l.id === 'pn-only')!, root);
    expect(r.dirs.map((d) => [d.name, d.exists])).toEqual([
      [PN, true],
      [`${PN}${S}`, false],
      [P, false],
      [`${P}${S}`, false],
      [`${P}-r0`, false],
      [`${P}-r0${S}`, false],
    ]);
  });

  it('without a slot searches only the three unslotted directories', async () => {
    const layout: Layout = {
      id: 'no-slot',
      cpv: K,
      files: { [`${PN}/a.patch`]: PATCH, [`${PN}${S}/b.patch`]: PATCH },
      applied: [`${PN}/a.patch`],
    };
    const r = await simulate(layout, await testdir(treeOf(layout)));
    expect(r.dirs.map((d) => d.name)).toEqual([PN, P, `${P}-r0`]);
    expect(r.patches.map((p) => p.basename)).toEqual(['a.patch']);
  });

  it.each([
    ['a', 'B', 1],
    ['B', 'a', -1],
    ['10', '9', -1],
    ['z', 'é', -1],
    ['\u{ff5a}', '\u{1f600}', -1],
    ['a', 'a', 0],
  ] as const)('compareC(%s, %s) has sign %i', (a, b, sign) => {
    expect(Math.sign(compareC(a, b))).toBe(sign);
  });

  it('userPatchDirNames keeps the revision (-r0) and strips the subslot', () => {
    expect(userPatchDirNames(parseCpv('app-misc/foo-1.0-r3'), '2/2.1')).toEqual([
      'foo',
      'foo:2',
      'foo-1.0',
      'foo-1.0:2',
      'foo-1.0-r3',
      'foo-1.0-r3:2',
    ]);
  });
});

describe('patches list', () => {
  const tree: Tree = {
    'etc/portage/patches/sys-kernel/gentoo-kernel/10-x.patch': 'pn',
    'etc/portage/patches/sys-kernel/gentoo-kernel/20-y.patch': 'pn',
    'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58/20-y.patch': '',
    'etc/portage/patches/sys-kernel/gentoo-kernel:6.12.58/05-a.patch': 'slot',
    'etc/portage/patches/sys-kernel/gentoo-kernel:custom/05-a.patch': 'custom slot',
    'var/db/pkg/sys-kernel/gentoo-kernel-6.12.57/SLOT': 'custom\n',
  };
  const run = async (cpv: string, slot?: string) => {
    const root = await testdir(tree);
    const ctx = { roots: resolveRoots({ root }), env: {}, json: false, tty: false };
    return { root, ...(await patchesListCommand(ctx, { cpv, slot })) };
  };

  it.each([
    ['sys-kernel/gentoo-kernel-6.12.58', '6.12.58', '6.12.58', 'option'],
    ['sys-kernel/gentoo-kernel-6.12.58:6.12.58', undefined, '6.12.58', 'option'],
    ['sys-kernel/gentoo-kernel-6.12.57', undefined, 'custom', 'installed'],
    ['sys-kernel/gentoo-kernel-6.12.58', undefined, '6.12.58', 'inferred'],
    ['sys-kernel/vanilla-kernel-6.12.58', undefined, '6.12.58', 'inferred'],
    ['sys-kernel/gentoo-kernel-bin-6.12.58', undefined, null, 'none'],
    ['app-misc/foo-1.0', undefined, null, 'none'],
  ] as const)('%s --slot %s: SLOT %s (%s)', async (cpv, given, slot, source) => {
    const r = await run(cpv, given);
    expect(r.exitCode).toBe(0);
    expect([r.data.slot, r.data.slotSource]).toEqual([slot, source]);
    expect(r.data.dirs.length).toBe(slot === null ? 3 : 6);
  });

  it('prints the apply order with each directory, then cancellations and the directories searched', async () => {
    const r = await run('sys-kernel/gentoo-kernel-6.12.58');
    expect(r.data.patches.map((p) => p.basename)).toEqual(['05-a.patch', '10-x.patch']);
    const lines = r.text.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(lines[0]).toMatch(/^sys-kernel\/gentoo-kernel-6\.12\.58, SLOT 6\.12\.58 \(inferred/);
    expect(at(/1\. 05-a\.patch +from sys-kernel\/gentoo-kernel:6\.12\.58\/$/)).toBeGreaterThan(0);
    expect(at(/2\. 10-x\.patch +from sys-kernel\/gentoo-kernel\/ +\(no version/)).toBeGreaterThan(at(/1\. 05-a/));
    expect(at(/^ +20-y\.patch +by sys-kernel\/gentoo-kernel-6\.12\.58\/20-y\.patch$/)).toBeGreaterThan(
      at(/^cancelled/),
    );
    expect(lines.filter((l) => /^ +(found|missing) +sys-kernel\//.test(l))).toHaveLength(6);
    expect(r.text).toContain(`directories searched under ${path.join(r.root, 'etc/portage/patches')}`);
  });
});

// Export mode for test/eapply-user-portage.sh: each layout's patches tree and what the simulator expects
// Portage to report (USER_PATCHES_APPLIED, PATCH_MARKERS, exit status).
const exportDir = process.env.KOPT_EAPPLY_EXPORT;
describe.runIf(exportDir)('export layouts for the Portage comparison', () => {
  /** The marker of the patch a layout entry is, following the layout's own symlinks. */
  function markerFor(layout: Layout, rel: string): string {
    const entry = layout.files[rel];
    if (entry && typeof entry === 'object' && 'symlink' in entry)
      return markerFor(layout, path.join(path.dirname(rel), entry.symlink));
    return markerOf(layout, rel);
  }

  it.each(LAYOUTS)('$id', async (layout) => {
    const dir = path.join(exportDir!, layout.id);
    await writeTree(dir, treeOf(layout));
    let applied: string[] = [];
    let markers: string[] = [];
    let status = 0;
    try {
      const r = await simulate(layout, dir);
      const rel = (f: string) => path.relative(r.base, f);
      // eapply announces a directory operand with einfo "Applying patches from DIR ..." and its files
      // without the word "Applying", so the harness sees only the directory.
      applied = r.patches.map((p) => (p.files ? `patches from @PATCHES@/sys-kernel/${rel(p.path)}` : p.basename));
      markers = r.patches
        .flatMap((p) => p.files?.map(rel) ?? [rel(p.path)])
        .map((f) => markerFor(layout, f))
        .sort(compareC);
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      status = 1;
    }
    await writeFile(path.join(dir, 'atom'), `${layout.cpv}\n`);
    await writeFile(
      path.join(dir, 'expected'),
      `STATUS=${status}\nUSER_PATCHES_APPLIED=${applied.join(' ')}\nPATCH_MARKERS=${markers.join(' ')}\n`,
    );
  });
});
