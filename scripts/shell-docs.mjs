// Writes the man page and the shell completions from the built command table and doctor check registry
// (dist/, built by tsc first): man/gentoo-kopt.1, completions/gentoo-kopt.bash, completions/_gentoo-kopt.
// Run by `npm run build` (so the release tarball, npm pack's, carries them for the ebuild) and by
// `npm run docs`. The files are build output, not committed: a command added to the table is in them at
// the next build, with nothing to regenerate by hand (test/shell-docs.test.ts checks what they contain).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../dist/doctor/checks/registry.js';
import { manPage } from '../dist/docs/man.js';
import { bashCompletion } from '../dist/docs/bash-completion.js';
import { zshCompletion } from '../dist/docs/zsh-completion.js';

const top = new URL('../', import.meta.url);
const { version } = JSON.parse(await readFile(new URL('package.json', top), 'utf8'));
const ids = CHECKS.map((c) => c.id);
const files = {
  'man/gentoo-kopt.1': manPage(version),
  'completions/gentoo-kopt.bash': bashCompletion(ids),
  'completions/_gentoo-kopt': zshCompletion(ids),
};
for (const [rel, text] of Object.entries(files)) {
  const file = new URL(rel, top);
  await mkdir(new URL('./', file), { recursive: true });
  await writeFile(file, text);
}
if (!process.argv.includes('--quiet')) console.log(`wrote ${Object.keys(files).join(', ')} (in ${fileURLToPath(top)})`);
