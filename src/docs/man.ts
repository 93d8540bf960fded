// gentoo-kopt.1, the man page, made from the command table (commands/table.ts) and nothing else about
// the commands: a command added to the table gets its section here without an edit. scripts/
// shell-docs.mjs writes it at build time (npm run build, npm run docs); the ebuild installs it with doman.
// Checked by test/shell-docs.test.ts with `groff -man -ww -z` (no warnings) and `man -l`.
import {
  COMMANDS,
  COMMON_OPTIONS,
  PROGRAM,
  PROGRAM_OPTIONS,
  type CommandSpec,
  type OptionSpec,
} from '../commands/table.js';

/**
 * Text as roff: backslashes escaped, every hyphen a real minus (\-: option names stay copyable and
 * unhyphenated), and a line that would start with a control character ('.' or "'") protected by \&.
 */
export function roff(text: string): string {
  const escaped = text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

const bold = (text: string): string => `\\fB${roff(text)}\\fR`;
const italic = (text: string): string => `\\fI${roff(text)}\\fR`;

/** `--root DIR` as `\fB\-\-root\fR \fIDIR\fR`, with its short form first. */
function optionTerm(o: OptionSpec): string {
  const long = `${bold(`--${o.name}`)}${o.type === 'string' ? ` ${italic(o.value ?? 'VALUE')}` : ''}`;
  return o.short ? `${bold(`-${o.short}`)}, ${long}` : long;
}

function optionItems(options: readonly OptionSpec[]): string[] {
  return options.flatMap((o) => {
    const choices = o.choices ? ` One of: ${o.choices.join(', ')}.` : '';
    return ['.TP', optionTerm(o), roff(`${o.description}.${choices}`)];
  });
}

/** The synopsis of one command: its words, arguments and own options (the common ones are under OPTIONS). */
function synopsis(c: CommandSpec): string[] {
  const args = c.arguments.map((a) => {
    const one = `${italic(a.name)}${a.multiple ? '...' : ''}`;
    return a.required ? one : `[${one}]`;
  });
  const options = c.options.map((o) => `[${optionTerm(o)}]${o.multiple ? '...' : ''}`);
  return [`.SY ${roff(PROGRAM)}`, c.name.split(' ').map(bold).join(' '), ...args, ...options, '.YS'];
}

function commandSection(c: CommandSpec): string[] {
  const out = ['.SS', `${PROGRAM} ${c.name}`.split(' ').map(bold).join(' '), roff(`${c.summary}.`)];
  if (c.arguments.length)
    out.push(
      '.PP',
      'Arguments:',
      '.RS',
      ...c.arguments.flatMap((a) => ['.TP', italic(a.name), roff(`${a.description}.`)]),
      '.RE',
    );
  if (c.options.length) out.push('.PP', 'Options:', '.RS', ...optionItems(c.options), '.RE');
  return out;
}

/** Fixed sections that say what the table cannot: roots, files, exit statuses (README.md has the rest). */
const ENVIRONMENT: [string, string][] = [
  ['ROOT', 'where packages are merged: the VDB is read from ${ROOT}${EPREFIX}/var/db/pkg (default /)'],
  ['PORTAGE_CONFIGROOT', 'the directory holding etc/portage and etc/gentoo-kopt (default ${EPREFIX}/)'],
  ['EPREFIX', 'the offset of a Gentoo Prefix installation'],
];
const FILES: [string, string][] = [
  [
    '${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/kopt.conf',
    'what gentoo-kopt should do; every key is in the example kopt.conf installed with the documentation',
  ],
  [
    '${PORTAGE_CONFIGROOT}/etc/portage/patches/',
    'where sync-patches installs the patch series (files named 00-gentoo-kopt-*)',
  ],
  ['${PORTAGE_CONFIGROOT}/etc/portage/bashrc', 'holds the block hooks install adds'],
  ['${PORTAGE_CONFIGROOT}/var/lib/gentoo-kopt/', 'the ownership ledger, the journal, backups and the lock'],
];
const EXIT: [string, string][] = [
  ['0', 'done, or nothing to do'],
  ['1', 'an error (named with its file and line); nothing was changed'],
  ['2', 'a usage error: unknown command or option, missing or extra argument, bad option value'],
  ['3', 'another gentoo-kopt run holds the lock'],
  ['4', 'verify only: nothing fails, but some version could not be verified (its distfiles are not downloaded)'],
];
const items = (rows: [string, string][], term: (t: string) => string): string[] =>
  rows.flatMap(([t, text]) => ['.TP', term(t), roff(`${text}.`)]);

/** The whole page. `version` goes into the footer (from package.json, passed in by the build script). */
export function manPage(version: string, commands: readonly CommandSpec[] = COMMANDS): string {
  const upper = PROGRAM.toUpperCase();
  return [
    `.\\" Generated from src/commands/table.ts by scripts/shell-docs.mjs: do not edit.`,
    `.TH ${roff(upper)} 1 "" "${roff(`${PROGRAM} ${version}`)}" "User Commands"`,
    // Paths and package names are not to be hyphenated: the an macros turn hyphenation back on at
    // every paragraph unless their register HY is 0.
    '.nr HY 0',
    '.nh',
    '.SH NAME',
    `${roff(PROGRAM)} \\- the Gentoo wiki's kernel optimization advice for kernels built with emerge`,
    '.SH SYNOPSIS',
    ...commands.flatMap(synopsis),
    `.SY ${roff(PROGRAM)}`,
    `${bold('--version')} | ${bold('--help')}`,
    '.YS',
    '.SH DESCRIPTION',
    roff(
      `${PROGRAM} installs the kernel patch series that match each kernel version into /etc/portage/patches,` +
        ' gives every emerge of a distribution kernel (sys-kernel/gentoo-kernel, sys-kernel/vanilla-kernel)' +
        ' its KCFLAGS and one complete LLVM or GNU toolchain through a hook in /etc/portage/bashrc,' +
        ' and checks the whole setup with doctor.',
    ),
    '.PP',
    roff(
      `Every command also takes the options listed under OPTIONS. '${PROGRAM} COMMAND --help' prints the help of one command.`,
    ),
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH OPTIONS',
    'Every command takes:',
    ...optionItems(COMMON_OPTIONS),
    '.PP',
    `${roff(PROGRAM)} itself, without a command:`,
    ...optionItems(PROGRAM_OPTIONS),
    '.SH ENVIRONMENT',
    ...items(ENVIRONMENT, bold),
    '.SH FILES',
    ...items(FILES, italic),
    '.SH EXIT STATUS',
    ...items(EXIT, (t) => t),
    '.PP',
    roff("doctor's exit status follows --exit; hooks status exits 1 when the hook is not installed, current and safe."),
    '.SH SEE ALSO',
    `${bold('emerge')}(1), ${bold('ebuild')}(5), ${bold('portage')}(5), ${bold('make.conf')}(5)`,
    '',
  ].join('\n');
}
