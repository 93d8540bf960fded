// The config root the first release wrote (test/fixtures/wave1-root.json, made by wave1-root.mjs
// beside it), laid out in a temp directory: every file and directory with its mode, @ROOT@ and
// @PROJECT@ replaced by the directory and this checkout.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT } from './gentoo.js';
import { testdir } from './tree.js';

export type Wave1Entry = { mode: string; text?: string; base64?: string };
export const WAVE1: Record<string, Wave1Entry> = JSON.parse(
  await readFile(path.join(PROJECT, 'test/fixtures/wave1-root.json'), 'utf8'),
);

/** The fixture's text of `rel` (a state file or a user file), before any replacement. */
export const wave1Text = (rel: string): string => WAVE1[rel]!.text!;

/** Lays the fixture out in `dir` (a new temp directory when not given) and returns it. */
export async function wave1Root(dir?: string): Promise<string> {
  const root = dir ?? (await testdir());
  for (const [rel, e] of Object.entries(WAVE1)) {
    const full = path.join(root, rel);
    if (rel.endsWith('/')) await mkdir(full, { recursive: true });
    else if (e.text !== undefined)
      await writeFile(full, e.text.split('@ROOT@').join(root).split('@PROJECT@').join(PROJECT));
    else await writeFile(full, Buffer.from(e.base64!, 'base64'));
  }
  // Modes last, deepest first, so a 0700 directory is filled before it is closed.
  for (const [rel, e] of Object.entries(WAVE1).reverse()) await chmod(path.join(root, rel), Number.parseInt(e.mode, 8));
  return root;
}
