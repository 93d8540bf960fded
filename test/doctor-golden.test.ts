// Golden fixtures, one per finding kind (pkgcheck's testdata): test/fixtures/doctor/<kind>/ holds
//  - root.json: how to break the healthy root of helpers/doctor-root.ts (files to write, text to replace,
//    files to remove, chmod, chown), and which check to run;
//  - expected.json: that check's findings, exactly (paths as $ROOT and $PROJECT);
//  - fix.json: the fix. Where the finding's fix text holds a command (`gentoo-kopt hooks install`,
//    `chmod go-w ...`, `emerge --ask --oneshot ...`), `"run": "fix"` runs that command, as printed, in
//    bash against the root: gentoo-kopt is the real executable (ROOT and PORTAGE_CONFIGROOT name the
//    root), emerge and emaint are stubs that record their arguments, which must equal `stubbed`, and
//    the files of fix.json are what those would have done. Where the fix is an edit a human makes
//    (remove a flag, move lines, pick another lto), the files of fix.json are that edit, made before
//    the command when the fix has both. A fixture whose fix text holds a command must run it, unless
//    the fix offers an edit as well and `instead` says why the fixture takes the edit.
// After the fix the check must pass. Every doctor run is wrapped in a byte-exact snapshot of the root:
// doctor never writes. UPDATE_GOLDEN=1 rewrites expected.json from what doctor says (then read the diff).
import { afterAll, describe, it, expect, type ExpectStatic } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { chmod, chown, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { doctorCommand, type DoctorReport } from '../src/commands/doctor.js';
import { CHECKS } from '../src/doctor/checks/registry.js';
import { KINDS } from '../src/doctor/finding.js';
import type { RenderedFinding } from '../src/doctor/finding.js';
import { snapshot } from './helpers/tree.js';
import { bzip2, doctorRoot, PROJECT, type DoctorRoot } from './helpers/doctor-root.js';
import { BIN } from './helpers/cli.js';
import { gpkg, xpak } from './helpers/binpkg.js';
import { COMMANDS } from '../src/commands/table.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/doctor');
const UPDATE = !!process.env.UPDATE_GOLDEN;
const IS_ROOT = process.getuid?.() === 0;

type FileSpec =
  | string
  | {
      content?: string;
      lines?: string[];
      bzip2?: string[];
      /** A binary package (GPKG: the file name says which) whose environment.bz2 holds these lines. */
      binpkg?: string[];
      mode?: string;
      owner?: number;
      symlink?: string;
    };

interface Edit {
  description: string;
  files?: Record<string, FileSpec>;
  /** path -> [from, to] text replacements in a file the healthy root has. */
  replace?: Record<string, [string, string][]>;
  remove?: string[];
}

interface RootSpec extends Edit {
  check: string;
  /** chown needs root: skipped otherwise. */
  requiresRoot?: boolean;
}

interface FixSpec extends Edit {
  /** Run the command of each finding's fix text (after the edit). */
  run?: 'fix';
  /** The emerge/emaint command lines the fix runs, in order; the edit is what they would do. */
  stubbed?: string[];
  /** Why the edit, not the command, when the fix text offers both. */
  instead?: string;
}

const kindDirs = existsSync(FIXTURES)
  ? readdirSync(FIXTURES)
      .filter((d) => existsSync(path.join(FIXTURES, d, 'root.json')))
      .sort()
  : [];
const readJson = <T>(kind: string, name: string): T =>
  JSON.parse(readFileSync(path.join(FIXTURES, kind, name), 'utf8')) as T;

function subst(text: string, dir: string): string {
  return text.replaceAll('$ROOT', dir).replaceAll('$PROJECT', PROJECT);
}

async function applyEdit(dir: string, edit: Edit): Promise<void> {
  for (const rel of edit.remove ?? []) await rm(path.join(dir, subst(rel, dir)), { recursive: true, force: true });
  for (const [rel, spec] of Object.entries(edit.files ?? {})) {
    const file = path.join(dir, subst(rel, dir));
    await mkdir(path.dirname(file), { recursive: true });
    const s = typeof spec === 'string' ? { content: spec } : spec;
    const text = s.content ?? (s.lines ? `${s.lines.join('\n')}\n` : undefined);
    if (s.symlink !== undefined) {
      await rm(file, { force: true });
      await symlink(subst(s.symlink, dir), file);
    } else if (s.bzip2) await writeFile(file, bzip2(subst(`${s.bzip2.join('\n')}\n`, dir)));
    else if (s.binpkg) {
      const env = subst(`${s.binpkg.join('\n')}\n`, dir);
      const base = path.basename(file).replace(/\.(gpkg\.tar|tbz2|xpak)$/, '');
      await writeFile(file, file.endsWith('.gpkg.tar') ? await gpkg(base, env) : await xpak(env));
    } else if (text !== undefined) await writeFile(file, subst(text, dir));
    if (s.mode) await chmod(file, parseInt(s.mode, 8));
    if (s.owner !== undefined) await chown(file, s.owner, (await stat(file)).gid);
  }
  for (const [rel, pairs] of Object.entries(edit.replace ?? {})) {
    const file = path.join(dir, subst(rel, dir));
    let text = await readFile(file, 'utf8');
    for (const [from, to] of pairs) {
      if (!text.includes(subst(from, dir))) throw new Error(`${rel} has no '${from}'`);
      text = text.replace(subst(from, dir), subst(to, dir));
    }
    await writeFile(file, text);
  }
}

/** Runs one check; with `readOnly`, asserts the root is byte-for-byte the same afterwards. */
async function doctor(
  root: DoctorRoot,
  check: string,
  expect: ExpectStatic,
  readOnly = false,
): Promise<DoctorReport['checks'][number]> {
  const before = readOnly ? await snapshot(root.dir) : undefined;
  const r = await doctorCommand(root.ctx, { checks: [check], list: false, exit: 'error' });
  if (before) expect(await snapshot(root.dir)).toEqual(before);
  return (r.data as DoctorReport).checks[0]!;
}

function normalize(findings: RenderedFinding[], dir: string): unknown[] {
  return JSON.parse(
    JSON.stringify(findings.map(({ check: _check, ...f }) => f))
      .replaceAll(dir, '$ROOT')
      .replaceAll(PROJECT, '$PROJECT'),
  ) as unknown[];
}

/**
 * The command in a fix text: all of it, or what follows "...: ", "then run " or "and run ", up to a
 * remark in parentheses or a comma (", or set ...", ", and remove ...").
 */
const COMMAND = new RegExp(
  `(?:^|: |then run |and run )((?:gentoo-kopt (?:${COMMANDS.map((c) => c.name).join('|')})|(?:emerge|emaint|rm|chmod|chown|mkdir) ).*?)(?= \\(|, |$)`,
);
const commandIn = (fix: string): string | undefined => COMMAND.exec(fix)?.[1];

/** Programs the fix commands find first on PATH: gentoo-kopt runs the real CLI; the others only record. */
const STUBS = mkdtempSync(path.join(os.tmpdir(), 'kopt-golden-bin-'));
writeFileSync(path.join(STUBS, 'gentoo-kopt'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, {
  mode: 0o755,
});
for (const name of ['emerge', 'emaint'])
  writeFileSync(path.join(STUBS, name), `#!/bin/sh\necho "${name} $*" >>"$KOPT_STUB_LOG"\n`, { mode: 0o755 });
afterAll(() => rmSync(STUBS, { recursive: true, force: true }));

/** Runs a fix command in bash against the root, refusing any absolute path outside it; returns the stubs' log. */
function runFixCommand(command: string, dir: string): string[] {
  for (const m of command.matchAll(/(?:^|[\s'"])(\/[^\s'"]*)/g)) {
    if (!m[1]!.startsWith(dir + '/')) throw new Error(`fix names a path outside the root: ${m[1]} in: ${command}`);
  }
  const log = path.join(STUBS, `log-${path.basename(dir)}`);
  const env = { PATH: `${STUBS}:/usr/bin:/bin`, ROOT: dir, PORTAGE_CONFIGROOT: dir, KOPT_STUB_LOG: log, NO_COLOR: '1' };
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', command], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`fix failed (${r.status}): ${command}\n${r.stdout}${r.stderr}`);
  const ran = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  rmSync(log, { force: true });
  return ran;
}

async function applyFix(
  root: DoctorRoot,
  fix: FixSpec,
  findings: RenderedFinding[],
  kind: string,
  expect: ExpectStatic,
): Promise<void> {
  await applyEdit(root.dir, fix);
  const commands = findings.filter((f) => f.kind === kind).map((f) => commandIn(f.fix));
  const hasCommand = commands.some((c) => c !== undefined);
  expect(fix.run === 'fix', `${kind}: its fix is ${hasCommand ? 'a command: run it' : 'not a command'}`).toBe(
    hasCommand && !fix.instead,
  );
  if (fix.run !== 'fix') return;
  const stubbed = commands.flatMap((c) => (c ? runFixCommand(c, root.dir) : []));
  expect(stubbed).toEqual(fix.stubbed ?? []);
}

describe.concurrent('doctor golden fixtures', () => {
  it('every finding kind has a fixture, is reported by a check, and every check lists only known kinds', () => {
    const listed = CHECKS.flatMap((c) => c.kinds);
    expect(new Set(listed)).toEqual(new Set(Object.keys(KINDS)));
    for (const kind of Object.keys(KINDS)) {
      for (const name of ['root.json', 'expected.json', 'fix.json'])
        expect(existsSync(path.join(FIXTURES, kind, name)), `${kind}/${name}`).toBe(true);
    }
    expect(kindDirs.filter((d) => !(d in KINDS))).toEqual([]);
  });

  for (const kind of kindDirs) {
    const spec = readJson<RootSpec>(kind, 'root.json');
    it.skipIf(spec.requiresRoot && !IS_ROOT)(`${kind}: ${spec.description}`, async ({ expect }) => {
      expect(CHECKS.find((c) => c.id === spec.check)?.kinds, `check ${spec.check} lists ${kind}`).toContain(kind);
      const root = await doctorRoot();
      await applyEdit(root.dir, spec);
      const result = await doctor(root, spec.check, expect, true);
      const actual = normalize(result.findings, root.dir);
      const file = path.join(FIXTURES, kind, 'expected.json');
      if (UPDATE) await writeFile(file, `${JSON.stringify(actual, null, 2)}\n`);
      expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      expect(result.findings.map((f) => f.kind)).toContain(kind);

      await applyFix(root, readJson<FixSpec>(kind, 'fix.json'), result.findings, kind, expect);
      const after = await doctor(root, spec.check, expect);
      expect({ status: after.status, findings: normalize(after.findings, root.dir) }).toEqual({
        status: 'ok',
        findings: [],
      });
    });
  }
});
