import { describe, expect, it } from 'vitest';
import { closest, editDistance, parseIniLines, readConfigText } from '../src/config/ini-lines.js';
import { ConfigError, FsError } from '../src/errors.js';
import { testdir } from './helpers/tree.js';

const F = '/x/test.conf';
const shape = (text: string) =>
  parseIniLines(text, F).map((s) => [s.name, s.line, s.entries.map((e) => [e.key, e.value, e.line])]);

describe('parseIniLines: accepted', () => {
  it.each<[string, string, unknown]>([
    ['empty', '', [['', 0, []]]],
    ['blank and comments', '\n  # c\n; c\n\t\n', [['', 0, []]]],
    ['global key', 'a = b', [['', 0, [['a', 'b', 1]]]]],
    ['trims around key and value', '  a\t=  b c  ', [['', 0, [['a', 'b c', 1]]]]],
    ['empty value', 'a =', [['', 0, [['a', '', 1]]]]],
    ['= inside value', 'a = b=c', [['', 0, [['a', 'b=c', 1]]]]],
    ['# inside value is kept', 'a = b # c', [['', 0, [['a', 'b # c', 1]]]]],
    ['backslash is literal', 'a = b \\', [['', 0, [['a', 'b \\', 1]]]]],
    [
      'repeated keys in order',
      'f = 1\nf = 2',
      [
        [
          '',
          0,
          [
            ['f', '1', 1],
            ['f', '2', 2],
          ],
        ],
      ],
    ],
    [
      'section',
      'a = 1\n[s/p]\nb = 2',
      [
        ['', 0, [['a', '1', 1]]],
        ['s/p', 2, [['b', '2', 3]]],
      ],
    ],
    [
      'header whitespace trimmed',
      '[  series  x ]',
      [
        ['', 0, []],
        ['series  x', 1, []],
      ],
    ],
    [
      'repeated headers kept apart',
      '[a]\n[a]',
      [
        ['', 0, []],
        ['a', 1, []],
        ['a', 2, []],
      ],
    ],
    [
      'CRLF and BOM',
      '\uFEFFa = 1\r\n[b]\r\n',
      [
        ['', 0, [['a', '1', 1]]],
        ['b', 2, []],
      ],
    ],
  ])('%s', (_, text, expected) => expect(shape(text)).toEqual(expected));
});

describe('parseIniLines: refused with file and line', () => {
  it.each<[string, string, number, RegExp]>([
    ['bare word', 'a = 1\njunk', 2, /expected 'key = value'/],
    ['unclosed header', '\n[sec', 2, /without '\]'/],
    ['text after header', '[sec] # c', 1, /after section header/],
    ['empty header', '[ ]', 1, /empty section/],
    ['empty key', '= v', 1, /^no key before '='$/],
    ['key with space', 'a b = c', 1, /^invalid key before '='$/],
  ])('%s', (_, text, line, message) => {
    const err = (() => {
      try {
        parseIniLines(text, F);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: F, line });
    expect((err as Error).message).toMatch(message);
  });
});

describe('readConfigText', () => {
  it('missing file is undefined, directory and bad UTF-8 are errors naming the file', async () => {
    const dir = await testdir({ 'ok.conf': 'a = 1\n', 'bin.conf': Buffer.from([0x61, 0xff, 0x0a]), 'sub/': '' });
    expect(await readConfigText(`${dir}/ok.conf`, 'x')).toBe('a = 1\n');
    expect(await readConfigText(`${dir}/none.conf`, 'x')).toBeUndefined();
    const failure = (file: string) =>
      readConfigText(file, 'x').then(
        () => undefined,
        (e: unknown) => e,
      );
    const isDir = await failure(`${dir}/sub`);
    expect(isDir).toBeInstanceOf(FsError);
    expect(isDir).toMatchObject({ file: `${dir}/sub`, message: 'is a directory, not a regular file' });
    expect(await failure(`${dir}/ok.conf/deeper`)).toBeInstanceOf(FsError);
    const binary = await failure(`${dir}/bin.conf`);
    expect(binary).toBeInstanceOf(ConfigError);
    expect(binary).toMatchObject({ file: `${dir}/bin.conf` });
  });
});

describe('did-you-mean', () => {
  it.each<[string, string, number]>([
    ['kcflags', 'kcflags', 0],
    ['kcflag', 'kcflags', 1],
    ['kcflgas', 'kcflags', 2],
    ['', 'abc', 3],
  ])('editDistance(%s, %s) = %d', (a, b, d) => expect(editDistance(a, b)).toBe(d));
  it.each<[string, string | undefined]>([
    ['kcflag', 'kcflags'],
    ['KCFLAGS', 'kcflags'],
    ['toolchian', 'toolchain'],
    ['colour', undefined],
  ])('closest(%s)', (word, expected) => expect(closest(word, ['kcflags', 'toolchain', 'lto'])).toBe(expected));
});
