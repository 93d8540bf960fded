// INI files as Python's configparser (ConfigParser with BasicInterpolation, the defaults Portage uses
// through lib/portage/util/configparser.py) reads them: `key = value` or `key: value`, option names
// lower-cased, values stripped, indented continuation lines joined with newlines (blank lines inside
// kept, trailing ones dropped), whole-line `#` and `;` comments only (no inline comments), a [DEFAULT]
// section every section inherits, `%(name)s` interpolation over the section and DEFAULT, `%%` for '%',
// and strict mode: a section or option twice in one file is an error. Errors are ConfigErrors with
// file and line (configparser collects them and Portage then ignores every repos.conf file).
// The `ini` package is not used: its dialect differs in ways that change values (inline `;`/`#`
// comments, quote removal, `true`/`false` to booleans, dotted section names nested, no `:` delimiter,
// no continuation lines, case-sensitive keys) and it reports no line numbers.
// Errors quote nothing of the file but a section or option name (see quotedName): repos.conf may be
// anything, a link to a file of secrets included. Interpolation is bounded as configparser bounds it
// (MAX_INTERPOLATION_DEPTH), and also in size and work, which configparser is not: ten levels of ten
// references each would take it 10^10 steps.
import { ConfigError } from '../errors.js';
import { LIMITS } from '../system/read.js';
import { quotedName } from './config-files.js';

export interface IniOption {
  value: string;
  file: string;
  line: number;
}
export interface IniData {
  /** Section name -> lower-cased option name -> value; 'DEFAULT' holds the defaults. */
  sections: Map<string, Map<string, IniOption>>;
  /** Where each section was first declared. */
  headers: Map<string, { file: string; line: number }>;
}

export const emptyIni = (): IniData => ({ sections: new Map(), headers: new Map() });

const DEFAULT = 'DEFAULT';
const SECTION_RE = /^\[(.+)\]/;
const MAX_DEPTH = 10; // configparser MAX_INTERPOLATION_DEPTH
/** The largest value an interpolation may produce: as large as a config file may be. */
export const MAX_VALUE = LIMITS.config.max;
/** References one read of repos.conf may resolve in all (every option of every section). */
const MAX_REFERENCES = 100_000;

/** What the interpolations of one read may still do (shared by all its calls of interpolate). */
export interface InterpolationBudget {
  references: number;
}

export const interpolationBudget = (): InterpolationBudget => ({ references: MAX_REFERENCES });

const sectionText = (name: string): string => (quotedName(name) ? `[${name}]` : 'a section');
const optionText = (name: string): string => quotedName(name) ?? 'an option';

/**
 * Reads one INI file into `into` as configparser's read_file does (a later file overrides keys of an
 * earlier one; a section or option twice in one file is an error, as is a line outside any section).
 */
export function parseIni(text: string, file: string, into: IniData = emptyIni()): IniData {
  const seen = new Set<string>();
  let section: Map<string, IniOption> | undefined;
  let sectionName = '';
  let option: { name: string; lines: string[]; line: number } | undefined;
  let indent = 0;
  const flush = (): void => {
    if (option && section)
      section.set(option.name, { value: option.lines.join('\n').trimEnd(), file, line: option.line });
    option = undefined;
  };
  const lines = text.split(/\r\n|\r|\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const stripped = raw.trim();
    const comment = stripped.startsWith('#') || stripped.startsWith(';');
    if (stripped === '' || comment) {
      // configparser keeps blank lines inside a multi-line value (trailing ones are trimmed at the end).
      if (!comment && option) option.lines.push('');
      continue;
    }
    const level = raw.search(/\S/);
    if (option && level > indent) {
      option.lines.push(stripped);
      continue;
    }
    flush();
    indent = level;
    const header = SECTION_RE.exec(stripped);
    if (header) {
      sectionName = header[1] ?? '';
      if (sectionName !== DEFAULT && seen.has(sectionName)) {
        throw new ConfigError(`section ${sectionText(sectionName)} appears twice in this file`, {
          file,
          line,
          hint: 'merge the two sections',
        });
      }
      seen.add(sectionName);
      section = into.sections.get(sectionName) ?? new Map();
      into.sections.set(sectionName, section);
      if (!into.headers.has(sectionName)) into.headers.set(sectionName, { file, line });
      continue;
    }
    if (!section) {
      throw new ConfigError('a line before any [section] header', {
        file,
        line,
        hint: 'start the file with a section such as [gentoo]',
      });
    }
    // configparser's OPTCRE, `(.*?)\s*[=:]\s*(.*)$`, without the regex: the first '=' or ':' ends the name.
    const at = stripped.search(/[=:]/);
    const name = at < 0 ? '' : stripped.slice(0, at).trimEnd().toLowerCase();
    if (!name) {
      const what = at < 0 ? "no '=' or ':'" : "no option name before '=' or ':'";
      throw new ConfigError(`malformed line: ${what} (expected 'key = value' or '[section]')`, { file, line });
    }
    if (seen.has(`${sectionName}\0${name}`)) {
      throw new ConfigError(`option ${optionText(name)} appears twice in section ${sectionText(sectionName)}`, {
        file,
        line,
      });
    }
    seen.add(`${sectionName}\0${name}`);
    option = { name, lines: [stripped.slice(at + 1).trimStart()], line };
  }
  flush();
  return into;
}

/**
 * configparser's BasicInterpolation of `opt`, looking names up in `scope` (section over DEFAULT). A
 * value nested deeper than configparser allows, longer than MAX_VALUE, or a read that resolves more
 * than MAX_REFERENCES references in all (pass one `budget` for every call of one read) is an error,
 * located at `opt` (the option being read, as configparser names it) whatever the level it happens at.
 */
export function interpolate(
  opt: IniOption,
  name: string,
  scope: Map<string, IniOption>,
  budget: InterpolationBudget = interpolationBudget(),
): string {
  return expand(opt.value, scope, budget, 1, { file: opt.file, line: opt.line }, optionText(name));
}

function expand(
  value: string,
  scope: Map<string, IniOption>,
  budget: InterpolationBudget,
  depth: number,
  where: { file: string; line: number },
  option: string,
): string {
  if (depth > MAX_DEPTH)
    throw new ConfigError(`${option}: interpolation nested deeper than ${MAX_DEPTH} (a loop?)`, where);
  const tooMuch = (what: string): ConfigError =>
    new ConfigError(`${option}: ${what}`, {
      ...where,
      hint: 'no real repos.conf needs that: look for options that reference each other over and over',
    });
  let out = '';
  let rest = value;
  for (let p = rest.indexOf('%'); p >= 0; p = rest.indexOf('%')) {
    out += rest.slice(0, p);
    rest = rest.slice(p);
    if (rest.startsWith('%%')) {
      out += '%';
      rest = rest.slice(2);
      continue;
    }
    const ref = /^%\(([^)]+)\)s/.exec(rest);
    if (!ref) {
      throw new ConfigError(`${option}: bad interpolation ('%' must be followed by '%' or '(name)s')`, {
        ...where,
        hint: "write '%%' for a literal percent sign",
      });
    }
    const target = scope.get((ref[1] ?? '').toLowerCase());
    if (!target)
      throw new ConfigError(
        `${option}: %(${quotedName(ref[1] ?? '')?.slice(1, -1) ?? '...'})s names no option of this section or [DEFAULT]`,
        where,
      );
    if (--budget.references < 0)
      throw tooMuch(`more than ${MAX_REFERENCES} %(name)s references to resolve in this repos.conf`);
    out += target.value.includes('%') ? expand(target.value, scope, budget, depth + 1, where, option) : target.value;
    if (out.length > MAX_VALUE) throw tooMuch(`interpolation makes a value longer than ${MAX_VALUE} characters`);
    rest = rest.slice(ref[0].length);
  }
  return out + rest;
}
