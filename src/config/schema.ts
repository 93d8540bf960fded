// The keys of kopt.conf as a table: name, one-line description (for docs and `--help`), default (as it
// would be written in kopt.conf), where it may appear, and a parser from the text to the typed value.
// Adding a key is adding a row (and a field to Settings). Parsers throw InvalidValue; kopt-conf.ts adds
// the file and line. Package names follow PMS 3.1.1/3.1.2 (the rules Portage's lib/portage/versions.py
// encodes in its _cat / _pkg patterns).
import path from 'node:path';

export type Toolchain = 'llvm' | 'gnu';
export type Lto = 'none' | 'thin' | 'full' | 'gcc';
export type MixedToolchain = 'die' | 'warn';
/** x86-64 microarchitecture levels (the psABI's; GCC 11+ and clang 12+ take them as -march=). */
export type CpuBaseline = 'none' | 'x86-64' | 'x86-64-v2' | 'x86-64-v3' | 'x86-64-v4';
export type Optimize = 'performance' | 'size';
export type Harden = 'no' | 'base' | 'strict';
/** One `enable` word: a Kconfig symbol (without CONFIG_) and its value as a .config writes it (n: not set). */
export interface KconfigValue {
  symbol: string;
  value: string;
}

export interface Settings {
  packages: string[];
  series: string[];
  patchSource: string[];
  strict: boolean;
  toolchain: Toolchain;
  llvmSlot?: number;
  kcflags: string;
  lto: Lto;
  mixedToolchain: MixedToolchain;
  /** Where `gentoo-kopt fetch` keeps downloaded series files (undefined: ${DISTDIR}/gentoo-kopt). */
  fetchCache?: string;
  cpuBaseline: CpuBaseline;
  optimize?: Optimize;
  harden: Harden;
  disable: string[];
  enable: KconfigValue[];
  native: boolean;
}

/** A value that does not parse: the message names the value, the hint says what would. */
export class InvalidValue extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ParseContext {
  /** The file being read: relative paths resolve against its directory. */
  file: string;
}

interface KeySpec<F extends keyof Settings> {
  name: string;
  field: F;
  description: string;
  /** The default as written in kopt.conf ('' = empty or unset). */
  default: string;
  /** Only in the global part (before any [category/package] section). */
  globalOnly?: boolean;
  /** Why, when it is not obvious (said in the error's hint). */
  globalWhy?: string;
  parse(value: string, ctx: ParseContext): Settings[F];
}

export type AnyKeySpec = { [F in keyof Settings]-?: KeySpec<F> }[keyof Settings];

const words = (value: string): string[] => value.split(/\s+/).filter(Boolean);

function noDuplicates(list: string[], what: string): string[] {
  const seen = new Set<string>();
  for (const item of list) {
    if (seen.has(item)) throw new InvalidValue(`${what} '${item}' is listed twice`, 'list it once');
    seen.add(item);
  }
  return list;
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidValue(`'${value}' is not one of ${choices.join(', ')}`, `use one of: ${choices.join(', ')}`);
  };
}

// PMS: a category is [A-Za-z0-9_][A-Za-z0-9+_.-]*; a package name is [A-Za-z0-9_][A-Za-z0-9+_-]* and
// must not end in a hyphen followed by something that is a valid version (that would be a CPV).
const CATEGORY = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;
const PN = /^[A-Za-z0-9_][A-Za-z0-9+_-]*$/;
const VERSION_TAIL = /-[0-9]+(\.[0-9]+)*[a-z]?((_(alpha|beta|pre|rc|p)[0-9]*)*)(-r[0-9]+)?$/;

/** Why `cpn` is not a valid PMS `category/package` name, or undefined when it is. */
export function invalidCpn(cpn: string): string | undefined {
  const parts = cpn.split('/');
  if (parts.length !== 2) return `'${cpn}' is not of the form category/package`;
  const [category, pn] = parts as [string, string];
  if (!CATEGORY.test(category)) return `'${category}' is not a valid category name`;
  const tail = VERSION_TAIL.exec(pn);
  if (tail) return `'${cpn}' ends in a version ('${tail[0].slice(1)}'): name the package without it`;
  if (!PN.test(pn)) return `'${pn}' is not a valid package name`;
  return undefined;
}

function parsePackages(value: string): string[] {
  const list = words(value);
  if (list.length === 0)
    throw new InvalidValue('packages is empty', 'name at least one package, e.g. sys-kernel/gentoo-kernel');
  for (const cpn of list) {
    const why = invalidCpn(cpn);
    if (why) throw new InvalidValue(why, 'write package names as category/package, e.g. sys-kernel/gentoo-kernel');
  }
  return noDuplicates(list, 'package');
}

/** A series name, in kopt.conf's `series` and in a catalog's `[series NAME]`. */
export const SERIES_NAME = /^[a-z0-9][a-z0-9._-]*$/;

function parseSeries(value: string): string[] {
  const list = words(value);
  for (const name of list) {
    if (!SERIES_NAME.test(name)) {
      throw new InvalidValue(
        `'${name}' is not a valid series name`,
        'series names are lower-case letters, digits, ".", "_" and "-", e.g. gcc-lto',
      );
    }
  }
  return noDuplicates(list, 'series');
}

function parsePatchSource(value: string, ctx: ParseContext): string[] {
  const list = words(value).map((spec) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
      throw new InvalidValue(
        `'${spec}' is a URL`,
        'download the tarball and name the local file (a directory or a .tar, .tar.gz, .tgz, .tar.xz or .txz)',
      );
    }
    if (spec.startsWith('#') || spec.startsWith(';')) {
      throw new InvalidValue(
        `'${spec}' looks like a comment`,
        'comments go on a line of their own: a # or ; after a value is part of the value',
      );
    }
    if (spec.startsWith('~')) {
      throw new InvalidValue(`'${spec}': '~' is not expanded`, 'write the absolute path');
    }
    return path.resolve(path.dirname(ctx.file), spec);
  });
  return noDuplicates(list, 'patch source');
}

function parseFetchCache(value: string, ctx: ParseContext): string | undefined {
  if (value === '') return undefined;
  if (/\s/.test(value)) throw new InvalidValue(`'${value}': one directory, without spaces`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new InvalidValue(`'${value}' is a URL`, 'name a local directory');
  if (value.startsWith('~')) throw new InvalidValue(`'${value}': '~' is not expanded`, 'write the absolute path');
  return path.resolve(path.dirname(ctx.file), value);
}

// Python's configparser.getboolean spellings, which Portage users know from repos.conf.
const BOOLEANS: Record<string, boolean> = {
  yes: true,
  true: true,
  on: true,
  '1': true,
  no: false,
  false: false,
  off: false,
  '0': false,
};

function parseBoolean(value: string): boolean {
  const b = BOOLEANS[value.toLowerCase()];
  if (b === undefined)
    throw new InvalidValue(`'${value}' is not yes or no`, 'use yes or no (true/false, on/off and 1/0 also work)');
  return b;
}

function parseSlot(value: string): number | undefined {
  if (value === '') return undefined;
  if (!/^[1-9][0-9]{0,3}$/.test(value)) {
    throw new InvalidValue(
      `'${value}' is not an LLVM major version`,
      'write the major version alone, e.g. 20 (or leave it empty for the newest installed slot)',
    );
  }
  return Number(value);
}

// A flag is a flag: one word starting with '-', made of characters that mean nothing to a shell.
// This is a second line of defence (the compiled settings are quoted too) and catches typos early.
const FLAG = /^--?[A-Za-z0-9][A-Za-z0-9_=,.+:/@%-]*$/;

function parseFlags(value: string): string {
  const list = words(value);
  for (const word of list) {
    if (FLAG.test(word)) continue;
    const bad = [...word].find((c) => !/[A-Za-z0-9_=,.+:/@%-]/.test(c));
    let hint = 'kcflags holds compiler flags only (e.g. -O2 -march=native -pipe): no shell syntax, quotes or variables';
    if (bad === '#' || bad === ';')
      hint = 'comments go on a line of their own: a # or ; after a value is part of the value';
    else if (bad === '\\') hint = 'line continuations are not supported: write all flags on one line';
    else if (bad === '"' || bad === "'") hint = 'values are not quoted in kopt.conf: remove the quotes';
    else if (!bad)
      hint =
        'every word must be a flag starting with "-"; write a flag and its argument as one word (--param=name=value)';
    const why = bad ? `character '${bad}' is not allowed in a compiler flag` : 'not a compiler flag';
    throw new InvalidValue(`'${word}': ${why}`, hint);
  }
  return list.join(' ');
}

// Kconfig: a symbol is letters, digits and underscores (scripts/kconfig/lexer.l); a .config line is
// CONFIG_<symbol>=<value>, the value y, m, a number (decimal, or hex with 0x), or a "string".
const SYMBOL = /^[A-Za-z0-9_]+$/;
const KCONFIG_VALUE = /^(y|m|n|-?[0-9]+|0[xX][0-9a-fA-F]+|"([^"\\]|\\.)*")$/;

function checkSymbol(symbol: string, key: string): string {
  if (/^CONFIG_/i.test(symbol))
    throw new InvalidValue(
      `'${symbol}': write the symbol without its CONFIG_ prefix`,
      `write ${symbol.slice(7)}, as Kconfig names it (menuconfig's search shows it as CONFIG_${symbol.slice(7)})`,
    );
  if (!SYMBOL.test(symbol))
    throw new InvalidValue(
      `'${symbol}' is not a Kconfig symbol`,
      key === 'disable'
        ? 'disable takes symbols only, e.g. disable = KVM HIBERNATION (to set a value: enable = SYMBOL=value)'
        : 'a symbol is letters, digits and _, e.g. enable = KVM MAGIC_SYSRQ_DEFAULT_ENABLE=0xb0',
    );
  return symbol;
}

function parseOptimize(value: string): Optimize | undefined {
  return value === '' ? undefined : oneOf<Optimize>(['performance', 'size'])(value);
}

function parseDisable(value: string): string[] {
  return noDuplicates(
    words(value).map((w) => checkSymbol(w, 'disable')),
    'symbol',
  );
}

/** `enable` words: SYMBOL (= y) or SYMBOL=value, a "string" value may hold spaces. */
function enableWords(value: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"(?:[^"\\]|\\.)*")+/gy;
  let at = 0;
  while (at < value.length) {
    if (/\s/.test(value[at]!)) {
      at++;
      continue;
    }
    re.lastIndex = at;
    const m = re.exec(value);
    if (!m || (re.lastIndex < value.length && !/\s/.test(value[re.lastIndex]!)))
      throw new InvalidValue(
        `unterminated string in '${value.slice(at)}'`,
        'close the string with "; a " inside it is written \\"',
      );
    out.push(m[0]);
    at = re.lastIndex;
  }
  return out;
}

function parseEnable(value: string): KconfigValue[] {
  const list = enableWords(value).map((word): KconfigValue => {
    const eq = word.indexOf('=');
    const symbol = checkSymbol(eq < 0 ? word : word.slice(0, eq), 'enable');
    const v = eq < 0 ? 'y' : word.slice(eq + 1);
    if (!KCONFIG_VALUE.test(v))
      throw new InvalidValue(
        `${symbol}=${v}: '${v}' is not a Kconfig value`,
        'a value is y, m, n, a number (decimal, or hex as 0x1f) or a "quoted string"',
      );
    return { symbol, value: v };
  });
  noDuplicates(
    list.map((e) => e.symbol),
    'symbol',
  );
  return list;
}

/** Why the config.d keys are global: one directory of fragments for every dist-kernel. */
const FRAGMENT_GLOBAL =
  'its kernel config fragment in /etc/kernel/config.d applies to every dist-kernel (a fragment cannot name a package): set it once, in the global part';

export const KEYS: readonly AnyKeySpec[] = [
  {
    name: 'packages',
    field: 'packages',
    description: 'the kernel packages gentoo-kopt manages (category/package, whitespace-separated)',
    default: 'sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel',
    globalOnly: true,
    parse: parsePackages,
  },
  {
    name: 'series',
    field: 'series',
    description: 'patch series from the catalog to apply to each matching kernel version (e.g. gcc-lto)',
    default: '',
    parse: parseSeries,
  },
  {
    name: 'patch-source',
    field: 'patchSource',
    description: 'where patch files come from: directories or .tar/.tar.gz/.tgz/.tar.xz/.txz files, searched in order',
    default: '',
    parse: parsePatchSource,
  },
  {
    name: 'strict',
    field: 'strict',
    description: 'yes: a missing or failing series stops the emerge instead of warning',
    default: 'no',
    parse: parseBoolean,
  },
  {
    name: 'toolchain',
    field: 'toolchain',
    description: 'the compiler toolchain for kernel builds: llvm (clang, lld, llvm-* of one slot) or gnu',
    default: 'gnu',
    parse: oneOf<Toolchain>(['llvm', 'gnu']),
  },
  {
    name: 'llvm-slot',
    field: 'llvmSlot',
    description: 'the LLVM major version to build with (empty: the newest slot with clang, lld and llvm)',
    default: '',
    parse: parseSlot,
  },
  {
    name: 'kcflags',
    field: 'kcflags',
    description: 'extra compiler flags for the kernel (KCFLAGS), e.g. -O2 -march=native -pipe',
    default: '',
    parse: parseFlags,
  },
  {
    name: 'lto',
    field: 'lto',
    description:
      'link-time optimization: none, thin or full (Clang, toolchain = llvm) or gcc (needs the gcc-lto series)',
    default: 'none',
    parse: oneOf<Lto>(['none', 'thin', 'full', 'gcc']),
  },
  {
    name: 'mixed-toolchain',
    field: 'mixedToolchain',
    description:
      'when the package environment mixes GNU and LLVM tools: die (stop the emerge with the fix) or warn (override them)',
    default: 'die',
    parse: oneOf<MixedToolchain>(['die', 'warn']),
  },
  {
    name: 'fetch-cache',
    field: 'fetchCache',
    description: 'the directory gentoo-kopt fetch downloads series files into (empty: ${DISTDIR}/gentoo-kopt)',
    default: '',
    globalOnly: true,
    parse: parseFetchCache,
  },
  {
    name: 'cpu-baseline',
    field: 'cpuBaseline',
    description:
      'the oldest CPU the kernel must run on, for a binary-package host: -march=<level> replaces any -march= of kcflags (none: kcflags as written)',
    default: 'none',
    parse: oneOf<CpuBaseline>(['none', 'x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4']),
  },
  {
    name: 'optimize',
    field: 'optimize',
    description:
      "the kernel's own optimization level for every dist-kernel: performance (-O2) or size (-Os); empty: the kernel config's",
    default: '',
    globalOnly: true,
    globalWhy: FRAGMENT_GLOBAL,
    parse: parseOptimize,
  },
  {
    name: 'harden',
    field: 'harden',
    description:
      'kernel hardening options for every dist-kernel: no, base (no userland breakage) or strict (may cost performance)',
    default: 'no',
    globalOnly: true,
    globalWhy: FRAGMENT_GLOBAL,
    parse: oneOf<Harden>(['no', 'base', 'strict']),
  },
  {
    name: 'disable',
    field: 'disable',
    description: 'Kconfig symbols to switch off in every dist-kernel (without CONFIG_), e.g. KVM',
    default: '',
    globalOnly: true,
    globalWhy: FRAGMENT_GLOBAL,
    parse: parseDisable,
  },
  {
    name: 'enable',
    field: 'enable',
    description:
      'Kconfig symbols to switch on in every dist-kernel: SYMBOL (=y) or SYMBOL=value (y, m, n, a number, a "string")',
    default: '',
    globalOnly: true,
    globalWhy: FRAGMENT_GLOBAL,
    parse: parseEnable,
  },
  {
    name: 'native',
    field: 'native',
    description:
      'yes: build every dist-kernel for this CPU (X86_NATIVE_CPU on 6.16 and later, -march=native in KCFLAGS before)',
    default: 'no',
    globalOnly: true,
    globalWhy: FRAGMENT_GLOBAL,
    parse: parseBoolean,
  },
];

export const KEYS_BY_NAME: ReadonlyMap<string, AnyKeySpec> = new Map(KEYS.map((k) => [k.name, k]));

/** The defaults, parsed from the table (patch-source's default is empty, so no file is needed). */
export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const spec of KEYS) {
    const value = spec.parse(spec.default, { file: '/' });
    if (value !== undefined) out[spec.field] = value;
  }
  return out as unknown as Settings;
}
