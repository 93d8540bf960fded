// npm run docs: writes the doctor finding tables into README.md (between the doctor-findings markers)
// from the built checks and kinds table (dist/, built by the npm script first). Prints what it did;
// test/readme.test.ts fails while README.md and the table differ.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../dist/doctor/checks/registry.js';
import { updateReadme } from '../dist/doctor/docs.js';

const file = fileURLToPath(new URL('../README.md', import.meta.url));
const before = await readFile(file, 'utf8');
const after = updateReadme(before, CHECKS);
if (after === before) console.log('README.md: the doctor finding tables are current');
else {
  await writeFile(file, after);
  console.log('README.md: the doctor finding tables were rewritten from src/doctor/kinds.ts');
}
