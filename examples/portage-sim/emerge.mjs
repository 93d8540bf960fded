// A simulated emerge for the demo: runs an ebuild's phases around the sandbox's etc/portage/bashrc
// the way Portage does (a fresh bash per phase, the previous phase's saved environment restored first,
// then bashrc; see phase-runner.sh), and reports what each phase saw. The tests use the same runner
// through test/helpers/portage-phases.ts.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./phase-runner.sh', import.meta.url));
export const PHASES = ['setup', 'unpack', 'prepare', 'configure', 'compile', 'install'];
const HOOKS = {
  setup: 'pkg_setup',
  unpack: 'src_unpack',
  prepare: 'src_prepare',
  configure: 'src_configure',
  compile: 'src_compile',
  install: 'src_install',
};

function portageEnv({ category, pn, pv }, phase, o) {
  const p = `${pn}-${pv}`;
  return {
    CATEGORY: category,
    PN: pn,
    PV: pv,
    PR: 'r0',
    PVR: pv,
    P: p,
    PF: p,
    SLOT: category === 'sys-kernel' ? pv : '0',
    CHOST: 'x86_64-pc-linux-gnu',
    EBUILD_PHASE: phase,
    PORTAGE_CONFIGROOT: `${o.root}/`,
    ROOT: `${o.root}/`,
    EPREFIX: '',
    BROOT: o.root,
    T: o.tmp,
    PORTAGE_BUILDDIR: path.dirname(o.tmp),
    MERGE_TYPE: 'source',
    EMERGE_FROM: 'ebuild',
  };
}

/** Runs the phases of `pkg` against the root; returns, per phase, the watched variables and messages. */
export async function emerge(root, pkg, watch) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kopt-emerge-'));
  const out = [];
  try {
    let seen = 0;
    for (const phase of PHASES) {
      const penv = portageEnv(pkg, phase, { root, tmp });
      const env = {
        PATH: process.env.PATH,
        HOME: tmp,
        ...penv,
        KOPT_TEST_MSGS: path.join(tmp, 'messages'),
        KOPT_TEST_HOOK: HOOKS[phase],
        KOPT_TEST_FILTER: Object.keys(penv).join(' '),
      };
      const r = spawnSync('bash', ['--noprofile', '--norc', RUNNER], { env, encoding: 'utf8' });
      const exports = await readFile(path.join(tmp, `exports.${phase}`), 'utf8').catch(() => '');
      const vars = {};
      for (const name of watch) {
        const m = new RegExp(`^declare -x ${name}="(.*)"$`, 'm').exec(exports);
        vars[name] = m ? m[1] : undefined;
      }
      const all = (await readFile(path.join(tmp, 'messages'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      out.push({ phase, status: r.status, vars, messages: all.slice(seen), output: r.stdout + r.stderr });
      seen = all.length;
      if (r.status !== 0) break;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return out;
}
