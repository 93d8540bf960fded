// How gentoo-kopt talks: Portage's conventions (bin/isolated-functions.sh einfo/ewarn/eerror, and
// lib/portage/output.py). A message is ` * text`, the star green for information, yellow for a
// warning, red for an error; colour only on a terminal, never with NOCOLOR=yes|true (Portage's
// make.conf/environment switch) or a non-empty NO_COLOR (no-color.org), nor on TERM=dumb. --quiet
// keeps warnings and errors only; --verbose adds detail (the commands a fetch runs). A progress line
// (fetch, verify) is drawn on stderr when it is a terminal, never in a pipe, with --json or --quiet.
// Commands render text with these helpers; only src/cli.ts writes it out.

export type Level = 'info' | 'warn' | 'error';

export interface Style {
  color: boolean;
  quiet: boolean;
  verbose: boolean;
}

export const PLAIN: Style = { color: false, quiet: false, verbose: false };

/** Portage's colours for the star: GOOD, WARN, BAD (output.py codes: bold green, yellow, red). */
const STAR: Record<Level, string> = { info: '\x1b[32;01m', warn: '\x1b[33;01m', error: '\x1b[31;01m' };
const RESET = '\x1b[39;49;00m';

/** Whether to colour: a terminal, and nothing in the environment saying no. */
export function colorWanted(env: NodeJS.ProcessEnv, terminal: boolean): boolean {
  if (!terminal) return false;
  if ((env.NO_COLOR ?? '') !== '') return false;
  if (['yes', 'true'].includes((env.NOCOLOR ?? '').toLowerCase())) return false;
  return env.TERM !== 'dumb';
}

export function styleFrom(
  env: NodeJS.ProcessEnv,
  terminal: boolean,
  flags: { quiet?: boolean; verbose?: boolean } = {},
): Style {
  return {
    color: colorWanted(env, terminal),
    quiet: flags.quiet === true,
    verbose: flags.verbose === true && !flags.quiet,
  };
}

/** ` * text` (each line of it), or nothing for information under --quiet. */
export function message(style: Style, level: Level, text: string): string[] {
  if (level === 'info' && style.quiet) return [];
  const star = style.color ? `${STAR[level]}*${RESET}` : '*';
  return text.split('\n').map((line) => ` ${star} ${line}`);
}

export const einfo = (style: Style, text: string): string[] => message(style, 'info', text);
export const ewarn = (style: Style, text: string): string[] => message(style, 'warn', text);
export const eerror = (style: Style, text: string): string[] => message(style, 'error', text);

/** The text as --quiet prints it: the messages only (einfo already dropped them under --quiet). */
export function quietText(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.startsWith(' * ') || l.startsWith(' \x1b['))
    .join('\n');
}

/** `red`, `bold`...: colour a word when the style colours, as Portage's output.colorize does. */
export function colorize(style: Style, level: Level, text: string): string {
  return style.color ? `${STAR[level]}${text}${RESET}` : text;
}

/**
 * A progress line writer for `stream` when it is a terminal and nothing asks for quiet or JSON
 * (undefined otherwise): each call redraws the line; '' clears it.
 */
export function progressWriter(
  stream: { isTTY?: boolean; write(s: string): unknown },
  opts: { json: boolean; quiet: boolean },
): ((line: string) => void) | undefined {
  if (!stream.isTTY || opts.json || opts.quiet) return undefined;
  return (line) => void stream.write(`\r\x1b[K${line}`);
}
