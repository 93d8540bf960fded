#!/usr/bin/env node
// The executable: everything happens in cli.ts; this file only hands it argv and the exit status.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
