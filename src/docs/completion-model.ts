// What the shell completions complete, derived from the command table alone (a command or option added
// to commands/table.ts is completed without an edit here) and the doctor check registry's ids.
// Values are completed by their placeholder in the table (`--root DIR` completes directories), or by
// the option's choices when it has them.
import { COMMANDS, COMMON_OPTIONS, PROGRAM_OPTIONS, type CommandSpec, type OptionSpec } from '../commands/table.js';

/** How one value is completed: a fixed list, or one of the completions the shell scripts implement. */
export type Completer =
  | { kind: 'directory' | 'file' | 'kernel' | 'none' }
  | { kind: 'words'; words: readonly string[] };

/**
 * Placeholders of the table, and what completes them. `CPV`: the kernel versions installed under the
 * root (its VDB) or offered by the repositories its repos.conf names; `ID`: the doctor check ids.
 * A placeholder not listed here completes nothing rather than something wrong.
 */
export const PLACEHOLDERS: Readonly<Record<string, 'directory' | 'file' | 'kernel' | 'check'>> = {
  DIR: 'directory',
  FILE: 'file',
  'DIR|FILE': 'file',
  CPV: 'kernel',
  ID: 'check',
};

export interface CompletionModel {
  /** What the first word can be: each command's first word, `help`, and the program's options. */
  first: readonly string[];
  /** Groups: `hooks` -> install, uninstall, status. */
  groups: Readonly<Record<string, readonly string[]>>;
  /** Each command (by its words) -> its options, long and short, the common ones included. */
  options: Readonly<Record<string, readonly string[]>>;
  /** `COMMAND --option` (and `COMMAND -x`) -> how its value is completed, for options that take one. */
  values: Readonly<Record<string, Completer>>;
  /** Each command that takes arguments -> how they are completed, and how many it takes (0: any number). */
  args: Readonly<Record<string, { completer: Completer; max: number }>>;
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

function completer(placeholder: string | undefined, checkIds: readonly string[]): Completer {
  const kind = PLACEHOLDERS[placeholder ?? ''];
  if (kind === 'check') return { kind: 'words', words: checkIds };
  return { kind: kind ?? 'none' };
}

function optionValue(o: OptionSpec, checkIds: readonly string[]): Completer {
  return o.choices ? { kind: 'words', words: o.choices } : completer(o.value, checkIds);
}

export function completionModel(
  checkIds: readonly string[],
  commands: readonly CommandSpec[] = COMMANDS,
): CompletionModel {
  const groups: Record<string, string[]> = {};
  const options: Record<string, string[]> = {};
  const values: Record<string, Completer> = {};
  const args: Record<string, { completer: Completer; max: number }> = {};
  for (const c of commands) {
    const [head, sub] = c.name.split(' ') as [string, string?];
    if (sub !== undefined) groups[head] = [...(groups[head] ?? []), sub];
    const all = [...c.options, ...COMMON_OPTIONS];
    options[c.name] = unique(all.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]));
    for (const o of all.filter((x) => x.type === 'string')) {
      values[`${c.name} --${o.name}`] = optionValue(o, checkIds);
      if (o.short) values[`${c.name} -${o.short}`] = optionValue(o, checkIds);
    }
    const max = c.arguments.some((a) => a.multiple) ? 0 : c.arguments.length;
    if (c.arguments[0]) args[c.name] = { completer: completer(c.arguments[0].name, checkIds), max };
  }
  const first = [
    ...unique(commands.map((c) => c.name.split(' ')[0]!)),
    'help',
    ...PROGRAM_OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]),
  ];
  return { first, groups, options, values, args };
}
