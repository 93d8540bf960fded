// verify --config as text: one block per target, the dropped options first, each with the fragment line
// that asked for it, the value olddefconfig left and why; then a count of the kept ones.
import path from 'node:path';
import type { ConfigVerdict } from './config.js';

export interface ConfigTargetResult {
  /** A CPV, or the tarball of an ad hoc run. */
  target: string;
  verdict: ConfigVerdict;
}

const STATUS: Record<ConfigVerdict['status'], string> = {
  kept: 'EVERY OPTION KEPT',
  dropped: 'OPTIONS DROPPED',
  'not-verified': 'NOT VERIFIED',
};
const shown = (v: string): string => (v === 'unset' ? 'absent' : v === 'n' ? 'n (is not set)' : v);

export function renderConfigResults(results: ConfigTargetResult[]): string {
  const out: string[] = [];
  for (const { target, verdict: v } of results) {
    const a = v.against;
    const dropped = v.options.filter((o) => o.status === 'dropped');
    const head =
      v.status === 'dropped' ? `${dropped.length} OF ${v.options.length} ${STATUS.dropped}` : STATUS[v.status];
    out.push(`${target}: ${head}`);
    if (v.status === 'not-verified' || !a) {
      out.push(`  ${v.reason}`, `  hint: ${v.hint}`, '');
      continue;
    }
    const base = [a.base, ...a.ebuildFragments].map((f) => path.basename(f)).join(' + ');
    const probes = a.probes.CC_VERSION_TEXT ?? a.probes.CC ?? '';
    out.push(
      `  ${path.basename(a.tarball)}${a.prepatches.length ? ` + ${a.prepatches.join(', ')}` : ''}; base ${base}; ARCH=${a.arch}${a.toolchain === 'llvm' ? ' LLVM=1' : ''}${probes ? ` (${probes})` : ''}`,
      ...a.notes.map((n) => `  ${n}`),
      `  ${v.options.length} option(s) requested by ${v.fragments.length} fragment(s); olddefconfig in ${(v.stats.olddefconfigMs / 1000).toFixed(1)} s, ${(v.stats.ms / 1000).toFixed(1)} s in all`,
    );
    for (const o of dropped) {
      out.push(
        `  ${o.symbol}: requested ${shown(o.requested)} (${path.basename(o.file)}:${o.line}), olddefconfig left ${shown(o.actual)}`,
        `      ${o.reason}`,
      );
    }
    if (dropped.length) out.push('  olddefconfig drops these silently during the emerge.');
    out.push('');
  }
  return out.join('\n');
}
