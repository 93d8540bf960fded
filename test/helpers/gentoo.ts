// A small Gentoo root for sync-patches tests: VDB entries, a repository with kernel ebuilds, the
// project's example series as the patch source, and a kopt.conf. Everything lives in a temp dir.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rm, mkdir, writeFile } from 'node:fs/promises';
import { testdir, writeTree, type Tree } from './tree.js';
import { resolveRoots, type Roots } from '../../src/portage/roots.js';
import type { CommandContext } from '../../src/commands/types.js';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLE_SOURCE = path.join(PROJECT, 'patches/example');

export interface GentooRootSpec {
  installed?: string[]; // category/PF
  available?: string[]; // category/PF
  conf?: string; // kopt.conf text; default: the example series from the project's own patches
  extra?: Tree;
}

export function defaultConf(source = EXAMPLE_SOURCE): string {
  return `packages = sys-kernel/gentoo-kernel sys-kernel/vanilla-kernel\nseries = kopt-demo\npatch-source = ${source}\n`;
}

function vdbEntry(cpf: string): Tree {
  const [category, pf] = cpf.split('/') as [string, string];
  const pv = pf.replace(/^.*?-(?=\d)/, '').replace(/-r\d+$/, '');
  const dir = `var/db/pkg/${category}/${pf}`;
  return {
    [`${dir}/SLOT`]: `${pv}\n`,
    [`${dir}/repository`]: 'gentoo\n',
    [`${dir}/EAPI`]: '8\n',
    [`${dir}/COUNTER`]: '1\n',
  };
}

function ebuild(cpf: string): Tree {
  const [category, pf] = cpf.split('/') as [string, string];
  const pn = pf.replace(/-\d.*$/, '');
  return { [`var/db/repos/gentoo/${category}/${pn}/${pf}.ebuild`]: 'EAPI=8\nSLOT="${PV}"\n' };
}

export async function gentooRoot(
  spec: GentooRootSpec = {},
): Promise<{ dir: string; roots: Roots; ctx: CommandContext }> {
  return gentooRootIn(await testdir(), spec);
}

/** gentooRoot, built in the existing directory `dir` (for a root that sits beside other directories). */
export async function gentooRootIn(
  dir: string,
  spec: GentooRootSpec = {},
): Promise<{ dir: string; roots: Roots; ctx: CommandContext }> {
  const tree: Tree = {
    'var/db/repos/gentoo/profiles/repo_name': 'gentoo\n',
    'etc/portage/repos.conf/gentoo.conf': `[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = ${dir}/var/db/repos/gentoo\n`,
    'etc/gentoo-kopt/kopt.conf': spec.conf ?? defaultConf(),
    ...Object.assign({}, ...(spec.installed ?? []).map(vdbEntry)),
    ...Object.assign({}, ...(spec.available ?? []).map(ebuild)),
    ...spec.extra,
  };
  await writeTree(dir, tree);
  const roots = resolveRoots({ root: dir, env: {} });
  return { dir, roots, ctx: { roots, env: {}, json: false, tty: false } };
}

/** Simulates `emerge --depclean` of one version (its VDB entry goes away). */
export async function uninstall(dir: string, cpf: string): Promise<void> {
  await rm(path.join(dir, 'var/db/pkg', cpf), { recursive: true });
}

export async function install(dir: string, cpf: string): Promise<void> {
  for (const [rel, content] of Object.entries({ ...vdbEntry(cpf), ...ebuild(cpf) })) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content as string);
  }
}
