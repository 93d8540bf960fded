// Every doctor check, in the order doctor runs and prints them. Adding a check is adding a file in
// this folder and a line here (and golden fixtures for its finding kinds: test/doctor-golden.test.ts).
import type { Check } from '../check.js';
import { inputs } from './inputs.js';
import { llvmPackages } from './llvm-packages.js';
import { llvmBinaries } from './llvm-binaries.js';
import { mixedToolchain } from './mixed-toolchain.js';
import { flags } from './flags.js';
import { hooks } from './hooks.js';
import { patches } from './patches.js';
import { kernelConfig } from './kernel-config.js';
import { rebuildNeeded } from './rebuild-needed.js';
import { resources } from './resources.js';
import { hostFlags } from './host-flags.js';
import { modules } from './modules.js';
import { binhost } from './binhost.js';
import { kernelPresets } from './presets.js';
import { pgo } from './pgo.js';

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
  hostFlags,
  modules,
  binhost,
  kernelPresets,
  pgo,
];
