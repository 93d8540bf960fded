import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadReposConf } from '../src/portage/repos-conf.js';
import { parseIni, interpolate, emptyIni, type IniData } from '../src/portage/configparser.js';
import { fsError } from '../src/system/fs-errors.js';
import { resolveRoots } from '../src/portage/roots.js';
import { ConfigError, FsError } from '../src/errors.js';
import { testdir } from './helpers/tree.js';

/** Every section's options after interpolation, as configparser's get() returns them. */
function values(text: string): Record<string, Record<string, string>> {
  const data: IniData = emptyIni();
  data.sections.set('DEFAULT', new Map([['eprefix', { value: '/pfx', file: 'builtin', line: 0 }]]));
  parseIni(text, 'f.conf', data);
  const defaults = data.sections.get('DEFAULT') ?? new Map();
  const out: Record<string, Record<string, string>> = {};
  for (const [name, own] of data.sections) {
    if (name === 'DEFAULT') continue;
    const scope = new Map([...defaults, ...own]);
    out[name] = Object.fromEntries([...own].map(([k, opt]) => [k, interpolate(opt, k, scope)]));
  }
  return out;
}

// Expected values are what Python's configparser (as Portage uses it) gives for the same text.
describe('parseIni: configparser semantics', () => {
  it.each<[string, Record<string, Record<string, string>>]>([
    ['[gentoo]\nlocation = /var/db/repos/gentoo\n', { gentoo: { location: '/var/db/repos/gentoo' } }],
    ['[gentoo]\nlocation=/x\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nlocation: /x\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nLocation = /x\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nlocation = /x ; not a comment\n', { gentoo: { location: '/x ; not a comment' } }],
    ['[gentoo]\nlocation = /x # not a comment\n', { gentoo: { location: '/x # not a comment' } }],
    ['[gentoo]\n# c\n; c\n  # indented comment\nlocation = /x\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nsync-uri = a\n  b\n\n  c\nlocation = /x\n', { gentoo: { 'sync-uri': 'a\nb\n\nc', location: '/x' } }],
    ['[gentoo]\nx = 1\n\n   \n  more\n', { gentoo: { x: '1\n\n\nmore' } }],
    ['[gentoo]\nlocation = /x\n  [other]\n', { gentoo: { location: '/x\n[other]' } }],
    ['[gentoo]\nlocation = "/x"\n', { gentoo: { location: '"/x"' } }],
    ['[gentoo]\nauto-sync = true\n', { gentoo: { 'auto-sync': 'true' } }],
    ['[a.b]\nlocation = /x\n', { 'a.b': { location: '/x' } }],
    ['[gentoo] ; c\nlocation = /x\n', { gentoo: { location: '/x' } }],
    ['  [gentoo]\n  location = /x\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nkey = \n', { gentoo: { key: '' } }],
    ['[gentoo]\nkey=a=b\nk2:a=b\n', { gentoo: { key: 'a=b', k2: 'a=b' } }],
    ['[gentoo]\r\nlocation = /x\r\n', { gentoo: { location: '/x' } }],
    ['[gentoo]\nlocation = %(EPREFIX)s/var/db/repos/gentoo\n', { gentoo: { location: '/pfx/var/db/repos/gentoo' } }],
    ['[DEFAULT]\nbase = /srv\n[gentoo]\nlocation = %(base)s/g\n', { gentoo: { location: '/srv/g' } }],
    [
      '[gentoo]\nbase = /srv%(eprefix)s\nlocation = %(BASE)s/g\n',
      { gentoo: { base: '/srv/pfx', location: '/srv/pfx/g' } },
    ],
    ['[gentoo]\nlocation = 100%%\n', { gentoo: { location: '100%' } }],
  ])('%j', (text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  it.each<[string, number, RegExp]>([
    ['location = /x\n', 1, /before any \[section\]/],
    ['\n[]\nkey=1\n', 2, /before any \[section\]/],
    ['[gentoo]\nlocation\n', 2, /^malformed line: no '=' or ':' \(expected 'key = value' or '\[section\]'\)$/],
    ['[gentoo]\n= /x\n', 2, /malformed line/],
    ['[gentoo]\nlocation = /x\nLOCATION = /y\n', 3, /option 'location' appears twice/],
    ['[gentoo]\nlocation = /x\n[gentoo]\n', 3, /section \[gentoo\] appears twice/],
    ['[gentoo]\n\nlocation = 100%\n', 3, /bad interpolation/],
    ['[gentoo]\nlocation = %(nope)s\n', 2, /%\(nope\)s names no option/],
    ['[gentoo]\nlocation = %(x\n', 2, /bad interpolation/],
    ['[gentoo]\na = %(b)s\nb = %(a)s\n', 2, /deeper than 10/],
  ])('%j -> line %i', (text, line, message) => {
    const err = (() => {
      try {
        values(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: 'f.conf', line, message: expect.stringMatching(message) });
  });

  it('a section may appear in two files, and [DEFAULT] twice in one', () => {
    const data = parseIni('[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[gentoo]\nlocation = /x\n', 'one');
    parseIni('[gentoo]\nlocation = /y\n', 'two', data);
    expect(data.sections.get('gentoo')?.get('location')).toEqual({ value: '/y', file: 'two', line: 2 });
    expect([...(data.sections.get('DEFAULT')?.keys() ?? [])]).toEqual(['a', 'b']);
  });
});

describe('loadReposConf', () => {
  const repo = (name: string): Record<string, string> => ({ [`repos/${name}/profiles/repo_name`]: `${name}\n` });

  it('reads the share file, then etc/portage/repos.conf as a sorted recursive directory', async () => {
    const dir = await testdir({
      ...repo('gentoo'),
      ...repo('other'),
      ...repo('local'),
      'usr/share/portage/config/repos.conf':
        '[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = /nonexistent\nsync-type = rsync\n',
      'etc/portage/repos.conf/gentoo.conf': `[gentoo]\nlocation = %(ROOT)srepos/gentoo\n`,
      'etc/portage/repos.conf/z/local.conf': `[local]\nlocation = %(EROOT)srepos/local\npriority = 50\n`,
      'etc/portage/repos.conf/other.conf': `[other]\nlocation = ${'%(PORTAGE_CONFIGROOT)s'}repos/other\npriority = -5\n`,
      'etc/portage/repos.conf/other.conf~': '[other]\nlocation = /backup\n',
      'etc/portage/repos.conf/.hidden.conf': '[other]\nlocation = /hidden\n',
    });
    const conf = await loadReposConf(resolveRoots({ root: dir, env: {} }));
    expect(conf.files.map((f) => path.relative(dir, f))).toEqual([
      'usr/share/portage/config/repos.conf',
      'etc/portage/repos.conf/gentoo.conf',
      'etc/portage/repos.conf/other.conf',
      'etc/portage/repos.conf/z/local.conf',
    ]);
    expect(conf.mainRepo).toBe('gentoo');
    // (priority, name): the main repository defaults to -1000.
    expect(conf.repos).toEqual([
      { name: 'gentoo', location: `${dir}/repos/gentoo`, file: `${dir}/etc/portage/repos.conf/gentoo.conf`, line: 2 },
      {
        name: 'other',
        location: `${dir}/repos/other`,
        priority: -5,
        file: `${dir}/etc/portage/repos.conf/other.conf`,
        line: 2,
      },
      {
        name: 'local',
        location: `${dir}/repos/local`,
        priority: 50,
        file: `${dir}/etc/portage/repos.conf/z/local.conf`,
        line: 2,
      },
    ]);
    expect(conf.ignored).toEqual([]);
  });

  it('a later file overrides an earlier one key by key', async () => {
    const dir = await testdir({
      ...repo('gentoo'),
      'etc/portage/repos.conf/a.conf': '[gentoo]\nlocation = /nonexistent\npriority = 7\n',
      'etc/portage/repos.conf/b.conf': `[gentoo]\nlocation = ${'%(ROOT)s'}repos/gentoo\n`,
    });
    const { repos } = await loadReposConf(resolveRoots({ root: dir, env: {} }));
    expect(repos).toMatchObject([
      { name: 'gentoo', location: `${dir}/repos/gentoo`, priority: 7, file: `${dir}/etc/portage/repos.conf/b.conf` },
    ]);
  });

  it('a single repos.conf file works too', async () => {
    const dir = await testdir({
      ...repo('gentoo'),
      'etc/portage/repos.conf': `[gentoo]\nlocation = ${'%(ROOT)s'}repos/gentoo\n`,
    });
    const conf = await loadReposConf(resolveRoots({ root: dir, env: {} }));
    expect(conf.repos.map((r) => r.name)).toEqual(['gentoo']);
    expect(conf.mainRepo).toBe('gentoo'); // from Portage's built-in defaults (no share file here)
  });

  it("without any repos.conf, gentoo lives at ${EPREFIX}/var/db/repos/gentoo (Portage's shipped default)", async () => {
    const host = await testdir({ 'pfx/var/db/repos/gentoo/profiles/repo_name': 'gentoo\n', 'cfg/': '' });
    const roots = resolveRoots({ env: { EPREFIX: `${host}/pfx`, PORTAGE_CONFIGROOT: `${host}/cfg` } });
    const conf = await loadReposConf(roots);
    expect(conf).toMatchObject({
      mainRepo: 'gentoo',
      files: [],
      repos: [{ name: 'gentoo', location: `${host}/pfx/var/db/repos/gentoo` }],
    });
  });

  it('names a repository after profiles/repo_name, and reports what Portage would drop', async () => {
    const dir = await testdir({
      'repos/x/profiles/repo_name': 'kernel-overlay\n',
      'repos/plain/': '',
      'not-a-dir': 'file\n',
      // A share file without [gentoo], so that the host's /var/db/repos/gentoo plays no part.
      'usr/share/portage/config/repos.conf': '[DEFAULT]\n',
      'etc/portage/repos.conf': [
        '[DEFAULT]',
        'main-repo = missing',
        '',
        '[whatever]',
        `location = ${'%(ROOT)s'}repos/x`,
        '',
        '[plain]',
        `location = ${'%(ROOT)s'}repos/plain`,
        '',
        '[noloc]',
        'sync-type = git',
        '',
        '[gone]',
        'location = /nonexistent/repo',
        '',
        '[file]',
        `location = ${'%(ROOT)s'}not-a-dir`,
        '',
        '[relative]',
        'location = repos/x',
        '',
      ].join('\n'),
    });
    const conf = await loadReposConf(resolveRoots({ root: dir, env: {} }));
    const file = `${dir}/etc/portage/repos.conf`;
    expect(conf.mainRepo).toBeUndefined(); // names no repository that exists
    expect(conf.repos.map((r) => r.name)).toEqual(['kernel-overlay', 'plain']);
    expect(conf.ignored).toEqual([
      { name: 'noloc', file, line: 10, reason: 'no location' },
      { name: 'gone', location: '/nonexistent/repo', file, line: 14, reason: 'location is not a directory' },
      { name: 'file', location: `${dir}/not-a-dir`, file, line: 17, reason: 'location is not a directory' },
      { name: 'relative', location: 'repos/x', file, line: 20, reason: 'location is not an absolute path' },
    ]);
  });

  it('a malformed file is a ConfigError naming file and line', async () => {
    const dir = await testdir({
      'etc/portage/repos.conf/a.conf': '[gentoo]\nlocation = /x\n',
      'etc/portage/repos.conf/b.conf': '[x]\nlocation /y\n',
    });
    await expect(loadReposConf(resolveRoots({ root: dir, env: {} }))).rejects.toMatchObject({
      name: 'ConfigError',
      file: `${dir}/etc/portage/repos.conf/b.conf`,
      line: 2,
    });
  });

  it.each([
    [
      'a dangling symlink',
      { 'etc/portage/repos.conf': { symlink: 'repos.conf.d' } },
      `etc/portage/repos.conf`,
      /symbolic link to nothing/,
    ],
    [
      'a dangling symlink inside the directory',
      { 'etc/portage/repos.conf/x.conf': { symlink: '/nonexistent' } },
      'etc/portage/repos.conf/x.conf',
      /symbolic link to nothing/,
    ],
    [
      'a file where etc/portage should be a directory',
      { 'etc/portage': 'oops\n' },
      'etc/portage/repos.conf',
      /not a directory/,
    ],
  ])('%s is an FsError naming the path', async (_what, tree, rel, message) => {
    const dir = await testdir(tree);
    const err = await loadReposConf(resolveRoots({ root: dir, env: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect(err).toMatchObject({ file: `${dir}/${rel}`, message: expect.stringMatching(message) });
  });

  // Root reads any file whatever its mode, so the real check needs an unprivileged run; the mapping of
  // the errno to a message and hint is checked everywhere.
  it.skipIf(process.getuid?.() === 0)('an unreadable repos.conf is an FsError', async () => {
    const dir = await testdir({ 'etc/portage/repos.conf': { content: '[x]\n', mode: 0o000 } });
    await expect(loadReposConf(resolveRoots({ root: dir, env: {} }))).rejects.toMatchObject({
      name: 'FsError',
      message: 'cannot read: permission denied (EACCES)',
    });
  });

  it('EACCES becomes "permission denied" with a hint', () => {
    const err = fsError(
      Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }),
      '/etc/portage/repos.conf',
      'read',
    );
    expect(err).toMatchObject({
      name: 'FsError',
      file: '/etc/portage/repos.conf',
      message: 'cannot read: permission denied (EACCES)',
      hint: expect.any(String),
    });
  });
});
