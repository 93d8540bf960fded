// kopt.conf compiled into the hook's settings file, ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/hook-settings.
//
// The file is data, not code: hooks/kernel-hook.bash reads it with `read -r`, one key=value per line,
// and never sources or evaluates it. Every value is checked here against SETTING_RULES before it is
// written, and the hook checks it again against the same rules (a test keeps the two tables equal), so
// a value that could mean something to a shell never reaches one, not even from a hand-edited file.
// Per package, every setting is written with the global values resolved into it, so the hook needs
// no inheritance logic: <category>/<pn>.<key>=<value>.
import { ConfigError, UsageError } from '../errors.js';
import { settingsFor, whereIs, type KoptConfig, type Settings } from '../config/kopt-conf.js';

const SETTINGS_FORMAT = 1;
/** Relative to the config root. */
export const SETTINGS_REL = 'etc/gentoo-kopt/hook-settings';

/** What each key may hold: the same regular expressions as k_rules in hooks/kernel-hook.bash. */
export const SETTING_RULES: Readonly<Record<string, RegExp>> = {
  format: /^1$/,
  node: /^\/[A-Za-z0-9_.+@/-]+$/,
  bin: /^\/[A-Za-z0-9_.+@/-]+$/,
  kcflags: /^(--?[A-Za-z0-9][A-Za-z0-9_=,.+:/@%-]*( --?[A-Za-z0-9][A-Za-z0-9_=,.+:/@%-]*)*)?$/,
  toolchain: /^(llvm|gnu)$/,
  'llvm-slot': /^([1-9][0-9]{0,3})?$/,
  lto: /^(none|thin|full|gcc)$/,
  strict: /^(yes|no)$/,
  series: /^([a-z0-9][a-z0-9._-]*( [a-z0-9][a-z0-9._-]*)*)?$/,
  mixed: /^(die|warn)$/,
  native: /^(yes|no)$/,
  // pgo (src/pgo/store.ts hookValues): written only for a package `gentoo-kopt pgo` set up
  'pgo-mode': /^(none|instrument|use)$/,
  'pgo-kind': /^(gcov|autofdo|propeller)$/,
  'pgo-pv': /^([0-9][0-9a-z._]*)?$/,
  'pgo-profile': /^(\/[A-Za-z0-9_.+@/-]+)?$/,
};

/** Where the hook finds the program that runs sync-patches: Portage's PATH is not the user's. */
export interface Program {
  /** Absolute path of the node executable (process.execPath). */
  node: string;
  /** Absolute real path of gentoo-kopt's dist/bin.js. */
  bin: string;
}

/** One package's settings as the hook's keys and values (before checking). */
function packageValues(s: Settings): [key: string, value: string, field: keyof Settings | undefined][] {
  return [
    ['kcflags', s.kcflags, 'kcflags'],
    ['toolchain', s.toolchain, 'toolchain'],
    ['llvm-slot', s.llvmSlot === undefined ? '' : String(s.llvmSlot), 'llvmSlot'],
    ['lto', s.lto, 'lto'],
    ['strict', s.strict ? 'yes' : 'no', 'strict'],
    ['series', s.series.join(' '), 'series'],
    ['mixed', s.mixedToolchain, 'mixedToolchain'],
    // only when on: the hook's default is no, and settings written by a release without it stay current
    ...(s.native ? [['native', 'yes', 'native'] as [string, string, keyof Settings]] : []),
  ];
}

function checkProgram(program: Program): void {
  for (const key of ['node', 'bin'] as const) {
    if (!SETTING_RULES[key]!.test(program[key])) {
      throw new UsageError(
        `the hook cannot run gentoo-kopt from '${program[key]}' (${key}): only absolute paths of letters, digits and . _ + @ / - are accepted`,
        {
          hint: 'install node and gentoo-kopt under such a path (e.g. npm install -g), then run gentoo-kopt hooks install again',
        },
      );
    }
  }
}

/** Extra keys per package (category/pn -> key, value): what `gentoo-kopt pgo` set up. */
export type ExtraValues = Readonly<Record<string, readonly (readonly [key: string, value: string])[]>>;

/** The settings file's text. Throws ConfigError (with the kopt.conf line) for a value the hook would refuse. */
export function compileSettings(config: KoptConfig, program: Program, extra: ExtraValues = {}): string {
  checkProgram(program);
  const out = [
    '# gentoo-kopt hook settings, compiled from kopt.conf by `gentoo-kopt hooks install`: do not edit, it is',
    '# replaced on every install. Data, not code: the hook reads key=value lines and checks every value again.',
    `format=${SETTINGS_FORMAT}`,
    `node=${program.node}`,
    `bin=${program.bin}`,
  ];
  for (const cpn of config.global.packages) {
    const s = settingsFor(config, cpn);
    for (const [key, value, field] of packageValues(s)) {
      if (!SETTING_RULES[key]!.test(value)) {
        throw new ConfigError(`${key} for ${cpn}: '${value}' is not a value the kernel hook accepts`, {
          ...(field ? whereIs(config, field, cpn) : { file: config.file }),
          hint:
            key === 'kcflags'
              ? 'kcflags holds compiler flags only (e.g. -O2 -march=native -pipe): no shell syntax, quotes or variables'
              : undefined,
        });
      }
      out.push(`${cpn}.${key}=${value}`);
    }
    for (const [key, value] of extra[cpn] ?? []) {
      if (!SETTING_RULES[key]?.test(value))
        throw new ConfigError(`${key} for ${cpn}: '${value}' is not a value the kernel hook accepts`, {
          file: config.file,
          hint:
            key === 'pgo-profile' ? 'keep the config root under a path of letters, digits and . _ + @ / -' : undefined,
        });
      out.push(`${cpn}.${key}=${value}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Reads a settings file back (for status and doctor): key -> value, comments and blank lines skipped. */
export function parseSettings(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return map;
}
