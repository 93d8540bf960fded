// What doctor reports, as data (pkgcheck's results.py): a finding is `{kind, level, where, ...fields}`;
// its message and fix hint are derived from those fields by the kinds table below, so checks never
// format text and reporters never know about kinds. Adding a finding kind is adding a row (and a
// golden fixture in test/fixtures/doctor/<kind>/, which a test demands).
import { KINDS, type KindSpec } from './kinds.js';

export { KINDS };

export type Level = 'error' | 'warning' | 'info';

/** Ordered from least to most severe: the exit policy compares ranks. */
export const LEVELS: readonly Level[] = ['info', 'warning', 'error'];
export const levelRank = (l: Level): number => LEVELS.indexOf(l);

/** Where a finding is: the file (absolute, under the roots) and line when there is one. */
export interface FindingWhere {
  file?: string;
  line?: number;
}

export type Kind = keyof typeof KINDS;
export type Fields<K extends Kind> = NonNullable<(typeof KINDS)[K]['fields']>;

/** One finding: its kind, level, where, and the kind's own fields spread alongside. */
export type Finding<K extends Kind = Kind> = K extends Kind
  ? { kind: K; level: Level; where: FindingWhere } & Fields<K>
  : never;

/** A finding with its text, as reporters print it and `--json` emits it. */
export type RenderedFinding = Finding & { check: string; message: string; fix: string };

// The table's functions are typed per kind; looked up by a runtime kind they take any finding.
type AnySpec = KindSpec<Record<string, unknown>>;
const specOf = (kind: Kind): AnySpec => KINDS[kind] as unknown as AnySpec;

/** Builds a finding of `kind`; its level comes from the table (fixed, or computed from the fields). */
export function finding<K extends Kind>(kind: K, where: FindingWhere, fields: Fields<K>): Finding<K> {
  const spec = specOf(kind);
  const base = { kind, where: cleanWhere(where), ...(fields as object) } as Record<string, unknown> & {
    where: FindingWhere;
  };
  const level = typeof spec.level === 'function' ? spec.level(base) : spec.level;
  return { kind, level, ...base } as unknown as Finding<K>;
}

function cleanWhere(where: FindingWhere): FindingWhere {
  return where.line === undefined
    ? where.file === undefined
      ? {}
      : { file: where.file }
    : { file: where.file, line: where.line };
}

function messageOf(f: Finding): string {
  return specOf(f.kind).message(f as unknown as Record<string, unknown> & { where: FindingWhere });
}

function fixOf(f: Finding): string {
  return specOf(f.kind).fix(f as unknown as Record<string, unknown> & { where: FindingWhere });
}

export function render(check: string, f: Finding): RenderedFinding {
  return { check, ...f, message: messageOf(f), fix: fixOf(f) } as RenderedFinding;
}

/** A check that cannot run throws this; the runner reports the check as skipped with the reason. */
export class SkipCheck extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SkipCheck';
  }
}
