// Usage lines and --help texts, made from the command table (table.ts) and nothing else.
import {
  COMMANDS,
  COMMON_OPTIONS,
  PROGRAM,
  PROGRAM_OPTIONS,
  type ArgumentSpec,
  type CommandSpec,
  type OptionSpec,
} from './table.js';

/** Help lines are wrapped to this many columns. */
const WIDTH = 100;

/** The command's own options, then the common ones. */
export const optionsOf = (c: CommandSpec): readonly OptionSpec[] => [...c.options, ...COMMON_OPTIONS];

/** `--root DIR`, `--pretend` */
const optionText = (o: OptionSpec): string => `--${o.name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;

const argumentText = (a: ArgumentSpec): string => {
  const one = a.multiple ? `${a.name}...` : a.name;
  return a.required ? one : `[${one}]`;
};

/** `gentoo-kopt patches list CPV [--slot SLOT] [--root DIR] [--json]` (--help is left to the help). */
export function usageLine(c: CommandSpec): string {
  const options = optionsOf(c)
    .filter((o) => o.name !== 'help')
    .map((o) => `[${optionText(o)}]${o.multiple ? '...' : ''}`);
  return [PROGRAM, c.name, ...c.arguments.map(argumentText), ...options].join(' ');
}

/** Words of `text` in lines of at most WIDTH columns, each after `indent` spaces but the first. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Two columns: each term, then its description wrapped beside it. */
function columns(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([term]) => term.length));
  return rows.map(([term, text]) => `  ${term.padEnd(width)}  ${wrap(text, width + 4)}`);
}

const optionRows = (options: readonly OptionSpec[]): [string, string][] =>
  options.map((o) => [`${o.short ? `-${o.short}, ` : ''}${optionText(o)}`, o.description]);

/** `gentoo-kopt COMMAND --help` and `gentoo-kopt help COMMAND`. */
export function commandHelp(c: CommandSpec): string {
  const out = [`usage: ${wrap(usageLine(c), `usage: ${PROGRAM} ${c.name} `.length)}`, '', wrap(c.summary, 0)];
  if (c.arguments.length) out.push('', 'arguments:', ...columns(c.arguments.map((a) => [a.name, a.description])));
  out.push('', 'options:', ...columns(optionRows(optionsOf(c))));
  return out.join('\n');
}

/** The commands whose first word is `group` (`hooks`), or none. */
export const commandsOf = (group: string): readonly CommandSpec[] =>
  COMMANDS.filter((c) => c.name.startsWith(`${group} `));

/** The usage lines and the list of `commands` (all, or a group's): what an unknown command prints. */
export function programUsage(commands: readonly CommandSpec[] = COMMANDS): string {
  return [
    `usage: ${PROGRAM} COMMAND [ARGUMENTS] [OPTIONS]`,
    `       ${PROGRAM} --version | --help`,
    '',
    'commands:',
    ...columns(commands.map((c) => [c.name, c.summary])),
  ].join('\n');
}

/** `gentoo-kopt --help`; with `commands`, the help of a group of commands (`gentoo-kopt help hooks`). */
export function programHelp(commands: readonly CommandSpec[] = COMMANDS): string {
  return [
    programUsage(commands),
    '',
    'options of every command:',
    ...columns(optionRows(COMMON_OPTIONS)),
    '',
    `options of ${PROGRAM} itself:`,
    ...columns(optionRows(PROGRAM_OPTIONS)),
    '',
    wrap(
      `'${PROGRAM} COMMAND --help' or '${PROGRAM} help COMMAND' lists the arguments and options of a command.` +
        ' README.md gives the exit statuses and the files each command reads and writes.',
      0,
    ),
  ].join('\n');
}
