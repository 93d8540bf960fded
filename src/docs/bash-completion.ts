// The bash completion of gentoo-kopt, made from the completion model (the command table and the doctor
// check ids): installed by the ebuild with newbashcomp. Everything but the kernel versions is data
// written into the script, so pressing Tab starts no node; the kernel versions are globbed at completion
// time from the VDB under the root the command line names and from the repositories of its repos.conf.
import { completionModel, type CompletionModel, type Completer } from './completion-model.js';
import { PROGRAM } from '../commands/table.js';

/** A bash word in single quotes. */
export const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const completerWord = (c: Completer): string => (c.kind === 'words' ? `words:${c.words.join(' ')}` : c.kind);

const assoc = (name: string, entries: [string, string][]): string =>
  `\tlocal -A ${name}=(\n${entries.map(([k, v]) => `\t\t[${sq(k)}]=${sq(v)}\n`).join('')}\t)`;

/** The script's data: the model as bash associative arrays, declared local to the completion function. */
function data(m: CompletionModel): string {
  return [
    `\tlocal first=${sq(m.first.join(' '))}`,
    assoc(
      'groups',
      Object.entries(m.groups).map(([k, v]) => [k, v.join(' ')]),
    ),
    assoc(
      'options',
      Object.entries(m.options).map(([k, v]) => [k, v.join(' ')]),
    ),
    assoc(
      'values',
      Object.entries(m.values).map(([k, v]) => [k, completerWord(v)]),
    ),
    assoc(
      'args',
      Object.entries(m.args).map(([k, v]) => [k, completerWord(v.completer)]),
    ),
    assoc(
      'argmax',
      Object.entries(m.args).map(([k, v]) => [k, String(v.max)]),
    ),
  ].join('\n');
}

/** The fixed part: root resolution and the kernel versions (honouring --root, ROOT, EPREFIX, PORTAGE_CONFIGROOT). */
const HELPERS = `
# _gentoo_kopt_roots WORD...: the roots gentoo-kopt would use for a command line of WORDs, as
# src/portage/roots.ts resolves them: --root DIR sets ROOT and PORTAGE_CONFIGROOT, else the environment's
# ROOT and PORTAGE_CONFIGROOT; EPREFIX goes below both. Sets the caller's _kopt_eroot, _kopt_configroot
# and _kopt_eprefix.
_gentoo_kopt_roots() {
	local given='' word prev='' prev2='' root
	for word in "$@"; do
		if [[ \${prev} == --root && \${word} != = ]]; then
			given=\${word}
		elif [[ \${prev2} == --root && \${prev} == = ]]; then
			given=\${word}
		elif [[ \${word} == --root=?* ]]; then
			given=\${word#--root=}
		fi
		prev2=\${prev} prev=\${word}
	done
	_kopt_eprefix=\${EPREFIX:-}
	[[ \${_kopt_eprefix} == / ]] && _kopt_eprefix=''
	if [[ -n \${given} ]]; then
		[[ \${given} == '~'/* ]] && given=\${HOME}\${given#'~'}
		[[ \${given} == /* ]] || given=\${PWD}/\${given}
		_kopt_eroot=\${given%/}\${_kopt_eprefix}
		_kopt_configroot=\${_kopt_eroot:-/}
	else
		root=\${ROOT:-/}
		[[ -z \${root//[[:space:]]/} ]] && root=/
		[[ \${root} == /* ]] || root=\${PWD}/\${root}
		_kopt_eroot=\${root%/}\${_kopt_eprefix}
		_kopt_configroot=\${PORTAGE_CONFIGROOT:-\${_kopt_eprefix:-/}}
	fi
}

# _gentoo_kopt_kernels WORD...: adds to the caller's array 'kernels' the dist-kernel versions
# (sys-kernel/*-kernel, CPV) installed under the root (its VDB) and offered by the repositories whose
# location repos.conf names (Portage's own repos.conf under the root, then the config root's, a file or
# a directory of files; %(EPREFIX)s interpolated), each once.
_gentoo_kopt_kernels() {
	local _kopt_eroot _kopt_configroot _kopt_eprefix f d line loc interp='%(EPREFIX)s'
	local -a confs=() locations=()
	local -A seen=()
	_gentoo_kopt_roots "$@"
	for d in "\${_kopt_eroot}"/var/db/pkg/sys-kernel/*-kernel-[0-9]*/; do
		[[ -d \${d} ]] || continue
		d=\${d%/}
		seen["sys-kernel/\${d##*/}"]=1
	done
	for f in "\${_kopt_eroot}/usr/share/portage/config/repos.conf" "\${_kopt_configroot%/}/etc/portage/repos.conf"; do
		if [[ -d \${f} ]]; then confs+=("\${f}"/*); else confs+=("\${f}"); fi
	done
	for f in "\${confs[@]}"; do
		[[ -f \${f} && -r \${f} && \${f##*/} != .* && \${f} != *~ ]] || continue
		while IFS= read -r line || [[ -n \${line} ]]; do
			[[ \${line} =~ ^[[:space:]]*location[[:space:]]*[=:][[:space:]]*(.*[^[:space:]]) ]] || continue
			loc=\${BASH_REMATCH[1]}
			locations+=("\${loc//"\${interp}"/\${_kopt_eprefix}}")
		done <"\${f}"
	done
	((\${#locations[@]})) || locations=("\${_kopt_eprefix}/var/db/repos/gentoo")
	for loc in "\${locations[@]}"; do
		for f in "\${loc}"/sys-kernel/*-kernel/*.ebuild; do
			[[ -f \${f} ]] || continue
			f=\${f##*/}
			seen["sys-kernel/\${f%.ebuild}"]=1
		done
	done
	kernels+=("\${!seen[@]}")
}

# _gentoo_kopt_reply KIND: COMPREPLY for the current word, completed as KIND says (directory, file,
# kernel, none, or words:W1 W2 ...).
_gentoo_kopt_reply() {
	local -a kernels=()
	case $1 in
		directory)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -d -- "\${cur}")
			;;
		file)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "\${cur}")
			;;
		kernel)
			_gentoo_kopt_kernels "\${COMP_WORDS[@]}"
			mapfile -t COMPREPLY < <(compgen -W "\${kernels[*]}" -- "\${cur}" | LC_ALL=C sort)
			;;
		words:*)
			mapfile -t COMPREPLY < <(compgen -W "\${1#words:}" -- "\${cur}")
			;;
		*)
			COMPREPLY=()
			;;
	esac
}
`;

/** The main function: finds the command and what the cursor is on, then replies. */
const MAIN = `
	local cur=\${COMP_WORDS[COMP_CWORD]} prev='' opt='' cmd='' group='' word i=1 npos=0
	COMPREPLY=()
	# The words before the cursor: the command (one word, or a group's two), option values, arguments.
	while ((i < COMP_CWORD)); do
		word=\${COMP_WORDS[i]}
		if [[ -z \${cmd} ]]; then
			if [[ \${word} != -* && -n \${groups[\${word}]+set} ]]; then
				if ((i + 1 < COMP_CWORD)); then
					cmd="\${word} \${COMP_WORDS[i + 1]}"
					((i++))
				else
					group=\${word}
				fi
			elif [[ \${word} != -* ]]; then
				cmd=\${word}
			fi
		elif [[ -n \${values["\${cmd} \${word}"]+set} ]]; then
			# An option with its value: --opt VALUE, or --opt = VALUE (bash splits words at '=').
			if [[ \${COMP_WORDS[i + 1]-} == = ]]; then ((i += 2)); else ((i++)); fi
		elif [[ \${word} != -* && \${word} != = ]]; then
			((npos++))
		fi
		((i++))
	done
	((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD - 1]}
	if [[ \${cur} == = ]]; then
		opt=\${prev} cur=''
	elif [[ \${prev} == = ]] && ((COMP_CWORD > 1)); then
		opt=\${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ \${prev} == -* ]]; then
		opt=\${prev}
	fi
	if [[ -n \${cmd} && -n \${opt} && -n \${values["\${cmd} \${opt}"]+set} ]]; then
		_gentoo_kopt_reply "\${values["\${cmd} \${opt}"]}"
	elif [[ -n \${group} ]]; then
		_gentoo_kopt_reply "words:\${groups[\${group}]}"
	elif [[ -z \${cmd} ]]; then
		_gentoo_kopt_reply "words:\${first}"
	elif [[ \${cmd} == help ]]; then
		# help COMMAND: the command's first word, then a group's second.
		if ((npos == 0)); then
			_gentoo_kopt_reply "words:\${first%% -*}"
		elif ((npos == 1)) && [[ -n \${groups[\${prev}]+set} ]]; then
			_gentoo_kopt_reply "words:\${groups[\${prev}]}"
		fi
	elif [[ \${cur} == -* ]]; then
		_gentoo_kopt_reply "words:\${options[\${cmd}]-}"
	elif [[ -n \${args[\${cmd}]+set} ]] && ((argmax[\${cmd}] == 0 || npos < argmax[\${cmd}])); then
		_gentoo_kopt_reply "\${args[\${cmd}]}"
	fi
	return 0
`;

export function bashCompletion(checkIds: readonly string[], model = completionModel(checkIds)): string {
  return [
    `# bash completion for ${PROGRAM}(1). Generated from src/commands/table.ts and the doctor check registry`,
    '# by scripts/shell-docs.mjs: do not edit. Installed with newbashcomp (bash-completion loads it on demand).',
    '# shellcheck shell=bash',
    HELPERS,
    `# _gentoo_kopt: the completion function of ${PROGRAM}.`,
    '_gentoo_kopt() {',
    data(model),
    MAIN.replace(/^\n/, ''),
    '}',
    '',
    `complete -F _gentoo_kopt ${PROGRAM}`,
    '',
  ].join('\n');
}
