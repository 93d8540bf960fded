// verify --config: which options of the user's kernel config fragments survive `olddefconfig`, before
// an hour-long emerge finds out (or never: the drop is silent). kernel-build.eclass merges the ebuild's
// base config, then every ${ESYSROOT}/etc/kernel/config.d/*.config (glob order) with `merge_config.sh
// -m -r`, then runs `make olddefconfig`, which drops every option whose dependencies are not met. Here:
//  1. the fragments are read from the root's etc/kernel/config.d (bounded, regular files inside the
//     root), in C order; they are the requests;
//  2. the kernel tarball is streamed once, keeping only what Kconfig reads (kconfig-tree.ts); the
//     ebuild's prepatches are read for those files (prepatches.ts), since a stable update can change
//     a Kconfig file;
//  3. the kernel's own merge_config.sh and olddefconfig run on a scratch copy (system/kconfig-run.ts)
//     with the toolchain kopt.conf names (toolchain = llvm: LLVM=1, so CC_IS_CLANG, CLANG_VERSION and
//     every cc-option test are clang's, as in the emerge);
//  4. each request is compared with the final .config; each dropped one is explained by kconfig-why.
// Without a tarball (distfiles not downloaded): "not verified", never "fine".
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KoptError, SourceError } from '../errors.js';
import { programFile } from '../program-files.js';
import { compareC } from '../portage/eapply-user.js';
import type { Roots } from '../portage/roots.js';
import { runKconfig } from '../system/kconfig-run.js';
import { readBounded, readOptional } from '../system/read.js';
import { extractWanted, type ExtractProgress } from './extract.js';
import { kconfigMembers, type KconfigArch } from './kconfig-tree.js';
import {
  compareRequests,
  isKept,
  lastAssignments,
  parseConfigText,
  parseWhy,
  type OptionResult,
} from './kconfig-values.js';
import { formatSections, readPrepatches, type PrepatchSources } from './prepatches.js';

export interface NamedText {
  name: string;
  content: Buffer;
}

export type ConfigStatus = 'kept' | 'dropped' | 'not-verified';

export interface ConfigVerdict {
  status: ConfigStatus;
  reason?: string;
  hint?: string;
  against?: {
    tarball: string;
    /** Where the base config came from, and the ebuild's own fragments merged before the user's. */
    base: string;
    ebuildFragments: string[];
    prepatches: string[];
    arch: string;
    toolchain: 'gnu' | 'llvm';
    /** What Kconfig's probes ran with (CC, LD, CC_VERSION_TEXT, CLANG_FLAGS). */
    probes: Record<string, string>;
    /** What the base was chosen by (a version's USE flags). */
    notes: string[];
  };
  fragments: string[];
  options: OptionResult[];
  /** kconfig-why could not explain the dropped options (they are still listed): why. */
  explainError?: string;
  stats: { bytes: number; members: number; kept: number; ms: number; olddefconfigMs: number };
}

export interface ConfigJob {
  tarball: string;
  prepatches?: PrepatchSources;
  /** The base config; absent: the tree's defconfig for the arch. */
  base?: NamedText;
  /** The ebuild's own fragments, merged after the base and before the user's. */
  ebuildFragments?: NamedText[];
  /** The user's fragments, in merge order (etc/kernel/config.d). */
  fragments: NamedText[];
  arch: KconfigArch;
  llvm: boolean;
  notes?: string[];
  progress?: (p: ExtractProgress) => void;
}

/** Relative to the config root: where kernel-build.eclass finds the user's fragments. */
export const CONFIG_D = 'etc/kernel/config.d';

/** The *.config files of etc/kernel/config.d in the root, in C order, read (bounded, inside the root). */
export async function readConfigFragments(roots: Roots): Promise<NamedText[]> {
  const dir = path.join(roots.configRoot, CONFIG_D);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [] as string[];
    throw err;
  });
  const out: NamedText[] = [];
  for (const name of names.filter((n) => n.endsWith('.config')).sort(compareC)) {
    const file = path.join(dir, name);
    const content = await readOptional(file, 'kernel-config', { inside: roots.configRoot });
    if (content) out.push({ name: file, content });
  }
  return out;
}

const WHY_C = programFile('kconfig/kconfig-why.c');

export function notVerifiedConfig(reason: string, hint: string, fragments: NamedText[] = []): ConfigVerdict {
  return {
    status: 'not-verified',
    reason,
    hint,
    fragments: fragments.map((f) => f.name),
    options: [],
    stats: { bytes: 0, members: 0, kept: 0, ms: 0, olddefconfigMs: 0 },
  };
}

/** Steps 2 to 4 of the header for one set of fragments. Errors in the tarball or the tree throw. */
export async function verifyConfig(job: ConfigJob): Promise<ConfigVerdict> {
  const started = performance.now();
  const wanted = kconfigMembers(job.arch);
  const tree = await extractWanted(job.tarball, wanted, {
    threads: true,
    ...(job.progress ? { progress: job.progress } : {}),
  });
  const prepatches = job.prepatches
    ? (await readPrepatches(job.prepatches, new Set(tree.files.keys()))).filter((p) => p.sections.length > 0)
    : [];
  const base = job.base ?? { name: job.arch.defconfig, content: tree.files.get(job.arch.defconfig)! };
  if (!base.content)
    throw new SourceError(`the tarball has no ${job.arch.defconfig}`, {
      file: job.tarball,
      hint: 'name the base config with --base-config FILE',
    });
  const requested = lastAssignments(job.fragments.map((f) => ({ name: f.name, text: f.content.toString('utf8') })));
  const run = await runKconfig({
    files: tree.files,
    executable: tree.executable,
    prepatches: prepatches.map((p) => ({ name: p.name, content: formatSections(p.sections) })),
    base,
    fragments: [...(job.ebuildFragments ?? []), ...job.fragments],
    arch: job.arch.arch,
    llvm: job.llvm,
    whySource: await readBounded(WHY_C, 'program'),
    explain: (config) => {
      const final = lastAssignments([{ name: '.config', text: config }]);
      return [...requested.values()]
        .filter((a) => !isKept(a.value, final.get(a.symbol)?.value ?? 'unset'))
        .map((a) => a.symbol);
    },
  });
  const final = new Map(parseConfigText(run.config, '.config').map((a) => [a.symbol, a]));
  const options = compareRequests(requested, final, parseWhy(run.why));
  return {
    status: options.some((o) => o.status === 'dropped') ? 'dropped' : 'kept',
    against: {
      tarball: job.tarball,
      base: base.name,
      ebuildFragments: (job.ebuildFragments ?? []).map((f) => f.name),
      prepatches: prepatches.map((p) => p.name),
      arch: job.arch.arch,
      toolchain: job.llvm ? 'llvm' : 'gnu',
      probes: run.toolchain,
      notes: job.notes ?? [],
    },
    fragments: job.fragments.map((f) => f.name),
    options,
    ...(run.whyError ? { explainError: run.whyError } : {}),
    stats: {
      bytes: tree.bytes,
      members: tree.members,
      kept: tree.files.size,
      ms: Math.round(performance.now() - started),
      olddefconfigMs: run.ms.olddefconfig,
    },
  };
}

/** verifyConfig, with a KoptError (damaged tarball, a tool missing) as a not-verified verdict. */
export async function verifyConfigOrExplain(job: ConfigJob): Promise<ConfigVerdict> {
  try {
    return await verifyConfig(job);
  } catch (err) {
    if (err instanceof KoptError)
      return notVerifiedConfig(err.describe(), err.hint ?? 'fix it and run again', job.fragments);
    throw err;
  }
}
