// The command line: parse argv against the command table (src/commands/table.ts), call one command
// function, print what it returns, exit. The only module that prints or exits. Commands are loaded
// lazily so that `--version` and `--help` stay cheap.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KoptError, LockedError, UsageError } from './errors.js';
import { VERSION_LINE } from './version.js';
import { COMMANDS, PROGRAM, type CommandName, type CommandSpec } from './commands/table.js';
import { commandHelp, commandsOf, optionsOf, programHelp, programUsage, usageLine } from './commands/help.js';
import type { CommandContext, CommandResult } from './commands/types.js';
import type { ExitPolicy } from './commands/doctor.js';

type Values = Record<string, string | boolean | string[] | undefined>;
type Runner = (ctx: CommandContext, values: Values, args: string[]) => Promise<CommandResult>;
type Options = NonNullable<ParseArgsConfig['options']>;

const strings = (v: Values, name: string): string[] => (v[name] as string[] | undefined) ?? [];
const string = (v: Values, name: string): string | undefined => v[name] as string | undefined;

/** verify checks patches, or with --config the config fragments: each has options the other refuses. */
const VERIFY_ONLY = { patches: ['patches', 'source', 'confirm'], config: ['base-config', 'toolchain'] } as const;
function verifyMode(v: Values): 'patches' | 'config' {
  const mode = v.config === true ? 'config' : 'patches';
  const other = mode === 'config' ? 'patches' : 'config';
  const wrong = VERIFY_ONLY[other].find((name) => v[name] !== undefined);
  if (wrong) throw new UsageError(`--${wrong} ${mode === 'config' ? 'does not go with' : 'needs'} --config`);
  return mode;
}

/** One runner per command of the table (the type demands it), each loading its command on first use. */
const RUN: Record<CommandName, Runner> = {
  'sync-patches': async (ctx, v) =>
    (await import('./commands/sync-patches.js')).syncPatchesCommand(ctx, {
      pretend: v.pretend === true,
      force: v.force === true,
      packages: strings(v, 'package'),
      verify: v['no-verify'] !== true,
      fetch: v['no-fetch'] !== true,
    }),
  'patches list': async (ctx, v, [cpv]) =>
    (await import('./commands/patches-list.js')).patchesListCommand(ctx, { cpv: cpv!, slot: string(v, 'slot') }),
  'hooks install': async (ctx, v) =>
    (await import('./commands/hooks.js')).hooksCommand(ctx, { action: 'install', pretend: v.pretend === true }),
  'hooks uninstall': async (ctx, v) =>
    (await import('./commands/hooks.js')).hooksCommand(ctx, { action: 'uninstall', pretend: v.pretend === true }),
  'hooks status': async (ctx) =>
    (await import('./commands/hooks.js')).hooksCommand(ctx, { action: 'status', pretend: false }),
  // With --tarball the arguments are patch files, as --patches.
  verify: async (ctx, v, args) =>
    verifyMode(v) === 'config'
      ? (await import('./commands/verify-config.js')).verifyConfigCommand(ctx, {
          cpvs: args,
          ...(v.tarball ? { tarball: v.tarball as string } : {}),
          ...(v['base-config'] ? { baseConfig: v['base-config'] as string } : {}),
          ...(v.toolchain ? { toolchain: v.toolchain as 'gnu' | 'llvm' } : {}),
        })
      : (await import('./commands/verify.js')).verifyCommand(ctx, {
          cpvs: v.tarball ? [] : args,
          patches: [...strings(v, 'patches'), ...(v.tarball ? args : [])],
          ...(v.tarball ? { tarball: v.tarball as string } : {}),
          ...(v.source ? { source: v.source as string } : {}),
          confirm: v.confirm === true,
        }),
  doctor: async (ctx, v) => {
    const { doctorCommand } = await import('./commands/doctor.js');
    return doctorCommand(ctx, {
      checks: v.check as string[] | undefined,
      list: v.list === true,
      exit: (string(v, 'exit') ?? 'error') as ExitPolicy,
    });
  },
  rollback: async (ctx, v) =>
    (await import('./commands/rollback.js')).rollbackCommand(ctx, {
      pretend: v.pretend === true,
      force: v.force === true,
    }),
  fetch: async (ctx, v) => (await import('./commands/fetch.js')).fetchCommand(ctx, { packages: strings(v, 'package') }),
  init: async (ctx, v) => (await import('./commands/init.js')).initCommand(ctx, { pretend: v.pretend === true }),
  'pgo instrument': async (ctx, v) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'instrument',
      pretend: v.pretend === true,
      package: string(v, 'package'),
      kind: v.propeller === true ? 'propeller' : v.autofdo === true ? 'autofdo' : 'gcov',
    }),
  'pgo collect': async (ctx, v) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'collect',
      pretend: v.pretend === true,
      from: string(v, 'from'),
      package: string(v, 'package'),
    }),
  'pgo use': async (ctx, v, [cpv]) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'use',
      pretend: v.pretend === true,
      cpv,
      package: string(v, 'package'),
      forPv: string(v, 'for'),
      force: v.force === true,
    }),
  'pgo record': async (ctx, v, args) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'record',
      pretend: v.pretend === true,
      command: args,
      perfData: string(v, 'output'),
    }),
  'pgo convert': async (ctx, v) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'convert',
      pretend: v.pretend === true,
      perfData: string(v, 'perf-data'),
      vmlinux: string(v, 'vmlinux'),
      package: string(v, 'package'),
    }),
  'pgo status': async (ctx) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, { action: 'status', pretend: false }),
  'pgo off': async (ctx, v) =>
    (await import('./commands/pgo.js')).pgoCommand(ctx, {
      action: 'off',
      pretend: v.pretend === true,
      package: string(v, 'package'),
      force: v.force === true,
    }),
};

const TABLE: readonly CommandSpec[] = COMMANDS;

/** The command named by the first one or two words of argv. */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const spec = TABLE.find((c) => c.name === argv.slice(0, words).join(' '));
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return undefined;
}

/** The table's options in parseArgs' form. */
const parseOptions = (spec: CommandSpec): Options =>
  Object.fromEntries(
    optionsOf(spec).map((o) => [
      o.name,
      { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) },
    ]),
  );

/**
 * parseArgs (strict) failed with one of its ERR_PARSE_ARGS_* codes: name the option at fault in one
 * line, from parseArgs' own tokens (not from its message, whose wording is Node's).
 */
async function usageErrorOf(err: unknown, args: string[], options: Options): Promise<UsageError | undefined> {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (!(err instanceof TypeError) || typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (!spec) {
      const { closest } = await import('./config/ini-lines.js');
      const near = closest(t.name, Object.keys(options));
      return new UsageError(`unknown option '${t.rawName}'${near ? ` (did you mean '--${near}'?)` : ''}`);
    }
    if (spec.type === 'boolean' && t.value !== undefined) return new UsageError(`option '${t.rawName}' takes no value`);
    if (spec.type === 'string' && t.value === undefined) return new UsageError(`option '${t.rawName}' needs a value`);
    if (spec.type === 'string' && !t.inlineValue && t.value?.startsWith('-')) {
      const how = `write ${t.rawName}=VALUE for a value that starts with '-'`;
      return new UsageError(`option '${t.rawName}' needs a value, not the option '${t.value}' (${how})`);
    }
  }
  return new UsageError((err as Error).message.split('\n')[0]!);
}

/** The table's arguments and choices: each required argument present, no more than the command takes. */
function checkArguments(spec: CommandSpec, values: Values, args: string[]): void {
  for (const o of optionsOf(spec)) {
    const given = [values[o.name]].flat().filter((v) => typeof v === 'string');
    const bad = o.choices && given.find((v) => !o.choices!.includes(v));
    if (bad !== undefined) throw new UsageError(`--${o.name} ${bad}: expected ${o.choices!.join(' or ')}`);
  }
  const required = spec.arguments.filter((a) => a.required);
  const missing = required[args.length];
  if (missing) throw new UsageError(`missing argument ${missing.name}`);
  const max = spec.arguments.some((a) => a.multiple) ? Number.POSITIVE_INFINITY : spec.arguments.length;
  if (args.length > max) throw new UsageError(`unexpected argument '${args[max]}'`);
}

/** `help [COMMAND]`, a group's first word alone (`hooks`), or an unknown command. */
async function help(words: string[], asked: boolean): Promise<number> {
  const found = findCommand(words);
  if (asked && (words.length === 0 || (found && found.rest.length === 0))) {
    process.stdout.write(`${found ? commandHelp(found.spec) : programHelp()}\n`);
    return 0;
  }
  const group = words.length === 1 ? commandsOf(words[0]!) : [];
  if (asked && group.length) {
    process.stdout.write(`${programHelp(group)}\n`);
    return 0;
  }
  let error = `'${words[0]}' needs a command: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`;
  if (!group.length) {
    const { closest } = await import('./config/ini-lines.js');
    const near = closest(words.join(' '), new Set(TABLE.map((c) => c.name.split(' ')[0]!)));
    error = `unknown command '${words.join(' ')}'${near ? ` (did you mean '${near}'?)` : ''}`;
  }
  process.stderr.write(`${PROGRAM}: error: ${error}\n${programUsage(group.length ? group : undefined)}\n`);
  return 2;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${programHelp()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === 'help') return help(argv.slice(1), true);
  const found = findCommand(argv);
  if (!found) return help(argv.slice(0, 1), argv.includes('--help') || argv.includes('-h'));
  const { spec, rest } = found;
  const options = parseOptions(spec);
  let json = rest.includes('--json');
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (err) {
      throw (await usageErrorOf(err, rest, options)) ?? err;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(`${commandHelp(spec)}\n`);
      return 0;
    }
    json = values.json === true;
    checkArguments(spec, values as Values, positionals);
    const { resolveRoots } = await import('./portage/roots.js');
    const { styleFrom, progressWriter, quietText } = await import('./output.js');
    const quiet = values.quiet === true;
    const ctx: CommandContext = {
      roots: resolveRoots({ root: values.root as string | undefined, env }),
      env,
      json,
      tty: process.stdout.isTTY === true && !json,
      // A progress line for multi-second work (fetch, verify's decode): on a terminal only, never with
      // --json or --quiet.
      progress: progressWriter(process.stderr, { json, quiet }),
      style: styleFrom(env, process.stdout.isTTY === true && !json, { quiet, verbose: values.verbose === true }),
    };
    const result = await RUN[spec.name as CommandName](ctx, values as Values, positionals);
    let text = result.text.endsWith('\n') || result.text === '' ? result.text : result.text + '\n';
    if (quiet) text = quietText(text).replace(/(.)$/, '$1\n');
    process.stdout.write(json ? (result.jsonText ?? JSON.stringify(result.data) + '\n') : text);
    return result.exitCode;
  } catch (err) {
    return reportError(err, json, usageLine(spec));
  }
}

function reportError(err: unknown, json: boolean, usage: string): number {
  const isUsage = err instanceof UsageError;
  const status = isUsage ? 2 : err instanceof LockedError ? 3 : 1;
  const known = err instanceof KoptError ? err : undefined;
  const message = known ? known.describe() : err instanceof Error ? err.message : String(err);
  if (json) {
    const kind = known ? known.name : err instanceof Error ? err.name : 'Error';
    const error = { kind, message: known?.message ?? message, file: known?.file, line: known?.line, hint: known?.hint };
    process.stdout.write(JSON.stringify({ error }) + '\n');
  } else {
    process.stderr.write(`${PROGRAM}: error: ${message}\n`);
    if (known?.hint) process.stderr.write(`${PROGRAM}: ${known.hint}\n`);
    if (isUsage) process.stderr.write(`usage: ${usage}\n`);
    if (!known && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  return status;
}
