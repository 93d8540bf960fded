// The report reads GNU patch's verdict right. Each case (hand-picked: clean, offset, fuzz 1 and 2,
// failing, created, deleted, several hunks where an earlier one shifts the later ones, already
// applied; git headers without hunks; a last hunk cut short) goes through verify against a tree of
// its files, and, independently, through `patch -p1 -f -g0 --no-backup-if-mismatch --verbose` run
// here on a copy of them: the patch's verdict and every hunk's (file, applied, line, fuzz, offset)
// must be what patch(1) printed, and where a case names its outcome, that outcome.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { renderResults } from '../src/verify/report.js';
import type { PatchVerdict } from '../src/verify/verdicts.js';
import { verifySeries } from '../src/verify/verify.js';
import { testdir } from './helpers/tree.js';

interface Case {
  name: string;
  files: Record<string, string>;
  patch: string;
}

type HunkRow = [file: string, hunk: number, applied: boolean, at: number, fuzz: number, offset: number];

/** patch(1) itself on a copy of `dir`: its exit status and its hunk lines, read with regexes of our own. */
function gnuPatch(dir: string, patch: string): { status: number; hunks: HunkRow[] } {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'kopt-oracle-'));
  try {
    cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
    const r = spawnSync('patch', ['-p1', '-f', '-g0', '--no-backup-if-mismatch', '--verbose', '--reject-file=-'], {
      cwd: copy,
      input: Buffer.from(patch, 'latin1'),
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      encoding: 'latin1',
    });
    const hunks: HunkRow[] = [];
    let file = '?';
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('Hmm...')) file = '?';
      file = /^patching file (.*)$/.exec(line)?.[1] ?? file;
      const h = /^Hunk #(\d+) (\w+) at (\d+)( with fuzz (\d+))?( \(offset (-?\d+) lines?\))?/.exec(line);
      if (h) hunks.push([file, Number(h[1]), h[2] === 'succeeded', Number(h[3]), Number(h[5] ?? 0), Number(h[7] ?? 0)]);
    }
    return { status: r.status ?? -1, hunks };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** verify's verdict on one case, checked against patch(1)'s own run. */
async function check(c: Case): Promise<PatchVerdict> {
  const dir = await testdir(c.files);
  const v = await verifySeries({ kind: 'source', dir }, [{ name: c.name, content: Buffer.from(c.patch, 'latin1') }]);
  const verdict = v.patches[0]!;
  const gnu = gnuPatch(dir, c.patch);
  expect(verdict.applied).toBe(gnu.status === 0);
  expect(v.status).toBe(gnu.status === 0 ? 'applies' : 'fails');
  const ours = verdict.files.flatMap((f) =>
    f.hunks.map((h): HunkRow => [f.path, h.hunk, h.applied, h.at, h.fuzz, h.applied ? h.offset : 0]),
  );
  // patch(1) names no file for a section it skipped: any name will do there
  expect(ours).toEqual(gnu.hunks.map(([f, ...rest]) => [f === '?' ? expect.any(String) : f, ...rest]));
  return verdict;
}

const lines = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `line ${i + from}\n`).join('');
const diff = (name: string, a: string, b: string, context = 3): string =>
  createTwoFilesPatch(`a/${name}`, `b/${name}`, a, b, '', '', { context });

describe("hand-picked cases: patch(1)'s verdict, read right", () => {
  const base = lines(40);
  const edited = base.replace('line 10\n', 'ten\n').replace('line 30\n', 'thirty\n');
  const cases: Case[] = [
    { name: 'clean', files: { f: base }, patch: diff('f', base, edited) },
    { name: 'offset', files: { f: lines(5, 100) + base }, patch: diff('f', base, edited) },
    { name: 'offset backwards', files: { f: lines(37, 4) }, patch: diff('f', base, edited) },
    { name: 'fuzz 1', files: { f: base.replace('line 7\n', 'SEVEN\n') }, patch: diff('f', base, edited) },
    {
      name: 'fuzz 2',
      files: { f: base.replace('line 7\n', 'SEVEN\n').replace('line 8\n', 'EIGHT\n') },
      patch: diff('f', base, edited),
    },
    { name: 'fails', files: { f: base.replace('line 9\n', 'NINE\n') }, patch: diff('f', base, edited) },
    { name: 'already applied', files: { f: edited }, patch: diff('f', base, edited) },
    {
      name: 'earlier hunk shifts later',
      files: { f: base },
      patch: diff('f', base, edited.replace('ten\n', 'ten\nten and a half\nten and more\n')),
    },
    { name: 'create', files: {}, patch: diff('new.c', '', 'int x;\n').replace('--- a/new.c', '--- /dev/null') },
    {
      name: 'create over existing',
      files: { 'new.c': 'old\n' },
      patch: diff('new.c', '', 'int x;\n').replace('--- a/new.c', '--- /dev/null'),
    },
    {
      name: 'delete',
      files: { gone: 'a\nb\n' },
      patch: diff('gone', 'a\nb\n', '').replace('+++ b/gone', '+++ /dev/null'),
    },
    {
      name: 'delete with other content',
      files: { gone: 'a\nb\nc\n' },
      patch: diff('gone', 'a\nb\n', '').replace('+++ b/gone', '+++ /dev/null'),
    },
    { name: 'missing file', files: {}, patch: diff('nope', 'a\n', 'b\n') },
    { name: 'no newline at end', files: { f: 'a\nb\nc' }, patch: diff('f', 'a\nb\nc', 'a\nB\nc') },
    { name: 'adds the last newline', files: { f: 'a\nb\nc' }, patch: diff('f', 'a\nb\nc', 'a\nb\nc\n') },
    {
      name: 'context at the start of the file',
      files: { f: lines(2, 50) + base },
      patch: diff('f', base, base.replace('line 1\n', 'one\n')),
    },
    {
      name: 'context at the end of the file',
      files: { f: base + 'extra\n' },
      patch: diff('f', base, base.replace('line 40\n', 'forty\n')),
    },
    {
      name: 'git style, two files',
      files: { 'a.c': base, 'dir/b.c': base },
      patch:
        'From 1 Mon Sep 17 00:00:00 2001\nSubject: two\n\n---\n a.c | 2 +-\n\ndiff --git a/a.c b/a.c\nindex 1..2 100644\n' +
        diff('a.c', base, edited).split('\n').slice(1).join('\n') +
        'diff --git a/dir/b.c b/dir/b.c\nindex 1..2 100644\n' +
        diff('dir/b.c', base, edited).split('\n').slice(1).join('\n'),
    },
  ];
  it.each(cases.map((c) => [c.name, c]))('%s', async (_, c) => {
    await check(c);
  });

  it('reports offset and fuzz as patch(1) prints them', async () => {
    const o = await check({ name: 'o', files: { f: lines(5, 100) + base }, patch: diff('f', base, edited) });
    expect(o.files[0]!.hunks.map((h) => [h.applied, h.at, h.offset, h.fuzz])).toEqual([
      [true, 12, 5, 0],
      [true, 32, 5, 0],
    ]);
    const back = await check({ name: 'b', files: { f: lines(37, 4) }, patch: diff('f', base, edited) });
    expect(back.files[0]!.hunks.map((h) => [h.applied, h.at, h.offset])).toEqual([
      [true, 4, -3],
      [true, 24, -3],
    ]);
    const z = await check({
      name: 'z',
      files: { f: base.replace('line 27\n', 'X\n') },
      patch: diff('f', base, edited),
    });
    expect(z.files[0]!.hunks.map((h) => [h.applied, h.fuzz])).toEqual([
      [true, 0],
      [true, 1],
    ]);
  });

  it('says when a failing hunk is already applied, and where the first line differs', async () => {
    const again = await check({ name: 'again', files: { f: edited }, patch: diff('f', base, edited) });
    expect(again.applied).toBe(false);
    expect(again.files[0]!.hunks.every((h) => h.alreadyApplied)).toBe(true);
    expect(again.files[0]!.hunks[0]!.mismatch).toEqual({ line: 10, expected: 'line 10\n', found: 'ten\n' });
    const fails = await check({
      name: 'f',
      files: { f: base.replace('line 9\n', 'NINE\n') },
      patch: diff('f', base, edited),
    });
    expect(fails.files[0]!.hunks[0]).toMatchObject({ applied: false, line: 4, at: 7 });
    expect(fails.files[0]!.hunks[0]!.alreadyApplied).toBeUndefined();
    expect(fails.files[0]!.hunks[0]!.mismatch).toEqual({ line: 9, expected: 'line 9\n', found: 'NINE\n' });
  });
});

// Sections without hunks, binary sections and a last hunk cut short: patch(1)'s verdict read right,
// and the one named here.
describe("git headers without hunks and truncated hunks: patch(1)'s verdict, read right", () => {
  const f = lines(20);
  const trunc = (counts: string, body: string): string => `--- a/f\n+++ b/f\n@@ ${counts} @@\n${body}`;
  it.each<[string, Record<string, string>, string, boolean]>([
    [
      'mode change of a missing file',
      { f },
      'diff --git a/nope b/nope\nold mode 100644\nnew mode 100755\ndiff --git a/f b/f\n' +
        trunc('-2 +2', '-line 2\n+two\n'),
      false,
    ],
    ['mode change only', { f }, 'diff --git a/f b/f\nold mode 100644\nnew mode 100755\n', true],
    ['index line only', { f }, 'diff --git a/f b/f\nindex 1..2 100644\n', true],
    ['index line only, missing file', { f }, 'diff --git a/nope b/nope\nindex 1..2 100644\n', false],
    [
      'Binary files differ, new file',
      { f },
      'diff --git a/x.bin b/x.bin\nnew file mode 100644\nindex 0000000..1234567\nBinary files /dev/null and b/x.bin differ\n',
      true,
    ],
    [
      'Binary files differ, modified',
      { f },
      'diff --git a/f b/f\nindex 1111111..2222222 100644\nBinary files a/f and b/f differ\n',
      true,
    ],
    [
      'Binary files differ, missing file',
      { f },
      'diff --git a/nope b/nope\nindex 1111111..2222222 100644\nBinary files a/nope and b/nope differ\n',
      false,
    ],
    [
      'Binary files differ, deleted file with content',
      { f },
      'diff --git a/f b/f\ndeleted file mode 100644\nindex 1..0\nBinary files a/f and /dev/null differ\n',
      false,
    ],
    [
      'GIT binary patch',
      { f },
      'diff --git a/f b/f\nindex 111..222 100644\nGIT binary patch\nliteral 1\nIcmZpc000310RR91\n\nliteral 0\nHcmV?d00001\n\n',
      false,
    ],
    [
      'new file mode without hunks over an existing file',
      { f },
      'diff --git a/f b/f\nnew file mode 100644\nindex 0000000..e69de29\n',
      true,
    ],
    [
      'deleted file mode without hunks, missing file',
      { f },
      'diff --git a/nope b/nope\ndeleted file mode 100644\n',
      true,
    ],
    ['1 blank context line cut off the end', { f }, trunc('-1,4 +1,4', ' line 1\n-line 2\n+two\n line 3\n'), true],
    [
      '1 cut off, blank in the file',
      { f: 'line 1\nline 2\nline 3\n\nline 5\n' },
      trunc('-1,4 +1,4', ' line 1\n-line 2\n+two\n line 3\n'),
      true,
    ],
    ['2 cut off', { f }, trunc('-1,5 +1,5', ' line 1\n-line 2\n+two\n line 3\n'), true],
    ['3 cut off (more than fuzz 2 covers)', { f }, trunc('-1,6 +1,6', ' line 1\n-line 2\n+two\n line 3\n'), false],
    ['4 cut off', { f }, trunc('-1,7 +1,7', ' line 1\n-line 2\n+two\n line 3\n'), false],
    ['an added line cut off', { f }, trunc('-1,3 +1,4', ' line 1\n-line 2\n+two\n line 3\n'), false],
    ['a removed line cut off', { f }, trunc('-1,4 +1,3', ' line 1\n-line 2\n+two\n line 3\n'), false],
    [
      'cut off after a context line without newline',
      { f },
      trunc('-1,4 +1,4', ' line 1\n-line 2\n+two\n line 3'),
      true,
    ],
    ['cut off into a hunk of context only', { f }, trunc('-1,4 +1,4', ' line 1\n'), false],
    ['a hunk of context only', { f }, trunc('-1,2 +1,2', ' line 1\n line 2\n'), false],
  ])('%s', async (name, files, patch, applies) => {
    expect((await check({ name, files, patch })).applied).toBe(applies);
  });
});

describe('CR LF patches against LF files', () => {
  it('whole CR LF patch: patch(1) strips the CRs and applies it, and so does verify', async () => {
    const patch = '--- a/k/b.c\r\n+++ b/k/b.c\r\n@@ -1,3 +1,3 @@\r\n x1\r\n-x2\r\n+y2\r\n x3\r\n';
    expect((await check({ name: 'crlf.patch', files: { 'k/b.c': 'x1\nx2\nx3\n' }, patch })).applied).toBe(true);
  });

  it('CR LF hunk lines only: fails as patch(1) says, the report shows the CR it expected, never a raw one', async () => {
    const patch = '--- a/k/b.c\n+++ b/k/b.c\n@@ -1,3 +1,3 @@\n x1\r\n-x2\r\n+y2\r\n x3\r\n';
    const dir = await testdir({ 'k/b.c': 'x1\nx2\nx3\n' });
    expect((await check({ name: 'crlf.patch', files: { 'k/b.c': 'x1\nx2\nx3\n' }, patch })).applied).toBe(false);
    const v = await verifySeries({ kind: 'source', dir }, [{ name: 'crlf.patch', content: Buffer.from(patch) }]);
    const text = renderResults([{ target: 't', verdict: v }]);
    expect(text).toContain("      k/b.c: hunk #1 (patch line 3) FAILED at 1: line 1 should be 'x1\\r', is 'x1'");
    expect(text).not.toContain('\r');
  });
});
