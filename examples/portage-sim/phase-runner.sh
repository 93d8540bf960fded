#!/usr/bin/env bash
# Runs one ebuild phase around etc/portage/bashrc the way Portage's bin/ebuild.sh does (see
# test/helpers/portage-phases.ts and examples/portage-sim/emerge.mjs, which start it with only the
# environment Portage would pass). Used by the tests and by `npm run demo`. The functions here
# stand in for Portage's isolated-functions.sh and are never saved into ${T}/environment, as Portage
# keeps its own functions out of it.
einfo() { printf 'INFO %s\n' "$*" >> "${KOPT_TEST_MSGS}"; }
ewarn() { printf 'WARN %s\n' "$*" >> "${KOPT_TEST_MSGS}"; }
eerror() { printf 'ERROR %s\n' "$*" >> "${KOPT_TEST_MSGS}"; }
die() { printf 'DIE %s\n' "$*" >> "${KOPT_TEST_MSGS}"; exit 1; }
has_version() { die "has_version called from bashrc"; }
use() { die "use called from bashrc"; }
__kopt_test_save() {
	local v decl f flags IFS=$' \t\n'
	for v in $(compgen -v); do
		case " ${KOPT_TEST_FILTER} " in *" ${v} "*) continue ;; esac
		case ${v} in BASH*|__*|KOPT_TEST_*|COMP_*|FUNCNAME|GROUPS|LINENO|RANDOM|SECONDS|SRANDOM|EPOCH*|HISTCMD|PIPESTATUS|DIRSTACK|OPT*|EUID|UID|PPID|SHELLOPTS|SHLVL|PWD|OLDPWD|_|IFS|PS4|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|MAILCHECK|TERM) continue ;; esac
		decl=$(declare -p "${v}" 2>/dev/null) || continue
		# readonly (declare -r, -ar, ...): the flags only, not a value that happens to hold an r
		flags=${decl#declare -}
		[[ ${flags%% *} == *r* ]] && continue
		printf '%s\n' "${decl}"
	done
	for f in $(compgen -A function); do
		case ${f} in einfo|ewarn|eerror|die|has_version|use|__kopt_test_*) continue ;; esac
		declare -f "${f}"
	done
}
# bin/ebuild.sh: a source build's setup and clean start from a fresh environment; a binary package's
# setup restores the one it came with
if [[ ${EBUILD_PHASE} != @(depend|clean|cleanrm) && -f ${T}/environment ]] && ! [[ ${EBUILD_PHASE} == setup && ${EMERGE_FROM} == ebuild ]]; then
	source "${T}/environment" || die "error sourcing environment"
fi
if [[ -n ${KOPT_TEST_XTRACE} ]]; then
	exec {BASH_XTRACEFD}>"${T}/xtrace.${EBUILD_PHASE}"
fi
declare -p > "${T}/vars.before.${EBUILD_PHASE}"
declare -F > "${T}/funcs.before.${EBUILD_PHASE}"
[[ -n ${KOPT_TEST_XTRACE} ]] && set -x
source "${PORTAGE_CONFIGROOT%/}/etc/portage/bashrc"
{ set +x; } 2>/dev/null
declare -p > "${T}/vars.after.${EBUILD_PHASE}"
declare -F > "${T}/funcs.after.${EBUILD_PHASE}"
if [[ -n ${KOPT_TEST_HOOK} ]]; then
	for __kopt_test_f in pre_${KOPT_TEST_HOOK} ${KOPT_TEST_HOOK} post_${KOPT_TEST_HOOK}; do
		declare -F "${__kopt_test_f}" >/dev/null && "${__kopt_test_f}"
	done
fi
export -p > "${T}/exports.${EBUILD_PHASE}"
[[ ${EBUILD_PHASE} == depend ]] || __kopt_test_save > "${T}/environment"
