// The in-memory applier against GNU patch itself: hand-picked cases (clean, offset, fuzz 1 and 2,
// failing, created, deleted, several hunks where an earlier one shifts the later ones, already
// applied), then a few hundred generated ones (random files, random edits written as unified diffs,
// random drift in the file the patch is applied to). For each, the verdict of every hunk (applied or
// not, line, fuzz, offset), the exit status and the resulting file must be what `patch -p1 -f -g0
// --no-backup-if-mismatch` says and writes. For a deeper run: KOPT_CASES=3000 KOPT_SEED=5000 npx vitest run
// test/verify-gnu.test.ts -t random (tens of thousands of seeds agreed while this was written).
import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { splitLines } from '../src/verify/apply.js';
import { applyOverrules, confirmWithGnuPatch } from '../src/verify/confirm.js';
import { renderResults } from '../src/verify/report.js';
import { applyPatchFile, type PatchVerdict, type Tree } from '../src/verify/files.js';

interface Case {
  name: string;
  files: Record<string, string>;
  patch: string;
}

const tree = (files: Record<string, string>): Tree =>
  new Map(Object.entries(files).map(([p, t]) => [p, { kind: 'file' as const, lines: splitLines(t) }]));

/** Runs every case in memory and in one scratch tree with GNU patch; returns the disagreements. */
async function compare(cases: Case[]): Promise<{ differences: string[]; verdicts: PatchVerdict[] }> {
  const before: Tree = new Map();
  const after: Tree = new Map();
  const patches: { name: string; content: Buffer }[] = [];
  const verdicts: PatchVerdict[] = [];
  for (const [i, c] of cases.entries()) {
    // Each case lives in its own directory of one shared tree: one scratch tree for all of them.
    const prefixed = Object.fromEntries(Object.entries(c.files).map(([p, t]) => [`c${i}/${p}`, t]));
    const patch = c.patch
      .replace(/^(---|\+\+\+) ([ab])\//gm, `$1 $2/c${i}/`)
      .replace(/^diff --git a\/(\S+) b\/(\S+)/gm, `diff --git a/c${i}/$1 b/c${i}/$2`);
    for (const [p, e] of tree(prefixed)) {
      before.set(p, e);
      after.set(p, e);
    }
    patches.push({ name: c.name, content: Buffer.from(patch, 'latin1') });
    verdicts.push(applyPatchFile(after, c.name, patch));
  }
  const { differences } = await confirmWithGnuPatch(before, patches, verdicts, after);
  return { differences, verdicts };
}

const lines = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `line ${i + from}\n`).join('');
const diff = (name: string, a: string, b: string, context = 3): string =>
  createTwoFilesPatch(`a/${name}`, `b/${name}`, a, b, '', '', { context });

describe('hand-picked cases agree with GNU patch', () => {
  const base = lines(40);
  const edited = base.replace('line 10\n', 'ten\n').replace('line 30\n', 'thirty\n');
  const cases: Case[] = [
    { name: 'clean', files: { f: base }, patch: diff('f', base, edited) },
    { name: 'offset', files: { f: lines(5, 100) + base }, patch: diff('f', base, edited) },
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
    const { differences } = await compare([c]);
    expect(differences).toEqual([]);
  });

  it('reports offset and fuzz as patch(1) prints them', async () => {
    const { verdicts } = await compare([
      { name: 'o', files: { f: lines(5, 100) + base }, patch: diff('f', base, edited) },
      { name: 'z', files: { f: base.replace('line 27\n', 'X\n') }, patch: diff('f', base, edited) },
    ]);
    expect(verdicts[0]!.files[0]!.hunks.map((h) => [h.applied, h.at, h.offset, h.fuzz])).toEqual([
      [true, 12, 5, 0],
      [true, 32, 5, 0],
    ]);
    expect(verdicts[1]!.files[0]!.hunks.map((h) => [h.applied, h.fuzz])).toEqual([
      [true, 0],
      [true, 1],
    ]);
  });

  it('says when a failing hunk is already applied', async () => {
    const { verdicts } = await compare([{ name: 'again', files: { f: edited }, patch: diff('f', base, edited) }]);
    expect(verdicts[0]!.applied).toBe(false);
    expect(verdicts[0]!.files[0]!.hunks.every((h) => h.alreadyApplied)).toBe(true);
  });
});

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCase(seed: number): Case {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  // A small vocabulary makes repeated lines, so hunks can match in several places.
  const word = (): string => (r() < 0.5 ? `l${int(6)}` : `line ${int(400)}`);
  const original = Array.from({ length: 3 + int(50) }, () => `${word()}\n`);
  if (r() < 0.15) original[original.length - 1] = original[original.length - 1]!.slice(0, -1);
  const edit = (src: string[], count: number): string[] => {
    const out = [...src];
    for (let k = 0; k < count; k++) {
      const at = int(out.length + 1);
      const kind = int(3);
      if (kind === 0 && out.length > 1) out.splice(at, 1 + int(2));
      else if (kind === 1) out.splice(at, 0, ...Array.from({ length: 1 + int(3) }, () => `new ${int(100)}\n`));
      else if (at < out.length) out[at] = `changed ${int(100)}\n`;
    }
    // keep the last-line newline state of a file that ends without one, unless an edit changed it
    for (let i = 0; i < out.length - 1; i++) if (!out[i]!.endsWith('\n')) out[i] += '\n';
    return out;
  };
  const modified = edit(original, 1 + int(4));
  let patch = diff('f', original.join(''), modified.join(''), [3, 3, 3, 2, 1, 0][int(6)]);
  // Line numbers from another version of the file (all hunks shifted alike, their order kept).
  const shift = r() < 0.2 ? int(21) - 10 : 0;
  if (shift) patch = patch.replace(/^@@ -(\d+)/gm, (_, n: string) => `@@ -${Math.max(1, Number(n) + shift)}`);
  // The file the patch meets: the original with some drift (lines added or removed or changed
  // elsewhere), or the patched file itself (applied twice).
  const pick = r();
  const target = pick < 0.15 ? original : pick < 0.25 ? modified : edit(original, 1 + int(3));
  return { name: `seed-${seed}`, files: { f: target.join('') }, patch };
}

describe('generated cases agree with GNU patch', () => {
  it('agrees on random files, edits and drifts (400 unless KOPT_CASES says)', async () => {
    const cases = Array.from({ length: Number(process.env.KOPT_CASES ?? 400) }, (_, i) =>
      randomCase(Number(process.env.KOPT_SEED ?? 1000) + i),
    );
    const { differences, verdicts } = await compare(cases);
    expect(differences).toEqual([]);
    // the generator must produce every kind of outcome, or the test proves little
    const hunks = verdicts.flatMap((v) => v.files.flatMap((f) => f.hunks));
    expect(hunks.some((h) => !h.applied)).toBe(true);
    expect(hunks.some((h) => h.applied && h.fuzz === 1)).toBe(true);
    expect(hunks.some((h) => h.applied && h.fuzz === 2)).toBe(true);
    expect(hunks.some((h) => h.applied && h.offset !== 0)).toBe(true);
  });
});

// Sections without hunks, binary sections and a last hunk cut short: each case is applied in memory
// and by GNU patch (compare), and the in-memory verdict must also be the one named here.
describe('git headers without hunks and truncated hunks agree with GNU patch', () => {
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
    const { differences, verdicts } = await compare([{ name, files, patch }]);
    expect(differences).toEqual([]);
    expect(verdicts[0]!.applied).toBe(applies);
  });
});

describe('when GNU patch overrules the in-memory verdict', () => {
  it('shows its verdict per patch, the in-memory one marked as overruled, and CR visibly', async () => {
    const before = tree({ 'k/b.c': 'x1\nx2\nx3\n' });
    const after = tree({ 'k/b.c': 'x1\nx2\nx3\n' });
    const patches = [
      {
        name: 'crlf.patch',
        content: Buffer.from('--- a/k/b.c\r\n+++ b/k/b.c\r\n@@ -1,3 +1,3 @@\r\n x1\r\n-x2\r\n+y2\r\n x3\r\n'),
      },
    ];
    const verdicts = patches.map((p) => applyPatchFile(after, p.name, p.content));
    const c = await confirmWithGnuPatch(before, patches, verdicts, after);
    const inMemory = verdicts[0]!.applied;
    applyOverrules(verdicts, c.runs);
    const gnuApplies = c.runs[0]!.status === 0;
    expect(verdicts[0]!.applied).toBe(gnuApplies);
    // the case is only a test if the two disagree
    expect(inMemory).not.toBe(gnuApplies);
    expect(verdicts[0]!.overruled?.status).toBe(c.runs[0]!.status);
    const text = renderResults([
      {
        target: 't',
        verdict: {
          status: gnuApplies ? 'applies' : 'fails',
          before: [],
          patches: verdicts,
          confirmed: { why: 'uncertain', agrees: c.agrees, differences: c.differences },
          stats: { bytes: 0, members: 0, kept: 1, ms: 0 },
        },
      },
    ]);
    expect(text).toContain(`crlf.patch: ${gnuApplies ? 'applies' : 'FAILS'} (GNU patch exited ${c.runs[0]!.status})`);
    expect(text).toContain('in memory (overruled by GNU patch)');
    expect(text).toContain("'x1\\r'");
    expect(text).not.toContain('\r');
  });
});
