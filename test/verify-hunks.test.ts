// The unified-diff reader: headers as GNU patch -p1 reads them, hunk bodies counted exactly, and a
// clear error (patch file and line) for a hunk whose counts do not add up; and the sections it keeps,
// written out again, apply as the original patch does (file contents and exit status).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../src/errors.js';
import { parsePatch, PatchParser, type FilePatch } from '../src/verify/hunks.js';
import { stripName } from '../src/verify/names.js';
import { formatSections } from '../src/verify/prepatches.js';
import { snapshot, testdir } from './helpers/tree.js';

const one = (text: string): FilePatch => {
  const files = parsePatch(text, 'x.patch');
  expect(files).toHaveLength(1);
  return files[0]!;
};

describe('file headers', () => {
  it.each<[string, string, Partial<FilePatch>]>([
    [
      'plain -p1',
      '--- a/dir/f.c\n+++ b/dir/f.c\n@@ -1 +1 @@\n-x\n+y\n',
      { old: 'dir/f.c', new: 'dir/f.c', create: false, delete: false, git: false },
    ],
    [
      'timestamps after a tab',
      '--- a/f\t2024-01-01 10:00:00.000000000 +0100\n+++ b/f\t2024-01-02 10:00:00.000000000 +0100\n@@ -1 +1 @@\n-x\n+y\n',
      { old: 'f', new: 'f' },
    ],
    [
      'diff -urN style names',
      '--- linux-6.1.orig/Makefile\n+++ linux-6.1/Makefile\n@@ -1 +1 @@\n-x\n+y\n',
      { old: 'Makefile', new: 'Makefile' },
    ],
    [
      'created: /dev/null',
      '--- /dev/null\n+++ b/new.c\n@@ -0,0 +1 @@\n+x\n',
      { old: undefined, new: 'new.c', create: true },
    ],
    [
      'deleted: /dev/null',
      '--- a/old.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n',
      { old: 'old.c', new: undefined, delete: true },
    ],
    [
      'created: epoch timestamp (diff -N)',
      '--- a/n\t1970-01-01 00:00:00.000000000 +0000\n+++ b/n\t2024-01-01 00:00:00.000000000 +0000\n@@ -0,0 +1 @@\n+x\n',
      { create: true, new: 'n' },
    ],
    [
      'created: epoch in another zone',
      '--- a/n\t1969-12-31 19:00:00.000000000 -0500\n+++ b/n\t2024-01-01 00:00:00 +0000\n@@ -0,0 +1 @@\n+x\n',
      { create: true },
    ],
    [
      'git, with index and mode lines',
      'diff --git a/k/f.c b/k/f.c\nindex 1234567..89abcde 100644\n--- a/k/f.c\n+++ b/k/f.c\n@@ -1 +1 @@\n-x\n+y\n',
      { old: 'k/f.c', new: 'k/f.c', git: true },
    ],
    [
      'git new file',
      'diff --git a/n.c b/n.c\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+x\n',
      { create: true, old: undefined, new: 'n.c' },
    ],
    [
      'git empty new file (no hunks)',
      'diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n',
      { create: true, new: 'empty', hunks: [] },
    ],
    [
      'git deleted file',
      'diff --git a/o.c b/o.c\ndeleted file mode 100644\nindex 1..0\n--- a/o.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n',
      { delete: true, old: 'o.c', new: undefined },
    ],
    [
      'git rename',
      'diff --git a/old name.c b/new name.c\nsimilarity index 100%\nrename from old name.c\nrename to new name.c\n',
      { rename: true, old: 'old name.c', new: 'new name.c' },
    ],
    [
      'git quoted names',
      'diff --git "a/t\\303\\251st" "b/t\\303\\251st"\n--- "a/t\\303\\251st"\n+++ "b/t\\303\\251st"\n@@ -1 +1 @@\n-x\n+y\n',
      { old: 't\xc3\xa9st' },
    ],
    [
      'GIT binary patch',
      'diff --git a/logo.png b/logo.png\nindex 1..2 100644\nGIT binary patch\nliteral 5\nMcmZ?wbhEWS\n\n',
      { binary: true, old: 'logo.png' },
    ],
    [
      'Binary files differ',
      'diff --git a/b.bin b/b.bin\nindex 1..2 100644\nBinary files a/b.bin and b/b.bin differ\n',
      { binary: false, header: true },
    ],
    [
      'git mode change only',
      'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n',
      { header: true, old: 'run.sh', new: 'run.sh', hunks: [] },
    ],
    [
      'CR LF lines are kept byte for byte',
      '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\r\n+y\r\n',
      { hunks: [expect.objectContaining({ lines: ['x\r\n', 'y\r\n'] })] },
    ],
  ])('%s', (_, text, expected) => {
    expect(one(text)).toMatchObject(expected);
  });

  it('ignores a commit message, a diffstat and a `---` separator before the first file', () => {
    const text =
      'From 123 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n--- this is not a header\n---\n f | 2 +-\n\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n-- \n2.45.0\n';
    expect(one(text)).toMatchObject({ old: 'f', line: 8 });
  });

  it('reads several files and several hunks, and lines that look like headers inside hunks', () => {
    const text =
      '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n--- not a header\n+++ not a header either\n x\n@@ -10 +10 @@\n-a\n+b\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-c\n+d\n';
    const files = parsePatch(text, 'x.patch');
    expect(files.map((f) => [f.old, f.hunks.length])).toEqual([
      ['f', 2],
      ['g', 1],
    ]);
    expect(files[0]!.hunks[0]!.lines).toEqual(['-- not a header\n', '++ not a header either\n', 'x\n']);
    expect(files[0]!.hunks[0]!.ops).toBe('-+ ');
  });

  it('an empty line inside a hunk is an empty context line (as patch(1) takes it)', () => {
    const f = one('--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n');
    expect(f.hunks[0]!.lines).toEqual(['a\n', '\n', 'b\n', 'c\n']);
  });

  it('`\\ No newline at end of file` takes the newline off the line before it, on either side', () => {
    const f = one(
      '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n',
    );
    expect(f.hunks[0]!.lines).toEqual(['a', 'b']);
  });

  it('`keep` decides which sections keep their lines; the others are still checked', () => {
    const text = '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n';
    expect(parsePatch(text, 'x', { keep: (f) => f.old === 'g' }).map((f) => f.old)).toEqual(['g']);
    expect(() => parsePatch(text.replace('-x\n+y\n--- a/g', '-x\n-y\n--- a/g'), 'x', { keep: () => false })).toThrow(
      SourceError,
    );
  });

  it('takes up to 3 lines missing at the end of the input as chopped blank context lines (as patch(1) does)', () => {
    const f = one('--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n-b\n+c\n');
    expect(f.hunks[0]!.lines).toEqual(['a\n', 'b\n', 'c\n', '\n', '\n', '\n']);
    expect(f.hunks[0]!.ops).toBe(' -+   ');
  });

  it('takes input line by line, as the incremental kernel patch is streamed', () => {
    const p = new PatchParser('s.patch');
    for (const l of ['--- a/f\n', '+++ b/f\n', '@@ -1 +1 @@\n', '-x\n', '+y']) p.push(l);
    expect(p.end()[0]!.hunks[0]!.lines).toEqual(['x\n', 'y']);
  });
});

describe('malformed hunks: a SourceError naming the patch file and the line', () => {
  it.each<[string, string, number, RegExp]>([
    [
      'too few lines, then the next file',
      '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+c\ndiff --git a/g b/g\n',
      7,
      /hunk at line 3 .* 'diff --git a\/g b\/g' is not a hunk line; 1 old and 1 new line\(s\) were still expected/,
    ],
    ['one added line too many', '--- a/f\n+++ b/f\n@@ -1 +1 @@\n+b\n+c\n-a\n', 5, /one new line too many/],
    [
      'the patch ends inside a hunk',
      '--- a/f\n+++ b/f\n@@ -1,5 +1,6 @@\n a\n-b\n+c\n',
      3,
      /ends inside the hunk at line 3: 3 old and 4 new line\(s\) missing/,
    ],
    [
      'more than 3 lines cut off the end',
      '--- a/f\n+++ b/f\n@@ -1,6 +1,6 @@\n-b\n+c\n',
      3,
      /ends inside the hunk at line 3: 5 old and 5 new line\(s\) missing/,
    ],
    ['a hunk of context only', '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n b\n', 5, /only context lines/],
    ['a garbled hunk header', '--- a/f\n+++ b/f\n@@ -1,x +1 @@\n-a\n+b\n', 3, /bad hunk header '@@ -1,x \+1 @@'/],
    ['a garbled second hunk header', '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n@@ -7 +7 @\n', 6, /bad hunk header/],
  ])('%s', (_, text, line, message) => {
    let err: unknown;
    try {
      parsePatch(text, '/etc/portage/patches/sys-kernel/gentoo-kernel-6.1.50/0001-x.patch');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ file: '/etc/portage/patches/sys-kernel/gentoo-kernel-6.1.50/0001-x.patch', line });
    expect((err as Error).message).toMatch(message);
  });
});

describe('-p1 names', () => {
  it.each<[string, { path?: string; unsafe?: RegExp }]>([
    ['a/b/c.c', { path: 'b/c.c' }],
    ['a//b//c.c', { path: 'b/c.c' }],
    ['/usr/src/linux/Makefile', { path: 'usr/src/linux/Makefile' }],
    ['./a/b', { path: 'a/b' }],
    ['Makefile', { unsafe: /fewer than 2 path components/ }],
    ['a/../../etc/passwd', { unsafe: /dangerous/ }],
    ['a/b/../../c', { unsafe: /dangerous/ }],
  ])('%s', (name, expected) => {
    const got = stripName(name, 1);
    if (expected.path !== undefined) expect(got).toEqual({ path: expected.path });
    else expect(got.unsafe).toMatch(expected.unsafe!);
  });
});

// The prepatches' kept sections are written out again for GNU patch (formatSections): applied to the
// same files, the written-out sections must leave the contents the original patch leaves, with the
// same exit status.
describe('kept sections written out again apply as the original does', () => {
  const base = Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join('');
  const files = { f: base, 'd/g.c': base, gone: 'a\nb\n', 'sp ace': base, nonl: 'a\nb' };
  const patchIn = (dir: string, text: string | Buffer) =>
    spawnSync('patch', ['-p1', '-f', '-g0', '--no-backup-if-mismatch', '--reject-file=-'], {
      cwd: dir,
      input: text,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
    }).status;
  it.each<[string, string]>([
    ['a hunk with an offset', '--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n line 5\n-line 6\n+six\n line 7\n'],
    ['created (/dev/null)', '--- /dev/null\n+++ b/new/n.c\n@@ -0,0 +1,2 @@\n+int n;\n+int m;\n'],
    [
      'created (epoch timestamp)',
      '--- a/e.c\t1970-01-01 00:00:00.000000000 +0000\n+++ b/e.c\t2024-01-01 00:00:00.000000000 +0000\n@@ -0,0 +1 @@\n+e\n',
    ],
    ['deleted', '--- a/gone\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n'],
    [
      'git rename with a hunk',
      'diff --git a/d/g.c b/d/h.c\nsimilarity index 90%\nrename from d/g.c\nrename to d/h.c\n--- a/d/g.c\n+++ b/d/h.c\n@@ -1,2 +1,2 @@\n-line 1\n+one\n line 2\n',
    ],
    ['git rename without hunks', 'diff --git a/f b/f2\nsimilarity index 100%\nrename from f\nrename to f2\n'],
    ['git mode change only', 'diff --git a/f b/f\nold mode 100644\nnew mode 100755\n'],
    ['git mode change of a missing file', 'diff --git a/nope b/nope\nold mode 100644\nnew mode 100755\n'],
    ['no newline at the end', '--- a/nonl\n+++ b/nonl\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+B\n'],
    ['blank context lines cut off the end', '--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n line 1\n-line 2\n+two\n line 3\n'],
    ['CR LF hunk lines', '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n line 1\r\n-line 2\r\n+two\r\n'],
    ['a quoted name', 'diff --git "a/sp ace" "b/sp ace"\n--- "a/sp ace"\n+++ "b/sp ace"\n@@ -1 +1 @@\n-line 1\n+one\n'],
    [
      'two sections, one failing',
      '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-line 1\n+one\n--- a/d/g.c\n+++ b/d/g.c\n@@ -1 +1 @@\n-nope\n+one\n',
    ],
    ['GIT binary patch', 'diff --git a/f b/f\nindex 1..2 100644\nGIT binary patch\nliteral 1\nIcmZpc000310RR91\n\n'],
  ])('%s', async (_, text) => {
    const [original, rewritten] = [await testdir(files), await testdir(files)];
    const sections = parsePatch(text, 'x.patch');
    expect(sections.length).toBeGreaterThan(0);
    const status = patchIn(original, text);
    expect(patchIn(rewritten, formatSections(sections))).toBe(status);
    // modes are not written out: verify looks at contents only
    const contents = async (dir: string) =>
      Object.fromEntries(Object.entries(await snapshot(dir)).map(([k, v]) => [k, v.replace(/^(\w+) \d+/, '$1')]));
    expect(await contents(rewritten)).toEqual(await contents(original));
  });
});
