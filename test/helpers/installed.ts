// gentoo-kopt as `npm install -g` would lay it out, in a world-readable temp directory, for tests that
// run it as another user (uid 65534). Such a user cannot read the checkout when it lies in a directory
// only its owner may enter (a home of mode 0700, `git clone` into `mktemp -d`): copying what the
// program needs (package.json, dist/, hooks/, patches/, etc-portage/ and the node_modules of its
// runtime dependencies) makes these tests independent of where the project was cloned.
import { afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT } from './gentoo.js';

const execFileAsync = promisify(execFile);

/** Where node finds package `name` for code in `from`: the first node_modules/name up to the project. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; dir.startsWith(PROJECT); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === PROJECT) break;
  }
  return undefined;
}

/** The package directories of the project's runtime dependencies, transitively (not devDependencies). */
export function runtimePackages(): string[] {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const at = resolvePackage(name, dir);
      if (at && !found.has(at)) {
        found.add(at);
        visit(at);
      }
    }
  };
  visit(PROJECT);
  return [...found].sort();
}

/** Copies the runtime dependencies into `dest`/node_modules/..., at their paths relative to the project. */
export async function copyRuntimePackages(dest: string): Promise<void> {
  for (const dir of runtimePackages()) {
    await cp(dir, path.join(dest, path.relative(PROJECT, dir)), { recursive: true, verbatimSymlinks: true });
  }
}

/** Makes `dir` and everything in it readable (directories enterable) by everyone. */
export async function worldReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  await execFileAsync('chmod', ['-R', 'a+rX', dir]);
}

let copy: Promise<string> | undefined;
afterAll(async () => {
  if (copy) await rm(await copy, { recursive: true, force: true });
});

/** The installed copy's directory (made once per test file); its executable is dist/bin.js. */
export function installedCopy(): Promise<string> {
  copy ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kopt-installed-'));
    for (const item of ['package.json', 'dist', 'hooks', 'patches', 'etc-portage']) {
      await cp(path.join(PROJECT, item), path.join(dir, item), { recursive: true, verbatimSymlinks: true });
    }
    await mkdir(path.join(dir, 'node_modules'), { recursive: true });
    await copyRuntimePackages(dir);
    await worldReadable(dir);
    return dir;
  })();
  return copy;
}
