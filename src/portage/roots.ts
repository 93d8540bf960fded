// The three roots every path hangs off, resolved once and passed down (as portage-utils does).
// Portage (lib/portage/package/ebuild/_config/LocationsManager.py): ROOT defaults to "/" (an empty
// ROOT too), EROOT is ROOT + EPREFIX, and PORTAGE_CONFIGROOT defaults to EPREFIX + "/" (an explicit
// PORTAGE_CONFIGROOT is used as given: EPREFIX is not appended to it; an empty one means "/"). A relative
// ROOT or PORTAGE_CONFIGROOT is made absolute against the working directory (os.path.abspath), as is
// --root. User config lives in ${PORTAGE_CONFIGROOT}/etc/portage.
// Portage's own EPREFIX is fixed when it is installed (portage.const.EPREFIX); we take the EPREFIX
// variable for it, which is what a prefix user's environment holds.
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface Roots {
  /** ROOT: where packages are merged ("/" on a live system). Absolute, no trailing slash except "/". */
  root: string;
  /** EPREFIX: "" or an absolute prefix such as "/home/u/gentoo". */
  eprefix: string;
  /** ROOT + EPREFIX: where the VDB (var/db/pkg) lives. */
  eroot: string;
  /** PORTAGE_CONFIGROOT: the directory holding etc/portage. */
  configRoot: string;
}

export interface RootOptions {
  /** --root DIR: sets both ROOT and PORTAGE_CONFIGROOT (EPREFIX still applies below them). */
  root?: string;
  env?: NodeJS.ProcessEnv;
  /** What a relative ROOT, PORTAGE_CONFIGROOT or --root is relative to (default: process.cwd()). */
  cwd?: string;
}

const trimSlash = (p: string): string => p.replace(/(.)\/+$/, '$1');

function absolute(value: string, name: string): string {
  if (!path.isAbsolute(value)) throw new UsageError(`${name} must be an absolute path, got '${value}'`);
  return trimSlash(path.normalize(value));
}

export function resolveRoots(opts: RootOptions = {}): Roots {
  const env = opts.env ?? process.env;
  const eprefixRaw = env.EPREFIX ?? '';
  const eprefix = eprefixRaw === '' || eprefixRaw === '/' ? '' : absolute(eprefixRaw, 'EPREFIX');
  const fromCwd = (p: string): string => trimSlash(path.resolve(opts.cwd ?? process.cwd(), p));
  if (opts.root === '') throw new UsageError('--root needs a directory');
  // Portage: a ROOT of only whitespace counts as unset; any other value is used as written.
  const root = fromCwd(opts.root ?? (env.ROOT?.trim() ? env.ROOT : '/'));
  const eroot = trimSlash(path.join(root, eprefix || '.'));
  let configRoot: string;
  if (opts.root !== undefined) configRoot = eroot;
  else if (env.PORTAGE_CONFIGROOT !== undefined) configRoot = fromCwd(env.PORTAGE_CONFIGROOT || '/');
  else configRoot = eprefix || '/';
  return { root, eprefix, eroot, configRoot };
}

/** ${PORTAGE_CONFIGROOT}/etc/portage/... */
export function portageConfigPath(roots: Roots, ...parts: string[]): string {
  return path.join(roots.configRoot, 'etc/portage', ...parts);
}

/** ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/... : kopt.conf, catalog.d/, the compiled hook settings. */
export function koptConfigPath(roots: Roots, ...parts: string[]): string {
  return path.join(roots.configRoot, 'etc/gentoo-kopt', ...parts);
}

/** ${EROOT}/var/db/pkg/... : the VDB. */
export function vdbPath(roots: Roots, ...parts: string[]): string {
  return path.join(roots.eroot, 'var/db/pkg', ...parts);
}

/**
 * ${EPREFIX}/usr/share/portage/config/... : Portage's global config (GLOBAL_CONFIG_PATH: repos.conf,
 * make.globals). Portage reads it from its own installation, whatever ROOT is, so it hangs off the
 * config root, not EROOT: with the default PORTAGE_CONFIGROOT (EPREFIX) that is exactly Portage's path
 * (also when ROOT=/mnt/target), and --root DIR finds the sandbox's copy. Only an explicit
 * PORTAGE_CONFIGROOT differs: Portage would still read the running installation's file.
 */
export function portageSharePath(roots: Roots, ...parts: string[]): string {
  return path.join(roots.configRoot, 'usr/share/portage/config', ...parts);
}
