// What gentoo-kernel's USE=hardened merges into its .config (gentoo-kernel-config; the ebuild adds
// hardened-base.config always, hardened-gcc-plugins.config when built with GCC, and hardened-amd64
// on amd64), to set beside kopt.conf's harden: doctor says where the two agree and where they differ.
// /etc/kernel/config.d comes after the ebuild's fragments, so where they differ kopt.conf's value wins.
import type { Toolchain } from '../config/schema.js';
import { GENTOO_HARDENED_ROWS } from './gentoo-hardened-table.js';

export interface GentooHardenedRow {
  fragment: string;
  symbol: string;
  value: string;
}

/** Symbol -> value of Gentoo's hardened fragments for amd64 with this toolchain, later fragments winning. */
export function gentooHardened(toolchain: Toolchain): Map<string, { value: string; fragment: string }> {
  const fragments = ['hardened-base', ...(toolchain === 'gnu' ? ['hardened-gcc-plugins'] : []), 'hardened-amd64'];
  const out = new Map<string, { value: string; fragment: string }>();
  for (const f of fragments)
    for (const r of GENTOO_HARDENED_ROWS.filter((row) => row.fragment === f))
      out.set(r.symbol, { value: r.value, fragment: r.fragment });
  return out;
}
