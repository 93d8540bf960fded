// The few error classes of gentoo-kopt. Every error a user can cause names where it happened
// (file and line when there is one) and, where we know it, what to do next. Only src/cli.ts turns
// them into text and an exit status.

export interface Where {
  file?: string;
  line?: number;
}

export function formatWhere(where: Where): string {
  if (!where.file) return '';
  return where.line ? `${where.file}:${where.line}` : where.file;
}

/** Base class: a problem the user can fix. `hint` says how. */
export class KoptError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly hint?: string;

  constructor(message: string, opts: Where & { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.file = opts.file;
    this.line = opts.line;
    this.hint = opts.hint;
  }

  /** "file:line: message" (or just the message), the form every CLI error is printed in. */
  describe(): string {
    const where = formatWhere(this);
    return where ? `${where}: ${this.message}` : this.message;
  }
}

/** A malformed or invalid input file: kopt.conf, a catalog, repos.conf, make.conf, a VDB entry. */
export class ConfigError extends KoptError {}

/** A malformed PMS version, atom or CPV, or an invalid kernel version range. */
export class VersionError extends KoptError {}

/** A patch source (directory or tarball) that is missing, unreadable, unsafe or fails verification. */
export class SourceError extends KoptError {}

/** The filesystem said no: permission, a non-directory where a directory is expected, a held lock. */
export class FsError extends KoptError {}

/** Another gentoo-kopt run holds the lock. */
export class LockedError extends KoptError {}

/** Bad command-line usage. */
export class UsageError extends KoptError {}
