#!/usr/bin/env bash
# The real-Kbuild test of the kernel hook: what the installed hook exports, passed to a real
# kernel tree the way kernel-build.eclass passes it, really builds with the configured toolchain.
#
# For toolchain = llvm, gnu, and llvm again with GCC-only flags in make.conf's CFLAGS/LDFLAGS (the hook
# must filter them out of the host tools' BUILD_CFLAGS, and the build must succeed):
#  1. `gentoo-kopt hooks install --root <tmp>` (this checkout's dist/bin.js) with a kopt.conf whose
#     kcflags carry a marker flag;
#  2. the phases setup, unpack, prepare, configure, compile run around the installed bashrc by
#     examples/portage-sim/phase-runner.sh (a fresh bash per phase, the saved environment restored,
#     as Portage does), with EPREFIX pointing at a tree whose usr/lib/llvm/<N>/bin links to Debian's
#     LLVM;
#  3. test/kbuild/eclass-make.sh runs make in Debian's linux-source-6.1 with the configure phase's
#     environment (tinyconfig) and the compile phase's (one object), the tools on the command line.
# It asserts the hook's exports, the toolchain Kconfig detected, the object's V=1 compile line (the
# slot's clang or ${CHOST}-gcc, carrying KCFLAGS), the compiler recorded in the object, and that no
# tool of the other toolchain ran anywhere in the build.
#
# Needs (x86_64, Debian bookworm; .ci/run installs them): linux-source-6.1 clang lld llvm make gcc bc
# flex bison libelf-dev, node, and a built dist/ (npm run build).
# Environment: KOPT_KBUILD_TARBALL (default /usr/src/linux-source-6.1.tar.xz), KOPT_KBUILD_CACHE (where
# the tree is unpacked once and reused; default ${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache),
# KOPT_KBUILD_KEEP=1 (keep the work directory; it is always kept after a failure).
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "${here}/../.." && pwd)
tarball=${KOPT_KBUILD_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${KOPT_KBUILD_CACHE:-${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache}
object=init/version.o
marker=-DGENTOO_KOPT_KCFLAGS_MARKER
kcflags="-O2 -pipe ${marker}"
jobs=$(nproc 2>/dev/null || echo 2)
# Debian's LLVM tools the hook exports, one LLVM slot (hooks/kernel-hook.bash, k_tools)
llvm_tools=(clang clang++ ld.lld llvm-ar llvm-nm llvm-strip llvm-objcopy llvm-objdump llvm-readelf)
# variable:LLVM tool, as the hook exports them
hook_vars=(CC:clang CXX:clang++ LD:ld.lld AR:llvm-ar NM:llvm-nm STRIP:llvm-strip OBJCOPY:llvm-objcopy
	OBJDUMP:llvm-objdump READELF:llvm-readelf HOSTCC:clang HOSTCXX:clang++ HOSTAR:llvm-ar HOSTLD:ld.lld)
phases=(setup:pkg_setup unpack:src_unpack prepare:src_prepare configure:src_configure compile:src_compile)

passed=0 failed=0 work= unpack=
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "${1}" | show; }
fail() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "${1}" | show
	[[ -z ${2-} ]] || printf '%s\n' "${2}" | show | sed 's/^/      /'
}
# shortens the temporary paths in what it prints: $S is the LLVM slot's bin, $W the work directory
show() {
	local line
	while IFS= read -r line || [[ -n ${line} ]]; do
		[[ -z ${slotbin-} ]] || line=${line//"${slotbin}"/'$S'}
		[[ -z ${work} ]] || line=${line//"${work}"/'$W'}
		printf '%s\n' "${line}"
	done
}
# The closing line `N passed, N failed` is the last line printed.
finish() {
	trap - INT TERM
	if [[ -n ${work} ]]; then
		if (( failed )) || [[ -n ${KOPT_KBUILD_KEEP-} ]]; then
			printf '\nwork directory kept (logs: $W/<toolchain>/*.log): %s\n' "${work}"
		else
			rm -rf "${work}"
		fi
	fi
	printf '\n%d passed, %d failed\n' "${passed}" "${failed}"
	exit $(( failed ? 1 : 0 ))
}
# interrupted: remove what this run created, keep the finished cache
trap 'rm -rf "${work}" "${unpack-}"; printf "\ninterrupted\n"; exit 130' INT TERM
# A missing prerequisite is a failure, never a skip: CI installs everything this needs.
fatal() { fail "${1}" "${2-}"; finish; }

now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
# seconds since <start> (microseconds from now()), one decimal
since() { local d=$((($(now) - ${1}) / 100000)); printf '%d.%d s' $((d / 10)) $((d % 10)); }

# --- prerequisites ---------------------------------------------------------------------------
t_all=$(now)
[[ $(uname -m) == x86_64 ]] || fatal "this test builds an x86_64 kernel; this machine is $(uname -m)"
[[ -r ${tarball} ]] || fatal "no kernel source at ${tarball}" "fix: apt-get install linux-source-6.1 (or run .ci/run)"
for tool in make gcc bc flex bison node tar xz; do
	type -P "${tool}" >/dev/null || fatal "${tool} is not installed" "fix: run .ci/run, which installs what this test needs"
done
[[ -e /usr/include/gelf.h ]] || fatal "libelf headers are missing (objtool needs them)" "fix: apt-get install libelf-dev"
[[ -f ${project}/dist/bin.js ]] || fatal "${project}/dist/bin.js is missing" "fix: npm run build"
chost=$(gcc -dumpmachine) # a Gentoo system's CHOST is its own tuple; x86_64-linux-gnu on Debian

slot=
for dir in /usr/lib/llvm-*/bin; do
	n=${dir#/usr/lib/llvm-} n=${n%/bin}
	[[ ${n} =~ ^[0-9]+$ ]] || continue
	complete=1
	for tool in "${llvm_tools[@]}"; do [[ -x ${dir}/${tool} ]] || complete=; done
	[[ -n ${complete} ]] && { [[ -z ${slot} ]] || (( n > slot )); } && slot=${n}
done
[[ -n ${slot} ]] || fatal "no /usr/lib/llvm-<N>/bin has all of: ${llvm_tools[*]}" "fix: apt-get install clang lld llvm"

work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-kbuild.XXXXXX")
# Gentoo's layout, ${EPREFIX}/usr/lib/llvm/<N>/bin, over Debian's /usr/lib/llvm-<N>/bin
eprefix=${work}/eprefix
slotbin=${eprefix}/usr/lib/llvm/${slot}/bin
mkdir -p "${slotbin}"
for tool in "${llvm_tools[@]}"; do ln -s "/usr/lib/llvm-${slot}/bin/${tool}" "${slotbin}/${tool}"; done

# --- the kernel tree, unpacked once per tarball ----------------------------------------------
t=$(now)
src=${cache}/linux-source-6.1
key="$(stat -L -c '%s %Y' "${tarball}") ${tarball}"
if [[ -f ${src}/.gentoo-kopt-stamp && $(<"${src}/.gentoo-kopt-stamp") == "${key}" ]]; then
	printf 'kernel source: %s (cached)\n' "${src}"
else
	mkdir -p "${cache}" && rm -rf "${src}" || fatal "cannot prepare ${cache}"
	unpack=$(mktemp -d "${cache}/unpack.XXXXXX")
	# Every file but the C sources and headers of drivers/ and sound/ (two thirds of the tree):
	# Kconfig reads none of them and the object needs none (1.5 GB -> ~470 MB). Debian's tree is in
	# linux-source-6.1/; under another name the excludes match nothing and the whole tree is unpacked.
	top=linux-source-6.1
	tar -xJf "${tarball}" -C "${unpack}" --strip-components=1 --anchored \
		--exclude="${top}/drivers/*.[ch]" --exclude="${top}/sound/*.[ch]" ||
		{ rm -rf "${unpack}"; fatal "cannot unpack ${tarball}"; }
	printf '%s\n' "${key}" > "${unpack}/.gentoo-kopt-stamp"
	# a concurrent run may have won the race: its tree is as good as ours
	mv -T "${unpack}" "${src}" 2>/dev/null || rm -rf "${unpack}"
	unpack=
	printf 'kernel source: %s (unpacked in %s, %s)\n' "${src}" "$(since "${t}")" "$(du -sh "${src}" | cut -f1)"
fi
kver=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "${src}/Makefile" | paste -sd.)
[[ ${kver} =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fatal "cannot read the kernel version from ${src}/Makefile"
printf 'kernel %s, CHOST %s, make -j%s\nW=%s\nS=$W/eprefix/usr/lib/llvm/%s/bin (links to /usr/lib/llvm-%s/bin)\n' \
	"${kver}" "${chost}" "${jobs}" "${work}" "${slot}" "${slot}"

# --- one toolchain ---------------------------------------------------------------------------

# @FUNCTION: run_phase
# @USAGE: <dir> <phase> <hook function>
# @DESCRIPTION:
# One ebuild phase of sys-kernel/gentoo-kernel-${kver} around <dir>/config/etc/portage/bashrc, with the
# variables Portage passes (test/helpers/portage-phases.ts has the same list) and make.conf's.
run_phase() {
	local d=${1} phase=${2} hook=${3}
	local -a penv=(
		CATEGORY=sys-kernel PN=gentoo-kernel PV="${kver}" PR=r0 PVR="${kver}" P="gentoo-kernel-${kver}"
		PF="gentoo-kernel-${kver}" SLOT="${kver}" CHOST="${chost}" EBUILD_PHASE="${phase}"
		PORTAGE_CONFIGROOT="${d}/config/" ROOT="${d}/config/" T="${d}/temp" PORTAGE_BUILDDIR="${d}"
		MERGE_TYPE=source EMERGE_FROM=ebuild EPREFIX="${eprefix}" BROOT="${eprefix}"
		ARCH=amd64 CFLAGS="${make_cflags}" CXXFLAGS="-O2 -pipe" LDFLAGS="${make_ldflags}" MAKEOPTS="-j${jobs}"
	)
	local names=("${penv[@]%%=*}")
	env -i PATH="${PATH}" HOME="${d}/temp" "${penv[@]}" \
		KOPT_TEST_MSGS="${d}/temp/messages" KOPT_TEST_HOOK="${hook}" KOPT_TEST_FILTER="${names[*]}" \
		bash --noprofile --norc "${project}/examples/portage-sim/phase-runner.sh"
}

# @FUNCTION: read_exports
# @USAGE: <exports file> <array name>
# @DESCRIPTION:
# Fills the associative array with the hook's variables that the phase exported (absent: not exported).
read_exports() {
	local -n out=${2}
	local name value
	out=()
	while IFS=$'\t' read -r name value; do out[${name}]=${value}; done < <(
		env -i bash --noprofile --norc -c 'source "$1" || exit 1; shift
			for v; do [[ -v ${v} ]] && printf "%s\t%s\n" "${v}" "${!v}"; done; exit 0' _ "${1}" \
			KCFLAGS LLVM LLVM_IAS "${hook_vars[@]%%:*}"
	)
}

# @FUNCTION: foreign_tools
# @USAGE: <toolchain> <log>...
# @DESCRIPTION:
# Prints the commands of the other toolchain named in V=1 make logs (none: the build was pure).
# For llvm: gcc/g++/cpp, any ${CHOST}-<tool> (CROSS_COMPILE names) and ld.bfd/ld.gold;
# for gnu: anything clang, lld or llvm-*.
foreign_tools() {
	local tc=${1} re
	shift
	if [[ ${tc} == llvm ]]; then
		re="^(.*/)?((${chost}-)?(gcc|g\+\+|cpp)(-[0-9.]+)?|${chost}-[A-Za-z0-9.+_-]+|ld\.bfd|ld\.gold)$"
	else
		re='(^|/)(clang[^/]*|ld\.lld|lld|llvm-[^/]*)$'
	fi
	grep -hv '^+ ' "$@" | tr -s ' \t;()"'"'" '\n' | grep -E "${re}" | sort -u | head -n 5 | paste -sd' '
}

# make.conf's flags for the phases (run_phase); the gcc-flags case gives GCC-only ones
make_cflags='-O2 -pipe' make_ldflags='-Wl,-O1 -Wl,--as-needed'
gcc_cflags='-O2 -pipe -fgraphite-identity -floop-nest-optimize -fipa-pta -flto=auto -fuse-linker-plugin -fno-semantic-interposition'
gcc_ldflags='-Wl,-O1 -Wl,--as-needed -flto=auto -fuse-linker-plugin'

# @FUNCTION: run_toolchain
# @USAGE: <llvm|gnu> [gcc-flags]
# @DESCRIPTION:
# One toolchain end to end. gcc-flags: make.conf's CFLAGS/LDFLAGS carry GCC-only flags that clang
# rejects (-fgraphite-identity, -fipa-pta: errors) or that break the host tools' link (-flto=auto);
# kernel-build.eclass passes them to the host compiler as HOSTCFLAGS (BUILD_CFLAGS), and the hook
# must filter them, say so, and the build must still succeed.
run_toolchain() {
	local tc=${1} case=${2-} d=${work}/${1}${2:+-${2}} t entry var want phase hook rc line cc_line cc want_cc
	local -A ex=() ex_conf=()
	if [[ ${case} == gcc-flags ]]; then
		make_cflags=${gcc_cflags} make_ldflags=${gcc_ldflags}
		printf '\n== toolchain = %s, make.conf CFLAGS="%s" ==\n' "${tc}" "${make_cflags}"
	else
		make_cflags='-O2 -pipe' make_ldflags='-Wl,-O1 -Wl,--as-needed'
		printf '\n== toolchain = %s ==\n' "${tc}"
	fi
	mkdir -p "${d}/config/etc/gentoo-kopt" "${d}/temp" "${d}/build"
	printf 'packages = sys-kernel/gentoo-kernel\ntoolchain = %s\nkcflags = %s\n' "${tc}" "${kcflags}" \
		> "${d}/config/etc/gentoo-kopt/kopt.conf"

	t=$(now)
	if node "${project}/dist/bin.js" hooks install --root "${d}/config" > "${d}/hooks-install.log" 2>&1; then
		pass "${tc}: gentoo-kopt hooks install --root <tmp> ($(since "${t}"))"
	else
		fail "${tc}: gentoo-kopt hooks install --root <tmp>" "$(tail -n 5 "${d}/hooks-install.log")"
		return
	fi

	t=$(now)
	for entry in "${phases[@]}"; do
		phase=${entry%%:*} hook=${entry#*:}
		run_phase "${d}" "${phase}" "${hook}" > "${d}/phase-${phase}.log" 2>&1
		rc=$?
		if (( rc != 0 )); then
			fail "${tc}: phase ${phase} of sys-kernel/gentoo-kernel-${kver} (status ${rc})" \
				"$(cat "${d}/temp/messages" "${d}/phase-${phase}.log" 2>/dev/null | tail -n 8)"
			return
		fi
	done
	pass "${tc}: phases ${phases[*]%%:*} around the installed bashrc ($(since "${t}"))"
	if [[ -s ${d}/temp/messages ]]; then show < "${d}/temp/messages" | sed 's/^/      | /'; fi
	if grep -qE '^(ERROR|DIE) ' "${d}/temp/messages" 2>/dev/null; then
		fail "${tc}: the hook reported no error"
	else
		pass "${tc}: the hook reported no error"
	fi

	read_exports "${d}/temp/exports.compile" ex
	read_exports "${d}/temp/exports.configure" ex_conf
	if [[ ${case} == gcc-flags ]]; then
		line=$(env -i bash --noprofile --norc -c 'source "$1"; printf "%s|%s" "${BUILD_CFLAGS-}" "${BUILD_LDFLAGS-}"' _ \
			"${d}/temp/exports.compile")
		[[ ${line} == '-O2 -pipe -fno-semantic-interposition|-Wl,-O1 -Wl,--as-needed' ]] &&
			grep -q '^INFO gentoo-kopt: BUILD_CFLAGS .* without GCC-only -fgraphite-identity' "${d}/temp/messages"
		(( $? == 0 )) && pass "${tc}: the hook filters BUILD_CFLAGS/BUILD_LDFLAGS for the host tools and says so" ||
			fail "${tc}: the hook filters BUILD_CFLAGS/BUILD_LDFLAGS for the host tools and says so" "exported: ${line}"
	fi
	{
		printf '      exported in compile:'
		for var in KCFLAGS LLVM LLVM_IAS "${hook_vars[@]%%:*}"; do [[ -v ex[${var}] ]] && printf ' %s=%q' "${var}" "${ex[${var}]}"; done
		printf '\n'
	} | show
	[[ ${ex[KCFLAGS]-} == "${kcflags}" ]] && pass "${tc}: KCFLAGS exported as in kopt.conf" ||
		fail "${tc}: KCFLAGS exported as in kopt.conf" "got '${ex[KCFLAGS]-(unset)}'"
	local bad=()
	for entry in "${hook_vars[@]}" LLVM:1 LLVM_IAS:1; do
		var=${entry%%:*}
		if [[ ${tc} == llvm ]]; then
			want=${entry#*:}
			[[ ${var} == LLVM* ]] || want=${slotbin}/${want}
			[[ ${ex[${var}]-} == "${want}" ]] || bad+=("${var}=${ex[${var}]-(unset)}")
		else
			[[ -v ex[${var}] ]] && bad+=("${var}=${ex[${var}]}")
		fi
		[[ ${ex[${var}]-unset} == "${ex_conf[${var}]-unset}" ]] || bad+=("${var} differs between configure and compile")
	done
	if [[ ${tc} == llvm ]]; then
		(( ${#bad[@]} == 0 )) && pass "llvm: LLVM=1 LLVM_IAS=1 and all 13 tools from ${slotbin}" ||
			fail "llvm: LLVM=1 LLVM_IAS=1 and all 13 tools from ${slotbin}" "${bad[*]}"
	else
		(( ${#bad[@]} == 0 )) && pass "gnu: no LLVM tool, LLVM or LLVM_IAS exported" ||
			fail "gnu: no LLVM tool, LLVM or LLVM_IAS exported" "${bad[*]}"
	fi

	# src_configure: the tree's configuration (tinyconfig in place of the dist-kernel's config + olddefconfig)
	t=$(now)
	env -i PATH="${PATH}" bash --noprofile --norc "${here}/eclass-make.sh" "${d}/temp/exports.configure" \
		"${src}" "${d}/build" tinyconfig > "${d}/make-tinyconfig.log" 2>&1
	rc=$?
	sed -n '1p' "${d}/make-tinyconfig.log" | show | sed 's/^/      /'
	if (( rc != 0 )); then
		fail "${tc}: make tinyconfig (status ${rc})" "$(tail -n 8 "${d}/make-tinyconfig.log")"
		return
	fi
	pass "${tc}: make ... tinyconfig ($(since "${t}"))"
	local -a want_config
	if [[ ${tc} == llvm ]]; then want_config=(CONFIG_CC_IS_CLANG=y CONFIG_LD_IS_LLD=y CONFIG_AS_IS_LLVM=y)
	else want_config=(CONFIG_CC_IS_GCC=y CONFIG_LD_IS_BFD=y CONFIG_AS_IS_GNU=y); fi
	bad=()
	for line in "${want_config[@]}"; do grep -qx "${line}" "${d}/build/.config" || bad+=("${line}"); done
	(( ${#bad[@]} == 0 )) && pass "${tc}: .config has ${want_config[*]}" ||
		fail "${tc}: .config has ${want_config[*]}" "missing: ${bad[*]}; has: $(grep -E '^CONFIG_(CC|LD|AS)_IS_' "${d}/build/.config" | paste -sd' ')"

	# src_compile: one object through Kbuild's real compile rule (after the prepare steps it needs)
	t=$(now)
	env -i PATH="${PATH}" bash --noprofile --norc "${here}/eclass-make.sh" "${d}/temp/exports.compile" \
		"${src}" "${d}/build" "${object}" > "${d}/make-object.log" 2>&1
	rc=$?
	if (( rc != 0 )) || [[ ! -f ${d}/build/${object} ]]; then
		fail "${tc}: make ... ${object} (status ${rc})" "$(tail -n 8 "${d}/make-object.log")"
		return
	fi
	pass "${tc}: make ... ${object} ($(since "${t}"))"

	cc_line=$(grep -E -- " -c -o ${object//./\\.} " "${d}/make-object.log" | tail -n 1)
	cc_line=${cc_line#"${cc_line%%[![:space:]]*}"}
	cc=${cc_line%%[[:space:]]*}
	if [[ ${tc} == llvm ]]; then
		want_cc=${slotbin}/clang
	else
		want_cc=gcc # tc-getCC: ${CHOST}-gcc when it exists
		type -P "${chost}-gcc" >/dev/null && want_cc=${chost}-gcc
	fi
	printf '      compile line: %s ...%s\n' "${cc}" "$(grep -o -- " ${kcflags} .\{0,40\}" <<<"${cc_line}" | head -n 1)" | show
	[[ ${cc} == "${want_cc}" ]] && pass "${tc}: the V=1 compile line of ${object} runs ${want_cc}" ||
		fail "${tc}: the V=1 compile line of ${object} runs ${want_cc}" "it runs: ${cc:-(no compile line found)}"
	[[ " ${cc_line} " == *" ${kcflags} "* ]] && pass "${tc}: the compile line carries KCFLAGS (${kcflags})" ||
		fail "${tc}: the compile line carries KCFLAGS (${kcflags})" "${cc_line:0:300}"
	if [[ ${tc} == llvm ]]; then want='clang version'; else want='GCC: ('; fi
	grep -aqF "${want}" "${d}/build/${object}" && pass "${tc}: ${object} records its compiler: '${want}'" ||
		fail "${tc}: ${object} records its compiler: '${want}'"
	line=$(foreign_tools "${tc}" "${d}/make-tinyconfig.log" "${d}/make-object.log")
	[[ -z ${line} ]] && pass "${tc}: no tool of the other toolchain ran (V=1 logs)" ||
		fail "${tc}: no tool of the other toolchain ran (V=1 logs)" "found: ${line}"
}

for tc in llvm gnu llvm:gcc-flags; do
	t=$(now)
	if [[ ${tc} == *:* ]]; then run_toolchain "${tc%%:*}" "${tc#*:}"; else run_toolchain "${tc}"; fi
	printf '      (%s: %s)\n' "${tc}" "$(since "${t}")"
done
printf '\nreal-Kbuild test: %s in all\n' "$(since "${t_all}")"
finish
