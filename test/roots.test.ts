import { describe, it, expect } from 'vitest';
import {
  resolveRoots,
  portageConfigPath,
  koptConfigPath,
  vdbPath,
  portageSharePath,
  type Roots,
  type RootOptions,
} from '../src/portage/roots.js';
import { UsageError } from '../src/errors.js';
import { statePath } from '../src/system/paths.js';

const roots = (root: string, eprefix: string, eroot: string, configRoot: string): Roots => ({
  root,
  eprefix,
  eroot,
  configRoot,
});

// As Portage's LocationsManager (and emerge's load_emerge_config) derives them from the environment.
describe('resolveRoots', () => {
  it.each<[string, RootOptions, Roots]>([
    ['defaults', { env: {} }, roots('/', '', '/', '/')],
    ['ROOT', { env: { ROOT: '/mnt/gentoo' } }, roots('/mnt/gentoo', '', '/mnt/gentoo', '/')],
    [
      'ROOT with a trailing slash and dots',
      { env: { ROOT: '/mnt/x/../gentoo/' } },
      roots('/mnt/gentoo', '', '/mnt/gentoo', '/'),
    ],
    ['an empty or blank ROOT is /', { env: { ROOT: ' ' } }, roots('/', '', '/', '/')],
    [
      'EPREFIX',
      { env: { EPREFIX: '/home/u/gentoo' } },
      roots('/', '/home/u/gentoo', '/home/u/gentoo', '/home/u/gentoo'),
    ],
    ['EPREFIX=/ is no prefix', { env: { EPREFIX: '/' } }, roots('/', '', '/', '/')],
    [
      'ROOT and EPREFIX: the config root stays with the prefix',
      { env: { ROOT: '/mnt', EPREFIX: '/p' } },
      roots('/mnt', '/p', '/mnt/p', '/p'),
    ],
    [
      'PORTAGE_CONFIGROOT is used as given',
      { env: { PORTAGE_CONFIGROOT: '/cfg/', EPREFIX: '/p' } },
      roots('/', '/p', '/p', '/cfg'),
    ],
    [
      'an empty PORTAGE_CONFIGROOT is /',
      { env: { PORTAGE_CONFIGROOT: '', EPREFIX: '/p' } },
      roots('/', '/p', '/p', '/'),
    ],
    [
      '--root sets ROOT and the config root',
      { root: '/sb', env: { ROOT: '/x', PORTAGE_CONFIGROOT: '/y' } },
      roots('/sb', '', '/sb', '/sb'),
    ],
    ['--root with EPREFIX', { root: '/sb/', env: { EPREFIX: '/p' } }, roots('/sb', '/p', '/sb/p', '/sb/p')],
    [
      'a relative ROOT is relative to the working directory',
      { env: { ROOT: 'target' }, cwd: '/cwd' },
      roots('/cwd/target', '', '/cwd/target', '/'),
    ],
    [
      'a relative PORTAGE_CONFIGROOT too',
      { env: { PORTAGE_CONFIGROOT: '../cfg' }, cwd: '/cwd/x' },
      roots('/', '', '/', '/cwd/cfg'),
    ],
    [
      'and a relative --root',
      { root: 'sandbox', cwd: '/cwd', env: {} },
      roots('/cwd/sandbox', '', '/cwd/sandbox', '/cwd/sandbox'),
    ],
  ])('%s', (_what, opts, expected) => {
    expect(resolveRoots(opts)).toEqual(expected);
  });

  it.each<[string, RootOptions, RegExp]>([
    ['a relative EPREFIX', { env: { EPREFIX: 'gentoo' } }, /EPREFIX must be an absolute path/],
    ['an empty --root', { root: '', env: {} }, /--root needs a directory/],
  ])('%s is a UsageError', (_what, opts, message) => {
    expect(() => resolveRoots(opts)).toThrow(UsageError);
    expect(() => resolveRoots(opts)).toThrow(message);
  });

  it('reads process.env by default', () => {
    expect(resolveRoots({ root: '/sb' }).root).toBe('/sb');
  });
});

describe('paths', () => {
  const live = resolveRoots({ env: {} });
  const prefixed = resolveRoots({ env: { ROOT: '/mnt', EPREFIX: '/p' } });
  const sandbox = resolveRoots({ root: '/sb', env: {} });

  it.each<[string, string, string]>([
    ['portageConfigPath', portageConfigPath(live, 'patches', 'sys-kernel'), '/etc/portage/patches/sys-kernel'],
    ['portageConfigPath (prefix)', portageConfigPath(prefixed, 'make.conf'), '/p/etc/portage/make.conf'],
    ['koptConfigPath', koptConfigPath(sandbox, 'kopt.conf'), '/sb/etc/gentoo-kopt/kopt.conf'],
    ['vdbPath', vdbPath(live, 'sys-kernel', 'gentoo-kernel-6.12.58'), '/var/db/pkg/sys-kernel/gentoo-kernel-6.12.58'],
    ['vdbPath (ROOT + EPREFIX)', vdbPath(prefixed), '/mnt/p/var/db/pkg'],
    ['statePath', statePath(sandbox, 'manifest.json'), '/sb/var/lib/gentoo-kopt/manifest.json'],
    ['portageSharePath', portageSharePath(live, 'repos.conf'), '/usr/share/portage/config/repos.conf'],
    // Portage reads its global config from its own installation, not from ROOT.
    [
      'portageSharePath (ROOT elsewhere)',
      portageSharePath(prefixed, 'repos.conf'),
      '/p/usr/share/portage/config/repos.conf',
    ],
    [
      'portageSharePath (--root)',
      portageSharePath(sandbox, 'make.globals'),
      '/sb/usr/share/portage/config/make.globals',
    ],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toBe(expected);
  });
});
