// Is a symbol in kopt.conf's disable/enable one the kernel knows? When kernel sources are installed
// (${EROOT}/usr/src/linux-*: dist-kernels install their tree there, with its Kconfig files), every
// `config`/`menuconfig` entry of their Kconfig* files is a symbol, and one that none of them defines is
// an error with a did-you-mean. Without sources nothing can be refused: a symbol close to one of
// gentoo-kopt's own tables gets a warning with the suggestion. Reads only; bounded (LIMITS.source
// per file, MAX_FILES Kconfig files per tree).
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { closest } from '../config/ini-lines.js';
import type { KoptConfig } from '../config/kopt-conf.js';
import type { Roots } from '../portage/roots.js';
import { readOptional } from '../system/read.js';

const MAX_FILES = 10_000;
const ENTRY = /^[ \t]*(?:menu)?config[ \t]+([A-Za-z0-9_]+)[ \t]*$/gm;

/** Symbols this tool itself names (with the hardening table's), for suggestions when there are no sources to ask. */
const NAMED_SYMBOLS = [
  'CC_OPTIMIZE_FOR_PERFORMANCE',
  'CC_OPTIMIZE_FOR_SIZE',
  'X86_NATIVE_CPU',
  'KVM',
  'KVM_INTEL',
  'KVM_AMD',
  'LTO_NONE',
  'LTO_CLANG_THIN',
  'LTO_CLANG_FULL',
  'DEBUG_KERNEL',
  'DEBUG_FS',
  'GCOV_KERNEL',
];

/** NAMED_SYMBOLS and the hardening table's (loaded only here: the largest module of the program). */
async function knownSymbols(): Promise<ReadonlySet<string>> {
  const { HARDEN_ROWS } = await import('./harden.js');
  return new Set([...HARDEN_ROWS.map((r) => r.symbol), ...NAMED_SYMBOLS]);
}

/** Kconfig* files below `dir` (links not followed). */
async function kconfigFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.startsWith('Kconfig')) continue;
    out.push(path.join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name));
    if (out.length > MAX_FILES) break;
  }
  return out;
}

/** The source trees under ${EROOT}/usr/src that have Kconfig files, and every symbol they define. */
export async function kernelSymbols(eroot: string): Promise<{ trees: string[]; symbols: Set<string> }> {
  const src = path.join(eroot, 'usr/src');
  const names = (await readdir(src).catch(() => [] as string[])).filter((n) => n.startsWith('linux')).sort();
  const trees: string[] = [];
  const symbols = new Set<string>();
  for (const name of names) {
    const dir = path.join(src, name);
    if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) continue; // /usr/src/linux: a link to one of them
    const files = await kconfigFiles(dir);
    if (files.length === 0) continue;
    trees.push(dir);
    for (const file of files) {
      const text = (await readOptional(file, 'source').catch(() => undefined))?.toString('utf8') ?? '';
      for (const m of text.matchAll(ENTRY)) symbols.add(m[1]!);
    }
  }
  return { trees, symbols };
}

/**
 * Checks disable/enable against the installed kernel sources: a ConfigError (kopt.conf's line) for a
 * symbol none of them defines; without sources, warnings for symbols close to a known one.
 */
export async function checkSymbols(config: KoptConfig, roots: Roots): Promise<string[]> {
  const g = config.global;
  const asked = [
    ...g.disable.map((symbol) => ({ symbol, key: 'disable' as const })),
    ...g.enable.map((e) => ({ symbol: e.symbol, key: 'enable' as const })),
  ];
  if (asked.length === 0) return [];
  const { trees, symbols } = await kernelSymbols(roots.eroot);
  const warnings: string[] = [];
  for (const { symbol, key } of asked) {
    if (trees.length && !symbols.has(symbol)) {
      const near = closest(symbol, symbols);
      throw new ConfigError(
        `${key}: ${symbol} is not a Kconfig symbol of ${trees.map((t) => path.basename(t)).join(', ')}`,
        {
          file: config.file,
          line: config.lines[key],
          hint: near
            ? `did you mean ${near}?`
            : "check the name in menuconfig's search (/) of that kernel, without CONFIG_",
        },
      );
    }
    const known = trees.length ? undefined : await knownSymbols();
    if (known && !known.has(symbol)) {
      const near = closest(symbol, known);
      if (near)
        warnings.push(
          `${config.file}:${config.lines[key]}: ${key}: ${symbol} is not a symbol gentoo-kopt knows, did you mean ${near}? (no kernel sources under ${path.join(roots.eroot, 'usr/src')} to check it against)`,
        );
    }
  }
  return warnings;
}
