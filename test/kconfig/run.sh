#!/usr/bin/env bash
# The real-Kconfig test of config fragments (the `verify --config` research): what a fragment in
# /etc/kernel/config.d asks for, and what the kernel's own merge_config.sh + olddefconfig keep of it.
#
# For each kernel tarball (Debian's linux-source-6.1 and linux-source-6.12), with the tree's
# arch/x86/configs/x86_64_defconfig as the base config:
#  1. only what Kconfig needs is unpacked, once per tarball (Makefile, scripts/, arch/x86/Makefile*,
#     arch/x86/configs/, every Kconfig*), and the kconfig host tools are built once per tree and
#     toolchain in an out-of-tree build directory (`make O=<dir> [LLVM=1] build_config`), with this
#     kconfig/kconfig-why.c linked against them; a wrapper in place of scripts/kconfig/conf saves
#     the environment make runs conf with (kconfig-why runs in it; $OUT/<kver>/env lists it);
#  2. for each case, the fragments are merged the way kernel-build.eclass merges them
#     (`merge_config.sh -m -r .config <fragment>...`, in the build directory), then
#     `make O=<dir> ARCH=x86_64 olddefconfig` runs;
#  3. every symbol the fragments request is compared with the final .config and written to
#     $OUT/<kernel version>/<case>.txt, one line per symbol, sorted (C locale):
#         SYMBOL requested=<value> actual=<value|unset>
#     (value as written in .config, n for `# CONFIG_X is not set`, unset when the symbol is absent).
#     A request is kept when actual equals requested, or when n was requested and the symbol is
#     unset (an invisible symbol is n). <case>.dropped holds the lines of the others, <case>.undefined
#     the requested symbols this tree does not define, <case>.why what kconfig-why says about each
#     dropped symbol, <case>.merge.log what merge_config.sh -m -r printed, <case>.native.log what
#     merge_config.sh printed when it ran make itself (without -m), with its own
#     "Value requested for ... not in final .config" report;
#  4. checks: the fragments in fragments/ are what gen-fragments.sh makes of the tables; the
#     tables' since/removed columns agree with the symbols each tree defines; every dropped symbol
#     has a reason (undefined, unmet dependency, hidden prompt, select); merge_config.sh's own report
#     names the same symbols; its alldefconfig run gives the same .config as olddefconfig;
#     disable = KVM alone removes KVM_INTEL and KVM_AMD from a base that has all three;
#  5. `gentoo-kopt verify --config --tarball` (dist/bin.js: build it first) on a throwaway root whose
#     etc/kernel/config.d holds the case's preset fragments (install_preset_fragments) lists every
#     requested symbol with the same final value and kept/dropped verdict as step 3, a reason for each
#     dropped one, and exits 1 exactly when something is dropped (KOPT_KCONFIG_VERIFY names the cases;
#     default harden-strict+disable-kvm and presets-llvm, which have every preset between them; each
#     costs a pass over the tarball, so the other cases are left out).
#
# Cases: harden-base, harden-strict (the -gnu fragment: this test runs GCC), optimize-size,
# disable-kvm, harden-strict+disable-kvm, gentoo-hardened (gentoo-kernel's USE="hardened -debug" amd64
# fragments no-debug, hardened-base, hardened-gcc-plugins, hardened-amd64 in the ebuild's order),
# disable-kvm-on-kvm-base (the base plus KVM=m, KVM_INTEL=m, KVM_AMD=m), harden-strict-llvm (the
# -llvm fragment with LLVM=1: clang, ld.lld and llvm-* as Kconfig's toolchain), and presets-llvm
# (harden-strict-llvm, optimize-size and disable-kvm with LLVM=1).
#
# Needs (x86_64, Debian bookworm): linux-source-6.1 linux-source-6.12 make gcc flex bison bc tar xz
# clang lld llvm patch, and node with gentoo-kopt built (npm run build) for step 5. The result depends
# on the toolchain Kconfig finds (gcc and clang versions, GCC plugin headers, rustc): $OUT/<kver>/env
# records it.
# Environment: KOPT_KCONFIG_TARBALLS (space-separated; default the two Debian tarballs),
# KOPT_KCONFIG_CACHE (where each tarball's Kconfig files are unpacked once and reused; default
# ${TMPDIR:-/tmp}/gentoo-kopt-kconfig-cache), KOPT_KCONFIG_OUT (the result files; default
# ${TMPDIR:-/tmp}/gentoo-kopt-kconfig-out, always kept), KOPT_KCONFIG_KEEP=1 (keep the work
# directory; it is always kept after a failure).
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
read -r -a tarballs <<<"${KOPT_KCONFIG_TARBALLS:-/usr/src/linux-source-6.1.tar.xz /usr/src/linux-source-6.12.tar.xz}"
cache=${KOPT_KCONFIG_CACHE:-${TMPDIR:-/tmp}/gentoo-kopt-kconfig-cache}
out=${KOPT_KCONFIG_OUT:-${TMPDIR:-/tmp}/gentoo-kopt-kconfig-out}
frags=${here}/fragments
# shipped with gentoo-kopt: verify --config compiles the same file
why_c=$(cd "${here}/../../kconfig" && pwd)/kconfig-why.c
export LC_ALL=C
# merge_config.sh runs a plain `make` (without -m): it must find the architecture in the environment
export ARCH=x86_64

# the cases `gentoo-kopt verify --config` is run on, its answer compared option by option with this
# script's merge_config.sh + olddefconfig result (KOPT_KCONFIG_VERIFY= (empty) skips it)
read -r -a verify_cases <<<"${KOPT_KCONFIG_VERIFY-harden-strict+disable-kvm presets-llvm}"
cli=$(cd "${here}/../.." && pwd)/dist/bin.js

passed=0 failed=0 work= unpack=
# make variables of the toolchain the current case runs with (LLVM=1 for the -llvm case)
mkargs=()
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "${1}"; }
fail() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "${1}"
	[[ -z ${2-} ]] || printf '%s\n' "${2}" | sed 's/^/      /'
}
# The closing line `N passed, N failed` is the last line printed.
finish() {
	trap - INT TERM
	if [[ -n ${work} ]]; then
		if (( failed )) || [[ -n ${KOPT_KCONFIG_KEEP-} ]]; then
			printf '\nwork directory kept: %s\n' "${work}"
		else
			rm -rf "${work}"
		fi
	fi
	printf '\n%d passed, %d failed\n' "${passed}" "${failed}"
	exit $(( failed ? 1 : 0 ))
}
trap 'rm -rf "${work}" "${unpack-}"; printf "\ninterrupted\n"; exit 130' INT TERM
# A missing prerequisite is a failure, never a skip.
fatal() { fail "${1}" "${2-}"; finish; }

now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
# seconds since <start> (microseconds from now()), one decimal
since() { local d=$((($(now) - ${1}) / 100000)); printf '%d.%d s' $((d / 10)) $((d % 10)); }

# @FUNCTION: vercmp_le
# @USAGE: <a> <b>
# @DESCRIPTION:
# True when version a <= b, comparing numeric components (a missing component is 0).
vercmp_le() {
	local -a a b
	local i x y
	IFS=. read -r -a a <<<"${1}"
	IFS=. read -r -a b <<<"${2}"
	for ((i = 0; i < 4; i++)); do
		x=${a[i]:-0} y=${b[i]:-0}
		((10#${x} < 10#${y})) && return 0
		((10#${x} > 10#${y})) && return 1
	done
	return 0
}

# @FUNCTION: requested
# @USAGE: <fragment>...
# @DESCRIPTION:
# SYMBOL<TAB>value of every symbol the fragments set, the last fragment winning (as merge_config.sh
# merges them), sorted by symbol.
requested() {
	sed -nE 's/^CONFIG_([A-Za-z0-9_]+)=(.*)$/\1\t\2/p; s/^# CONFIG_([A-Za-z0-9_]+) is not set$/\1\tn/p' "$@" |
		awk -F'\t' '{ v[$1] = $2 } END { for (s in v) print s "\t" v[s] }' | sort
}

# @FUNCTION: actual
# @USAGE: <.config>
# @DESCRIPTION:
# SYMBOL<TAB>value of every symbol in a .config (n for `is not set`), sorted.
actual() {
	sed -nE 's/^CONFIG_([A-Za-z0-9_]+)=(.*)$/\1\t\2/p; s/^# CONFIG_([A-Za-z0-9_]+) is not set$/\1\tn/p' "${1}" | sort
}

# @FUNCTION: report
# @USAGE: <fragment list file> <.config>
# @DESCRIPTION:
# The `SYMBOL requested=<v> actual=<v|unset>` lines.
report() {
	join -t $'\t' -a 1 -e unset -o 1.1,1.2,2.2 <(requested $(<"${1}")) <(actual "${2}") |
		awk -F'\t' '{ printf "%s requested=%s actual=%s\n", $1, $2, $3 }'
}

# the lines of a report whose request was not kept
dropped_of() {
	awk '{ r = substr($2, 11); a = substr($3, 8); if (!(a == r || (r == "n" && a == "unset"))) print }' "${1}"
}

# --- prerequisites ---------------------------------------------------------------------------
t_all=$(now)
[[ $(uname -m) == x86_64 ]] || fatal "this test configures an x86_64 kernel; this machine is $(uname -m)"
for tool in make gcc flex bison tar xz awk sed sort join diff clang ld.lld llvm-ar llvm-nm llvm-objcopy; do
	type -P "${tool}" >/dev/null || fatal "${tool} is not installed" "fix: apt-get install make gcc flex bison bc xz-utils clang lld llvm"
done
if (( ${#verify_cases[@]} )); then
	type -P node >/dev/null || fatal "node is not installed (verify --config is compared with this test)"
	[[ -f ${cli} ]] || fatal "${cli} is missing" "fix: npm run build"
fi
for tarball in "${tarballs[@]}"; do
	[[ -r ${tarball} ]] || fatal "no kernel source at ${tarball}" "fix: apt-get install linux-source-6.1 linux-source-6.12"
done
for f in harden.tsv gentoo-kernel-config.tsv gen-fragments.sh ../../kconfig/kconfig-why.c; do
	[[ -f ${here}/${f} ]] || fatal "${here}/${f} is missing"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-kconfig.XXXXXX")
mkdir -p "${out}" || fatal "cannot create ${out}"
printf 'results: %s\nwork: %s\n' "${out}" "${work}"

# the committed fragments are exactly what the tables give
if bash "${here}/gen-fragments.sh" "${work}/fragments" >"${work}/gen.log" 2>&1 &&
	diff -r "${work}/fragments" "${frags}" >"${work}/gen.diff"; then
	pass "fragments/ is what gen-fragments.sh makes of harden.tsv and gentoo-kernel-config.tsv"
else
	fail "fragments/ is what gen-fragments.sh makes of harden.tsv and gentoo-kernel-config.tsv" \
		"$(cat "${work}/gen.log" "${work}/gen.diff" | head -n 10)"
fi

# @FUNCTION: unpack_tree
# @USAGE: <tarball>
# @DESCRIPTION:
# Sets src to the tree unpacked in the cache (only what Kconfig and `make olddefconfig` read),
# unpacking it first when the cache has no tree for this tarball.
unpack_tree() {
	local tarball=${1} name top key t t_xz
	name=$(basename "${tarball}" .tar.xz)
	src=${cache}/${name}
	key="$(stat -L -c '%s %Y' "${tarball}") ${tarball}"
	if [[ -f ${src}/.gentoo-kopt-stamp && $(<"${src}/.gentoo-kopt-stamp") == "${key}" ]]; then
		printf 'kernel tree: %s (cached)\n' "${src}"
		return 0
	fi
	mkdir -p "${cache}" && rm -rf "${src}" || return 1
	unpack=$(mktemp -d "${cache}/unpack.XXXXXX")
	# the tarball's top directory (Debian: linux-source-X.Y; kernel.org: linux-X.Y)
	top=$(tar -tJf "${tarball}" 2>/dev/null | sed -n '1{s,/.*,,;p;q}')
	[[ -n ${top} ]] || { rm -rf "${unpack}"; unpack=; return 1; }
	t=$(now)
	# Makefile, scripts/ and arch/x86/{Makefile*,configs/*} without descending (a `*` stops at /),
	# then every Kconfig* anywhere.
	tar -xJf "${tarball}" -C "${unpack}" --strip-components=1 --wildcards \
		--no-wildcards-match-slash "${top}/Makefile" "${top}/arch/x86/Makefile*" "${top}/arch/x86/configs/*" \
		--wildcards-match-slash "${top}/scripts/*" "${top}/*Kconfig*" ||
		{ rm -rf "${unpack}"; unpack=; return 1; }
	extract_time=$(since "${t}")
	t_xz=$(now)
	xz -dc "${tarball}" >/dev/null
	xz_time=$(since "${t_xz}")
	printf '%s\n' "${key}" >"${unpack}/.gentoo-kopt-stamp"
	printf 'extract=%s\nxz_dc=%s\n' "${extract_time}" "${xz_time}" >"${unpack}/.gentoo-kopt-times"
	mv -T "${unpack}" "${src}" 2>/dev/null || rm -rf "${unpack}"
	unpack=
	printf 'kernel tree: %s (%s files, %s; extracting them took %s, a bare `xz -dc` of the tarball %s)\n' \
		"${src}" "$(find "${src}" -type f | wc -l)" "$(du -sh "${src}" | cut -f1)" "${extract_time}" "${xz_time}"
}

# @FUNCTION: setup_objtree
# @USAGE: <kver> <src> <build> <label> [make variable]...
# @DESCRIPTION:
# Builds the kconfig host tools in <build> (`make O=<build> build_config` with the make variables)
# and puts a wrapper in place of scripts/kconfig/conf that saves the environment make gives conf
# (scripts/kconfig/conf.env) before running it: kconfig-why runs in exactly that environment.
setup_objtree() {
	local kver=${1} src=${2} build=${3} label=${4} t
	shift 4
	mkdir -p "${build}"
	t=$(now)
	if ! make -s -C "${src}" O="${build}" "$@" build_config >"${build}.build_config.log" 2>&1 ||
		[[ ! -x ${build}/scripts/kconfig/conf ]]; then
		fail "${kver}: make O=<build> $* build_config (${label})" "$(tail -n 8 "${build}.build_config.log")"
		return 1
	fi
	mv "${build}/scripts/kconfig/conf" "${build}/scripts/kconfig/conf.real" &&
		printf '#!/bin/sh
env >"${0%%/*}/conf.env"
exec "${0}.real" "$@"
' >"${build}/scripts/kconfig/conf" &&
		chmod +x "${build}/scripts/kconfig/conf" || return 1
	pass "${kver}: make O=<build> $* build_config (${label}): scripts/kconfig/conf built ($(since "${t}"))"
}

# @FUNCTION: conf_env
# @USAGE: <build>
# @DESCRIPTION:
# The variables Kconfig reads (include/config/auto.conf.cmd lists them) from the environment make
# last gave conf, as NAME=value words.
conf_env() {
	local name
	for name in srctree ARCH SRCARCH KERNELVERSION CC LD NM OBJCOPY AR PAHOLE RUSTC BINDGEN PYTHON3 \
		CC_VERSION_TEXT RUSTC_VERSION_TEXT CLANG_FLAGS USERCFLAGS USERLDFLAGS; do
		grep -m 1 "^${name}=" "${1}/scripts/kconfig/conf.env"
	done
}

# @FUNCTION: run_tree
# @USAGE: <tarball>
run_tree() {
	local tarball=${1} src kver build llvm o t rc defines=() incs=() objs=() f
	local extract_time= xz_time=
	printf '\n== %s ==\n' "${tarball}"
	t=$(now)
	if ! unpack_tree "${tarball}"; then
		fail "unpack the Kconfig files of ${tarball}"
		return
	fi
	kver=$(make -s -C "${src}" kernelversion 2>/dev/null)
	if [[ ! ${kver} =~ ^[0-9]+\.[0-9]+ ]]; then
		fail "read the kernel version of ${src}" "got '${kver}'"
		return
	fi
	pass "${kver}: the Kconfig files of ${tarball##*/} ($(find "${src}" -name 'Kconfig*' -type f | wc -l) Kconfig files, $(since "${t}"))"
	o=${out}/${kver}
	build=${work}/${kver}/build llvm=${work}/${kver}/build-llvm
	rm -rf "${o}" && mkdir -p "${o}" "${work}/${kver}/cases"

	# the kconfig host tools, once per tree and toolchain
	setup_objtree "${kver}" "${src}" "${build}" GCC || return
	grep -q 'struct file \*file;' "${src}/scripts/kconfig/expr.h" && defines+=(-DKCONFIG_STRUCT_FILE)
	[[ -d ${src}/scripts/include ]] && incs+=(-I "${src}/scripts/include")
	for f in "${build}"/scripts/kconfig/*.o; do [[ ${f##*/} == conf.o ]] || objs+=("${f}"); done
	if gcc -O1 "${defines[@]}" -I "${src}/scripts/kconfig" "${incs[@]}" -o "${work}/${kver}/kconfig-why" \
		"${why_c}" "${objs[@]}" >"${work}/${kver}/why-build.log" 2>&1; then
		pass "${kver}: kconfig-why.c linked with the tree's kconfig objects"
	else
		fail "${kver}: kconfig-why.c linked with the tree's kconfig objects" "$(tail -n 8 "${work}/${kver}/why-build.log")"
		return
	fi

	check_table "${kver}" "${src}"

	local base=${src}/arch/x86/configs/x86_64_defconfig
	t=$(now)
	cp "${base}" "${build}/.config" && make -s -C "${src}" O="${build}" olddefconfig >"${work}/${kver}/base.log" 2>&1
	rc=$?
	if (( rc )); then
		fail "${kver}: olddefconfig of x86_64_defconfig" "$(tail -n 8 "${work}/${kver}/base.log")"
		return
	fi
	cp "${build}/.config" "${work}/${kver}/base.config"
	pass "${kver}: olddefconfig of x86_64_defconfig alone ($(since "${t}"))"
	{
		printf 'kernel=%s\ntarball=%s\n' "${kver}" "${tarball}"
		[[ -f ${src}/.gentoo-kopt-times ]] && cat "${src}/.gentoo-kopt-times"
		printf 'ld=%s\n' "$(ld --version | head -n 1)"
		printf 'gcc_plugin_headers=%s\n' "$(test -e "$(gcc -print-file-name=plugin)/include/plugin-version.h" && echo yes || echo no)"
		printf 'base=arch/x86/configs/x86_64_defconfig\n'
		conf_env "${build}" | sed 's/^/conf: /'
	} >"${o}/env"

	# gentoo-kernel's USE="hardened -debug" on amd64 with GCC merges, after base.config (and 6.12+.config):
	# no-debug, hardened-base, hardened-gcc-plugins, hardened-amd64. base.config is left out here: it
	# is not hardening and its driver options only add noise on x86_64_defconfig.
	local gentoo=(gentoo-no-debug.config gentoo-hardened-base.config gentoo-hardened-gcc-plugins.config gentoo-hardened-amd64.config)
	run_case "${kver}" "${src}" "${build}" "${base}" harden-base harden-base.config
	run_case "${kver}" "${src}" "${build}" "${base}" harden-strict harden-strict-gnu.config
	run_case "${kver}" "${src}" "${build}" "${base}" optimize-size optimize-size.config
	run_case "${kver}" "${src}" "${build}" "${base}" disable-kvm disable-kvm.config
	run_case "${kver}" "${src}" "${build}" "${base}" harden-strict+disable-kvm harden-strict-gnu.config disable-kvm.config
	run_case "${kver}" "${src}" "${build}" "${base}" gentoo-hardened "${gentoo[@]}"
	kvm_case "${kver}" "${src}" "${build}" "${base}"

	# the same strict request with LLVM=1 (clang, ld.lld, llvm-*): Kconfig probes that toolchain
	setup_objtree "${kver}" "${src}" "${llvm}" LLVM LLVM=1 || return
	mkargs=(LLVM=1)
	run_case "${kver}" "${src}" "${llvm}" "${base}" harden-strict-llvm harden-strict-llvm.config
	# every preset at once (what verify --config is compared on for clang)
	run_case "${kver}" "${src}" "${llvm}" "${base}" presets-llvm harden-strict-llvm.config optimize-size.config disable-kvm.config
	mkargs=()
	conf_env "${llvm}" | sed 's/^/conf-llvm: /' >>"${o}/env"
}

# @FUNCTION: check_table
# @USAGE: <kver> <src>
# @DESCRIPTION:
# harden.tsv's since/removed columns agree with the symbols the tree defines (bounds with a `?` are
# not checked).
check_table() {
	local kver=${1} src=${2} sym since_v removed_v want have bad=()
	find "${src}" -name 'Kconfig*' -type f -print0 | xargs -0 grep -hoE '^[[:space:]]*(menu)?config[[:space:]]+[A-Za-z0-9_]+' |
		awk '{ print $2 }' | sort -u >"${work}/${kver}/symbols"
	# (awk keeps empty columns, which `read` with a tab IFS would squeeze)
	while read -r sym since_v removed_v; do
		since_v=${since_v#-} removed_v=${removed_v#-}
		[[ ${since_v} == *'?'* || ${removed_v} == *'?'* ]] && continue
		want=yes
		[[ -n ${since_v} ]] && ! vercmp_le "${since_v}" "${kver}" && want=no
		[[ -n ${removed_v} ]] && vercmp_le "${removed_v}" "${kver}" && want=no
		have=no
		grep -qx "${sym}" "${work}/${kver}/symbols" && have=yes
		[[ ${want} == "${have}" ]] || bad+=("${sym} (since ${since_v:--} removed ${removed_v:--}: expected ${want}, tree has ${have})")
	done < <(awk -F'\t' 'NR > 1 { print $1, ($7 == "" ? "-" : $7), ($8 == "" ? "-" : $8) }' "${here}/harden.tsv")
	if (( ${#bad[@]} == 0 )); then
		pass "${kver}: harden.tsv's since/removed agree with the $(wc -l <"${work}/${kver}/symbols") symbols the tree defines"
	else
		fail "${kver}: harden.tsv's since/removed agree with the symbols the tree defines" "$(printf '%s\n' "${bad[@]}")"
	fi
}

# @FUNCTION: merge_and_configure
# @USAGE: <src> <build> <base .config> <log prefix> <fragment path>...
# @DESCRIPTION:
# The eclass's order: base as .config, merge_config.sh -m -r .config <fragments> in the build
# directory, then make O=<build> olddefconfig.
merge_and_configure() {
	local src=${1} build=${2} base=${3} log=${4}
	shift 4
	cp "${base}" "${build}/.config" || return 1
	(cd "${build}" && sh "${src}/scripts/kconfig/merge_config.sh" -m -r .config "$@") >"${log}.merge.log" 2>&1 || return 1
	make -s -C "${src}" O="${build}" "${mkargs[@]}" olddefconfig >"${log}.olddefconfig.log" 2>&1
}

# @FUNCTION: run_case
# @USAGE: <kver> <src> <build> <base> <case> <fragment>...
run_case() {
	local kver=${1} src=${2} build=${3} base=${4} name=${5} t f n_req n_drop n_undef
	shift 5
	local o=${out}/${kver} c=${work}/${kver}/cases/${name}
	local -a paths=()
	for f in "$@"; do paths+=("${frags}/${f}"); done
	printf '%s\n' "${paths[@]}" >"${c}.fragments"
	t=$(now)
	if ! merge_and_configure "${src}" "${build}" "${base}" "${c}" "${paths[@]}"; then
		fail "${kver} ${name}: merge_config.sh -m -r + olddefconfig" "$(tail -n 8 "${c}".*.log)"
		return
	fi
	cp "${build}/.config" "${c}.config"
	cp "${c}.merge.log" "${o}/${name}.merge.log"
	report "${c}.fragments" "${c}.config" >"${o}/${name}.txt"
	dropped_of "${o}/${name}.txt" >"${o}/${name}.dropped"
	n_req=$(wc -l <"${o}/${name}.txt") n_drop=$(wc -l <"${o}/${name}.dropped")
	# why: every requested symbol the tree does not define, and an explanation of each dropped one
	: >"${o}/${name}.why"
	if (( n_drop )); then
		local -a why_env
		mapfile -t why_env < <(conf_env "${build}")
		(cd "${build}" && env -i PATH="${PATH}" "${why_env[@]}" "${work}/${kver}/kconfig-why" Kconfig .config \
			$(awk '{ print $1 }' "${o}/${name}.dropped")) >"${o}/${name}.why" 2>"${c}.why.err"
	fi
	awk '$2 == "undefined" { print $1 }' "${o}/${name}.why" >"${o}/${name}.undefined"
	n_undef=$(wc -l <"${o}/${name}.undefined")
	pass "${kver} ${name}: ${n_req} requested, $((n_req - n_drop)) kept, ${n_drop} dropped (${n_undef} of them undefined in ${kver}) ($(since "${t}"))"
	if (( n_drop > n_undef )); then
		printf '      dropped: %s\n' "$(awk 'NR == FNR { u[$1]; next } !($1 in u) { printf "%s%s(%s->%s)", sep, $1, substr($2, 11), substr($3, 8); sep = " " }' \
			"${o}/${name}.undefined" "${o}/${name}.dropped")"
	fi

	# every dropped symbol has a reason, and kconfig-why sees the same value as the .config
	local sym reasonless=() mismatch=()
	while read -r sym _ a; do
		a=${a#actual=}
		grep -qE "^${sym} (undefined|unmet|hidden|selected-by|implied-by)( |\$)" "${o}/${name}.why" || reasonless+=("${sym}")
		# a set value must be what kconfig-why reads back (an unset symbol has no value to compare)
		if [[ ${a} != unset ]] && ! grep -q "^${sym} undefined" "${o}/${name}.why"; then
			local v
			v=$(sed -n "s/^${sym} value=\(.*\) type=[a-z]*\$/\1/p" "${o}/${name}.why")
			[[ ${v} == "${a}" || ( ${a} == n && -z ${v} ) ]] || mismatch+=("${sym}: .config ${a}, kconfig-why ${v}")
		fi
	done <"${o}/${name}.dropped"
	if (( ${#reasonless[@]} == 0 && ${#mismatch[@]} == 0 )); then
		pass "${kver} ${name}: kconfig-why gives a reason for each dropped symbol"
	else
		fail "${kver} ${name}: kconfig-why gives a reason for each dropped symbol" \
			"no reason: ${reasonless[*]:-none}; value mismatch: ${mismatch[*]:-none}"
	fi

	# merge_config.sh on its own (no -m): it runs make alldefconfig with the merged file as
	# KCONFIG_ALLCONFIG and reports "Value requested for CONFIG_X not in final .config"
	cp "${base}" "${build}/.config"
	if ! (cd "${build}" && env "${mkargs[@]}" sh "${src}/scripts/kconfig/merge_config.sh" -r .config "${paths[@]}") >"${c}.native.log" 2>&1; then
		fail "${kver} ${name}: merge_config.sh -r (running make itself)" "$(tail -n 8 "${c}.native.log")"
		return
	fi
	cp "${c}.native.log" "${o}/${name}.native.log"
	if diff -q "${build}/.config" "${c}.config" >/dev/null; then
		pass "${kver} ${name}: merge_config.sh's alldefconfig (KCONFIG_ALLCONFIG) and olddefconfig give the same .config"
	else
		fail "${kver} ${name}: merge_config.sh's alldefconfig (KCONFIG_ALLCONFIG) and olddefconfig give the same .config" \
			"$(diff "${build}/.config" "${c}.config" | head -n 8)"
	fi
	# merge_config.sh's report, restricted to the requested symbols, names what was dropped plus the
	# n requests of symbols that ended up unset (it compares lines: '# CONFIG_X is not set' vs nothing)
	local theirs ours
	theirs=$(sed -n 's/^Value requested for CONFIG_\([A-Za-z0-9_]*\) not in final \.config$/\1/p' "${c}.native.log" | sort -u |
		join - <(awk '{ print $1 }' "${o}/${name}.txt") | paste -sd' ')
	ours=$(awk '{ r = substr($2, 11); a = substr($3, 8); if (a != r) print $1 }' "${o}/${name}.txt" | sort -u | paste -sd' ')
	if [[ ${theirs} == "${ours}" ]]; then
		pass "${kver} ${name}: merge_config.sh's own report names the same symbols ($(wc -w <<<"${ours}"), n-but-unset included)"
	else
		fail "${kver} ${name}: merge_config.sh's own report names the same symbols" "merge_config.sh: ${theirs}
this test:       ${ours}"
	fi
	local v
	for v in "${verify_cases[@]}"; do
		[[ ${v} == "${name}" ]] && verify_case "${kver}" "${name}" "${base}" "$@"
	done
}

# @FUNCTION: install_preset_fragments
# @USAGE: <root> <fragment>...
# @DESCRIPTION:
# Writes the kopt.conf that asks for a case's fragments (harden-strict-gnu.config -> harden = strict
# with toolchain = gnu, -llvm -> toolchain = llvm, optimize-size.config -> optimize = size,
# disable-kvm.config -> disable = KVM) and runs the real `gentoo-kopt hooks install --root <root>`,
# which writes etc/kernel/config.d/NN-gentoo-kopt-<key>.config as a user's install does.
install_preset_fragments() {
	local root=${1} f toolchain=gnu
	shift
	local -a conf=()
	for f in "$@"; do
		f=${f%.config}
		case ${f} in
			harden-strict-llvm) conf+=('harden = strict') toolchain=llvm ;;
			harden-strict-gnu | harden-strict) conf+=('harden = strict') ;;
			harden-base) conf+=('harden = base') ;;
			optimize-size | optimize-performance) conf+=("optimize = ${f#optimize-}") ;;
			disable-kvm) conf+=('disable = KVM') ;;
			*) printf 'not a preset fragment: %s\n' "${f}" >&2 && return 1 ;;
		esac
	done
	mkdir -p "${root}/etc/gentoo-kopt" || return 1
	printf '%s\n' "toolchain = ${toolchain}" "${conf[@]}" >"${root}/etc/gentoo-kopt/kopt.conf" || return 1
	node "${cli}" hooks install --root "${root}" >"${root}.install.log" 2>&1 ||
		{ cat "${root}.install.log" >&2; return 1; }
}

# @FUNCTION: verify_case
# @USAGE: <kver> <case> <base .config> <fragment>...
# @DESCRIPTION:
# `gentoo-kopt verify --config --tarball <this tree's tarball>` on a throwaway root holding the case's
# fragments (with --base-config unless the base is the tree's x86_64_defconfig, --toolchain llvm for
# the LLVM=1 case) must list every requested symbol with the value olddefconfig left and the same
# kept/dropped verdict as <case>.txt, and give a reason for each dropped one.
verify_case() {
	local kver=${1} name=${2} base=${3} t rc
	shift 3
	local root=${work}/${kver}/cases/${name}.root o=${out}/${kver}
	local -a args=(verify --config --tarball "${tarball}" --root "${root}" --json)
	[[ ${base} == */arch/x86/configs/x86_64_defconfig ]] || args+=(--base-config "${base}")
	[[ ${mkargs[*]-} == *LLVM=1* ]] && args+=(--toolchain llvm)
	install_preset_fragments "${root}" "$@" || { fail "${kver} ${name}: preset fragments in a root"; return; }
	t=$(now)
	node "${cli}" "${args[@]}" >"${o}/${name}.verify.json" 2>"${o}/${name}.verify.err"
	rc=$?
	# ours and theirs as `SYMBOL requested=<v> actual=<v> kept|dropped`
	node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results[0].verdict;
		if (r.status === "not-verified") { console.error(r.reason); process.exit(1); }
		for (const o of r.options) console.log(`${o.symbol} requested=${o.requested} actual=${o.actual} ${o.status}${o.status === "dropped" && !o.reason ? " NO-REASON" : ""}`);
	' "${o}/${name}.verify.json" >"${o}/${name}.verify.txt" 2>>"${o}/${name}.verify.err"
	awk '{ r = substr($2, 11); a = substr($3, 8); print $0, ((a == r || (r == "n" && a == "unset")) ? "kept" : "dropped") }' \
		"${o}/${name}.txt" >"${work}/${kver}/cases/${name}.expected"
	local n_drop
	n_drop=$(grep -c ' dropped$' "${work}/${kver}/cases/${name}.expected")
	if diff "${work}/${kver}/cases/${name}.expected" "${o}/${name}.verify.txt" >"${work}/${kver}/cases/${name}.verify.diff" &&
		(( rc == (n_drop ? 1 : 0) )); then
		pass "${kver} ${name}: verify --config agrees option by option ($(wc -l <"${o}/${name}.verify.txt") options, ${n_drop} dropped, exit ${rc}; $(since "${t}"))"
	else
		fail "${kver} ${name}: verify --config agrees option by option (exit ${rc})" \
			"$(cat "${work}/${kver}/cases/${name}.verify.diff" "${o}/${name}.verify.err" | head -n 12)"
	fi
}

# @FUNCTION: kvm_case
# @USAGE: <kver> <src> <build> <base>
# @DESCRIPTION:
# disable = KVM on a base with KVM, KVM_INTEL and KVM_AMD as modules: KVM alone is enough.
kvm_case() {
	local kver=${1} src=${2} build=${3} base=${4} c=${work}/${kver}/cases/kvm-base o=${out}/${kver} s left=()
	{ cat "${base}"; printf 'CONFIG_KVM=m\nCONFIG_KVM_INTEL=m\nCONFIG_KVM_AMD=m\n'; } >"${c}.raw"
	cp "${c}.raw" "${build}/.config" && make -s -C "${src}" O="${build}" olddefconfig >"${c}.log" 2>&1 &&
		cp "${build}/.config" "${c}.config" || { fail "${kver}: a base with KVM=m KVM_INTEL=m KVM_AMD=m" "$(tail -n 5 "${c}.log")"; return; }
	if grep -qx 'CONFIG_KVM=m' "${c}.config" && grep -qx 'CONFIG_KVM_INTEL=m' "${c}.config" && grep -qx 'CONFIG_KVM_AMD=m' "${c}.config"; then
		pass "${kver}: a base with KVM=m KVM_INTEL=m KVM_AMD=m ($(grep -E '^CONFIG_KVM(_X86)?=' "${c}.config" | paste -sd' '))"
	else
		fail "${kver}: a base with KVM=m KVM_INTEL=m KVM_AMD=m" "$(grep -E 'CONFIG_KVM(_INTEL|_AMD|_X86)?[= ]' "${c}.config")"
		return
	fi
	run_case "${kver}" "${src}" "${build}" "${c}.config" disable-kvm-on-kvm-base disable-kvm.config
	for s in KVM KVM_INTEL KVM_AMD KVM_X86; do
		grep -qE "^CONFIG_${s}=" "${work}/${kver}/cases/disable-kvm-on-kvm-base.config" && left+=("${s}")
	done
	if (( ${#left[@]} == 0 )); then
		pass "${kver}: disable = KVM alone leaves none of KVM, KVM_INTEL, KVM_AMD, KVM_X86 set"
	else
		fail "${kver}: disable = KVM alone leaves none of KVM, KVM_INTEL, KVM_AMD, KVM_X86 set" "still set: ${left[*]}"
	fi
}

for tarball in "${tarballs[@]}"; do
	t=$(now)
	run_tree "${tarball}"
	printf '      (%s: %s)\n' "${tarball##*/}" "$(since "${t}")"
done
printf '\nreal-Kconfig test: %s in all\n' "$(since "${t_all}")"
finish
