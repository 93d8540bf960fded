#!/usr/bin/env bash
# Checks the eapply_user simulator (src/portage/eapply-user.ts) against the real Portage, locally.
#
# test/eapply-user.test.ts exports every layout of its table (KOPT_EAPPLY_EXPORT=DIR): the patches tree,
# the atom, and what the simulator says Portage will report. Each tree then goes through Portage's own
# eapply_user via the portage-harness (a fake EAPI 8 kernel ebuild, SLOT=PV, whose src_prepare runs
# `default`), and its USER_PATCHES_APPLIED, PATCH_MARKERS and exit status are compared.
#
# Needs a Portage source checkout and the harness that runs it, both named by the caller (CI has
# neither, and does not run this). Nothing of Portage is part of this project.
#   --harness FILE / PORTAGE_HARNESS    the harness's run-ebuild.sh
#   --portage-src DIR / PORTAGE_SRC     a Portage checkout marked with .portage_not_installed
#   JOBS                                harness runs in parallel (default 4)
# Usage: test/eapply-user-portage.sh [--harness FILE] [--portage-src DIR] [LAYOUT-ID...]
# Exit status: 0 all agree, 1 a disagreement, 2 a setup error.
set -uo pipefail

HARNESS=${PORTAGE_HARNESS:-}
PORTAGE_SRC=${PORTAGE_SRC:-}
JOBS=${JOBS:-4}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

while (( $# )); do
	case $1 in
		--harness) HARNESS=${2:-}; shift 2 || exit 2 ;;
		--harness=*) HARNESS=${1#*=}; shift ;;
		--portage-src) PORTAGE_SRC=${2:-}; shift 2 || exit 2 ;;
		--portage-src=*) PORTAGE_SRC=${1#*=}; shift ;;
		*) break ;;
	esac
done

if [[ -z ${HARNESS} || -z ${PORTAGE_SRC} ]]; then
	echo "error: name the portage-harness and a Portage checkout:" >&2
	echo "  test/eapply-user-portage.sh --harness PATH/run-ebuild.sh --portage-src DIR" >&2
	echo "  (or set PORTAGE_HARNESS and PORTAGE_SRC)" >&2
	exit 2
fi
if [[ ! -x ${HARNESS} ]]; then
	echo "error: the harness ${HARNESS} is not an executable file (--harness, PORTAGE_HARNESS)" >&2
	exit 2
fi
if [[ ! -f ${PORTAGE_SRC}/bin/phase-helpers.sh || ! -f ${PORTAGE_SRC}/.portage_not_installed ]]; then
	echo "error: ${PORTAGE_SRC} is not a Portage checkout marked with .portage_not_installed" \
		"(--portage-src, PORTAGE_SRC)" >&2
	exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kopt-eapply-portage.XXXXXX") || exit 2
trap 'rm -rf "${WORK}"' EXIT

( cd "${REPO}" && KOPT_EAPPLY_EXPORT="${WORK}/layouts" npx vitest run test/eapply-user.test.ts \
	-t 'export layouts' >"${WORK}/vitest.log" 2>&1 ) || { cat "${WORK}/vitest.log"; echo "error: exporting the layouts failed"; exit 2; }

ids=("$@")
(( ${#ids[@]} )) || for d in "${WORK}"/layouts/*/; do d=${d%/}; ids+=("${d##*/}"); done

# One harness run: ebuild clean prepare (eapply_user runs in src_prepare).
run_one() {
	local id=$1 dir=${WORK}/layouts/$1
	"${HARNESS}" --portage-src "${PORTAGE_SRC}" --workdir "${WORK}/runs/${id}" --phases "clean prepare" -q \
		-p "${dir}/etc/portage/patches" "$(<"${dir}/atom")" >"${WORK}/runs/${id}.out" 2>&1
}
mkdir -p "${WORK}/runs"
for id in "${ids[@]}"; do
	[[ -f ${WORK}/layouts/${id}/atom ]] || { echo "error: no layout '${id}'"; exit 2; }
	while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n; done
	run_one "${id}" &
done
wait

# KEY=value of a results file, markers sorted in C order.
field() { sed -n "s/^$2=//p" "$1" | head -n1; }
sorted() { tr ' ' '\n' | grep -v '^$' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'; }

bad=0
for id in "${ids[@]}"; do
	dir=${WORK}/layouts/${id} atom=$(<"${WORK}/layouts/${id}/atom")
	res=${WORK}/runs/${id}/results/sys-kernel_${atom#*/}.txt
	if [[ ! -f ${res} ]]; then
		printf 'ERROR     %-26s no harness result (see below)\n' "${id}"; tail -n 15 "${WORK}/runs/${id}.out"; bad=1; continue
	fi
	patches=${WORK}/runs/${id}/config/etc/portage/patches
	want_status=$(field "${dir}/expected" STATUS) got_status=$(field "${res}" STATUS)
	(( got_status != 0 )) && got_status=1
	want_applied=$(field "${dir}/expected" USER_PATCHES_APPLIED) got_applied=$(field "${res}" USER_PATCHES_APPLIED)
	want_applied=${want_applied//@PATCHES@/${patches}}
	want_markers=$(field "${dir}/expected" PATCH_MARKERS | sorted) got_markers=$(field "${res}" PATCH_MARKERS | sorted)
	if [[ ${want_status} == "${got_status}" && ${want_applied} == "${got_applied}" && ${want_markers} == "${got_markers}" ]]; then
		printf 'agree     %-26s %s%s\n' "${id}" "${got_applied:-(no patches)}" "$( (( got_status )) && echo '  [emerge dies, as simulated]')"
	else
		bad=1
		printf 'DISAGREE  %-26s\n' "${id}"
		printf '    status   simulator %s, portage %s\n' "${want_status}" "${got_status}"
		printf '    applied  simulator: %s\n             portage:   %s\n' "${want_applied}" "${got_applied}"
		printf '    markers  simulator: %s\n             portage:   %s\n' "${want_markers}" "${got_markers}"
	fi
done
exit "${bad}"
