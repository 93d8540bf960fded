// Files of the program itself (the hook, the built-in catalog, kconfig-why.c, dist/bin.js), found from
// this module's URL: the program's root is the directory that holds dist/ (or src/, when the tests run
// the TypeScript sources). The same answer from tsc's output (dist/program-files.js) and from the bundle
// the executable is (dist/bin.js and dist/chunks/*.js: scripts/bundle.mjs), whatever chunk this code
// ends up in.
import { fileURLToPath } from 'node:url';

function programRoot(url: string): string {
  for (const dir of ['/dist/', '/src/']) {
    const at = url.lastIndexOf(dir);
    if (at >= 0) return url.slice(0, at + 1);
  }
  throw new Error(`gentoo-kopt runs from ${url}: neither in a dist/ nor in a src/ directory`);
}

const ROOT = programRoot(import.meta.url);

/** The absolute path of `rel` (e.g. 'hooks/kernel-hook.bash') in the program's root. */
export const programFile = (rel: string): string => fileURLToPath(new URL(rel, ROOT));
