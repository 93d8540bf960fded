// The gentoo-kopt block in ${PORTAGE_CONFIGROOT}/etc/portage/bashrc: render it, find it, insert or
// replace it, remove it, keeping every other byte of the user's file. Pure text in, text out. This is
// also where the design of the block and the hook (hooks/kernel-hook.bash) is explained.
//
// Cost. Portage sources bashrc in every phase of every package, the depend phase included
// (bin/ebuild.sh: __source_all_bashrcs), and bash parses every byte of it each time, so for any other
// package the block costs two string tests (CATEGORY, PN) and the parse of its text: no subprocess, no
// variable or function defined. Code is the dear part to parse: per byte, bash runs several times the
// instructions for a [[ ]] line that it runs for a comment, and a comment costs it about three times
// a line of a here-document (callgrind). So the kernel-only part is a quoted here-document that only a
// kernel build sources. It expands PORTAGE_CONFIGROOT at run time (Portage passes it to every phase)
// instead of writing a path: the same bashrc works on the live system, inside a chroot of a
// `--root DIR` install, and in a test config root.
//
// Phases. Portage restores the environment the previous phase saved before it sources bashrc again
// (bin/phase-functions.sh: __ebuild_main), so the hook assigns, never appends. It defines no
// pre_pkg_setup: Portage calls a hook function by name and there is one function of each name
// (__ebuild_phase), so ours would replace the user's or be replaced. The setup work runs while the hook
// is sourced in the setup phase instead: the same process and privileges (doebuild.py runs setup as
// root, unsandboxed), moments earlier. depend, clean and cleanrm return at once.
//
// Trust. The hook runs as root in setup, so the block reads it only after one stat has shown it and its
// directory to be root's (or the emerge user's) and not writable by group or others. bash has no
// builtin that shows a file's mode bits, so the stat is bash's own `stat` loadable builtin when the
// system has it (bash's examples/loadables, installed by app-shells/bash[plugins] in /usr/lib64/bash,
// by Debian's bash-builtins in /usr/lib/bash; loaded by absolute path only, never from
// BASH_LOADABLES_PATH, whose default ends in "."; unloaded at once, so the ebuild's own `stat` is the
// program again; and not used when a builtin of that name exists already): about 0.3 ms against
// 2 to 3 ms for a stat process. Otherwise it is one stat process. The same stat
// carries the settings' record, which the hook judges likewise (and caps at 64 KiB), and node and bin
// get a stat of their own before they run. pretend and setup always check. The hook then records
// GENTOO_KOPT_EXPORT and GENTOO_KOPT_UNSET (what it exported, what it unset) and GENTOO_KOPT_DONE (the
// 10,000-second interval of the check and the next one), none exported: Portage saves them into
// ${T}/environment (bin/save-ebuild-env.sh), which only root and the build user can write. unpack to install, instprep,
// preinst, postinst, package and misc-functions.sh (EBUILD_PHASE unset:
// lib/_emerge/MiscFunctionsProcess.py) repeat that record within those intervals: no fork, the hook not
// even parsed. Any other phase checks again, because the environment it restores may be old: prerm,
// postrm, config and info restore the installed package's (the VDB's environment.bz2,
// lib/portage/dbapi/vartree.py), a binary package's pretend and setup its builder's
// (lib/_emerge/Binpkg.py; setup runs before preinst), and a build resumed hours later has an expired
// record.
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
 * The kernel-only part, sourced from a here-document (tab-indented: `<<-` strips the tabs). A later
 * phase of a build repeats setup's record at its top and returns from `source` there: bash then neither
 * parses nor defines the function below (defining one copies its body, and unset -f frees it: two
 * thirds of the instructions the later phase used to take). The record repeated is the hook's, which it
 * never exports: an exported GENTOO_KOPT_DONE came from elsewhere (the process environment) and is not
 * trusted. Shell state the user's bashrc set is handled: there, `${...-}` (nounset), `|| :` (errexit)
 * and quoted expansions; in the function, `local -` and `set +aeu` for errexit, nounset and allexport;
 * `[[ == ]]` patterns take extglob whatever the option says, and their one range, [0-9], only has to
 * keep the directory's record on its line (locale); `command stat` and `builtin source` pass over
 * functions of those names. The stat records are `uid mode size` lines for the directory, the hook and
 * the settings (absent when missing): the hook reads the third.
 */
const KERNEL_PART = [
  "# from `gentoo-kopt hooks install`; see the hook's header",
  'if [[ ${EBUILD_PHASE-}:" ${GENTOO_KOPT_DONE-} " == @(unpack|prepare|configure|compile|test|install|instprep|preinst|postinst|package|):*" b${EPOCHSECONDS::6} "* && ${GENTOO_KOPT_DONE@a} != *x* ]]; then',
  '\t[[ -z ${GENTOO_KOPT_EXPORT[0]+set} ]] || export -- "${GENTOO_KOPT_EXPORT[@]}" || :',
  '\tunset -v -- "${GENTOO_KOPT_UNSET[@]}" || :',
  '\treturn 0',
  'fi',
  '_kopt_block() {',
  '\tlocal -; set +aeu',
  `\tlocal h=${HOOK_AT_RUNTIME} kopt_stat`,
  '\t[[ ${EBUILD_PHASE} != @(depend|clean|cleanrm) ]] || return 0',
  '\tif ! builtin compgen -b stat >/dev/null && { builtin enable -f /usr/lib64/bash/stat stat || builtin enable -f /usr/lib/bash/stat stat; } 2>/dev/null; then',
  '\t\tlocal -A ks; local kf km kr=(--- --x -w- -wx r-- r-x rw- rwx)',
  '\t\tfor kf in "${h%/*}/." "${h}" "${h%/*}/hook-settings"; do',
  '\t\t\tbuiltin stat -L -A ks -- "${kf}" 2>/dev/null || continue',
  '\t\t\tkm=${ks[perms]: -3} kopt_stat+=${kopt_stat:+$\'\\n\'}"${ks[uid]} ${ks[type]}${kr[${km::1}]}${kr[${km:1:1}]}${kr[${km:2}]} ${ks[size]}"',
  '\t\tdone',
  '\t\tbuiltin enable -d stat',
  '\telse',
  '\t\tkopt_stat=$(command stat -c \'%u %A %s\' -- "${h%/*}/." "${h}" "${h%/*}/hook-settings" 2>/dev/null)',
  '\tfi',
  "\tif [[ ${kopt_stat} == @(0|${EUID})' d'????[!w]??[!w]?' '+([0-9])$'\\n'@(0|${EUID})' -'????[!w]??[!w]?' '* ]]; then",
  '\t\tbuiltin source "${h}"',
  '\telif [[ -e ${h} || -L ${h} ]]; then',
  '\t\tGENTOO_KOPT_DONE="b${EPOCHSECONDS::6} b$((${EPOCHSECONDS::6} + 1))" GENTOO_KOPT_EXPORT=() GENTOO_KOPT_UNSET=()',
  "\t\tewarn \"gentoo-kopt: not reading ${h}: it and its directory must be root's, not writable by group or others (fix: chown root:root '${h%/*}' '${h}'; chmod go-w '${h%/*}' '${h}')\"",
  '\tfi',
  '\treturn 0',
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
    'if [[ ${CATEGORY} == sys-kernel && ${PN} == *-kernel ]]; then',
    `\tbuiltin source /dev/stdin <<-'${END_OF_PART}'`,
    ...KERNEL_PART.map((l) => `\t${l}`),
    `\t${END_OF_PART}`,
    'fi',
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
