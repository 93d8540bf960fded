// native = yes in the real hook, in real bash through the phases (helpers/portage-phases.ts): kernels
// before 6.16 get -march=native in KCFLAGS (after kopt.conf's kcflags), 6.16 and later get nothing there
// (their X86_NATIVE_CPU fragment does it), and native = no adds nothing; src/hooks/native.ts agrees.
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { testdir } from './helpers/tree.js';
import { PHASES, runPhases, exported, type Package } from './helpers/portage-phases.js';
import { insertBlock } from '../src/hooks/bashrc-block.js';
import { compileSettings } from '../src/hooks/settings.js';
import { parseConfig } from '../src/config/kopt-conf.js';
import { hookKcflags } from '../src/hooks/native.js';

const HOOK = path.resolve(import.meta.dirname, '../hooks/kernel-hook.bash');

async function kcflags(conf: string, pv: string): Promise<(string | undefined)[]> {
  const dir = await testdir({
    'config/etc/portage/bashrc': insertBlock('', 'bashrc'),
    'config/etc/gentoo-kopt/kernel-hook.bash': await readFile(HOOK, 'utf8'),
    'config/etc/gentoo-kopt/hook-settings': compileSettings(parseConfig(conf, '/etc/gentoo-kopt/kopt.conf'), {
      node: '/usr/bin/node',
      bin: '/nonexistent/bin.js',
    }),
    'eprefix/': '',
  });
  const o = {
    configRoot: path.join(dir, 'config'),
    tmp: path.join(dir, 'build/temp'),
    eprefix: path.join(dir, 'eprefix'),
    root: path.join(dir, 'root'),
  };
  const pkg: Package = { category: 'sys-kernel', pn: 'gentoo-kernel', pv };
  const results = await runPhases(pkg, o);
  expect(results.map((r) => r.status)).toEqual(PHASES.map(() => 0));
  return Promise.all(PHASES.map(async (p) => (await exported(o.tmp, p)).get('KCFLAGS')));
}

describe('native = yes in the kernel hook', () => {
  it.each([
    ['6.12.58', 'kcflags = -O2\nnative = yes\n', '-O2 -march=native'],
    ['6.15.9', 'native = yes\n', '-march=native'],
    ['6.16_rc3', 'kcflags = -O2\nnative = yes\n', '-O2'],
    ['6.18.32_p1', 'native = yes\n', undefined],
    ['7.0', 'native = yes\n', undefined],
    ['6.12.58', 'kcflags = -O2\n', '-O2'],
  ])('%s with %j: KCFLAGS %j in every phase', async (pv, conf, want) => {
    expect(await kcflags(conf, pv)).toEqual(PHASES.map(() => want));
    // doctor's rebuild-needed uses the same rule (src/hooks/native.ts)
    expect(hookKcflags(parseConfig(conf, '/etc/gentoo-kopt/kopt.conf').global, pv) || undefined).toBe(want);
  });
});
