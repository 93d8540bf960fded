#!/usr/bin/env bash
# ebuild-standin.bash: an ebuild of packaging/gentoo read and installed by bash alone, for CI (which has
# no Portage). NOT Portage: only the PMS pieces the gentoo-kopt ebuilds use, each as strict as Portage's
# (a helper given a file that does not exist dies). The real check is Portage's `ebuild ... install`
# (packaging/README.md); this one keeps the ebuild and the release tarball in step on every commit.
#
#   ebuild-standin.bash meta EBUILD                 KEY=value lines: EAPI KEYWORDS SRC_URI S LICENSE
#                                                   RDEPEND BDEPEND PROPERTIES INHERIT DEFINED (phases)
#   ebuild-standin.bash install EBUILD WORKDIR D    src_install (in ${S}, as Portage runs it) into D
set -uo pipefail

mode=$1 ebuild=$2
file=${ebuild##*/}
PF=${file%.ebuild}
PN=${PF%%-[0-9]*}
PV=${PF#"${PN}"-}
P=${PF}
CATEGORY=$(basename "$(dirname "$(dirname "$(realpath "${ebuild}")")")")
EPREFIX=
FILESDIR=$(dirname "${ebuild}")/files
WORKDIR=${3:-/nonexistent-workdir}
D=${4:-/nonexistent-image}
ED=${D}
T=${WORKDIR}/../temp
S=${WORKDIR}/${P}
INHERIT=
export P PN PV PF CATEGORY EPREFIX FILESDIR WORKDIR D ED T

die() { printf 'die: %s\n' "$*" >&2; exit 1; }
elog() { printf ' * %s\n' "$*" >&2; }
einfo() { elog "$@"; }
ewarn() { elog "$@"; }
inherit() { INHERIT+=" $*"; }
get_libdir() { echo lib64; }

_ins_dir=/
insinto() { _ins_dir=$1; }
_install_to() { # SRC DESTDIR-in-image NAME MODE
	[[ -e $1 ]] || die "${FUNCNAME[1]}: ${1} does not exist (in ${PWD})"
	mkdir -p "${ED}$2" || die "mkdir ${ED}$2"
	install -m "$4" "$1" "${ED}$2/$3" || die "${FUNCNAME[1]}: install ${1} failed"
}
doins() {
	local recursive=0 f
	[[ ${1-} == -r ]] && { recursive=1; shift; }
	(($#)) || die "doins: no files"
	for f; do
		[[ -e ${f} ]] || die "doins: ${f} does not exist (in ${PWD})"
		if [[ -d ${f} ]]; then
			((recursive)) || die "doins: ${f} is a directory (no -r)"
			mkdir -p "${ED}${_ins_dir}" || die "doins: mkdir ${_ins_dir} failed"
			cp -R "${f}" "${ED}${_ins_dir}/" || die "doins: copying ${f} failed"
			# PMS: files get insopts (default -m0644), directories diropts (default -m0755).
			find "${ED}${_ins_dir}/${f##*/}" -type f -exec chmod 0644 {} + -o -type d -exec chmod 0755 {} +
		else
			_install_to "${f}" "${_ins_dir}" "$(basename "${f}")" 0644
		fi
	done
}
newins() { _install_to "$1" "${_ins_dir}" "$2" 0644; }
fperms() { [[ -e ${ED}$2 ]] || die "fperms: ${2} is not in the image"; chmod "$1" "${ED}$2"; }
dosym() {
	local rel=0
	[[ $1 == -r ]] && { rel=1; shift; }
	local target=$1 link=$2
	((rel)) && target=$(realpath -m --relative-to="$(dirname "${link}")" "${target}")
	mkdir -p "${ED}$(dirname "${link}")" || die "dosym: mkdir failed"
	ln -s "${target}" "${ED}${link}" || die "dosym ${link} failed"
}
dodoc() { local f; for f; do _install_to "${f}" "/usr/share/doc/${PF}" "$(basename "${f}")" 0644; done; }
docompress() { [[ $1 == -x ]] || die "docompress: only -x is stood in"; }
doman() {
	local f=$1 section=${1##*.}
	[[ ${section} =~ ^[0-9n]$ ]] || die "doman: ${f}: no section suffix"
	_install_to "${f}" "/usr/share/man/man${section}" "$(basename "${f}")" 0644
}
newbashcomp() { _install_to "$1" /usr/share/bash-completion/completions "$2" 0644; }
dozshcomp() { local f; for f; do _install_to "${f}" /usr/share/zsh/site-functions "$(basename "${f}")" 0644; done; }

# shellcheck disable=SC1090 # the ebuild under test
source "${ebuild}" || die "sourcing ${ebuild} failed"

case ${mode} in
meta)
	for v in EAPI KEYWORDS SRC_URI S LICENSE RDEPEND BDEPEND PROPERTIES INHERIT; do
		printf '%s=%s\n' "${v}" "$(tr -s '\n\t ' '   ' <<<"${!v-}" | sed 's/^ //; s/ $//')"
	done
	printf 'DEFINED=%s\n' "$(compgen -A function | grep -E '^(src|pkg)_' | tr '\n' ' ' | sed 's/ $//')"
	;;
install)
	[[ -d ${S} ]] || S=${WORKDIR}
	cd "${S}" || die "no S"
	src_install
	;;
*) die "mode: meta or install" ;;
esac
