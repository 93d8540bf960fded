// FETCHCOMMAND and RESUMECOMMAND as Portage uses them (lib/portage/package/ebuild/fetch.py, fetch()):
// FETCHCOMMAND_<PROTOCOL> wins over FETCHCOMMAND (RESUMECOMMAND likewise), the defaults are those of
// cnf/make.globals (wget), the value must contain ${FILE}, and the command is varexpand()ed with URI,
// FILE (the basename of the file being written, its .__download__ name), DISTDIR (the directory it
// goes to) and DIGESTS, then split with shlex.split: an argv, never a shell.
// PORTAGE_FETCH_RESUME_MIN_SIZE (default 350K): a partial file smaller than that is downloaded again
// from the start instead of resumed.
import { ConfigError, formatWhere } from '../errors.js';
import { splitWords, varexpand } from './shell-words.js';

/** The values make.globals gives them, after getconfig's unquoting (`\${URI}` -> `${URI}`). */
const USER_AGENT = '"Portage (Gentoo, https://www.gentoo.org) distfile-fetch"';
export const DEFAULT_FETCHCOMMAND = `wget -t 3 -T 60 --passive-ftp -U ${USER_AGENT} -O "\${DISTDIR}/\${FILE}" "\${URI}"`;
export const DEFAULT_RESUMECOMMAND = `wget -c -t 3 -T 60 --passive-ftp -U ${USER_AGENT} -O "\${DISTDIR}/\${FILE}" "\${URI}"`;
export const DEFAULT_RESUME_MIN_SIZE = '350K';

/** Where a value came from: the environment, a make.conf line, or Portage's default. */
export interface Setting {
  name: string;
  value: string;
  where?: { file: string; line?: number };
}

export interface FetchCommands {
  fetch: Setting;
  resume: Setting;
  /** Bytes: a smaller partial file is fetched again from the start. */
  resumeMinSize: number;
}

/** The variables a command is expanded with. */
export interface FetchVars {
  URI: string;
  FILE: string;
  DISTDIR: string;
  DIGESTS?: string;
}

type Lookup = (name: string) => Setting | undefined;

const SUFFIX: Record<string, number> = { '': 0, K: 10, M: 20, G: 30, T: 40, P: 50, E: 60, Z: 70, Y: 80 };

/** PORTAGE_FETCH_RESUME_MIN_SIZE's "350K" in bytes; Portage falls back to the default on a bad value. */
export function resumeMinSize(value: string | undefined): number {
  const v = (value ?? '').split(/\s+/).join('') || DEFAULT_RESUME_MIN_SIZE;
  const m = /^(\d+)([A-Za-z]?)$/.exec(v);
  const shift = m ? SUFFIX[m[2]!.toUpperCase()] : undefined;
  if (!m || shift === undefined) return resumeMinSize(DEFAULT_RESUME_MIN_SIZE);
  return Number(m[1]) * 2 ** shift;
}

/** The commands for a URL's protocol (`https`), from `lookup` (environment, then make.conf) or the defaults. */
export function fetchCommands(protocol: string, lookup: Lookup): FetchCommands {
  const pick = (base: string, fallback: string): Setting =>
    lookup(`${base}_${protocol.toUpperCase()}`) ?? lookup(base) ?? { name: base, value: fallback };
  return {
    fetch: pick('FETCHCOMMAND', DEFAULT_FETCHCOMMAND),
    resume: pick('RESUMECOMMAND', DEFAULT_RESUMECOMMAND),
    resumeMinSize: resumeMinSize(lookup('PORTAGE_FETCH_RESUME_MIN_SIZE')?.value),
  };
}

/** The argv of one download: `cmd` expanded as Portage expands it, then split into words. */
export function fetchArgv(cmd: Setting, vars: FetchVars): string[] {
  const where = cmd.where ?? { file: `${cmd.name} (Portage's default)` };
  const fail = (message: string, hint: string): ConfigError =>
    new ConfigError(`${cmd.name}: ${message}`, { ...where, hint });
  const manual = 'see make.conf(5): FETCHCOMMAND and RESUMECOMMAND';
  if (!cmd.value.includes('${FILE}')) throw fail('does not contain the required ${FILE} parameter', manual);
  const map = new Map(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
  const expanded = varexpand(cmd.value, map, { file: where.file, line: where.line ?? 0 });
  let argv: string[];
  try {
    argv = splitWords(expanded);
  } catch (err) {
    throw fail((err as Error).message, `check the quoting (${formatWhere(where)})`);
  }
  if (argv.length === 0) throw fail('is empty', manual);
  return argv;
}
