// A strict, line-aware INI reader for gentoo-kopt's own files (kopt.conf, patch catalogs).
//
// Not a general INI library: those drop line numbers and accept almost anything (a line without '='
// becomes a key set to true, a broken header becomes a key), so they cannot say "file:line: what is
// wrong". repos.conf, which is Portage's, has its own reader in configparser's dialect (configparser.ts).
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
// Errors name the file and line and never quote the line itself: a file that is not what it should
// be (kopt.conf linked to a file of secrets) must not end up in a terminal or a log.
import { ConfigError } from '../errors.js';
import { readOptional, utf8 } from '../system/read.js';

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
      if (close < 0) throw new ConfigError("section header without ']'", { file, line });
      if (close !== trimmed.length - 1) {
        throw new ConfigError("unexpected text after section header's ']'", {
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
      throw new ConfigError("expected 'key = value', '[section]' or a comment", {
        file,
        line,
        hint: 'comment lines start with # or ;',
      });
    }
    const key = raw.slice(0, eq).trim();
    if (!KEY.test(key)) {
      throw new ConfigError(key === '' ? "no key before '='" : "invalid key before '='", {
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
 * Reads a UTF-8 config file through the bounded reader (a regular file of at most LIMITS.config, or
 * /dev/null for an empty one). A missing file is `undefined` (callers use defaults); anything else that
 * is not a readable regular file, or bytes that are not UTF-8, is an error naming the file.
 */
export async function readConfigText(file: string, what: string): Promise<string | undefined> {
  const bytes = await readOptional(file, 'config', { devNull: true });
  return bytes === undefined ? undefined : utf8(bytes, file, what);
}

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
