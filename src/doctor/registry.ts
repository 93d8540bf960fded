// Every doctor check, in the order doctor runs and prints them. Adding a check is adding a file in
// checks/ and a line here (and golden fixtures for its finding kinds: test/doctor-golden.test.ts).
import type { Check } from './check.js';
import { inputs } from './checks/inputs.js';
import { llvmPackages } from './checks/llvm-packages.js';
import { llvmBinaries } from './checks/llvm-binaries.js';
import { mixedToolchain } from './checks/mixed-toolchain.js';
import { flags } from './checks/flags.js';
import { hooks } from './checks/hooks.js';
import { patches } from './checks/patches.js';
import { kernelConfig } from './checks/kernel-config.js';
import { rebuildNeeded } from './checks/rebuild-needed.js';
import { resources } from './checks/resources.js';

export const CHECKS: readonly Check[] = [
  inputs,
  llvmPackages,
  llvmBinaries,
  mixedToolchain,
  flags,
  hooks,
  patches,
  kernelConfig,
  rebuildNeeded,
  resources,
];
