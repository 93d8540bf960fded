// Output conventions (src/output.ts): Portage's ` * ` messages with green, yellow and red stars on a
// terminal only, NOCOLOR / NO_COLOR, --quiet (warnings and errors only), and no progress line or colour
// in a pipe; checked on the module and on the real executable.
import { describe, expect, it } from 'vitest';
import { colorWanted, einfo, eerror, ewarn, progressWriter, quietText, styleFrom } from '../src/output.js';
import { kopt } from './helpers/cli.js';
import { EXAMPLE_SOURCE, gentooRoot } from './helpers/gentoo.js';

const TTY = { isTTY: true, write: () => true };

describe('the output module', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ NOCOLOR: 'yes' }, true, false],
    [{ NOCOLOR: 'true' }, true, false],
    [{ NOCOLOR: 'no' }, true, true],
    [{ TERM: 'dumb' }, true, false],
  ])('colour with env %j on a terminal=%s: %s', (env, terminal, want) => expect(colorWanted(env, terminal)).toBe(want));

  it('einfo, ewarn, eerror: ` * ` lines; stars green, yellow, red when colouring', () => {
    const plain = styleFrom({}, false);
    expect(einfo(plain, 'a\nb')).toEqual([' * a', ' * b']);
    const colour = styleFrom({}, true);
    expect(einfo(colour, 'i')).toEqual([' \x1b[32;01m*\x1b[39;49;00m i']);
    expect(ewarn(colour, 'w')).toEqual([' \x1b[33;01m*\x1b[39;49;00m w']);
    expect(eerror(colour, 'e')).toEqual([' \x1b[31;01m*\x1b[39;49;00m e']);
  });

  it('--quiet: information is dropped, warnings and errors kept, the rest of the text too', () => {
    const quiet = styleFrom({}, false, { quiet: true });
    expect(einfo(quiet, 'i')).toEqual([]);
    const text = ['Targets (1):', '  x', ...ewarn(quiet, 'w'), ...eerror(styleFrom({}, true), 'e')].join('\n');
    expect(quietText(text)).toBe(' * w\n \x1b[31;01m*\x1b[39;49;00m e');
  });

  it('a progress line only on a terminal, never with --json or --quiet', () => {
    expect(progressWriter(TTY, { json: false, quiet: false })).toBeTypeOf('function');
    expect(progressWriter({ ...TTY, isTTY: false }, { json: false, quiet: false })).toBeUndefined();
    expect(progressWriter(TTY, { json: true, quiet: false })).toBeUndefined();
    expect(progressWriter(TTY, { json: false, quiet: true })).toBeUndefined();
  });
});

describe('the executable', () => {
  it('sync-patches --quiet prints its warnings only; without it, the report with ` * ` warnings; no colour in a pipe', async () => {
    const { dir } = await gentooRoot({
      installed: ['sys-kernel/gentoo-kernel-6.12.58'],
      conf: `packages = sys-kernel/gentoo-kernel\nseries = kopt-demo gcc-lto\npatch-source = ${EXAMPLE_SOURCE}\n`,
    });
    const args = ['sync-patches', '--pretend', '--no-verify', '--root', dir];
    const loud = await kopt(args, { env: { TERM: 'xterm' } });
    expect(loud.exitCode).toBe(0);
    expect(loud.stdout).toMatch(/^Targets \(1\):$/m);
    expect(loud.stdout).toMatch(/^ \* sys-kernel\/gentoo-kernel-6\.12\.58: no 'gcc-lto' entry for kernel 6\.12\.58/m);
    expect(loud.stdout).not.toContain('\x1b[');
    const quiet = await kopt([...args, '--quiet']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stdout.split('\n')).toEqual([
      expect.stringMatching(/^ \* sys-kernel\/gentoo-kernel-6\.12\.58: no 'gcc-lto' entry for kernel 6\.12\.58/),
    ]);
  });
});
