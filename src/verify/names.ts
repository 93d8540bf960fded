// File names in patch headers, as GNU patch reads them (pch.c fetchname, intuit_diff_type): a name
// ends at a tab (or before a timestamp), git quotes names with special characters C-style, `-pN`
// drops N leading components (a run of slashes counts once), a name with a `..` component is refused,
// and a timestamp at the Unix epoch (in its own zone) means the file is absent on that side (diff -N).

const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?: ?([+-])(\d\d):?(\d\d))?$/;
/** A timestamp at the Unix epoch (in its own time zone) marks a file `diff -N` treats as absent. */
export function isEpoch(stamp: string): boolean {
  const m = ISO_TIME.exec(stamp.trim());
  if (!m) return /^\w{3} \w{3} +1 00:00:00 1970$/.test(stamp.trim());
  const [, y, mo, d, h, mi, s, sign, zh, zm] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const zone = sign ? (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm)) * 60_000 : 0;
  return local - zone === 0;
}

function unquote(s: string): string {
  const escapes: Record<string, string> = {
    n: '\n',
    t: '\t',
    '"': '"',
    '\\': '\\',
    a: '\x07',
    b: '\b',
    f: '\f',
    r: '\r',
    v: '\v',
  };
  return s
    .slice(1, -1)
    .replace(/\\([0-7]{3}|.)/g, (_, e: string) =>
      e.length === 3 ? String.fromCharCode(parseInt(e, 8)) : (escapes[e] ?? e),
    );
}

/** `--- NAME<TAB>STAMP` -> [NAME, STAMP]. Git quotes names with special characters. */
export function splitName(rest: string): [string, string] {
  rest = rest.replace(/\r?\n$/, '');
  const quoted = /^"(?:[^"\\]|\\.)*"/.exec(rest);
  if (quoted) return [unquote(quoted[0]), rest.slice(quoted[0].length)];
  const tab = rest.indexOf('\t');
  if (tab >= 0) return [rest.slice(0, tab), rest.slice(tab + 1)];
  const stamp = / (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*)$/.exec(rest);
  if (stamp) return [rest.slice(0, stamp.index), stamp[1]!];
  return [rest.trimEnd(), ''];
}

/** GNU patch -pN: drop N leading components (a run of slashes is one separator). */
export function stripName(name: string, strip: number): { path?: string; unsafe?: string } {
  const parts = name.split(/\/+/);
  if (parts.length <= strip)
    return { unsafe: `'${name}' has fewer than ${strip + 1} path components (patch -p${strip} cannot use it)` };
  const rest = parts.slice(strip).filter((p, i, all) => p !== '' || i < all.length - 1);
  if (rest.includes('..') || rest.length === 0)
    return { unsafe: `'${name}' is a dangerous file name (patch(1) ignores it)` };
  return { path: rest.filter((p) => p !== '.' && p !== '').join('/') };
}

/** The two names of a `diff --git` line (used when the section has no ---/+++ lines). */
export function gitNames(rest: string): [string, string] | undefined {
  rest = rest.replace(/\r?\n$/, '');
  if (rest.startsWith('"')) {
    const first = /^"(?:[^"\\]|\\.)*"/.exec(rest)![0];
    const second = rest.slice(first.length + 1);
    return [unquote(first), second.startsWith('"') ? unquote(second) : second];
  }
  // Unquoted names may hold spaces: the split is where both halves name the same path after -p1.
  for (let i = rest.indexOf(' '); i >= 0; i = rest.indexOf(' ', i + 1)) {
    const [a, b] = [rest.slice(0, i), rest.slice(i + 1)];
    if (a.replace(/^[^/]*\//, '') === b.replace(/^[^/]*\//, '')) return [a, b];
  }
  const i = rest.indexOf(' b/');
  return i < 0 ? undefined : [rest.slice(0, i), rest.slice(i + 1)];
}
