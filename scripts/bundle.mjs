#!/usr/bin/env node
// The executable as one bundle: dist/bin.js and its lazily loaded parts in dist/chunks/, made by
// rolldown from src/bin.ts with the dependencies inside. Node 20 has no compile cache for ES modules, so
// each module the program loads costs it a file lookup, a package.json scope search, a parse and a
// link: as ~100 modules, doctor spent ~105 ms loading itself; as a bundle, ~50 ms. The dynamic
// import()s of src/ (one per command, the verifier, the hardening table, tar-stream, diff) stay lazy:
// each becomes a chunk. Run after tsc (package.json's compile script), whose dist/bin.js it replaces;
// the rest of tsc's dist/ stays for the tests and benchmarks that import modules one by one.
// src/program-files.ts finds the hook, the catalog and kconfig-why.c from dist/ whatever the chunk.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(project, 'dist');

await rm(path.join(dist, 'chunks'), { recursive: true, force: true });
const bundle = await rolldown({
  input: path.join(project, 'src/bin.ts'),
  platform: 'node',
  tsconfig: path.join(project, 'tsconfig.build.json'),
  logLevel: 'warn',
});
try {
  await bundle.write({
    dir: dist,
    format: 'esm',
    entryFileNames: 'bin.js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // the executable keeps its #! line (rolldown keeps a hashbang of the entry)
  });
} finally {
  await bundle.close();
}
