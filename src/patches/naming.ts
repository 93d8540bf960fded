// The basenames sync-patches gives the files it installs. eapply_user merges the directories
// ${PN}, ${P}, ${P}-${PR} (and :SLOT) by basename and applies in C-locale basename order, so:
//  - a reserved prefix keeps our names out of the user's namespace (a user's file is never replaced,
//    whatever its name: ownership is checked against the ledger, not guessed from the name);
//  - "00-" sorts before the usual "0001-" numbering, so a series (the GCC LTO patches first) applies
//    before the user's own patches, and series apply in the order kopt.conf lists them.
import path from 'node:path';

const MANAGED_PREFIX = '00-gentoo-kopt-';

/** `00-gentoo-kopt-1-gcc-lto-01-0001-gcc-LTO-support-for-the-kernel.patch` */
export function managedName(seriesIndex: number, series: string, fileIndex: number, sourcePath: string): string {
  let base = path.posix.basename(sourcePath);
  if (!/\.(patch|diff)$/.test(base)) base += '.patch';
  return `${MANAGED_PREFIX}${seriesIndex + 1}-${series}-${String(fileIndex + 1).padStart(2, '0')}-${base}`;
}
