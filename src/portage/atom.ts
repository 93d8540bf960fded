// Package names, CPVs and dependency atoms (PMS 3.1, 8.3), following Portage's lib/portage/versions.py
// (catpkgsplit, _pkg_str) and lib/portage/dep/__init__.py (Atom, match_from_list) for EAPI-less atoms:
// slot operators and ::repo allowed, no wildcards, no binary-package build ids.
import { VersionError, type Where } from '../errors.js';
import {
  compareVersions,
  isValidVersion,
  parseVersion,
  versionWithoutRevision,
  VERSION_SOURCE,
  type Version,
} from './version.js';

export interface Cpv {
  category: string;
  pn: string;
  pv: string; // version without revision
  pr: string; // 'rN' as written, 'r0' when none (Portage's PR)
  pvr: string; // version and revision as written: `1.0-r0` keeps its `-r0` (Portage's PVR)
  pf: string; // pn-pvr
  p: string; // pn-pv
  cpn: string; // category/pn
  version: Version;
  slot?: string;
  subslot?: string;
}

export type AtomOp = '<' | '<=' | '=' | '~' | '>=' | '>';

export interface Atom {
  blocker?: '!' | '!!';
  op?: AtomOp;
  glob?: boolean; // `=cat/pkg-1.2*`: prefix match on the version string
  category: string;
  pn: string;
  cpn: string;
  version?: Version;
  slot?: string;
  subslot?: string;
  slotOp?: '=' | '*';
  repo?: string;
  useDeps?: string[]; // tokens as written (`foo`, `-bar`, `baz(+)?`); validated, not evaluated
  raw: string;
}

// PMS 3.1: \w is ASCII [A-Za-z0-9_] as in Portage's re.ASCII patterns.
const CATEGORY_RE = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;
const PN_RE = /^[A-Za-z0-9_][A-Za-z0-9+_-]*$/;
const SLOT_NAME = '[A-Za-z0-9_][A-Za-z0-9+_.-]*';
const SLOT_RE = new RegExp(`^(${SLOT_NAME})(?:/(${SLOT_NAME}))?$`);
const SLOT_DEP_RE = new RegExp(`^(?:(${SLOT_NAME})(?:/(${SLOT_NAME}))?)?([*=])?$`);
const REPO_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** A package name must not end in a hyphen followed by something that is a valid version. */
const PN_VERSION_TAIL = new RegExp(`-${VERSION_SOURCE}$`);
const OP_RE = /^(<=|>=|<|>|=|~)/;
// Portage's _usedep_re; the operator is prefix + suffix and must be one of USE_OPS.
const USE_DEP_RE = /^([!-]?)([A-Za-z0-9][A-Za-z0-9+_@-]*)(\([+-]\))?([?=]?)$/;
const USE_OPS = new Set(['', '-', '?', '=', '!=', '!?']);

function fail(kind: string, s: string, why: string, where: Where, hint?: string): VersionError {
  return new VersionError(`invalid ${kind} '${s}': ${why}`, { ...where, hint });
}

function checkPn(pn: string): string | undefined {
  if (!PN_RE.test(pn)) return `bad package name '${pn}' (letters, digits, +, _ and -; not starting with + or -)`;
  if (PN_VERSION_TAIL.test(pn)) return `package name '${pn}' ends in something that looks like a version`;
  return undefined;
}

/**
 * Splits `pn-version[-rN]` at the first hyphen whose remainder is a valid version: the same split as
 * Portage's lazy `_pkg` pattern. A name left ending in `-<version>` (`foo-1-2`) is rejected by checkPn.
 */
function splitVersioned(rest: string): { pn: string; ver: string } | undefined {
  for (let i = rest.indexOf('-'); i > 0; i = rest.indexOf('-', i + 1)) {
    const ver = rest.slice(i + 1);
    if (isValidVersion(ver)) return { pn: rest.slice(0, i), ver };
  }
  return undefined;
}

function splitCategory(s: string): [string, string] | string {
  const slash = s.indexOf('/');
  if (slash < 0) return 'no category (expected category/package)';
  const category = s.slice(0, slash);
  if (!CATEGORY_RE.test(category)) return `bad category '${category}'`;
  return [category, s.slice(slash + 1)];
}

/** Parses `category/pn-version[-rN][:SLOT[/SUBSLOT]]`. */
export function parseCpv(s: string, where: Where = {}): Cpv {
  const hint = 'a CPV looks like sys-kernel/gentoo-kernel-6.12.58-r1, optionally followed by :SLOT';
  const colon = s.indexOf(':');
  const text = colon < 0 ? s : s.slice(0, colon);
  const split = splitCategory(text);
  if (typeof split === 'string') throw fail('CPV', s, split, where, hint);
  const [category, rest] = split;
  const parts = splitVersioned(rest);
  if (!parts) throw fail('CPV', s, `no valid version after the package name in '${rest}'`, where, hint);
  const bad = checkPn(parts.pn);
  if (bad) throw fail('CPV', s, bad, where, hint);
  const version = parseVersion(parts.ver, where);
  const pv = versionWithoutRevision(version);
  const cpv: Cpv = {
    category,
    pn: parts.pn,
    pv,
    pr: `r${version.raw.slice(pv.length + 2) || '0'}`,
    pvr: version.raw,
    pf: `${parts.pn}-${version.raw}`,
    p: `${parts.pn}-${pv}`,
    cpn: `${category}/${parts.pn}`,
    version,
  };
  if (colon >= 0) {
    const m = SLOT_RE.exec(s.slice(colon + 1));
    if (!m) throw fail('CPV', s, `bad slot '${s.slice(colon + 1)}'`, where, hint);
    cpv.slot = m[1];
    if (m[2] !== undefined) cpv.subslot = m[2];
  }
  return cpv;
}

/** category/PF, the form of a VDB directory (`sys-kernel/gentoo-kernel-6.12.58-r1`). */
export function cpvString(cpv: Cpv): string {
  return `${cpv.category}/${cpv.pf}`;
}

function checkUseDeps(tokens: string[]): string | undefined {
  const defaults = new Map<string, string>();
  for (const token of tokens) {
    const m = USE_DEP_RE.exec(token);
    if (!m || !USE_OPS.has(`${m[1]}${m[4]}`)) return `bad USE dependency '${token}'`;
    // One flag must not carry two different defaults: a(+),a(-) and a(+),-a are contradictions.
    const flag = m[2] ?? '';
    const seen = defaults.get(flag);
    if (seen !== undefined && seen !== (m[3] ?? '')) return `conflicting defaults for USE flag '${flag}'`;
    defaults.set(flag, m[3] ?? '');
  }
  return undefined;
}

/**
 * Parses `[!|!!][op]category/pn[-version[-rN]][*][:slot[/subslot][=|*]][::repo][[use,...]]`.
 * Throws VersionError naming the atom and what is wrong with it.
 */
export function parseAtom(s: string, where: Where = {}): Atom {
  const hint = 'an atom looks like sys-kernel/gentoo-kernel, >=sys-kernel/gentoo-kernel-6.12:6.12.58 or =cat/pkg-1.2*';
  const bad = (why: string): VersionError => fail('atom', s, why, where, hint);
  const atom: Partial<Atom> & { raw: string } = { raw: s };
  let rest = s;
  const blocker = rest.startsWith('!!') ? '!!' : rest.startsWith('!') ? '!' : undefined;
  if (blocker) [atom.blocker, rest] = [blocker, rest.slice(blocker.length)];
  const op = OP_RE.exec(rest)?.[1] as AtomOp | undefined;
  if (op) [atom.op, rest] = [op, rest.slice(op.length)];
  if (rest.endsWith(']')) {
    const open = rest.indexOf('[');
    if (open < 0) throw bad("']' without '['");
    const tokens = rest.slice(open + 1, -1).split(',');
    const why = checkUseDeps(tokens);
    if (why) throw bad(why);
    [atom.useDeps, rest] = [tokens, rest.slice(0, open)];
  }
  const repoAt = rest.indexOf('::');
  if (repoAt >= 0) {
    const repo = rest.slice(repoAt + 2);
    if (!REPO_RE.test(repo)) throw bad(`bad repository name '${repo}'`);
    [atom.repo, rest] = [repo, rest.slice(0, repoAt)];
  }
  const slotAt = rest.indexOf(':');
  if (slotAt >= 0) {
    const m = SLOT_DEP_RE.exec(rest.slice(slotAt + 1));
    if (!m || (m[1] === undefined && m[3] === undefined) || (m[1] !== undefined && m[3] === '*')) {
      throw bad(`bad slot dependency '${rest.slice(slotAt + 1)}' (SLOT, SLOT/SUBSLOT, SLOT=, := or :*)`);
    }
    if (m[1] !== undefined) atom.slot = m[1];
    if (m[2] !== undefined) atom.subslot = m[2];
    if (m[3] !== undefined) atom.slotOp = m[3] as '=' | '*';
    rest = rest.slice(0, slotAt);
  }
  if (rest.endsWith('*')) {
    if (op !== '=') throw bad("a trailing '*' is only allowed with the '=' operator");
    [atom.glob, rest] = [true, rest.slice(0, -1)];
  }
  const split = splitCategory(rest);
  if (typeof split === 'string') throw bad(split);
  const [category, pkg] = split;
  let pn = pkg;
  if (op) {
    const parts = splitVersioned(pkg);
    if (!parts) throw bad(`the '${op}' operator needs a version (${op}${category}/name-1.0)`);
    pn = parts.pn;
    atom.version = parseVersion(parts.ver, where);
  }
  const why = checkPn(pn);
  if (why && !op && splitVersioned(pkg)) {
    throw bad(`'${pkg}' has a version, and a versioned atom needs an operator, e.g. '=${rest}'`);
  }
  if (why) throw bad(why);
  return { ...atom, category, pn, cpn: `${category}/${pn}` };
}

/** A version string as `=*` compares it: leading zeros of the first component dropped (Portage). */
function globForm(pvr: string, pv: string): string {
  let head = pv.replace(/^0+/, '');
  if (!/^\d/.test(head)) head = `0${head}`;
  return head + pvr.slice(pv.length);
}

/** `=cat/pkg-1.2*`: a string prefix match that must end on a component boundary (1* is not 10). */
function globMatches(atomVersion: Version, cpv: Cpv): boolean {
  const want = globForm(atomVersion.raw, versionWithoutRevision(atomVersion));
  const have = globForm(cpv.pvr, cpv.pv);
  if (!have.startsWith(want)) return false;
  const next = have.charAt(want.length);
  const isDigit = (c: string): boolean => c >= '0' && c <= '9';
  return next === '' || '._-'.includes(next) || isDigit(want.slice(-1)) !== isDigit(next);
}

const COMPARISONS: Record<Exclude<AtomOp, '~'>, (c: number) => boolean> = {
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '=': (c) => c === 0,
  '>=': (c) => c >= 0,
  '>': (c) => c > 0,
};

function versionMatches(atom: Atom, cpv: Cpv): boolean {
  if (!atom.op || !atom.version) return true;
  if (atom.glob) return globMatches(atom.version, cpv);
  // Portage compares the written versions without revision as strings: ~foo-1.0 does not match 1.00.
  if (atom.op === '~') return versionWithoutRevision(atom.version) === cpv.pv;
  return COMPARISONS[atom.op](compareVersions(cpv.version, atom.version));
}

/**
 * Does `cpv` satisfy `atom`? `slot` ('SLOT' or 'SLOT/SUBSLOT') overrides cpv.slot/subslot. A blocker
 * matches what its atom matches. Repository and USE dependencies are not evaluated (a Cpv carries
 * neither; Portage skips them likewise for bare CPVs). An atom with a slot never matches a package
 * whose slot is unknown.
 */
export function atomMatches(atom: Atom, cpv: Cpv, slot?: string): boolean {
  if (atom.cpn !== cpv.cpn || !versionMatches(atom, cpv)) return false;
  if (atom.slot === undefined) return true;
  let pkgSlot = cpv.slot;
  let pkgSub = cpv.subslot;
  if (slot !== undefined) [pkgSlot, pkgSub] = slot.split('/', 2);
  if (pkgSlot === undefined || pkgSlot !== atom.slot) return false;
  // A package without an explicit sub-slot has SUBSLOT = SLOT.
  return atom.subslot === undefined || atom.subslot === (pkgSub ?? pkgSlot);
}
