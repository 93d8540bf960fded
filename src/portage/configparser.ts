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
import { ConfigError } from '../errors.js';

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
const OPTION_RE = /^(.*?)\s*[=:]\s*(.*)$/;
const MAX_DEPTH = 10; // configparser MAX_INTERPOLATION_DEPTH

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
    if (option && section) section.set(option.name, { value: option.lines.join('\n').trimEnd(), file, line: option.line });
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
        throw new ConfigError(`section [${sectionName}] appears twice in this file`, { file, line, hint: 'merge the two sections' });
      }
      seen.add(sectionName);
      section = into.sections.get(sectionName) ?? new Map();
      into.sections.set(sectionName, section);
      if (!into.headers.has(sectionName)) into.headers.set(sectionName, { file, line });
      continue;
    }
    if (!section) {
      throw new ConfigError(`'${stripped}' before any [section] header`, { file, line, hint: 'start the file with a section such as [gentoo]' });
    }
    const m = OPTION_RE.exec(stripped);
    const name = m?.[1]?.toLowerCase();
    if (!m || !name) {
      throw new ConfigError(`malformed line '${stripped}' (expected 'key = value' or '[section]')`, { file, line });
    }
    if (seen.has(`${sectionName}\0${name}`)) {
      throw new ConfigError(`option '${name}' appears twice in section [${sectionName}]`, { file, line });
    }
    seen.add(`${sectionName}\0${name}`);
    option = { name, lines: [m[2] ?? ''], line };
  }
  flush();
  return into;
}

/** configparser's BasicInterpolation of `opt`, looking names up in `scope` (section over DEFAULT). */
export function interpolate(opt: IniOption, name: string, scope: Map<string, IniOption>, depth = 1): string {
  const where = { file: opt.file, line: opt.line };
  if (depth > MAX_DEPTH) throw new ConfigError(`'${name}': interpolation nested deeper than ${MAX_DEPTH} (a loop?)`, where);
  let out = '';
  let rest = opt.value;
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
      throw new ConfigError(`'${name}': bad interpolation '${rest}' ('%' must be followed by '%' or '(name)s')`, { ...where, hint: "write '%%' for a literal percent sign" });
    }
    const key = (ref[1] ?? '').toLowerCase();
    const target = scope.get(key);
    if (!target) throw new ConfigError(`'${name}': %(${ref[1]})s names no option of this section or [DEFAULT]`, where);
    out += target.value.includes('%') ? interpolate(target, name, scope, depth + 1) : target.value;
    rest = rest.slice(ref[0].length);
  }
  return out + rest;
}
