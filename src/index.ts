// The library entry: the Gentoo model and the pure parts of gentoo-kopt, for other tools to build on.
export { KoptError, ConfigError, VersionError, SourceError, FsError, LockedError, UsageError } from './errors.js';
export {
  resolveRoots,
  portageConfigPath,
  koptConfigPath,
  vdbPath,
  type Roots,
  type RootOptions,
} from './portage/roots.js';
export {
  vercmp,
  parseVersion,
  compareVersions,
  isValidVersion,
  type Version,
  type SuffixKind,
} from './portage/version.js';
export { parseAtom, parseCpv, cpvString, atomMatches, type Atom, type AtomOp, type Cpv } from './portage/atom.js';
export { kernelVersion } from './portage/kernel-version.js';
export { eapplyUser, type EapplyUserResult, type UserPatch } from './portage/eapply-user.js';
