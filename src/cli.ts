// The command line: parse, call one command function, print what it returns, exit.
// The only module that prints or exits. Commands are loaded lazily so `--version` stays cheap.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KoptError, LockedError, UsageError } from './errors.js';
import type { CommandContext, CommandResult } from './commands/types.js';

type Values = Record<string, string | boolean | string[] | undefined>;

interface CommandSpec {
  /** "sync-patches" or "patches list". */
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(ctx: CommandContext, values: Values, positionals: string[]): Promise<CommandResult>;
}

const common = {
  root: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `hooks install|uninstall|status`: one command function, three entries. */
const HOOK_ACTIONS = [
  ['install', 'add the gentoo-kopt block to /etc/portage/bashrc and compile kopt.conf into the hook settings'],
  ['uninstall', 'remove the block from /etc/portage/bashrc and the files hooks install wrote'],
  ['status', 'say whether the hook is installed, current and safe (exit 1 if not)'],
] as const;

function hooksSpec([action, summary]: (typeof HOOK_ACTIONS)[number]): CommandSpec {
  const writes = action !== 'status';
  return {
    name: `hooks ${action}`,
    summary,
    usage: `gentoo-kopt hooks ${action}${writes ? ' [--pretend]' : ''} [--root DIR] [--json]`,
    options: writes ? { ...common, pretend: { type: 'boolean', short: 'p' } } : { ...common },
    run: async (ctx, v) =>
      (await import('./commands/hooks.js')).hooksCommand(ctx, { action, pretend: v.pretend === true }),
  };
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'sync-patches',
    summary: 'install the patch series matching each kernel version into /etc/portage/patches',
    usage: 'gentoo-kopt sync-patches [--pretend] [--force] [--package CPV]... [--no-verify] [--root DIR] [--json]',
    options: {
      ...common,
      pretend: { type: 'boolean', short: 'p' },
      force: { type: 'boolean' },
      package: { type: 'string', multiple: true },
      'no-verify': { type: 'boolean' },
    },
    run: async (ctx, v) =>
      (await import('./commands/sync-patches.js')).syncPatchesCommand(ctx, {
        pretend: v.pretend === true,
        force: v.force === true,
        packages: (v.package as string[] | undefined) ?? [],
        verify: v['no-verify'] !== true,
      }),
  },
  {
    name: 'patches list',
    summary: 'list the patches the next emerge of a package will apply (eapply_user), and from where',
    usage: 'gentoo-kopt patches list CPV [--slot SLOT] [--root DIR] [--json]',
    options: { ...common, slot: { type: 'string' } },
    run: async (ctx, v, pos) =>
      (await import('./commands/patches-list.js')).patchesListCommand(ctx, {
        cpv: requireOne(pos, 'CPV'),
        slot: v.slot as string | undefined,
      }),
  },
  ...HOOK_ACTIONS.map(hooksSpec),
  {
    name: 'verify',
    summary: 'dry-run the patches against the kernel sources before emerge does (streamed from the distfiles)',
    usage:
      'gentoo-kopt verify [CPV...] [--patches DIR|FILE]... [--source DIR | --tarball FILE [PATCH...]] [--confirm] [--root DIR] [--json]',
    options: {
      ...common,
      patches: { type: 'string', multiple: true },
      source: { type: 'string' },
      tarball: { type: 'string' },
      confirm: { type: 'boolean' },
    },
    run: async (ctx, v, pos) =>
      (await import('./commands/verify.js')).verifyCommand(ctx, {
        cpvs: v.tarball ? [] : pos,
        patches: [...((v.patches as string[] | undefined) ?? []), ...(v.tarball ? pos : [])],
        ...(v.tarball ? { tarball: v.tarball as string } : {}),
        ...(v.source ? { source: v.source as string } : {}),
        confirm: v.confirm === true,
      }),
  },
  {
    name: 'doctor',
    summary: 'check toolchain, flags, hooks, patches and kernel config: each finding with where, what and the fix',
    usage: 'gentoo-kopt doctor [--check ID]... [--list] [--exit error|warning] [--root DIR] [--json]',
    options: {
      ...common,
      check: { type: 'string', multiple: true },
      list: { type: 'boolean' },
      exit: { type: 'string' },
    },
    run: async (ctx, v) => {
      const { doctorCommand, parseExitPolicy } = await import('./commands/doctor.js');
      return doctorCommand(ctx, {
        checks: v.check as string[] | undefined,
        list: v.list === true,
        exit: parseExitPolicy(v.exit as string | undefined),
      });
    },
  },
  {
    name: 'rollback',
    summary: 'undo the last transaction (restore every file it replaced or removed)',
    usage: 'gentoo-kopt rollback [--pretend] [--force] [--root DIR] [--json]',
    options: { ...common, pretend: { type: 'boolean', short: 'p' }, force: { type: 'boolean' } },
    run: async (ctx, v) =>
      (await import('./commands/rollback.js')).rollbackCommand(ctx, {
        pretend: v.pretend === true,
        force: v.force === true,
      }),
  },
];

function requireOne(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${positionals.length}`);
  return positionals[0]!;
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: gentoo-kopt COMMAND [OPTIONS]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'common options:',
    '  --root DIR   act on the Gentoo root DIR (sets ROOT and PORTAGE_CONFIGROOT); default: $ROOT, /',
    '  --json       print a machine-readable report',
    '  --version    print the version',
    '',
    'See README.md for exit statuses and the files each command reads and writes.',
  ].join('\n');
}

/** Finds the command named by the first one or two words of argv. */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const spec = COMMANDS.find((c) => c.name === name);
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return undefined;
}

async function version(): Promise<string> {
  const [{ readBounded }, { fileURLToPath }] = await Promise.all([import('./system/read.js'), import('node:url')]);
  const file = fileURLToPath(new URL('../package.json', import.meta.url));
  const fail = (): never => {
    throw new KoptError('has no version: it is not the package.json of gentoo-kopt', {
      file,
      hint: 'reinstall gentoo-kopt',
    });
  };
  let pkg: unknown;
  try {
    pkg = JSON.parse((await readBounded(file, 'program')).toString('utf8'));
  } catch (err) {
    if (err instanceof KoptError) throw err;
    fail();
  }
  const v = (pkg as { version?: unknown } | null)?.version;
  return typeof v === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(v) ? v : fail();
}

type Spec = CommandSpec['options'];

/**
 * parseArgs (strict) failed with one of its ERR_PARSE_ARGS_* codes: name the option at fault in one
 * line, from parseArgs' own tokens (not from its message, whose wording is Node's).
 */
async function usageErrorOf(err: unknown, args: string[], options: Spec): Promise<UsageError | undefined> {
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
      return new UsageError(
        `option '${t.rawName}' needs a value, not the option '${t.value}' (write ${t.rawName}=VALUE for a value that starts with '-')`,
      );
    }
  }
  return new UsageError((err as Error).message.split('\n')[0]!);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    try {
      process.stdout.write(`gentoo-kopt ${await version()}\n`);
      return 0;
    } catch (err) {
      return reportError(err, false, 'gentoo-kopt --version');
    }
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText() + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`gentoo-kopt: unknown command '${argv[0]}'\n\n${helpText()}\n`);
    return 2;
  }
  const { spec, rest } = found;
  let json = rest.includes('--json');
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: spec.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw (await usageErrorOf(err, rest, spec.options)) ?? err;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(`usage: ${spec.usage}\n\n${spec.summary}\n`);
      return 0;
    }
    json = values.json === true;
    const { resolveRoots } = await import('./portage/roots.js');
    const ctx: CommandContext = {
      roots: resolveRoots({ root: values.root as string | undefined, env }),
      env,
      json,
      tty: process.stdout.isTTY === true && !json,
      // A progress line for multi-second work (verify's decode): on a terminal only, never with --json.
      progress: process.stderr.isTTY && !json ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
    };
    const result = await spec.run(ctx, values as Values, positionals);
    const text = result.text.endsWith('\n') || result.text === '' ? result.text : result.text + '\n';
    process.stdout.write(json ? (result.jsonText ?? JSON.stringify(result.data) + '\n') : text);
    return result.exitCode;
  } catch (err) {
    return reportError(err, json, spec.usage);
  }
}

function reportError(err: unknown, json: boolean, usage: string): number {
  const isUsage = err instanceof UsageError;
  const status = isUsage ? 2 : err instanceof LockedError ? 3 : 1;
  const message = err instanceof KoptError ? err.describe() : err instanceof Error ? err.message : String(err);
  const hint = err instanceof KoptError ? err.hint : undefined;
  if (json) {
    const e = err as KoptError;
    process.stdout.write(
      JSON.stringify({
        error: { kind: e?.name ?? 'Error', message: e?.message ?? message, file: e?.file, line: e?.line, hint },
      }) + '\n',
    );
  } else {
    process.stderr.write(`gentoo-kopt: error: ${message}\n`);
    if (hint) process.stderr.write(`gentoo-kopt: ${hint}\n`);
    if (isUsage) process.stderr.write(`usage: ${usage}\n`);
    if (!(err instanceof KoptError) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  return status;
}
