// Kernel config files as data: the assignments of a .config or a config.d fragment (`CONFIG_X=v`,
// `# CONFIG_X is not set`), what the fragments ask for (merge_config.sh: later lines win, later
// fragments win), and what became of each request in the .config olddefconfig wrote. A request is kept
// when the value is the one asked for, or when n was asked and the symbol is absent (an invisible
// symbol is n; merge_config.sh's own report compares lines and calls that a miss, wrongly).
// Why a request was dropped comes from kconfig-why (kconfig/kconfig-why.c), parsed by parseWhy.
import { compareC } from '../portage/eapply-user.js';

export interface Assignment {
  symbol: string;
  /** As written in the file: y, m, a number, 0xb0, a quoted string; n for `# CONFIG_X is not set`. */
  value: string;
  file: string;
  line: number;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set\s*$/;

/** Every assignment of a config file, in file order. */
export function parseConfigText(text: string, file: string): Assignment[] {
  const out: Assignment[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/\r$/, '');
    const set = SET.exec(l);
    const unset = set ? null : UNSET.exec(l);
    if (set) out.push({ symbol: set[1]!, value: set[2]!.trim(), file, line: i + 1 });
    else if (unset) out.push({ symbol: unset[1]!, value: 'n', file, line: i + 1 });
  });
  return out;
}

/** symbol -> its last assignment across `files`, in order (merge_config.sh's rule). */
export function lastAssignments(files: { name: string; text: string }[]): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  for (const f of files) for (const a of parseConfigText(f.text, f.name)) out.set(a.symbol, a);
  return out;
}

/** What kconfig-why says about one symbol (see kconfig/kconfig-why.c for the lines it prints). */
export interface Why {
  undefined: boolean;
  type?: string;
  /** Direct dependencies with each term's value, and what they evaluate to. */
  depends?: string;
  /** The conjuncts of `depends` that keep the value down. */
  unmet: string[];
  /** Prompt conditions that are n: the symbol cannot be set by a config file. */
  hidden: string[];
  selectedBy?: string;
  impliedBy?: string;
  definedAt: string[];
}

const emptyWhy = (): Why => ({ undefined: false, unmet: [], hidden: [], definedAt: [] });

/** kconfig-why's output, per symbol. */
export function parseWhy(text: string): Map<string, Why> {
  const out = new Map<string, Why>();
  const whyOf = (sym: string): Why => {
    const w = out.get(sym) ?? emptyWhy();
    out.set(sym, w);
    return w;
  };
  for (const l of text.split('\n')) {
    const typed = /^([A-Za-z0-9_]+) value=.* type=([a-z]+)$/.exec(l);
    if (typed) {
      whyOf(typed[1]!).type = typed[2]!;
      continue;
    }
    const m = /^([A-Za-z0-9_]+) ([a-z-]+)(?: (.*))?$/.exec(l);
    if (!m) continue;
    const w = whyOf(m[1]!);
    const rest = m[3] ?? '';
    if (m[2] === 'undefined') w.undefined = true;
    else if (m[2] === 'depends') w.depends = rest;
    else if (m[2] === 'unmet') w.unmet.push(rest);
    else if (m[2] === 'hidden') w.hidden.push(rest);
    else if (m[2] === 'selected-by') w.selectedBy = rest;
    else if (m[2] === 'implied-by') w.impliedBy = rest;
    else if (m[2] === 'defined-at') w.definedAt.push(rest);
  }
  return out;
}

export interface OptionResult {
  symbol: string;
  requested: string;
  /** The value in the final .config; 'unset' when the symbol is not there at all. */
  actual: string;
  status: 'kept' | 'dropped';
  /** The fragment line that asked for it. */
  file: string;
  line: number;
  /** Dropped only: one line saying why, and kconfig-why's details. */
  reason?: string;
  why?: Why;
}

export const isKept = (requested: string, actual: string): boolean =>
  actual === requested || (requested === 'n' && actual === 'unset');

/** One line: why a request did not survive olddefconfig. */
export function reasonOf(requested: string, actual: string, why: Why | undefined): string {
  if (!why) return 'olddefconfig changed it (no explanation: kconfig-why did not run)';
  if (why.undefined) return 'this kernel has no such symbol (renamed, removed, or not yet added)';
  if (requested === 'm' && why.type === 'bool') return 'a bool symbol cannot be m';
  if (why.unmet.length > 0) {
    // A bare n is a condition Kconfig evaluated while parsing: $(cc-option,...), $(success,...).
    const probe = why.unmet.some((t) => /^n( \[=n\])?$/.test(t));
    const named = why.unmet.filter((t) => !/^n( \[=n\])?$/.test(t));
    const at = why.definedAt[0] ? ` (${why.definedAt[0]})` : '';
    return [
      named.length ? `unmet dependency: ${named.join(' && ')}` : '',
      probe ? `a toolchain test in its Kconfig entry failed${at}: this compiler cannot do it` : '',
    ]
      .filter(Boolean)
      .join('; ');
  }
  if (why.hidden.length > 0) return `no visible prompt (${why.hidden.join('; ')}): only defaults and selects set it`;
  if (why.selectedBy && requested === 'n') return `selected by ${why.selectedBy}`;
  if (why.impliedBy && requested === 'n') return `implied by ${why.impliedBy}`;
  return `olddefconfig set ${actual} (a choice, a range or a default the request cannot override)`;
}

/** Each request against the final .config, sorted by symbol (C order). */
export function compareRequests(
  requested: Map<string, Assignment>,
  final: Map<string, Assignment>,
  whys: Map<string, Why> = new Map(),
): OptionResult[] {
  return [...requested.values()]
    .sort((a, b) => compareC(a.symbol, b.symbol))
    .map((a) => {
      const actual = final.get(a.symbol)?.value ?? 'unset';
      const base = { symbol: a.symbol, requested: a.value, actual, file: a.file, line: a.line };
      if (isKept(a.value, actual)) return { ...base, status: 'kept' as const };
      const why = whys.get(a.symbol);
      return {
        ...base,
        status: 'dropped' as const,
        reason: reasonOf(a.value, actual, why),
        ...(why ? { why } : {}),
      };
    });
}
