// The shapes of gentoo-kopt's JSON state files, checked field by field: a file edited by hand, cut
// short or planted must give an error naming the file and the field (`transactions[0].changes[2].path:
// must be a string`), never a TypeError deep in recovery. Messages never echo the file's content (a
// JSON.parse message quotes the text, so it is not passed on); only a path that fails the areas
// check is quoted, cut short and escaped, so the user can find it.
import { ConfigError } from '../errors.js';

/** A value that does not fit its shape: where (`changes[0].path`) and why. */
export class ShapeError extends Error {
  constructor(
    readonly at: string,
    readonly problem: string,
  ) {
    super(`${at || 'the top level'}: ${problem}`);
  }
}

/** Checks `value` (found at `at`) and returns it typed, or throws ShapeError. */
export type Shape<T> = (value: unknown, at: string) => T;

const join = (at: string, key: string | number): string =>
  typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key;

export const str =
  (max = 4096, pattern?: RegExp, what = 'a string'): Shape<string> =>
  (v, at) => {
    if (typeof v !== 'string') throw new ShapeError(at, `must be ${what}`);
    if (v.length > max) throw new ShapeError(at, `is longer than ${max} characters`);
    if (pattern && !pattern.test(v)) throw new ShapeError(at, `must be ${what}`);
    return v;
  };

export const int =
  (min: number, max: number): Shape<number> =>
  (v, at) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      throw new ShapeError(at, `must be a whole number from ${min} to ${max}`);
    return v;
  };

export const bool: Shape<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw new ShapeError(at, 'must be true or false');
  return v;
};

export const oneOf =
  <T extends string | number>(...values: T[]): Shape<T> =>
  (v, at) => {
    if (!values.includes(v as T))
      throw new ShapeError(at, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    return v as T;
  };

export const optional =
  <T>(shape: Shape<T>): Shape<T | undefined> =>
  (v, at) =>
    v === undefined ? undefined : shape(v, at);

export const array =
  <T>(item: Shape<T>, max: number): Shape<T[]> =>
  (v, at) => {
    if (!Array.isArray(v)) throw new ShapeError(at, 'must be an array');
    if (v.length > max) throw new ShapeError(at, `has more than ${max} entries`);
    return v.map((x, i) => item(x, join(at, i)));
  };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object with these fields (others are ignored and dropped); a field whose shape is optional may be missing. */
export const object =
  <T>(fields: { [K in keyof T]-?: Shape<T[K]> }): Shape<T> =>
  (v, at) => {
    if (!isPlainObject(v)) throw new ShapeError(at, 'must be an object');
    const out = {} as T;
    for (const key of Object.keys(fields) as (keyof T & string)[]) {
      const value = fields[key](Object.hasOwn(v, key) ? v[key] : undefined, join(at, key));
      if (value !== undefined) out[key] = value;
    }
    return out;
  };

/** An object used as a map: each key checked by `key` (which throws ShapeError), each value by `value`. */
export const dict =
  <T>(key: (k: string, at: string) => void, value: Shape<T>, max: number): Shape<Record<string, T>> =>
  (v, at) => {
    if (!isPlainObject(v)) throw new ShapeError(at, 'must be an object');
    const keys = Object.keys(v);
    if (keys.length > max) throw new ShapeError(at, `has more than ${max} entries`);
    const out: Record<string, T> = Object.create(null) as Record<string, T>;
    for (const k of keys) {
      const kat = `${at}[${quote(k)}]`;
      key(k, kat);
      out[k] = value(v[k], kat);
    }
    return { ...out };
  };

/** One of several object shapes, told apart by the string field `tag`. */
export const tagged =
  <T>(tag: string, shapes: Record<string, Shape<T>>): Shape<T> =>
  (v, at) => {
    if (!isPlainObject(v)) throw new ShapeError(at, 'must be an object');
    const t = v[tag];
    const shape = typeof t === 'string' && Object.hasOwn(shapes, t) ? shapes[t] : undefined;
    if (!shape)
      throw new ShapeError(
        join(at, tag),
        `must be one of ${Object.keys(shapes)
          .map((x) => JSON.stringify(x))
          .join(', ')}`,
      );
    return shape(v, at);
  };

/** A string from a state file, for an error message: JSON-escaped (no control characters) and cut short. */
export function quote(s: string, max = 120): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);
}

/**
 * Parses gentoo-kopt's own JSON state file `file` (its bytes) into `shape`; anything else is a
 * ConfigError naming the file, `what` it should have been and where it is wrong.
 */
export function parseState<T>(bytes: Buffer | string, file: string, shape: Shape<T>, what: string): T {
  const hint =
    'gentoo-kopt writes this file itself (atomically): it was edited or damaged; restore it from a backup, or move it aside';
  let data: unknown;
  try {
    data = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    // The parser's own message quotes the text: not passed on.
    throw new ConfigError(`is not valid JSON (expected ${what})`, { file, hint });
  }
  try {
    return shape(data, '');
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new ConfigError(`is not a valid ${what}: ${err.message}`, { file, hint });
  }
}
