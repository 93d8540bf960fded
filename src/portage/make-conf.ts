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
// Errors name the file and line, and at most the variable: never a line or a value of the file (one
// that sources /etc/shadow must not print it). Expansion is bounded: a value may not grow past
// MAX_VALUE, nor all of a file's values (with what it sources) past MAX_EXPANDED, however the
// assignments reference each other.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, KoptError } from '../errors.js';
import { LIMITS } from '../system/read.js';
import { quotedName, readConfigFile, readConfigFileSync, recursiveFileList } from './config-files.js';
import { Lexer, NO_EXEC_HINT, varexpand } from './shell-words.js';
import type { Roots } from './roots.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SOURCE_DEPTH = 20;
/** The largest value an assignment may expand to: as large as a config file may be. */
export const MAX_VALUE = LIMITS.config.max;
/** All values of one read (make.conf with what it sources, or one env file) together. */
const MAX_EXPANDED = 4 * MAX_VALUE;

/** Reads a sourced file: its text, or undefined when it does not exist. Throws KoptError otherwise. */
export type SourceReader = (file: string) => string | undefined;

/** A variable's value (expanded) and where it was assigned: the file (a sourced one, maybe) and line. */
export interface Assignment {
  value: string;
  file: string;
  line: number;
}

interface Parse {
  vars: Map<string, string>;
  out: Map<string, Assignment>;
  read: SourceReader;
  files: string[];
  /** Characters the expansions of this read may still produce. */
  budget: { left: number };
}

const EXPANSION_HINT =
  'no real make.conf value is that large: look for variables that reference each other over and over';

function expand(p: Parse, word: string, where: { file: string; line: number }): string {
  const value = varexpand(word, p.vars, where, { max: MAX_VALUE, hint: EXPANSION_HINT });
  p.budget.left -= value.length;
  if (p.budget.left < 0) {
    throw new ConfigError(
      `the values of this file (and the files it sources) expand to more than ${MAX_EXPANDED} characters`,
      { ...where, hint: EXPANSION_HINT },
    );
  }
  return value;
}

function parseInto(p: Parse, text: string, file: string, depth: number): void {
  const lex = new Lexer(text.endsWith('\n') || text === '' ? text : `${text}\n`, file);
  let lastValueLine = 0;
  for (;;) {
    let key = lex.next();
    if (key?.value === 'export') key = lex.next();
    if (!key) return;
    const where = { file, line: key.line };
    const hint = key.line === lastValueLine ? 'a value with spaces must be quoted: KEY="a b"' : undefined;
    const name = quotedName(key.value);
    if (key.value === 'source') {
      const target = lex.next();
      if (!target) throw new ConfigError("'source' without a file name", where);
      sourceFile(p, expand(p, target.value, where), { file, line: key.line }, depth);
      continue;
    }
    const eq = lex.next();
    if (!eq) {
      const what = name
        ? `${name} at the end of the file, expected ${key.value}=value`
        : 'a word at the end of the file, expected NAME=value';
      throw new ConfigError(what, { ...where, hint });
    }
    if (eq.value !== '=')
      throw new ConfigError(name ? `expected '=' after ${name}` : 'expected NAME=value', { file, line: eq.line, hint });
    const value = lex.next();
    if (!value || value.line > eq.line) {
      throw new ConfigError(name ? `'${key.value}=' has no value` : 'an assignment without a value', {
        ...where,
        hint: 'write NAME="" for an empty value',
      });
    }
    if (!VAR_NAME.test(key.value))
      throw new ConfigError("invalid variable name before '='", {
        ...where,
        hint: hint ?? 'names are letters, digits and _',
      });
    if (value.value.includes('`')) {
      throw new ConfigError('command substitution with backquotes is not supported', {
        file,
        line: value.line,
        hint: NO_EXEC_HINT,
      });
    }
    const expanded = expand(p, value.value, { file, line: value.line });
    p.out.set(key.value, { value: expanded, file, line: key.line });
    p.vars.set(key.value, expanded);
    lastValueLine = value.line;
  }
}

function sourceFile(p: Parse, name: string, from: { file: string; line: number }, depth: number): void {
  const target = path.resolve(path.dirname(from.file), name);
  if (depth >= MAX_SOURCE_DEPTH) throw new ConfigError(`'source ${name}' nested too deeply (a loop?)`, from);
  let text: string | undefined;
  try {
    text = p.read(target);
  } catch (err) {
    // Said at the `source` line: that is what the user has to change.
    if (!(err instanceof KoptError)) throw err;
    throw new ConfigError(`source ${target}: ${err.message}`, { ...from, hint: err.hint, cause: err });
  }
  if (text === undefined) throw new ConfigError(`source ${target}: no such file`, from);
  p.files.push(target);
  parseInto(p, text, target, depth + 1);
}

/**
 * Parses make.conf text. `vars` seeds the expansion and receives every assignment (as Portage's
 * expand map does); the result holds this text's assignments (and those of files it sources), `__*`
 * variables included, each with its file and line. `source` reads files synchronously unless
 * `readSource` is given.
 */
export function parseMakeConf(
  text: string,
  file: string,
  vars: Map<string, string> = new Map(),
  readSource: SourceReader = readConfigFileSync,
): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  parseInto({ vars, out, read: readSource, files: [], budget: { left: MAX_EXPANDED } }, text, file, 0);
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

export interface MakeConf {
  /** Each variable's value (not the seeded root variables, not `__*`). */
  vars: Map<string, string>;
  /** The same variables, each with the file and line of the assignment that set it. */
  assignments: Map<string, Assignment>;
  /** Every file read, sourced ones included, in order. */
  files: string[];
}

/** Reads make.conf as Portage does. */
export async function loadMakeConf(roots: Roots): Promise<MakeConf> {
  const legacy = path.join(roots.configRoot, 'etc/make.conf');
  const current = path.join(roots.configRoot, 'etc/portage/make.conf');
  const paths = (await sameFile(legacy, current)) ? [current] : [legacy, current];
  const p: Parse = {
    vars: makeConfSeed(roots),
    out: new Map(),
    read: readConfigFileSync,
    files: [],
    budget: { left: MAX_EXPANDED },
  };
  for (const path of paths) {
    for (const file of await recursiveFileList(path)) {
      const text = await readConfigFile(file);
      p.files.push(file);
      parseInto(p, text, file, 0);
    }
  }
  const assignments = new Map([...p.out].filter(([k]) => !k.startsWith('__')));
  return { vars: new Map([...assignments].map(([k, a]) => [k, a.value])), assignments, files: p.files };
}
