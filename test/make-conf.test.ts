import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadMakeConf, parseMakeConf, makeConfSeed } from '../src/portage/make-conf.js';
import { resolveRoots } from '../src/portage/roots.js';
import { ConfigError, FsError } from '../src/errors.js';
import { testdir } from './helpers/tree.js';

const F = '/etc/portage/make.conf';
const parse = (text: string, seed: Record<string, string> = { B0: 'b0' }): Record<string, string> =>
  Object.fromEntries([...parseMakeConf(text, F, new Map(Object.entries(seed)))].map(([k, a]) => [k, a.value]));

// Expected values are what Portage's getconfig() returns for the same text (checked against
// lib/portage/util/__init__.py with Python), quirks included.
describe('parseMakeConf: values as Portage reads them', () => {
  it.each<[string, Record<string, string>]>([
    ['A=1\n', { A: '1' }],
    ['A=1', { A: '1' }],
    ['A="a b"\n', { A: 'a b' }],
    ['A = 1\n', { A: '1' }],
    ['export A=1\n', { A: '1' }],
    ['A=""\n', { A: '' }],
    ["A=''\n", { A: '' }],
    ['A="x"y\'z\'\n', { A: 'xyz' }],
    ['A=1 B=2\n', { A: '1', B: '2' }],
    ['A="a" B="b"\n', { A: 'a', B: 'b' }],
    ['B=x\nA="a ${B}c"\n', { B: 'x', A: 'a xc' }],
    ['B=x\nA=$B$B\n', { B: 'x', A: 'xx' }],
    ['CFLAGS="-O2 -pipe"\nCXXFLAGS="${CFLAGS}"\n', { CFLAGS: '-O2 -pipe', CXXFLAGS: '-O2 -pipe' }],
    ['A=x\nA="$A y"\n', { A: 'x y' }],
    ['A=x\nexport B=$A\n', { A: 'x', B: 'x' }],
    ['A="${B0}_x"\n', { A: 'b0_x' }],
    ['A="$B0_x"\n', { A: '' }],
    ['C=${UNSET}\n', { C: '' }],
    ["A='a $B'\nB=x\n", { A: 'a ', B: 'x' }],
    ["B=x\nA='a $B'\n", { B: 'x', A: 'a x' }], // single quotes do not stop expansion in Portage
    ['B=x\nA=\\$B\n', { B: 'x', A: 'x' }], // neither does an unquoted backslash
    ['B=x\nA="\\$B"\n', { B: 'x', A: '$B' }],
    ['A="it\'s $B0"\n', { A: "it's $B0" }], // a quote character inside the word toggles quoting
    ['A="$"\n', { A: '$' }],
    ['A=bar#baz\n', { A: 'bar' }],
    ['A=bar #baz\n', { A: 'bar' }],
    ['# comment `date` $(x)\nA=1 # c\n', { A: '1' }],
    ['A="a"  # trailing\nB=2\n', { A: 'a', B: '2' }],
    ['A="a\\\nb"\n', { A: 'ab' }],
    ['A=a\\\nb\n', { A: 'a b' }],
    ['A="line1\nline2"\n', { A: 'line1 line2' }],
    ["A='multi\nline'\n", { A: 'multi line' }],
    ['A="tab\there"\n', { A: 'tab\there' }],
    ['A="\\"q\\""\n', { A: '"q"' }],
    ['A="a\\b"\n', { A: 'a\\b' }],
    ['A=a\\b\n', { A: 'ab' }],
    ['A=a;b\n', { A: 'a;b' }],
    ['A=~/x!@%*?,.+{}\n', { A: '~/x!@%*?,.+{}' }],
    ['A=x\r\n', { A: 'x' }],
    ['__X=1\nA=$__X\n', { __X: '1', A: '1' }],
    ['export\n', {}],
    ['', {}],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });
});

describe('parseMakeConf: refused, with file:line', () => {
  it.each<[string, number, RegExp]>([
    ['A="$(date)"\n', 1, /command substitution/],
    ['\nA=$(date)\n', 2, /command substitution/],
    ["A='$(date)'\n", 1, /command substitution/],
    ['A="`date`"\n', 1, /backquotes/],
    ['\n\nA=`date`\n', 3, /backquotes/],
    ['A=${B:-x}\n', 1, /unsupported or unterminated \$\{\.\.\.\} expansion of 'B'/],
    ['A="${B"\n', 1, /unterminated/],
    ['A="${}"\n', 1, /bad substitution/],
    ['A="$ x"\n', 1, /bad substitution/],
    ['A=\n', 1, /'A=' has no value/],
    ['A=\nB=2\n', 1, /'A=' has no value/],
    ['X=1\nA\n', 2, /^'A' at the end of the file, expected A=value$/],
    ['A=1 2\n', 1, /^a word at the end of the file, expected NAME=value$/],
    ['1A=2\n', 1, /^invalid variable name before '='$/],
    ['A-B=2\n', 1, /^invalid variable name before '='$/],
    ['X=1\nA="unterminated\n\n', 2, /no closing double quote/],
    ["A='x\n", 1, /no closing single quote/],
    ['A=a=b\n', 1, /^expected NAME=value$/],
    ['A=(x)\n', 1, /^expected '=' after 'x'$/],
    ['A=1;B=2\n', 1, /^expected NAME=value$/],
    ['source\n', 1, /'source' without a file name/],
  ])('%j -> line %i', (text, line, message) => {
    let err: unknown;
    try {
      parse(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(F);
    expect((err as ConfigError).line).toBe(line);
    expect((err as ConfigError).message).toMatch(message);
  });

  it('never runs anything', async () => {
    const dir = await testdir();
    const marker = path.join(dir, 'ran');
    for (const text of [`A="$(touch ${marker})"\n`, `A="\`touch ${marker}\`"\n`, `A=$(touch ${marker})\n`]) {
      expect(() => parse(text)).toThrow(ConfigError);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('says a value with spaces must be quoted', () => {
    expect(() => parse('A=1 2\n')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/quoted/) }));
  });
});

describe('parseMakeConf: where each variable was assigned', () => {
  const where = (text: string): Record<string, number> =>
    Object.fromEntries([...parseMakeConf(text, F)].map(([k, a]) => [k, a.line]));

  it.each<[string, string, Record<string, number>]>([
    [
      'two assignments on one line',
      'A=1\nCOMMON_FLAGS="-O2" KCFLAGS="-O3 -pipe"\n',
      { A: 1, COMMON_FLAGS: 2, KCFLAGS: 2 },
    ],
    ['export, several on a line', 'export A=1 B=2\n\n  C=3\n', { A: 1, B: 1, C: 3 }],
    ['a value over several lines: the line of its name', 'A="x\ny"\nB=1\n', { A: 1, B: 3 }],
    ['the last assignment wins', 'A=1\nB=2\nA=3 # again\n', { A: 3, B: 2 }],
    ['after a comment and a continued value', '# A=0\nA="a \\\nb" B=1\n', { A: 2, B: 3 }],
  ])('%s', (_what, text, lines) => {
    expect(where(text)).toEqual(lines);
  });

  it('a variable set in a sourced file: that file and its line', async () => {
    const dir = await testdir({
      'etc/portage/make.conf': 'CFLAGS="-O2"\nsource kernel.conf\nLDFLAGS=x\n',
      'etc/portage/kernel.conf': '# kernel flags\nCOMMON_FLAGS="-O2"  KCFLAGS="-O3 -pipe"\n',
    });
    const { assignments } = await loadMakeConf(resolveRoots({ root: dir, env: {} }));
    expect(Object.fromEntries(assignments)).toEqual({
      CFLAGS: { value: '-O2', file: `${dir}/etc/portage/make.conf`, line: 1 },
      COMMON_FLAGS: { value: '-O2', file: `${dir}/etc/portage/kernel.conf`, line: 2 },
      KCFLAGS: { value: '-O3 -pipe', file: `${dir}/etc/portage/kernel.conf`, line: 2 },
      LDFLAGS: { value: 'x', file: `${dir}/etc/portage/make.conf`, line: 3 },
    });
  });
});

describe('source', () => {
  it('reads a file relative to the sourcing file, with variables expanded, in place', async () => {
    const dir = await testdir({
      'etc/portage/make.conf': 'A=1\nsource conf.d/flags.conf\nC="$B+"\nsource "${D}/abs.conf"\n',
      'etc/portage/conf.d/flags.conf': 'B="$A-b"\nsource ../more.conf\n',
      'etc/portage/more.conf': 'D=' + '${PORTAGE_CONFIGROOT}etc\n',
      'etc/abs.conf': 'E=abs\n',
    });
    const roots = resolveRoots({ root: dir, env: {} });
    const { vars, files } = await loadMakeConf(roots);
    expect(Object.fromEntries(vars)).toEqual({ A: '1', B: '1-b', C: '1-b+', D: `${dir}/etc`, E: 'abs' });
    expect(files).toEqual([
      `${dir}/etc/portage/make.conf`,
      `${dir}/etc/portage/conf.d/flags.conf`,
      `${dir}/etc/portage/more.conf`,
      `${dir}/etc/abs.conf`,
    ]);
  });

  it('names the sourcing file and line when the sourced file is missing', async () => {
    const dir = await testdir({ 'etc/portage/make.conf': 'A=1\n\nsource missing.conf\n' });
    await expect(loadMakeConf(resolveRoots({ root: dir, env: {} }))).rejects.toMatchObject({
      name: 'ConfigError',
      file: `${dir}/etc/portage/make.conf`,
      line: 3,
      message: expect.stringMatching(/missing\.conf: no such file/),
    });
  });

  it('names the sourced file and its line for an error inside it', async () => {
    const dir = await testdir({
      'etc/portage/make.conf': 'source bad.conf\n',
      'etc/portage/bad.conf': 'OK=1\nBAD="$(x)"\n',
    });
    await expect(loadMakeConf(resolveRoots({ root: dir, env: {} }))).rejects.toMatchObject({
      file: `${dir}/etc/portage/bad.conf`,
      line: 2,
    });
  });

  it('stops a source loop', async () => {
    const dir = await testdir({ 'etc/portage/make.conf': 'source make.conf\n' });
    await expect(loadMakeConf(resolveRoots({ root: dir, env: {} }))).rejects.toThrow(/nested too deeply/);
  });

  it('a directory is not a file to source', async () => {
    const dir = await testdir({ 'etc/portage/make.conf': 'source conf.d\n', 'etc/portage/conf.d/': '' });
    await expect(loadMakeConf(resolveRoots({ root: dir, env: {} }))).rejects.toThrow(/is a directory/);
  });
});

describe('loadMakeConf', () => {
  it('reads a directory recursively in sorted order, skipping dotfiles and backups', async () => {
    const dir = await testdir({
      'etc/portage/make.conf/10-base': 'CFLAGS="-O2"\nORDER=base\n',
      'etc/portage/make.conf/20-kernel/a.conf': 'KCFLAGS="${CFLAGS} -march=native"\nORDER="$ORDER a"\n',
      'etc/portage/make.conf/30-late': 'ORDER="$ORDER late"\n',
      'etc/portage/make.conf/.hidden': 'ORDER=hidden\n',
      'etc/portage/make.conf/30-late~': 'ORDER=backup\n',
    });
    const { vars, files } = await loadMakeConf(resolveRoots({ root: dir, env: {} }));
    expect(Object.fromEntries(vars)).toEqual({ CFLAGS: '-O2', KCFLAGS: '-O2 -march=native', ORDER: 'base a late' });
    expect(files.map((f) => path.relative(dir, f))).toEqual([
      'etc/portage/make.conf/10-base',
      'etc/portage/make.conf/20-kernel/a.conf',
      'etc/portage/make.conf/30-late',
    ]);
  });

  it('reads the legacy /etc/make.conf first, once when it is the same file', async () => {
    const both = await testdir({ 'etc/make.conf': 'A=old\nB=old\n', 'etc/portage/make.conf': 'A="new $B"\n' });
    expect(Object.fromEntries((await loadMakeConf(resolveRoots({ root: both, env: {} }))).vars)).toEqual({
      A: 'new old',
      B: 'old',
    });
    const linked = await testdir({
      'etc/make.conf': { symlink: 'portage/make.conf' },
      'etc/portage/make.conf': 'A=1\n',
    });
    expect((await loadMakeConf(resolveRoots({ root: linked, env: {} }))).files).toEqual([
      `${linked}/etc/portage/make.conf`,
    ]);
  });

  it('expands the root variables and leaves out __ variables', async () => {
    const dir = await testdir({
      'pfx/etc/portage/make.conf': '__P="${EPREFIX}"\nDISTDIR="${EROOT}var/cache/distfiles"\nP=$__P\nR=$ROOT\n',
    });
    const roots = resolveRoots({ root: dir, env: { EPREFIX: '/pfx' } });
    const { vars } = await loadMakeConf(roots);
    expect(Object.fromEntries(vars)).toEqual({ DISTDIR: `${dir}/pfx/var/cache/distfiles`, P: '/pfx', R: `${dir}/` });
    expect(makeConfSeed(roots).get('PORTAGE_CONFIGROOT')).toBe(`${dir}/pfx/`);
  });

  it('no make.conf is an empty one', async () => {
    const dir = await testdir();
    expect(await loadMakeConf(resolveRoots({ root: dir, env: {} }))).toEqual({
      vars: new Map(),
      assignments: new Map(),
      files: [],
    });
  });

  it.each([
    ['a dangling symlink', { 'etc/portage/make.conf': { symlink: 'nowhere' } }, /symbolic link to nothing/],
    ['a file where etc/portage should be a directory', { 'etc/portage': 'oops\n' }, /not a directory/],
  ])('%s is an FsError naming the path', async (_what, tree, message) => {
    const dir = await testdir(tree);
    const err = await loadMakeConf(resolveRoots({ root: dir, env: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).message).toMatch(message);
    expect((err as FsError).file).toMatch(new RegExp(`^${dir}/etc/portage`));
  });

  // Root reads any file whatever its mode, so this needs an unprivileged run.
  it.skipIf(process.getuid?.() === 0)('an unreadable make.conf is an FsError', async () => {
    const dir = await testdir({ 'etc/portage/make.conf': { content: 'A=1\n', mode: 0o000 } });
    await expect(loadMakeConf(resolveRoots({ root: dir, env: {} }))).rejects.toMatchObject({
      name: 'FsError',
      file: `${dir}/etc/portage/make.conf`,
      message: 'permission denied',
    });
  });
});
