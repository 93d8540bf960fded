#!/usr/bin/env node
// The executable: everything happens in cli.ts; this file only hands it argv and the exit status.
// `--version` is answered here, before cli.ts and its command table are loaded.
const argv = process.argv.slice(2);
if (argv[0] === '--version' || argv[0] === '-V') {
  process.stdout.write(`${(await import('./version.js')).VERSION_LINE}\n`);
} else {
  process.exitCode = await (await import('./cli.js')).main(argv);
}
