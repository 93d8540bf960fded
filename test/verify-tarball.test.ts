// verify against generated kernel tarballs (tar-stream + real xz/gzip): verdicts for clean, offset,
// fuzz and failing series, as GNU patch gives them on a scratch tree; files created and deleted; and
// every kind of bad input, each a clear error with nothing written.
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../src/errors.js';
import { verifySeries, type SeriesPatch, type Verdict } from '../src/verify/verify.js';
import { kernelTarball, numbered, tarOf, xz } from './helpers/kernel-tarball.js';
import { snapshot, testdir } from './helpers/tree.js';

const MAKEFILE = numbered(60);
const CORE = numbered(80, 1000);
const FILES = { Makefile: MAKEFILE, 'kernel/sched/core.c': CORE, 'drivers/x/y.c': 'int y;\n' };
const edit = (text: string, from: string, to: string): string => {
  expect(text).toContain(from);
  return text.replace(from, to);
};
const diff = (file: string, a: string, b: string): string =>
  createTwoFilesPatch(`a/${file}`, `b/${file}`, a, b, '', '', { context: 3 });
const patch = (name: string, ...diffs: string[]): SeriesPatch => ({
  name,
  content: Buffer.from(`Subject: ${name}\n\n---\n${diffs.join('')}`),
});

const makefileChange = diff('Makefile', MAKEFILE, edit(MAKEFILE, 'line 10\n', 'line ten\n'));
const coreChange = diff('kernel/sched/core.c', CORE, edit(CORE, 'line 1040\n', 'line 1040 (changed)\n'));

async function run(
  files: Record<string, string>,
  series: SeriesPatch[],
  how: 'xz' | 'gzip' | 'none' = 'xz',
): Promise<Verdict> {
  const dir = await testdir();
  const tarball = await kernelTarball(dir, files, { how });
  const before = await snapshot(dir);
  const verdict = await verifySeries({ kind: 'tarball', tarball }, series, { threads: false });
  expect(await snapshot(dir)).toEqual(before); // nothing written next to the tarball
  return verdict;
}

const hunks = (v: Verdict): [string, boolean, number, number, number][] =>
  v.patches.flatMap((p) =>
    p.files.flatMap((f) =>
      f.hunks.map((h) => [f.path, h.applied, h.at, h.offset, h.fuzz] as [string, boolean, number, number, number]),
    ),
  );

describe("verdicts, GNU patch's own", () => {
  it.each(['xz', 'gzip', 'none'] as const)('a clean series applies (%s)', async (how) => {
    const v = await run(FILES, [patch('0001-a.patch', makefileChange, coreChange)], how);
    expect(v.status).toBe('applies');
    expect(hunks(v)).toEqual([
      ['Makefile', true, 7, 0, 0],
      ['kernel/sched/core.c', true, 38, 0, 0],
    ]);
    expect(v.stats.kept).toBe(2);
    expect(v.stats.members).toBeGreaterThan(20);
  });

  it('applies with an offset when the file moved', async () => {
    const v = await run({ ...FILES, Makefile: numbered(4, 500) + MAKEFILE }, [patch('0001-a.patch', makefileChange)]);
    expect(v).toMatchObject({ status: 'applies' });
    expect(hunks(v)).toEqual([['Makefile', true, 11, 4, 0]]);
  });

  it.each([
    [1, edit(MAKEFILE, 'line 7\n', 'line seven\n')],
    [2, edit(edit(MAKEFILE, 'line 7\n', 'line seven\n'), 'line 8\n', 'line eight\n')],
  ])('applies with fuzz %i when context lines changed', async (fuzz, makefile) => {
    const v = await run({ ...FILES, Makefile: makefile }, [patch('0001-a.patch', makefileChange)]);
    expect(v).toMatchObject({ status: 'applies' });
    expect(hunks(v)).toEqual([['Makefile', true, 7, 0, fuzz]]);
  });

  it('fails, naming the hunk and the line that did not match', async () => {
    const v = await run({ ...FILES, Makefile: edit(MAKEFILE, 'line 10\n', 'line 10, edited upstream\n') }, [
      patch('0001-a.patch', makefileChange, coreChange),
    ]);
    expect(v).toMatchObject({ status: 'fails' });
    const f = v.patches[0]!.files[0]!;
    expect(f.hunks[0]).toMatchObject({
      applied: false,
      at: 7,
      line: 7,
      mismatch: { line: 10, expected: 'line 10\n', found: 'line 10, edited upstream\n' },
    });
    expect(v.patches[0]!.files[1]!.applied).toBe(true);
  });

  it('a later patch sees what the earlier ones did (and fails when applied twice)', async () => {
    const after = edit(MAKEFILE, 'line 10\n', 'line ten\n');
    const second = diff('Makefile', after, edit(after, 'line ten\n', 'line TEN\n'));
    const v = await run(FILES, [
      patch('0001-a.patch', makefileChange),
      patch('0002-b.patch', second),
      patch('0003-again.patch', makefileChange),
    ]);
    expect(v.patches.map((p) => p.applied)).toEqual([true, true, false]);
    expect(v.patches[2]!.files[0]!.hunks[0]!.alreadyApplied).toBeUndefined(); // line ten became TEN: not "already there"
    expect(v).toMatchObject({ status: 'fails' });
  });

  it('creates and deletes files', async () => {
    const create = diff('drivers/new.c', '', 'int fresh;\n').replace('--- a/drivers/new.c', '--- /dev/null');
    const remove = diff('drivers/x/y.c', 'int y;\n', '').replace('+++ b/drivers/x/y.c', '+++ /dev/null');
    const v = await run(FILES, [
      patch('0001-new.patch', create, remove),
      patch('0002-touch-new.patch', diff('drivers/new.c', 'int fresh;\n', 'int fresh = 1;\n')),
    ]);
    expect(v).toMatchObject({ status: 'applies' });
    expect(v.patches[0]!.files.map((f) => [f.path, f.op, f.applied])).toEqual([
      ['drivers/new.c', 'create', true],
      ['drivers/x/y.c', 'delete', true],
    ]);
  });

  it('a file the series creates but the tarball already has fails', async () => {
    const create = diff('Makefile', '', 'all:\n').replace('--- a/Makefile', '--- /dev/null');
    const v = await run(FILES, [patch('0001-new.patch', create)]);
    expect(v).toMatchObject({ status: 'fails' });
    expect(v.patches[0]!.files[0]!.problem).toMatch(/creates 'Makefile', which already exists/);
  });

  it.each<[string, string, RegExp]>([
    [
      'a file that is not in the tarball',
      diff('drivers/none.c', 'a\n', 'b\n'),
      /'drivers\/none.c' is not in the sources/,
    ],
    [
      'a binary git patch',
      'diff --git a/fw.bin b/fw.bin\nindex 1..2 100644\nGIT binary patch\nliteral 1\nIcmZ?d00001\n\n',
      /binary \(GIT binary patch\)/,
    ],
  ])('%s: the patch fails, saying why', async (_, text, problem) => {
    const v = await run(FILES, [patch('0001-x.patch', text)]);
    expect(v.status).toBe('fails');
    expect(v.patches[0]!.files[0]!.problem).toMatch(problem);
  });

  it('a malformed hunk: the patch fails with the line, the others are still checked', async () => {
    const bad = patch(
      '0001-bad.patch',
      '--- a/Makefile\n+++ b/Makefile\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+x\nIndex: oops\n',
    );
    const v = await verifySeries(
      { kind: 'tarball', tarball: await kernelTarball(await testdir(), FILES) },
      [bad, patch('0002-ok.patch', coreChange)],
      { threads: false },
    );
    expect(v.status).toBe('fails');
    // GNU patch's own message: the line in the patch file where it stopped
    expect(v.patches[0]!.error).toEqual({ line: 10, message: 'malformed patch at line 10: Index: oops' });
    expect(v.patches[1]!.applied).toBe(true);
  });
});

describe('members that are not plain files', () => {
  it('an unwanted symbolic link is ignored; a wanted one is never followed and the patch fails', async () => {
    const dir = await testdir();
    const tarball = await kernelTarball(dir, FILES, {
      extra: [
        { name: 'linux-6.1/arch/dts/board.dtsi', type: 'symlink', linkname: '../../../etc/passwd' },
        { name: 'linux-6.1/include/hard.h', type: 'link', linkname: 'linux-6.1/Makefile' },
      ],
    });
    const ok = await verifySeries({ kind: 'tarball', tarball }, [patch('0001.patch', makefileChange)], {
      threads: false,
    });
    expect(ok.status).toBe('applies');
    const v = await verifySeries(
      { kind: 'tarball', tarball },
      [patch('0001.patch', diff('arch/dts/board.dtsi', 'root:x\n', 'y\n'), diff('include/hard.h', 'line 1\n', 'x\n'))],
      { threads: false },
    );
    expect(v.status).toBe('fails');
    expect(v.patches[0]!.files.map((f) => f.problem)).toEqual([
      "'arch/dts/board.dtsi' is a symbolic link in the sources: patch(1) refuses to patch it",
      "'include/hard.h' is a hard link in the sources: patch(1) refuses to patch it",
    ]);
  });

  it.each<[string, string, RegExp]>([
    [
      '../ in a name',
      'linux-6.1/../../etc/cron.d/x',
      /tarball member 'linux-6.1\/..\/..\/etc\/cron.d\/x' has a '..' component/,
    ],
    ['an absolute name', '/etc/cron.d/x', /tarball member '\/etc\/cron.d\/x' has an absolute name/],
  ])('%s: the whole tarball is refused, nothing written', async (_, name, message) => {
    const dir = await testdir();
    const tarball = await kernelTarball(dir, FILES, { extra: [{ name, content: 'evil\n' }] });
    const before = await snapshot(dir);
    const err = await verifySeries({ kind: 'tarball', tarball }, [patch('0001.patch', makefileChange)], {
      threads: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toMatch(message);
    expect(err).toMatchObject({ file: tarball, hint: expect.stringMatching(/refusing the whole archive/) });
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('damaged tarballs: a SourceError naming the file, nothing written', () => {
  const damage: [string, 'xz' | 'gzip' | 'none', (b: Buffer) => Buffer, RegExp][] = [
    [
      'truncated xz',
      'xz',
      (b) => b.subarray(0, b.length - 100),
      /cannot decompress linux-6.1.tar.xz: .*(unexpected end|truncated)/i,
    ],
    ['corrupt xz', 'xz', (b) => flip(b, Math.floor(b.length / 2)), /cannot decompress linux-6.1.tar.xz/],
    ['not xz at all', 'xz', () => Buffer.from('plain text, not xz'), /cannot decompress linux-6.1.tar.xz: .*format/i],
    [
      'truncated gzip',
      'gzip',
      (b) => b.subarray(0, b.length - 200),
      /cannot read linux-6.1.tar.gz: corrupt or truncated archive/,
    ],
    [
      'corrupt gzip',
      'gzip',
      (b) => flip(b, Math.floor(b.length / 2)),
      /cannot read linux-6.1.tar.gz: corrupt or truncated archive/,
    ],
    [
      'a corrupt tar header',
      'none',
      (b) => flip(b, 512 * 3 + 100),
      /cannot read linux-6.1.tar: corrupt or truncated archive/,
    ],
    [
      'a truncated tar',
      'none',
      (b) => b.subarray(0, 512 * 5 + 17),
      /cannot read linux-6.1.tar: corrupt or truncated archive/,
    ],
  ];
  const flip = (b: Buffer, at: number): Buffer => {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ 0x5a;
    return c;
  };
  it.each(damage)('%s', async (_, how, hurt, message) => {
    const dir = await testdir();
    const tarball = await kernelTarball(dir, FILES, { how });
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(tarball, hurt(await readFile(tarball)));
    const before = await snapshot(dir);
    const scratch = (await readdir(os.tmpdir())).filter((n) => n.startsWith('kopt-verify-')).length;
    const err = await verifySeries({ kind: 'tarball', tarball }, [patch('0001.patch', makefileChange)], {
      threads: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toMatch(message);
    expect((err as SourceError).file).toBe(tarball);
    expect(await snapshot(dir)).toEqual(before);
    expect((await readdir(os.tmpdir())).filter((n) => n.startsWith('kopt-verify-')).length).toBe(scratch);
  });

  it('a tarball with several top-level entries is refused: a SourceError naming it, nothing written', async () => {
    const dir = await testdir();
    const { writeFile } = await import('node:fs/promises');
    const tarball = `${dir}/odd.tar.xz`;
    await writeFile(
      tarball,
      xz(
        await tarOf([
          { name: 'a/Makefile', content: MAKEFILE },
          { name: 'b/Makefile', content: MAKEFILE },
        ]),
      ),
    );
    const before = await snapshot(dir);
    const err = await verifySeries({ kind: 'tarball', tarball }, [patch('0001.patch', makefileChange)], {
      threads: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toMatch(/2 top-level entries \(a, b\)/);
    expect((err as SourceError).file).toBe(tarball);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('an unpacked tree (--source DIR)', () => {
  it('reads the touched files from the tree and never writes to it', async () => {
    const dir = await testdir({ Makefile: MAKEFILE, 'kernel/sched/core.c': CORE, 'link.c': { symlink: 'Makefile' } });
    const before = await snapshot(dir);
    const v = await verifySeries({ kind: 'source', dir }, [
      patch('0001.patch', makefileChange, coreChange),
      patch('0002.patch', diff('link.c', 'line 1\n', 'x\n')),
    ]);
    expect(v.patches.map((p) => p.applied)).toEqual([true, false]);
    expect(v.patches[1]!.files[0]!.problem).toMatch(/'link.c' is a symbolic link/);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('without GNU patch', () => {
  it('nothing is verified, and the message names the package', async () => {
    const dir = await testdir({ Makefile: MAKEFILE });
    const path = process.env.PATH;
    process.env.PATH = await testdir(); // an empty directory: no patch(1) in it
    try {
      const v = await verifySeries({ kind: 'source', dir }, [patch('0001.patch', makefileChange)]);
      expect(v).toMatchObject({ status: 'not-verified', hint: expect.stringMatching(/sys-devel\/patch/) });
      expect(v.reason).toMatch(/GNU patch is not installed/);
    } finally {
      process.env.PATH = path;
    }
  });
});
