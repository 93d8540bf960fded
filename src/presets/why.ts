// Reading a built kernel's .config against what the fragments asked for: which requests it kept,
// which it dropped, and why where gentoo-kopt's tables know (the option's kernel versions, its
// Kconfig dependencies as the harden table lists them, checked against the same .config). Pure.
import { HARDEN_BY_SYMBOL } from './harden.js';

/** `CONFIG_X=v` and `# CONFIG_X is not set` (n), later lines winning. */
export function parseDotConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split('\n')) {
    const set = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/.exec(l);
    const unset = /^# CONFIG_([A-Za-z0-9_]+) is not set$/.exec(l);
    if (set) out.set(set[1]!, set[2]!.trim());
    else if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

/** Options outside the harden table that the presets set: when they appeared and what they need. */
const OTHER: Record<string, { since: string; needs: string }> = {
  X86_NATIVE_CPU: { since: '6.16', needs: 'X86_64,CC_HAS_MARCH_NATIVE (GCC, or Clang 19.1+)' },
};

/** Kept: the same value, or n asked and the symbol absent (invisible options are not written). */
export const kept = (requested: string, actual: string | undefined): boolean =>
  actual === requested || (requested === 'n' && actual === undefined);

const parts = (v: string): number[] => (/^[0-9]+(\.[0-9]+)*/.exec(v)?.[0] ?? '0').split('.').map(Number);
/** a < b over dotted numbers (6.6.8 < 6.7); a version that does not parse counts as 0. */
export function versionBefore(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/** Why a kernel of `version` does not define `symbol` at all, or undefined when it should. */
export function absentInVersion(symbol: string, version: string): string | undefined {
  const row = HARDEN_BY_SYMBOL.get(symbol) ?? OTHER[symbol];
  if (!row) return undefined;
  if (/^[0-9]/.test(row.since) && versionBefore(version, row.since)) return `added in ${row.since}`;
  const removed: string = 'removed' in row ? String(row.removed) : '';
  if (/^[0-9]/.test(removed) && !versionBefore(version, removed)) return `renamed or removed in ${removed}`;
  return undefined;
}

/** The dependencies of `symbol` this .config does not meet, as far as the tables say; else the raw needs. */
export function whyDropped(symbol: string, config: Map<string, string>): string | undefined {
  const needs = HARDEN_BY_SYMBOL.get(symbol)?.needs ?? OTHER[symbol]?.needs;
  if (!needs) return undefined;
  const unmet: string[] = [];
  for (const term of needs.split(',').map((t) => t.trim())) {
    const m = /^(!?)([A-Z0-9_]+)$/.exec(term);
    if (!m) continue;
    const on = ['y', 'm'].includes(config.get(m[2]!) ?? 'n');
    if (m[1] ? on : !on) unmet.push(m[1] ? `${m[2]} is set` : `${m[2]} is not set`);
  }
  return unmet.length ? `needs ${needs}: ${unmet.join(', ')}` : `needs ${needs}`;
}
