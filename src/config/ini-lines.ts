// A strict, line-aware INI reader for gentoo-kopt's own files (kopt.conf, patch catalogs).
//
// We do not use the `ini` package here: it drops line numbers and accepts almost anything (a line
// without '=' becomes a key set to true, a broken header becomes a key), so it cannot say "file:line:
// what is wrong". (repos.conf, which Portage reads with Python's configparser, still goes through `ini`.)
//
// Grammar, one construct per line:
//   - blank line;
//   - comment: the first non-blank character is '#' or ';'. Comments are full-line only: a '#' or ';'
//     after a value is part of the value (no value we accept contains one, so a trailing comment is
//     refused by the value's own check, with a hint, instead of being silently half-read);
//   - `[name]`: a section header; whitespace inside the brackets is trimmed, nothing may follow ']';
//   - `key = value`: whitespace around key and value is trimmed; the value may be empty; no quoting,
//     escapes or `\` line continuations (a backslash is an ordinary character).
// Repeated keys and repeated section headers are returned as they come; callers decide.
import { readFile } from 'node:fs/promises';
import { ConfigError, FsError } from '../errors.js';

export interface IniEntry {
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  /** '' for the part before any header. */
  name: string;
  /** Line of the header (0 for the part before any header). */
  line: number;
  entries: IniEntry[];
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseIniLines(text: string, file: string): IniSection[] {
  let current: IniSection = { name: '', line: 0, entries: [] };
  const sections = [current];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      if (close < 0) throw new ConfigError(`section header without ']': '${trimmed}'`, { file, line });
      if (close !== trimmed.length - 1) {
        throw new ConfigError(`unexpected text after section header: '${trimmed}'`, {
          file,
          line,
          hint: 'comments go on a line of their own, starting with #',
        });
      }
      const name = trimmed.slice(1, -1).trim();
      if (name === '') throw new ConfigError('empty section name', { file, line });
      current = { name, line, entries: [] };
      sections.push(current);
      return;
    }
    const eq = raw.indexOf('=');
    if (eq < 0) {
      throw new ConfigError(`expected 'key = value', '[section]' or a comment, got '${trimmed}'`, {
        file,
        line,
        hint: 'comment lines start with # or ;',
      });
    }
    const key = raw.slice(0, eq).trim();
    if (!KEY.test(key)) {
      throw new ConfigError(`invalid key '${key}'`, {
        file,
        line,
        hint: 'keys are letters, digits, ".", "_" and "-", followed by "= value"',
      });
    }
    current.entries.push({ key, value: raw.slice(eq + 1).trim(), line });
  });
  return sections;
}

/**
 * Reads a UTF-8 config file. A missing file is `undefined` (callers use defaults); a directory, a
 * file we may not read, or bytes that are not UTF-8 are errors naming the file.
 */
export async function readConfigText(file: string, what: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const reason = READ_ERRORS[code ?? ''];
    if (reason) throw new FsError(`cannot read ${what}: ${reason[0]}`, { file, hint: reason[1], cause: err });
    throw new FsError(`cannot read ${what}: ${(err as Error).message}`, { file, cause: err });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(`${what} is not valid UTF-8 text`, { file, cause: err });
  }
}

const READ_ERRORS: Record<string, [reason: string, hint: string]> = {
  EISDIR: ['it is a directory', 'it must be a regular file'],
  EACCES: ['permission denied', 'run as root, or make it readable'],
  EPERM: ['permission denied', 'run as root, or make it readable'],
  ENOTDIR: ['a component of its path is not a directory', 'check the path: a file stands where a directory is expected'],
  ELOOP: ['too many levels of symbolic links', 'fix the symbolic link loop'],
};

/** Levenshtein distance, for "did you mean" hints on short words. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** For "did you mean 'x'?": the closest candidate, at most a third of the word's length (and 3) away. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(word.length / 3))) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
