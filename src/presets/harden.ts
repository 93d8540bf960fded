// kopt.conf's `harden`: the hardening table (harden-table.ts, generated from test/kconfig/harden.tsv)
// and the rows each level asks for. x86_64 rows; on other arches Kconfig ignores what it does not define.
//
// Tiers: `base` breaks no userland (the wiki's KASLR, zero-initialised stack, heap zeroing on
// allocation, register zeroing; KSPP's cheap defaults); `strict` adds what may cost performance or
// change an admin-visible default but never breaks boot or module loading (heap zeroing on free,
// STACKLEAK, RANDSTRUCT, a strict IOMMU, ...); `excluded` rows say why they are left out (hibernation,
// kexec, module signing, 32-bit compatibility, ...). A row's `toolchain` is any, gcc (GCC plugins) or
// clang (kCFI): the fragment takes the rows of the toolchains kopt.conf's packages use. Rows list
// every name an option has had (PAGE_TABLE_ISOLATION, 6.9+ MITIGATION_PAGE_TABLE_ISOLATION): one
// fragment serves every kernel version, and Kconfig ignores a name it does not define.
import type { Harden, Toolchain } from '../config/schema.js';
import { HARDEN_ROWS } from './harden-table.js';

export type Tier = 'base' | 'strict' | 'excluded';
export type Cost = 'none' | 'low' | 'medium' | 'high';

export interface HardenRow {
  symbol: string;
  /** As a .config writes it; n: `# CONFIG_X is not set`. */
  value: string;
  tier: Tier | string;
  /** Run-time cost: none, low, medium, high. */
  cost: Cost | string;
  costWhy: string;
  reason: string;
  /** Mainline version that added it ('?' not known). */
  since: string;
  /** Mainline version that removed or renamed it ('' still there). */
  removed: string;
  toolchain: 'any' | 'gcc' | 'clang' | string;
  /** Its Kconfig dependencies, as the research wrote them (comma-separated terms). */
  needs: string;
  source: string;
  notes: string;
}

export { HARDEN_ROWS };
export const HARDEN_BY_SYMBOL: ReadonlyMap<string, HardenRow> = new Map(HARDEN_ROWS.map((r) => [r.symbol, r]));

const TIERS: Record<Exclude<Harden, 'no'>, readonly string[]> = { base: ['base'], strict: ['base', 'strict'] };
const ROW_TOOLCHAIN: Record<Toolchain, string> = { gnu: 'gcc', llvm: 'clang' };

/** The rows `harden` asks for with these toolchains (none for harden = no), in the table's order. */
export function hardenRows(harden: Harden, toolchains: Iterable<Toolchain>): HardenRow[] {
  if (harden === 'no') return [];
  const tcs = new Set(['any', ...[...toolchains].map((t) => ROW_TOOLCHAIN[t])]);
  return HARDEN_ROWS.filter((r) => TIERS[harden].includes(r.tier) && tcs.has(r.toolchain));
}
