// The gentoo-kopt block in ${PORTAGE_CONFIGROOT}/etc/portage/bashrc: render it, find it, insert or
// replace it, remove it, keeping every other byte of the user's file. Pure text in, text out. This is
// also where the design of the block and the hook (hooks/kernel-hook.bash) is explained.
//
// Cost. Portage sources bashrc in every phase of every package, the depend phase included
// (bin/ebuild.sh: __source_all_bashrcs), and bash parses every byte of it each time, so for any other
// package the block costs one `case` on $CATEGORY/$PN (unbraced: ${...} costs bash a parse of its own)
// and the parse of its text: no subprocess, no variable or function defined. Code is the dear part to parse: per byte, bash runs several times the
// instructions for a [[ ]] line that it runs for a comment, and a comment costs it about three times
// a line of a here-document (callgrind); a quoted string costs about three times a here-document too.
// So the kernel-only part is a quoted here-document that only a kernel build sources, unindented (the
// bytes are the cost: about 6 µs per KiB, against about 5 µs for the `case` line and 2 µs for an empty
// here-document, and 1.4 ms for `bash -c :`), and bash reads it, unparsed, even when the `case` does not
// match. It expands PORTAGE_CONFIGROOT at run time (Portage passes it to every phase) instead of writing
// a path: the same bashrc works on the live system, inside a chroot of a `--root DIR` install, and in a
// test config root.
//
// Phases. Portage restores the environment the previous phase saved before it sources bashrc again
// (bin/phase-functions.sh: __ebuild_main), so the hook assigns, never appends. It defines no
// pre_pkg_setup: Portage calls a hook function by name and there is one function of each name
// (__ebuild_phase), so ours would replace the user's or be replaced. The setup work runs while the hook
// is sourced in the setup phase instead: the same process and privileges (doebuild.py runs setup as
// root, unsandboxed), moments earlier. What the hook exports matters only to a phase that runs a
// compiler or binutils from the environment, and to the record the later phases repeat; so these phases
// return at once, without a stat or the hook:
//  - depend, clean and cleanrm (no EPREFIX; clean only removes the build directory);
//  - pretend: Portage runs it in a build directory of its own and cleans it afterwards
//    (lib/_emerge/Scheduler.py: _run_pkg_pretend), so nothing it exports reaches setup, and the
//    dist-kernel's pkg_pretend (kernel-install.eclass, mount-boot.eclass) only checks /boot and
//    has_version;
//  - prerm, postrm and info: they restore the installed package's environment (the VDB's
//    environment.bz2, lib/portage/dbapi/vartree.py) and compile nothing: kernel-install.eclass's
//    pkg_prerm is empty and its pkg_postrm removes the initramfs (rm, find); info saves no environment
//    (bin/phase-functions.sh: __ebuild_main).
// setup and config always check: setup runs as root, unsandboxed, and runs node; config
// (kernel-install.eclass: pkg_config, kernel-install_install_all) reinstalls the kernel with
// installkernel and, for a generic UKI, $(tc-getOBJCOPY), so OBJCOPY & co must name tools that exist now
// (the installed environment's may name an LLVM slot removed since); a binary package's setup restores
// its builder's environment (lib/_emerge/Binpkg.py), and kernel-install_pkg_postinst runs the same
// install. Every other phase repeats the record of the check (below) when it is current, else checks.
//
// Trust. The hook runs as root in setup, so the block reads it only after one stat process has shown
// it and its directory to be root's (or the emerge user's) and not writable by group or others: bash
// has no builtin that shows a file's mode bits. (bash's `stat` loadable would spare the process, about
// 2 ms, but only app-shells/bash[plugins] installs it, off by default, and its code cost every phase of
// every package about 2 µs; with the phases above returning, one kernel merge checks once or twice.)
// stat prints `uid mode type size` per file (%a, the mode in octal, and %.1A, the type letter of
// ls -l: neither depends on the locale). The same stat carries the settings' record, which the hook
// judges likewise (and caps at 64 KiB), and node and bin get a stat of their own before they run. The
// hook then records KOPT_EXPORT and KOPT_UNSET (what it exported, what it unset) and
// KOPT_DONE (the 10,000-second interval of the check), none exported: Portage saves them into
// ${T}/environment (bin/save-ebuild-env.sh), which only root and the build user can write. unpack to
// install, instprep, preinst, postinst, package and misc-functions.sh (EBUILD_PHASE unset:
// lib/_emerge/MiscFunctionsProcess.py) repeat that record within that interval and the next: no fork,
// the hook not even parsed. A build resumed hours later has an expired record and checks again. (The
// names were GENTOO_KOPT_*, 70 bytes more of the here-document: a build begun before an upgrade checks
// once more.)
//
// Insertion appends at the end (so the block sees every variable the user's bashrc set, and can
// report conflicts) after one "\n": a blank separator line when the file ended with a newline, the
// missing terminator of the last line otherwise. Removal takes that "\n" back, so install followed by
// uninstall gives the original bytes.
import { ConfigError } from '../errors.js';

export const BLOCK_BEGIN = '# >>> gentoo-kopt >>>';
export const BLOCK_END = '# <<< gentoo-kopt <<<';

/** Where the hook is installed, relative to the config root. */
export const HOOK_REL = 'etc/gentoo-kopt/kernel-hook.bash';

const HOOK_AT_RUNTIME = `\${PORTAGE_CONFIGROOT%/}/${HOOK_REL}`;

/**
 * The kernel-only part, sourced from a here-document (unindented: bash reads every byte of it for any
 * package; the function's body is indented by one tab). The phases of the design comment above that
 * need nothing return at once; a later phase of a build repeats setup's record and returns from
 * `source` there: bash then neither parses nor defines the function below (defining one copies its
 * body, and unset -f frees it: two thirds of the instructions the later phase used to take). The record
 * repeated is the hook's, which it never exports: an exported KOPT_DONE came from elsewhere (the
 * process environment) and is not trusted. Shell state the user's bashrc set is handled: there, `${...-}`
 * (nounset), `|| :` (errexit) and quoted expansions; in the function, `local -` and `set +aeu` for
 * errexit, nounset and allexport; `[[ == ]]` patterns take extglob whatever the option says, and their
 * ranges, [0-9] and the octal digits, only have to keep each record on its line (locale); `exec stat`
 * runs the stat program whatever function or builtin (bash's loadable) has that name, and in the one
 * process that $(...) forks (`command stat`, or a bare one with its redirection, made bash fork twice);
 * `builtin source` passes over a function of that name. kopt_stat holds the `uid mode type size`
 * lines of the directory, the hook and the settings (absent when missing); the hook reads the third.
 * The mode must end in two octal digits without the write bit (0, 1, 4 or 5) for group and others.
 */
const KERNEL_PART = [
  '[[ ${EBUILD_PHASE-} != @(depend|clean|cleanrm|pretend|prerm|postrm|info) ]] || return 0',
  'if [[ ${EBUILD_PHASE-} != @(setup|config) && " ${KOPT_DONE-} " == *" b${EPOCHSECONDS::6} "* && ${KOPT_DONE@a} != *x* ]]; then',
  '\t[[ -z ${KOPT_EXPORT[0]+set} ]] || export -- "${KOPT_EXPORT[@]}" || :',
  '\tunset -v -- "${KOPT_UNSET[@]}" || :',
  '\treturn 0',
  'fi',
  '_kopt_block() {',
  `\tlocal - h=${HOOK_AT_RUNTIME} kopt_stat; set +aeu`,
  '\tkopt_stat=$(exec stat -c \'%u %a %.1A %s\' -- "${h%/*}/." "$h" "${h%/*}/hook-settings" 2>/dev/null)',
  "\tif [[ $kopt_stat == @(0|$EUID)' '*([0-7])[0145][0145]' d '+([0-9])$'\\n'@(0|$EUID)' '*([0-7])[0145][0145]' - '* ]]; then",
  '\t\tbuiltin source "$h"',
  '\telif [[ -e $h || -L $h ]]; then',
  '\t\tKOPT_DONE=b${EPOCHSECONDS::6} KOPT_EXPORT=() KOPT_UNSET=()',
  '\t\tewarn "gentoo-kopt: not reading $h: it or its directory is unsafe (run: gentoo-kopt doctor)"',
  '\tfi',
  '}',
  '_kopt_block',
  'unset -f _kopt_block',
];

/** The here-document's delimiter. */
const END_OF_PART = 'GENTOO_KOPT_BLOCK';

/** The block, ending with a newline. */
export function renderBlock(): string {
  return [
    BLOCK_BEGIN,
    `case $CATEGORY/$PN in sys-kernel/*-kernel) builtin source /dev/stdin <<'${END_OF_PART}'`,
    ...KERNEL_PART,
    END_OF_PART,
    'esac',
    BLOCK_END,
    '',
  ].join('\n');
}

export type BlockState = 'absent' | 'current' | 'outdated';

export interface BlockInfo {
  state: BlockState;
  /** Character offsets of the block (begin marker line through the end marker's newline). */
  start?: number;
  end?: number;
  /** 1-based line of the begin marker. */
  line?: number;
  /** The user's bashrc has code after the block: it can override what the hook exports. */
  codeAfter: boolean;
}

interface Line {
  text: string;
  start: number;
  /** Offset just past the line's newline (or the end of the text). */
  next: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const next = nl < 0 ? text.length : nl + 1;
    lines.push({ text: text.slice(start, nl < 0 ? text.length : nl), start, next });
    start = next;
  }
  return lines;
}

const isBegin = (l: string): boolean => l.trimEnd() === BLOCK_BEGIN || l.startsWith(`${BLOCK_BEGIN} `);
const isEnd = (l: string): boolean => l.trimEnd() === BLOCK_END;

/** Finds the block; a begin without end, an end without begin, or two blocks are errors naming the line. */
export function findBlock(text: string, file: string): BlockInfo {
  const lines = splitLines(text);
  let found: { begin: number; end: number } | undefined;
  let open: number | undefined;
  lines.forEach((l, i) => {
    if (isBegin(l.text)) {
      if (open !== undefined || found) {
        throw new ConfigError('a second gentoo-kopt block begins here', {
          file,
          line: i + 1,
          hint: `delete all but one block (from '${BLOCK_BEGIN}' to '${BLOCK_END}'), then run gentoo-kopt hooks install`,
        });
      }
      open = i;
    } else if (isEnd(l.text)) {
      if (open === undefined) {
        throw new ConfigError(`'${BLOCK_END}' without a '${BLOCK_BEGIN}' line before it`, {
          file,
          line: i + 1,
          hint: 'delete the stray marker line, then run gentoo-kopt hooks install',
        });
      }
      found = { begin: open, end: i };
      open = undefined;
    }
  });
  if (open !== undefined) {
    throw new ConfigError(`the gentoo-kopt block starting here has no '${BLOCK_END}' line`, {
      file,
      line: open + 1,
      hint: 'restore the end marker or delete the block by hand, then run gentoo-kopt hooks install',
    });
  }
  if (!found) return { state: 'absent', codeAfter: false };
  const start = lines[found.begin]!.start;
  const end = lines[found.end]!.next;
  const codeAfter = lines.slice(found.end + 1).some((l) => l.text.trim() !== '' && !l.text.trim().startsWith('#'));
  const current = text.slice(start, end) === renderBlock();
  return { state: current ? 'current' : 'outdated', start, end, line: found.begin + 1, codeAfter };
}

/** The text with the block present and current: replaced in place, or appended. */
export function insertBlock(text: string, file: string): string {
  const info = findBlock(text, file);
  if (info.state === 'current') return text;
  if (info.state === 'outdated') return text.slice(0, info.start) + renderBlock() + text.slice(info.end);
  return text === '' ? renderBlock() : `${text}\n${renderBlock()}`;
}

/** The text without the block, and without the "\n" insertBlock added before it. */
export function removeBlock(text: string, file: string): string {
  const info = findBlock(text, file);
  if (info.state === 'absent') return text;
  let before = text.slice(0, info.start);
  const after = text.slice(info.end!);
  if (before.endsWith('\n\n') || before === '\n') before = before.slice(0, -1);
  else if (after === '' && before.endsWith('\n')) before = before.slice(0, -1);
  return before + after;
}
