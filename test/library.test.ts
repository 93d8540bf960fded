// The library entry as a user of the package imports it: by name, from the built dist/ (package.json
// "exports"), not from src/.
import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import { PROJECT } from './helpers/gentoo.js';

describe("import ... from 'gentoo-kopt'", () => {
  it('exports vercmp, parseAtom and the eapply_user simulator, working', async () => {
    const script = `
      import { vercmp, parseAtom, eapplyUser, parseCpv, resolveRoots, VersionError } from 'gentoo-kopt';
      const out = {
        vercmp: [vercmp('6.12.58', '6.12.58_p1'), vercmp('1.010', '1.01'), vercmp('1.0.0', '1.0')],
        atom: parseAtom('>=sys-kernel/gentoo-kernel-6.12.58:6.12.58').op,
        invalid: (() => { try { vercmp('1..2', '1'); return 'no error'; } catch (e) { return e instanceof VersionError; } })(),
        patches: (await eapplyUser(resolveRoots({ root: '/nonexistent-kopt-root', env: {} }), parseCpv('sys-kernel/gentoo-kernel-6.12.58'), '6.12.58')).dirs.length,
      };
      console.log(JSON.stringify(out));`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT });
    expect(JSON.parse(r.stdout)).toEqual({ vercmp: [-1, 0, 1], atom: '>=', invalid: true, patches: 6 });
  });
});
