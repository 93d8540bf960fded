// Which entry of a series a kernel version gets. Ranges are semver ranges over the kernel version
// (the package version mapped first: 6.13_rc3 -> 6.13.0-rc3, 6.18.32_p1 -> 6.18.32); each version may
// match at most one entry of a series, checked when matching and, for doctor, statically.
// semver's modules one by one: its index loads all 47 of them.
import Range from 'semver/classes/range.js';
import valid from 'semver/functions/valid.js';
import type { RangeOptions } from 'semver';
import { ConfigError, formatWhere, VersionError } from '../errors.js';
import type { Catalog, CatalogEntry, Series } from './catalog.js';

const RANGE_OPTIONS: RangeOptions = { includePrerelease: true };

// Kernel release candidates come before their release (6.2.0-rc1 < 6.2.0), and semver's
// includePrerelease would put them inside `<6.2.0`. But 6.2-rc1 belongs to the 6.2 line, so a bare upper
// bound `<X.Y.Z` is read as `<X.Y.Z-0` (below every X.Y.Z prerelease). A lower bound `>=X.Y.Z` likewise
// excludes X.Y.Z's release candidates; `>=X.Y.Z-rc1`, `>=X.Y.Z-0` or `~X.Y` include them.
/** Ranges already read: a run matches every target against every entry (a pure function of the text). */
const READ = new Map<string, Range>();

/** A catalog range as gentoo-kopt reads it (above); throws a TypeError on an invalid range. */
export function kernelRange(range: string): Range {
  const known = READ.get(range) ?? readRange(range);
  READ.set(range, known);
  return known;
}

function readRange(range: string): Range {
  const parsed = new Range(range, RANGE_OPTIONS);
  const alternatives = parsed.set.map((comparators) =>
    comparators
      .map((c) => (c.operator === '<' && c.semver.prerelease.length === 0 ? `<${c.semver.version}-0` : c.value))
      .join(' '),
  );
  return new Range(alternatives.join(' || ') || '*', RANGE_OPTIONS);
}

function overlapError(a: CatalogEntry, b: CatalogEntry, what: string): ConfigError {
  return new ConfigError(
    `catalog entries [${a.series} ${a.id}] (${formatWhere(a)}) and [${b.series} ${b.id}] (${formatWhere(b)}) both match ${what}`,
    {
      file: b.file,
      line: b.line,
      hint: 'narrow one of the kernel ranges: each kernel version may match at most one entry of a series',
    },
  );
}

/** The entry of `series` whose range holds `kernelVersion` (semver form, e.g. 6.13.0-rc3), if any. */
export function matchEntry(series: Series, kernelVersion: string): CatalogEntry | undefined {
  if (valid(kernelVersion) === null) {
    throw new VersionError(`'${kernelVersion}' is not a kernel version in semver form`, {
      hint: 'map the package version first (6.13_rc3 -> 6.13.0-rc3)',
    });
  }
  const found = series.entries.filter((e) => kernelRange(e.range).test(kernelVersion));
  if (found.length > 1) throw overlapError(found[0]!, found[1]!, `kernel ${kernelVersion}`);
  return found[0];
}

/** Every pair of entries of one series whose ranges share at least one kernel version. */
export function findOverlaps(catalog: Catalog): [CatalogEntry, CatalogEntry][] {
  const pairs: [CatalogEntry, CatalogEntry][] = [];
  for (const series of catalog.series.values()) {
    const ranges = series.entries.map((e) => kernelRange(e.range));
    series.entries.forEach((a, i) => {
      for (let j = i + 1; j < series.entries.length; j++) {
        if (ranges[i]!.intersects(ranges[j]!, RANGE_OPTIONS)) pairs.push([a, series.entries[j]!]);
      }
    });
  }
  return pairs;
}

/** Throws the first overlap findOverlaps reports (a static check, for doctor and tests). */
export function checkOverlaps(catalog: Catalog): void {
  const [first] = findOverlaps(catalog);
  if (first) throw overlapError(first[0], first[1], 'the same kernel versions');
}
