// GNU patch is the only applier: the files a series touches are written to a scratch tree
// (src/system/scratch-tree.ts), then the prepatches (the sections of the incremental patch and the
// Gentoo patchsets that touch those files) and the series are applied there, one patch file after
// another with eapply's options, each seeing the result of the ones before, as in the ebuild. The
// last patch is only checked (--dry-run) unless it touches a file twice: a dry run does not show a
// section what an earlier section of the same patch did to that file. Each verdict is patch(1)'s,
// with details from the diff reader's sections and the files as patch(1) saw them (verdicts.ts).
import { withScratchTree } from '../system/scratch-tree.js';
import type { FilePatch } from './hunks.js';
import { formatSections, type Prepatch } from './prepatches.js';
import { patchVerdict, sourceOf, type PatchVerdict } from './verdicts.js';

/** The wanted paths of the sources: regular files, and what the others are ('a symbolic link', ...). */
export interface Sources {
  files: Map<string, Buffer>;
  special: Map<string, string>;
}

/** A series patch as read: its bytes and, unless the diff reader refused it, its sections. */
export interface ReadPatch {
  name: string;
  content: Buffer;
  sections?: FilePatch[];
  /** Why the diff reader refused it (GNU patch still decides). */
  error?: { line?: number; message: string };
}

export interface Applied {
  /** What the ebuild applies first, to the files the series touches. */
  before: { name: string; applied: boolean; files: string[]; problems: string[] }[];
  patches: PatchVerdict[];
}

const touchesTwice = (sections: FilePatch[] = []): boolean => {
  const paths = sections.flatMap((s) => [...new Set([sourceOf(s), s.new ?? s.old])]);
  return new Set(paths).size < paths.length;
};

/** Applies `prepatches` then `series` to a scratch copy of `sources` with GNU patch. */
export async function applyWithGnuPatch(
  sources: Sources,
  prepatches: Prepatch[],
  series: ReadPatch[],
): Promise<Applied> {
  return withScratchTree(sources.files, sources.special.keys(), async (tree) => {
    // Each file as the next patch will see it; read back after every patch that changed the tree.
    const now = new Map<string, Buffer | undefined>(sources.files);
    const seen = {
      content: (p: string) => now.get(p),
      special: (p: string) => (now.get(p) ? undefined : sources.special.get(p)),
    };
    const run = async (p: ReadPatch, last: boolean): Promise<PatchVerdict> => {
      const dryRun = last && p.sections !== undefined && !touchesTwice(p.sections);
      const result = await tree.patch(p.content, { dryRun });
      const verdict = patchVerdict(p.name, result, p.sections, seen, p.error);
      if (!dryRun) {
        const paths = p.sections?.flatMap((s) => [s.old, s.new]) ?? verdict.files.map((f) => f.path);
        for (const path of new Set(paths)) if (path) now.set(path, (await tree.read(path)) ?? undefined);
      }
      return verdict;
    };
    const before: Applied['before'] = [];
    for (const pp of prepatches) {
      const v = await run({ name: pp.name, content: formatSections(pp.sections), sections: pp.sections }, false);
      const problems = [
        ...(v.error ? [v.error.message] : []),
        ...v.files.flatMap((f) => [
          ...(f.problem ? [`${f.path}: ${f.problem}`] : []),
          ...f.hunks.filter((h) => !h.applied).map((h) => `${f.path}: hunk #${h.hunk} FAILED at ${h.at}`),
        ]),
      ];
      before.push({ name: pp.name, applied: v.applied, files: v.files.map((f) => f.path), problems });
    }
    const patches: PatchVerdict[] = [];
    for (const [i, p] of series.entries()) patches.push(await run(p, i === series.length - 1));
    return { before, patches };
  });
}
