// `gentoo-kopt verify` as a command: the ad hoc form (--tarball, --patches), the per-version form (the
// patches eapply_user will apply, against the distfiles), text and JSON, exit statuses, the progress
// line on a terminal only.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { SourceError, UsageError } from '../src/errors.js';
import { verifyCommand, type VerifyCommandOptions, type VerifyContext } from '../src/commands/verify.js';
import { failureSummary } from '../src/verify/report.js';
import { gentooRoot } from './helpers/gentoo.js';
import { kernelTarball, numbered } from './helpers/kernel-tarball.js';
import { testdir } from './helpers/tree.js';

const MAKEFILE = numbered(40);
const good = createTwoFilesPatch(
  'a/Makefile',
  'b/Makefile',
  MAKEFILE,
  MAKEFILE.replace('line 9\n', 'line nine\n'),
  '',
  '',
  { context: 3 },
);
const bad = createTwoFilesPatch(
  'a/Makefile',
  'b/Makefile',
  MAKEFILE.replace('line 30\n', 'line thirty\n'),
  MAKEFILE.replace('line 30\n', 'line 30, new\n'),
  '',
  '',
  { context: 3 },
);

async function adHoc(patches: Record<string, string>) {
  const dir = await testdir({
    ...Object.fromEntries(Object.entries(patches).map(([n, t]) => [`series/${n}`, t])),
    'series/notes.txt': 'ignored',
  });
  const tarball = await kernelTarball(dir, { Makefile: MAKEFILE });
  return { dir, tarball, series: path.join(dir, 'series') };
}

const ctxOf = async (extra: Partial<VerifyContext> = {}): Promise<VerifyContext> => ({
  ...(await gentooRoot()).ctx,
  ...extra,
});
const opts: VerifyCommandOptions = { cpvs: [], patches: [], confirm: false };

describe('verify --tarball FILE --patches DIR|FILE', () => {
  it('text: one line per patch; exit 0 when all apply', async () => {
    const { tarball, series } = await adHoc({ '0001-good.patch': good });
    const r = await verifyCommand(await ctxOf(), { ...opts, tarball, patches: [series] });
    expect(r.exitCode).toBe(0);
    expect(r.text).toMatch(
      /^linux-6.1.tar.xz: APPLIES \(against linux-6.1.tar.xz; 1 file\(s\) kept of \d+ kB in [\d.]+ s\)\n {2}0001-good.patch: applies\n/,
    );
  });

  it('a failing patch: exit 1, the hunk, the line it expected and what it found', async () => {
    const { tarball, series } = await adHoc({ '0001-good.patch': good, '0002-bad.patch': bad });
    const r = await verifyCommand(await ctxOf(), { ...opts, tarball, patches: [series] });
    expect(r.exitCode).toBe(1);
    expect(r.text).toContain('  0002-bad.patch: FAILS\n');
    expect(r.text).toContain(
      "      Makefile: hunk #1 (patch line 4) FAILED at 27: line 30 should be 'line thirty', is 'line 30'",
    );
    expect(r.data.results[0]!.verdict.patches.map((p) => p.applied)).toEqual([true, false]);
    expect(failureSummary(r.data.results[0]!.verdict)).toBe('0002-bad.patch: Makefile: hunk #1 FAILED at 27');
  });

  it('files named one by one apply in the order given; JSON data is the verdict', async () => {
    const { tarball, dir } = await adHoc({ 'b.patch': good, 'a.patch': good });
    const r = await verifyCommand(await ctxOf({ json: true }), {
      ...opts,
      tarball,
      patches: [`${dir}/series/b.patch`, `${dir}/series/a.patch`],
    });
    expect(r.data.results[0]!.verdict.patches.map((p) => [p.name, p.applied])).toEqual([
      ['b.patch', true],
      ['a.patch', false],
    ]);
    expect(JSON.parse(JSON.stringify(r.data)).results[0].verdict.status).toBe('fails');
  });

  it.each<[string, Partial<VerifyCommandOptions>, RegExp]>([
    ['--tarball without --patches', { tarball: '/x.tar.xz' }, /--tarball needs --patches/],
    [
      '--tarball with a CPV',
      { tarball: '/x.tar.xz', cpvs: ['sys-kernel/gentoo-kernel-6.1.50'], patches: ['/p'] },
      /not a CPV/,
    ],
    ['--tarball and --source', { tarball: '/x.tar.xz', source: '/src', patches: ['/p'] }, /exclude each other/],
    ['--source without a CPV or patches', { source: '/src' }, /--source without a CPV needs --patches/],
  ])('usage: %s', async (_, o, message) => {
    await expect(verifyCommand(await ctxOf(), { ...opts, ...o })).rejects.toThrow(UsageError);
    await expect(verifyCommand(await ctxOf(), { ...opts, ...o })).rejects.toThrow(message);
  });

  it.each([['.tar.xz'], ['.tar.gz'], ['.tar']])(
    'a %s tarball that does not exist: "no such file", not "damaged"',
    async (ext) => {
      const { series } = await adHoc({ '0001-good.patch': good });
      const err = await verifyCommand(await ctxOf(), {
        ...opts,
        tarball: `/nonexistent/linux-6.1${ext}`,
        patches: [series],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).message).toMatch(/no such file/);
      expect((err as SourceError).hint).not.toMatch(/damaged/);
    },
  );

  it('a progress line on a terminal, cleared at the end; none with --json or without a terminal', async () => {
    const { tarball, series } = await adHoc({ '0001-good.patch': good });
    for (const [tty, json, expectLines] of [
      [true, false, true],
      [true, true, false],
      [false, false, false],
    ] as const) {
      const lines: string[] = [];
      await verifyCommand(await ctxOf({ tty, json, progress: (l) => lines.push(l) }), {
        ...opts,
        tarball,
        patches: [series],
      });
      if (!expectLines) expect(lines).toEqual([]);
      else {
        expect(lines.some((l) => /^linux-6.1.tar.xz: \d+ kB read, \d+\/1 files kept$/.test(l))).toBe(true);
        expect(lines.at(-1)).toBe('');
      }
    }
  });
});

describe('verify CPV: the patches eapply_user will apply, against the distfiles', () => {
  async function root(withDistfiles: boolean) {
    const cpf = 'sys-kernel/gentoo-kernel-6.1.50';
    const g = await gentooRoot({
      installed: [cpf],
      available: [cpf],
      extra: {
        'var/db/repos/gentoo/metadata/md5-cache/sys-kernel/gentoo-kernel-6.1.50':
          'EAPI=8\nSLOT=6.1.50\nSRC_URI=https://cdn.kernel.org/linux-6.1.tar.xz\n',
        'etc/portage/patches/sys-kernel/gentoo-kernel-6.1.50/0001-good.patch': good,
        'etc/portage/patches/sys-kernel/gentoo-kernel/0002-every-version.patch': bad,
      },
    });
    if (withDistfiles) {
      await mkdir(path.join(g.dir, 'var/cache/distfiles'), { recursive: true });
      await kernelTarball(path.join(g.dir, 'var/cache/distfiles'), { Makefile: MAKEFILE });
    }
    return g;
  }

  it('verifies each version against its distfiles', async () => {
    const { ctx } = await root(true);
    const r = await verifyCommand(ctx, { ...opts, cpvs: ['sys-kernel/gentoo-kernel-6.1.50'] });
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/^sys-kernel\/gentoo-kernel-6.1.50: FAILS \(against linux-6.1.tar.xz;/);
    expect(r.data.results[0]!.verdict.patches.map((p) => [p.name, p.applied])).toEqual([
      ['0001-good.patch', true],
      ['0002-every-version.patch', false],
    ]);
  });

  it('without the distfiles: NOT VERIFIED and exit 4, never "applies"', async () => {
    const { ctx } = await root(false);
    const r = await verifyCommand(ctx, { ...opts, cpvs: ['sys-kernel/gentoo-kernel-6.1.50'] });
    expect(r.exitCode).toBe(4);
    expect(r.text).toContain(
      'sys-kernel/gentoo-kernel-6.1.50: NOT VERIFIED\n  distfiles not downloaded: linux-6.1.tar.xz',
    );
    expect(r.text).not.toMatch(/applies/i);
  });

  it('--source DIR stands in for the distfiles', async () => {
    const { ctx, dir } = await root(false);
    await mkdir(path.join(dir, 'usr/src/linux-6.1.50'), { recursive: true });
    await writeFile(path.join(dir, 'usr/src/linux-6.1.50/Makefile'), MAKEFILE);
    const r = await verifyCommand(ctx, {
      ...opts,
      cpvs: ['sys-kernel/gentoo-kernel-6.1.50'],
      source: path.join(dir, 'usr/src/linux-6.1.50'),
      patches: [path.join(dir, 'etc/portage/patches/sys-kernel/gentoo-kernel-6.1.50/0001-good.patch')],
    });
    expect(r.exitCode).toBe(0);
    expect(r.text).toMatch(/APPLIES \(against .*linux-6.1.50\)/);
  });

  it('a version without user patches has nothing to verify', async () => {
    const { ctx } = await root(true);
    const r = await verifyCommand(ctx, { ...opts, cpvs: ['sys-kernel/vanilla-kernel-6.1.50'] });
    expect(r.exitCode).toBe(0);
    expect(r.text).toContain('sys-kernel/vanilla-kernel-6.1.50: no user patches for this version: nothing to verify');
  });
});
