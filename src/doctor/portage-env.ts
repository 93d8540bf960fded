// The environment Portage gives one package, as far as doctor needs it: make.conf's assignments with
// the file and line that made them, then the /etc/portage/env files that package.env maps to the
// package. Read as data, never executed. Follows lib/portage/package/ebuild/config.py (package.env via
// grabdict_package, recursive, wildcards allowed; `*/*` applies like make.conf; the env files are read
// by getconfig with sourcing allowed and make.conf's expansion map; a missing env file is reported and
// skipped; one that does not parse leaves the package's environment unknown) and _config/helper.py
// ordered_by_atom_specificity (more specific atoms override less specific ones, whatever their order
// in the file). Deliberate simplification: two range atoms (>=, <) of equal rank keep their file
// order, where Portage prefers the version closest to the package. Problems name file and line, never
// the line's text: these files are the user's, and may be anything (package.env linked to a secret).
import { statSync } from 'node:fs';
import path from 'node:path';
import { formatWhere, FsError, KoptError } from '../errors.js';
import { atomMatches, parseAtom, type Atom, type Cpv } from '../portage/atom.js';
import { readConfigFileSync, recursiveFileList } from '../portage/config-files.js';
import { loadMakeConf, makeConfSeed, parseMakeConf, type Assignment } from '../portage/make-conf.js';
import { portageConfigPath, type Roots } from '../portage/roots.js';
import { SkipCheck } from './finding.js';

export type { Assignment };

export interface MakeConfOrigins {
  /** make.conf's variables, each with the file and line that set it. */
  vars: Map<string, Assignment>;
  /** What env files expand ${VAR} against: the root variables and make.conf's assignments. */
  expand: Map<string, string>;
}

/** make.conf as Portage reads it (loadMakeConf), with the file and line of each variable. Throws like loadMakeConf. */
export async function loadMakeConfOrigins(roots: Roots): Promise<MakeConfOrigins> {
  const { vars, assignments } = await loadMakeConf(roots);
  return { vars: assignments, expand: new Map([...makeConfSeed(roots), ...vars]) };
}

export interface EnvLine {
  atom: string;
  /** Undefined for the wildcard forms (every package, cat/any, any/pn), matched by `glob`. */
  parsed?: Atom;
  glob?: RegExp;
  /** ordered_by_atom_specificity's rank (best_match_to_list): higher overrides lower. */
  rank: number;
  names: string[];
  file: string;
  line: number;
}

export interface EnvProblem {
  kind: 'malformed' | 'unreadable' | 'missing-env';
  file: string;
  line?: number;
  message: string;
  hint?: string;
  atom?: string;
  name?: string;
  /** The env file the problem stops (for missing-env: the file package.env names). */
  path?: string;
}

export interface PackageEnv {
  lines: EnvLine[];
  problems: EnvProblem[];
  /** The env files read so far (each once), by name: their assignments, or why there are none. */
  envFiles: Map<string, Map<string, Assignment> | EnvProblem>;
  envDir: string;
  expand: Map<string, string>;
}

// best_match_to_list: =cpv 6, ~cpv 5, =cpv* 4, cp:slot 3, ranges 2, cp 1; wildcards below every plain atom.
const OP_RANK: Record<string, number> = { '=': 6, '~': 5, '>': 2, '<': 2, '>=': 2, '<=': 2 };

function rankOf(a: Atom): number {
  const op = a.op === '=' && a.glob ? 4 : a.op ? (OP_RANK[a.op] ?? 1) : 1;
  return Math.max(op, a.slot !== undefined ? 3 : 0);
}

const globPart = (s: string): string =>
  s
    .split('*')
    .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');

function parseEnvLine(words: string[], file: string, line: number, problems: EnvProblem[]): EnvLine | undefined {
  const [atom, ...names] = words as [string, ...string[]];
  const base = { atom, names, file, line };
  const plain = atom.replace(/:.*$/, '');
  if (plain.includes('*') && !/^[<>=~]/.test(atom)) {
    const [cat, pn] = plain.split('/');
    if (cat === undefined || pn === undefined) {
      problems.push({ kind: 'malformed', file, line, message: 'not a valid atom (Portage ignores the line)' });
      return undefined;
    }
    const slotted = atom.includes(':');
    return {
      ...base,
      glob: new RegExp(`^${globPart(cat)}/${globPart(pn)}$`),
      rank: plain === '*/*' ? -3 : slotted ? -1 : -2,
    };
  }
  try {
    const parsed = parseAtom(atom, { file, line });
    return { ...base, parsed, rank: rankOf(parsed) };
  } catch (err) {
    if (!(err instanceof KoptError)) throw err;
    problems.push({
      kind: 'malformed',
      file,
      line,
      message: 'not a valid atom (Portage ignores the line)',
      hint: err.hint,
    });
    return undefined;
  }
}

/** Reads package.env (a file or a directory, as Portage does). Bad lines become problems, never errors. */
export async function loadPackageEnv(roots: Roots, expand: Map<string, string>): Promise<PackageEnv> {
  const problems: EnvProblem[] = [];
  const lines: EnvLine[] = [];
  for (const file of await recursiveFileList(portageConfigPath(roots, 'package.env'))) {
    let text: string | undefined;
    try {
      text = readConfigFileSync(file);
    } catch (err) {
      if (!(err instanceof KoptError)) throw err;
      problems.push({
        kind: 'unreadable',
        file,
        message: err.message,
        ...(err.hint !== undefined && { hint: err.hint }),
      });
      continue;
    }
    (text ?? '').split('\n').forEach((raw, i) => {
      if (raw.trimStart().startsWith('#')) return;
      const words: string[] = [];
      for (const w of raw.split(/\s+/).filter(Boolean)) {
        if (w.startsWith('#')) break;
        words.push(w);
      }
      if (words.length === 0) return;
      const entry = parseEnvLine(words, file, i + 1, problems);
      if (entry) lines.push(entry);
    });
  }
  return { lines, problems, envFiles: new Map(), envDir: portageConfigPath(roots, 'env'), expand };
}

/** One env file's assignments (read once), or the problem that stopped it (also in env.problems). */
function envFile(env: PackageEnv, name: string, from: EnvLine): Map<string, Assignment> | EnvProblem {
  const known = env.envFiles.get(name);
  if (known) return known;
  const file = path.join(env.envDir, name);
  let result: Map<string, Assignment> | EnvProblem;
  const missing = (): EnvProblem => ({
    kind: 'missing-env',
    file: from.file,
    line: from.line,
    message: `no env file ${file}`,
    atom: from.atom,
    name,
    path: file,
  });
  try {
    // Portage's getconfig takes a directory for a missing file (EISDIR), and so do we.
    const text = isDirectory(file) ? undefined : readConfigFileSync(file);
    result = text === undefined ? missing() : parseMakeConf(text, file, new Map(env.expand));
  } catch (err) {
    if (!(err instanceof KoptError)) throw err;
    result = {
      kind: err instanceof FsError ? 'unreadable' : 'malformed',
      file: err.file ?? file,
      line: err.line,
      message: err.message,
      hint: err.hint,
      path: file,
    };
  }
  if (!(result instanceof Map)) env.problems.push(result);
  env.envFiles.set(name, result);
  return result;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The package doctor asks about: its cpn, and the installed version when there is one. */
export interface PackageRef {
  cpn: string;
  cpv?: Cpv;
}

function matches(line: EnvLine, pkg: PackageRef): boolean {
  if (line.glob) return line.glob.test(pkg.cpn);
  const atom = line.parsed!;
  if (atom.blocker) return false;
  if (!pkg.cpv) return atom.cpn === pkg.cpn && !atom.op && atom.slot === undefined;
  return atomMatches(atom, pkg.cpv);
}

/** The env files package.env applies to `pkg`, least specific first. */
function envLinesFor(env: PackageEnv, pkg: PackageRef): EnvLine[] {
  return env.lines.filter((l) => matches(l, pkg)).sort((a, b) => a.rank - b.rank);
}

/**
 * make.conf's variables overridden by the env files package.env maps to `pkg`, each with its origin.
 * An env file that does not exist is ignored, as Portage does; one that cannot be read or parsed leaves
 * the environment unknown: SkipCheck naming it (the inputs check reports the problem itself).
 */
export function environmentFor(makeConf: MakeConfOrigins, env: PackageEnv, pkg: PackageRef): Map<string, Assignment> {
  const out = new Map(makeConf.vars);
  for (const line of envLinesFor(env, pkg)) {
    for (const name of line.names) {
      const vars = envFile(env, name, line);
      if (vars instanceof Map) for (const [k, v] of vars) out.set(k, v);
      else if (vars.kind !== 'missing-env') {
        throw new SkipCheck(
          `the env file ${vars.path} (package.env for ${pkg.cpn}) could not be read: ${formatWhere(vars)}: ${vars.message}`,
        );
      }
    }
  }
  return out;
}

/** Reads every env file package.env names (for the inputs check: a missing one is reported however it is matched). */
export function readAllEnvFiles(env: PackageEnv): void {
  for (const line of env.lines) for (const name of line.names) envFile(env, name, line);
}
