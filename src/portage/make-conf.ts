// make.conf, parsed the way Portage parses it and never executed. Follows getconfig() and varexpand()
// in lib/portage/util/__init__.py and the shlex tokenizer they use, and config.py for which files:
//  - ${PORTAGE_CONFIGROOT}/etc/make.conf, then ${PORTAGE_CONFIGROOT}/etc/portage/make.conf, each a file
//    or a directory read recursively in sorted order, all sharing one expansion map;
//  - `[export] KEY=value` statements separated by whitespace (several may share a line); a value is one
//    shell word: unquoted, "double" or 'single' quoted pieces glued together, `\` escapes, a `\` newline
//    inside double quotes joins lines, newlines inside quotes become spaces; `#` starts a comment, also
//    in the middle of an unquoted word (`A=x#y` is `x`, as in Portage);
//  - after quote removal ${VAR} and $VAR expand from earlier assignments and the root variables (ROOT,
//    EROOT, EPREFIX, PORTAGE_CONFIGROOT, ...); an unset variable is empty; like Portage, quotes do not stop
//    expansion (`A='$B'` expands B), `\$` inside double quotes does;
//  - `source FILE` (FILE expanded, relative to the sourcing file's directory) reads another file in place;
//  - variables whose names start with `__` are private to make.conf and left out of the result.
// Refused with a ConfigError naming file and line: command substitution `$(...)` and backquotes (Portage
// would blank or reject them; nothing here ever runs), `${VAR:-x}` and other parameter expansions,
// statements Portage rejects, and a `KEY=` whose value sits on a later line (Portage would take that
// next word as the value, bash an empty string).
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { errnoOf, fsError, recursiveFileList } from './config-files.js';
import { Lexer, NO_EXEC_HINT, varexpand } from './shell-words.js';
import type { Roots } from './roots.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SOURCE_DEPTH = 20;

type SourceReader = (file: string) => string;

function readSourceSync(file: string): string {
  return readFileSync(file, 'utf8');
}

function parseInto(
  text: string, file: string, vars: Map<string, string>, out: Map<string, string>,
  read: SourceReader, files: string[], depth: number,
): void {
  const lex = new Lexer(text.endsWith('\n') || text === '' ? text : `${text}\n`, file);
  let lastValueLine = 0;
  for (;;) {
    let key = lex.next();
    if (key?.value === 'export') key = lex.next();
    if (!key) return;
    const where = { file, line: key.line };
    const hint = key.line === lastValueLine ? 'a value with spaces must be quoted: KEY="a b"' : undefined;
    if (key.value === 'source') {
      const target = lex.next();
      if (!target) throw new ConfigError("'source' without a file name", where);
      sourceFile(varexpand(target.value, vars, where), { file, line: key.line }, vars, out, read, files, depth);
      continue;
    }
    const eq = lex.next();
    if (!eq) throw new ConfigError(`'${key.value}' at the end of the file, expected '${key.value}=value'`, { ...where, hint });
    if (eq.value !== '=') {
      throw new ConfigError(`unexpected '${eq.value}' after '${key.value}' (expected '=')`, { file, line: eq.line, hint });
    }
    const value = lex.next();
    if (!value || value.line > eq.line) {
      throw new ConfigError(`'${key.value}=' has no value`, { ...where, hint: `write ${key.value}="" for an empty value` });
    }
    if (!VAR_NAME.test(key.value)) throw new ConfigError(`invalid variable name '${key.value}'`, { ...where, hint });
    if (value.value.includes('`')) {
      throw new ConfigError('command substitution with backquotes is not supported', { file, line: value.line, hint: NO_EXEC_HINT });
    }
    const expanded = varexpand(value.value, vars, { file, line: value.line });
    out.set(key.value, expanded);
    vars.set(key.value, expanded);
    lastValueLine = value.line;
  }
}

function sourceFile(
  name: string, from: { file: string; line: number }, vars: Map<string, string>, out: Map<string, string>,
  read: SourceReader, files: string[], depth: number,
): void {
  const target = path.resolve(path.dirname(from.file), name);
  if (depth >= MAX_SOURCE_DEPTH) throw new ConfigError(`'source ${name}' nested too deeply (a loop?)`, from);
  let text: string;
  try {
    text = read(target);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      const why = code === 'EISDIR' ? 'is a directory' : 'no such file';
      throw new ConfigError(`source ${target}: ${why}`, { ...from, cause: err });
    }
    throw fsError(err, target);
  }
  files.push(target);
  parseInto(text, target, vars, out, read, files, depth + 1);
}

/**
 * Parses make.conf text. `vars` seeds the expansion and receives every assignment (as Portage's
 * expand map does); the result holds this text's assignments (and those of files it sources), `__*`
 * variables included. `source` reads files synchronously unless `readSource` is given.
 */
export function parseMakeConf(
  text: string, file: string, vars: Map<string, string> = new Map(), readSource: SourceReader = readSourceSync,
): Map<string, string> {
  const out = new Map<string, string>();
  parseInto(text, file, vars, out, readSource, [], 0);
  return out;
}

const slash = (dir: string): string => (dir.endsWith('/') ? dir : `${dir}/`);

/** The variables Portage defines before reading make.conf (config.py expand_map), profile-less. */
export function makeConfSeed(roots: Roots): Map<string, string> {
  const eprefix = roots.eprefix;
  return new Map([
    ['BROOT', eprefix],
    ['EPREFIX', eprefix],
    ['EROOT', slash(roots.eroot)],
    ['ESYSROOT', roots.root === '/' ? slash(roots.eroot) : slash(eprefix)],
    ['PORTAGE_CONFIGROOT', slash(roots.configRoot)],
    ['ROOT', slash(roots.root)],
    ['SYSROOT', '/'],
  ]);
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return !!x && !!y && x.dev === y.dev && x.ino === y.ino;
}

/**
 * Reads make.conf as Portage does. `vars` holds the assignments (not the seeded root variables, not
 * `__*`); `files` every file read, sourced ones included, in order.
 */
export async function loadMakeConf(roots: Roots): Promise<{ vars: Map<string, string>; files: string[] }> {
  const legacy = path.join(roots.configRoot, 'etc/make.conf');
  const current = path.join(roots.configRoot, 'etc/portage/make.conf');
  const paths = (await sameFile(legacy, current)) ? [current] : [legacy, current];
  const expand = makeConfSeed(roots);
  const all = new Map<string, string>();
  const files: string[] = [];
  for (const p of paths) {
    for (const file of await recursiveFileList(p)) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw fsError(err, file);
      }
      files.push(file);
      parseInto(text, file, expand, all, readSourceSync, files, 0);
    }
  }
  const vars = new Map([...all].filter(([k]) => !k.startsWith('__')));
  return { vars, files };
}
