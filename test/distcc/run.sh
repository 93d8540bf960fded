#!/usr/bin/env bash
# distcc/ccache test of the kernel hook: a dist-kernel build that keeps ONE LLVM slot still goes
# through Portage's distcc and ccache masquerade directories.
#
# Portage turns FEATURES=distcc/ccache on by putting their masquerade directories first in PATH
# (doebuild.py: ccache before distcc before the rest). A compiler named by an absolute path into
# /usr/lib/llvm/<N>/bin never passes through them. The hook (hooks/kernel-hook.bash, _kopt_wrappers)
# therefore exports the slot's versioned names, CC=clang-<N> CXX=clang++-<N>, puts the slot's bin
# directory into PATH right after the masquerade directories, and with both CCACHE_COMPILERTYPE=clang:
# the masquerade links the name, distccd's whitelist accepts it, and only slot <N> provides it.
#
# What it does, with Debian's distcc 3.4, ccache and LLVM laid out as Gentoo's EPREFIX tree:
#  1. starts two distccd on 127.0.0.1 (one with the default compiler whitelist, one with
#     DISTCC_CMDLIST), each with its own log, stopped by PID at the end;
#  2. probes each way of naming the compiler with a one-line C file (which reach a daemon, which
#     slot the daemon runs, what ccache does);
#  3. installs the REAL hook (`gentoo-kopt hooks install --root`) and runs its setup phase for several
#     FEATURES and PATHs: what it exports, and its fallback with a warning;
#  4. builds linux-source-6.1 tinyconfig plus a few objects out of tree (O=), with what the hook
#     exported in the emulated phases setup .. compile, every tool on make's command line as
#     kernel-build.eclass passes them (test/kbuild/eclass-make.sh):
#     a. FEATURES=distcc: compile jobs reach both daemons, which run the slot's clang (their logs);
#     b. FEATURES="ccache distcc", twice: the second build is served by ccache (ccache -s);
#     c. NEGATIVE CONTROL, CC forced to the absolute /usr/lib/llvm/<N>/bin/clang (the hook before
#        issue 13): no job reaches a daemon, and the check of (a) fails on it;
#     d. CC with a space ("ccache clang-<N>"): Kbuild still detects clang;
#     e. one daemon stopped: the build still succeeds through the other.
# With KOPT_DISTCC_HOOK=<an older hooks/kernel-hook.bash> the checks of 3 and 4a/4b fail.
#
# Needs: root (distccd drops to `nobody`), x86_64, /usr/src/linux-source-6.1.tar.xz, make gcc bc flex
# bison libelf-dev, distcc, ccache, node and a built dist/ (npm run build), and two complete LLVM slots (clang lld llvm and clang-19 lld-19
# llvm-19 on Debian 12). A missing prerequisite is a failure, never a skip.
# Environment: KOPT_DISTCC_SLOT (the LLVM slot to build with; default: the oldest complete slot, so
# that the daemons' newest-first PATH has another slot before it), KOPT_KBUILD_TARBALL,
# KOPT_KBUILD_CACHE (the unpacked tree test/kbuild/run.sh caches), KOPT_DISTCC_KEEP=1 (keep the
# work directory; it is always kept after a failure).
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "${here}/../.." && pwd)
tarball=${KOPT_KBUILD_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${KOPT_KBUILD_CACHE:-${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache}
eclass_make=${project}/test/kbuild/eclass-make.sh
# the objects each build compiles (after the prepare steps Kbuild runs for them)
objects=(init/version.o init/main.o kernel/fork.o kernel/exit.o kernel/panic.o mm/memory.o lib/string.o lib/vsprintf.o)
jobs=4 # two daemons with two slots each
llvm_tools=(clang clang++ ld.lld llvm-ar llvm-nm llvm-strip llvm-objcopy llvm-objdump llvm-readelf)

passed=0 failed=0 work='' build_pid='' daemon_pids=() t_all=${EPOCHREALTIME/[.,]/}
show() {
	local line
	while IFS= read -r line || [[ -n ${line} ]]; do
		[[ -z ${work} ]] || line=${line//"${work}"/'$W'}
		printf '%s\n' "${line}"
	done
}
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "${1}" | show; }
fail() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "${1}" | show
	[[ -z ${2-} ]] || printf '%s\n' "${2}" | show | sed 's/^/      /'
}
# check <condition status> <message> [details on failure]
check() { if (( ${1} == 0 )); then pass "${2}"; else fail "${2}" "${3-}"; fi; }
note() { printf '%s\n' "$*" | show | sed 's/^/      /'; }
now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
since() { local d=$((($(now) - ${1}) / 100000)); printf '%d.%d s' $((d / 10)) $((d % 10)); }

# @FUNCTION: stop_daemons
# @DESCRIPTION:
# Stops every distccd this run started, by the PID `&` gave (distccd --no-detach is our child; its
# pid file is not reliable: its children remove it when they exit), and reaps it.
stop_daemons() {
	local pid
	for pid in "${daemon_pids[@]}"; do stop_daemon "${pid}"; done
	daemon_pids=()
}
# @FUNCTION: stop_daemon
# @USAGE: <pid>
# @DESCRIPTION:
# Stops one distccd we started: its process group (distccd leads its own group; its preforked
# children hold the listening socket too), or the process alone if it never made one; then reaps it.
stop_daemon() {
	[[ -n ${1} ]] || return 0
	kill -TERM -- "-${1}" 2>/dev/null || kill -TERM "${1}" 2>/dev/null
	wait "${1}" 2>/dev/null
	return 0
}
finish() {
	trap - INT TERM EXIT
	if [[ -n ${build_pid} ]]; then kill "${build_pid}" 2>/dev/null; wait "${build_pid}" 2>/dev/null; fi
	stop_daemons
	if [[ -n ${work} ]]; then
		if (( failed )) || [[ -n ${KOPT_DISTCC_KEEP-} ]]; then
			printf '\nwork directory kept (daemon logs: $W/daemon-*/log, build logs: $W/*.log): %s\n' "${work}"
		else
			rm -rf "${work}"
		fi
	fi
	printf '\ndistcc test: %s in all\n' "$(since "${t_all}")"
	printf '\n%d passed, %d failed\n' "${passed}" "${failed}"
	exit $(( failed ? 1 : 0 ))
}
trap 'printf "\ninterrupted\n"; failed=$((failed + 1)); finish' INT TERM
trap 'stop_daemons' EXIT
fatal() { fail "${1}" "${2-}"; finish; }

# --- prerequisites ---------------------------------------------------------------------------
[[ $(uname -m) == x86_64 ]] || fatal "this test builds an x86_64 kernel; this machine is $(uname -m)"
(( EUID == 0 )) || fatal "this test must run as root (distccd drops to nobody; the whitelist may need update-distcc-symlinks)"
[[ -r ${tarball} ]] || fatal "no kernel source at ${tarball}" "fix: apt-get install linux-source-6.1"
[[ -f ${eclass_make} ]] || fatal "${eclass_make} is missing"
[[ -f ${project}/dist/bin.js ]] || fatal "${project}/dist/bin.js is missing" "fix: npm run build"
for tool in node make gcc bc flex bison tar xz readelf distcc distccd ccache; do
	type -P "${tool}" >/dev/null || fatal "${tool} is not installed" "fix: apt-get install distcc ccache make gcc bc flex bison xz-utils binutils"
done
[[ -e /usr/include/gelf.h ]] || fatal "libelf headers are missing (objtool needs them)" "fix: apt-get install libelf-dev"
distcc_bin=$(type -P distcc) ccache_bin=$(type -P ccache)
chost=$(gcc -dumpmachine)

slots=()
for dir in /usr/lib/llvm-*/bin; do
	n=${dir#/usr/lib/llvm-} n=${n%/bin}
	[[ ${n} =~ ^[0-9]+$ ]] || continue
	complete=1
	for tool in "${llvm_tools[@]}" "clang-${n}"; do [[ -x ${dir}/${tool} ]] || complete=; done
	[[ -n ${complete} ]] && slots+=("${n}")
done
mapfile -t slots < <(printf '%s\n' "${slots[@]}" | sort -n)
(( ${#slots[@]} >= 2 )) || fatal "two complete LLVM slots are needed (found: ${slots[*]:-none})" \
	"fix: apt-get install clang lld llvm clang-19 lld-19 llvm-19 (the second slot shows which clang a daemon runs for a bare name)"
slot=${KOPT_DISTCC_SLOT:-${slots[0]}}
[[ " ${slots[*]} " == *" ${slot} "* ]] || fatal "KOPT_DISTCC_SLOT=${slot} is not a complete LLVM slot (have: ${slots[*]})"
other=
for n in "${slots[@]}"; do [[ ${n} != "${slot}" ]] && other=${n}; done # the newest other slot

# The daemons' compiler whitelist is the masquerade directory /usr/lib/distcc (distccd checks that a
# link of the compiler's name is there). Debian creates clang links only for the clangs present when
# distcc was configured: refresh them with Debian's own tool when ours are missing.
for name in "clang-${slot}" "clang++-${slot}"; do
	if [[ ! -e /usr/lib/distcc/${name} ]] && type -P update-distcc-symlinks >/dev/null; then
		update-distcc-symlinks >/dev/null 2>&1
		printf 'note: ran update-distcc-symlinks (/usr/lib/distcc lacked %s)\n' "${name}"
	fi
	[[ -e /usr/lib/distcc/${name} ]] || fatal "distccd's whitelist /usr/lib/distcc has no ${name}" "fix: update-distcc-symlinks"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-distcc.XXXXXX")
chmod 0755 "${work}" # the daemons run as nobody and read the EPREFIX tree and the command list

# --- the Gentoo layout -----------------------------------------------------------------------
# ${EPREFIX}/usr/lib/llvm/<N>/bin as llvm-core/clang installs it: clang-<N> is the binary, clang,
# clang++ and clang++-<N> lead to it. The masquerade directories hold what `eselect compiler-shadow
# update` (dev-util/shadowman) links: every {,*-}clang{,++}{,-[0-9]*} found in PATH, to the tool.
# /usr/lib/distcc/bin is sys-devel/distcc's compatibility link to `.`.
eprefix=${work}/eprefix
llvm=${eprefix}/usr/lib/llvm
for n in "${slots[@]}"; do
	mkdir -p "${llvm}/${n}/bin"
	for tool in "${llvm_tools[@]}" "clang-${n}"; do
		[[ ${tool} == clang || ${tool} == clang++ ]] && continue
		ln -s "/usr/lib/llvm-${n}/bin/${tool}" "${llvm}/${n}/bin/${tool}"
	done
	ln -s "clang-${n}" "${llvm}/${n}/bin/clang++-${n}"
	ln -s "clang-${n}" "${llvm}/${n}/bin/clang"
	ln -s "clang++-${n}" "${llvm}/${n}/bin/clang++"
done
slotbin=${llvm}/${slot}/bin
distcc_masq=${eprefix}/usr/lib/distcc
ccache_masq=${eprefix}/usr/lib/ccache/bin
mkdir -p "${distcc_masq}" "${ccache_masq}"
ln -s . "${distcc_masq}/bin"
distcc_masq+=/bin
for n in "${slots[@]}"; do
	for name in clang clang++ "clang-${n}" "clang++-${n}"; do
		ln -sf "${distcc_bin}" "${distcc_masq}/${name}"
		ln -sf "${ccache_bin}" "${ccache_masq}/${name}"
	done
done
# PATH from env.d: every slot, newest first (llvm-core/llvm's 60llvm-<9999-N>), then the system
base_path=
for ((i = ${#slots[@]} - 1; i >= 0; i--)); do base_path+=${llvm}/${slots[i]}/bin:; done
base_path+=/usr/local/bin:/usr/bin:/bin
# PATH in an ebuild phase for FEATURES (doebuild.py prepends distcc, then icecream, then ccache)
portage_path() {
	local p=${base_path}
	[[ " ${1} " == *" distcc "* ]] && p=${distcc_masq}:${p}
	[[ " ${1} " == *" ccache "* ]] && p=${ccache_masq}:${p}
	printf '%s\n' "${p}"
}
slot_version=$("${slotbin}/clang-${slot}" --version | sed -n '1s/.*clang version \([0-9.]*\).*/\1/p')
other_version=$("${llvm}/${other}/bin/clang-${other}" --version | sed -n '1s/.*clang version \([0-9.]*\).*/\1/p')
printf 'slot %s (clang %s), other slot %s (clang %s), CHOST %s\nW=%s\n' "${slot}" "${slot_version}" \
	"${other}" "${other_version}" "${chost}" "${work}"

# =============================================================================================
# THE REAL HOOK: `gentoo-kopt hooks install` (this checkout's dist/bin.js) into a config root with
# toolchain = llvm, llvm-slot = ${slot}; each build runs the phases setup .. compile around the
# installed bashrc with examples/portage-sim/phase-runner.sh (a fresh bash per phase, the saved
# environment restored, as Portage does), with FEATURES and the PATH Portage gives them, and EPREFIX
# at the tree above. make then runs with what the compile phase exported. KOPT_DISTCC_HOOK=<file>
# replaces the installed hook by another (e.g. an older hooks/kernel-hook.bash, to see this test fail).
config=${work}/config
mkdir -p "${config}/etc/gentoo-kopt"
printf 'packages = sys-kernel/gentoo-kernel\ntoolchain = llvm\nllvm-slot = %s\nkcflags = -O2 -pipe\n' "${slot}" \
	> "${config}/etc/gentoo-kopt/kopt.conf"
node "${project}/dist/bin.js" hooks install --root "${config}" > "${work}/hooks-install.log" 2>&1 ||
	fatal "gentoo-kopt hooks install --root <tmp>" "$(tail -n 5 "${work}/hooks-install.log")"
if [[ -n ${KOPT_DISTCC_HOOK-} ]]; then
	cat "${KOPT_DISTCC_HOOK}" > "${config}/etc/gentoo-kopt/kernel-hook.bash" || fatal "cannot read ${KOPT_DISTCC_HOOK}"
	printf 'note: the installed hook replaced by %s (KOPT_DISTCC_HOOK)\n' "${KOPT_DISTCC_HOOK}"
fi
kver=6.1.0
phase_no=0
# @FUNCTION: hook_phases
# @USAGE: <features> <PATH> <phase:hook>...
# @DESCRIPTION:
# Runs the phases of sys-kernel/gentoo-kernel-${kver} in a fresh build directory with make.conf's
# CFLAGS/LDFLAGS, FEATURES and PATH. Sets h_dir (its ${T}: exports.<phase>, messages); fails when a
# phase does.
hook_phases() {
	local features=${1} path=${2} entry
	shift 2
	phase_no=$((phase_no + 1)) h_dir=${work}/phases-${phase_no}/temp
	mkdir -p "${h_dir}"
	for entry in "$@"; do
		env -i PATH="${path}" HOME="${h_dir}" CATEGORY=sys-kernel PN=gentoo-kernel PV="${kver}" PR=r0 \
			PVR="${kver}" P="gentoo-kernel-${kver}" PF="gentoo-kernel-${kver}" SLOT="${kver}" CHOST="${chost}" \
			EBUILD_PHASE="${entry%%:*}" PORTAGE_CONFIGROOT="${config}/" ROOT="${config}/" T="${h_dir}" \
			PORTAGE_BUILDDIR="${h_dir%/temp}" MERGE_TYPE=source EMERGE_FROM=ebuild EPREFIX="${eprefix}" \
			BROOT="${eprefix}" ARCH=amd64 CFLAGS="${make_cflags}" LDFLAGS="${make_ldflags}" FEATURES="${features}" \
			MAKEOPTS="-j${jobs}" KOPT_TEST_MSGS="${h_dir}/messages" KOPT_TEST_HOOK="${entry#*:}" \
			KOPT_TEST_FILTER="CATEGORY PN PV PR PVR P PF SLOT CHOST EBUILD_PHASE PORTAGE_CONFIGROOT ROOT T PORTAGE_BUILDDIR MERGE_TYPE EMERGE_FROM EPREFIX BROOT" \
			bash --noprofile --norc "${project}/examples/portage-sim/phase-runner.sh" > "${h_dir}/phase.log" 2>&1 ||
			return 1
	done
}
make_cflags='-O2 -pipe' make_ldflags='-Wl,-O1 -Wl,--as-needed'
# @FUNCTION: exported_var
# @USAGE: <exports file> <name>
# @DESCRIPTION: Prints what the phase exported as <name> (nothing when it did not).
exported_var() {
	env -i bash --noprofile --norc -c 'source "$1" 2>/dev/null; [[ -v $2 ]] && printf "%s\n" "${!2}"; exit 0' _ "${1}" "${2}"
}
# =============================================================================================

# --- the daemons -----------------------------------------------------------------------------
free_port() {
	local p
	for _ in {1..50}; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null || { printf '%s\n' "${p}"; return 0; }
	done
	return 1
}
# @FUNCTION: start_daemon
# @USAGE: <name> <port> [VAR=value...]
# @DESCRIPTION:
# Starts distccd on 127.0.0.1:<port> as nobody, logging at debug level to $W/daemon-<name>/log (the
# level at which it names the compiler it resolved), with a PATH of every slot, newest first.
start_daemon() {
	local name=${1} port=${2} d=${work}/daemon-${1} pid
	shift 2
	mkdir -p "${d}" && chown nobody "${d}"
	env -i PATH="${base_path}" TMPDIR=/tmp "$@" distccd --daemon --no-detach --user nobody \
		--listen 127.0.0.1 --port "${port}" --allow 127.0.0.1 --jobs 2 --log-level debug \
		--log-file "${d}/log" --pid-file "${d}/pid" > "${d}/stderr" 2>&1 &
	pid=$!
	daemon_pids+=("${pid}")
	printf -v "pid_${name}" '%s' "${pid}" # pid_1, pid_2
	for _ in {1..50}; do
		grep -q 'listening on' "${d}/log" 2>/dev/null && return 0
		kill -0 "${pid}" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
pid_1='' pid_2=''
port1=$(free_port) || fatal "no free TCP port on 127.0.0.1"
port2=$(free_port) || fatal "no free TCP port on 127.0.0.1"
while [[ ${port2} == "${port1}" ]]; do port2=$(free_port); done
# daemon 1: the default whitelist (a link named like the compiler in /usr/lib/distcc); it runs the
# name through its PATH. daemon 2: DISTCC_CMDLIST, which maps clang-<N> to the slot's binary.
printf '%s\n' "${slotbin}/clang-${slot}" "${slotbin}/clang++-${slot}" > "${work}/cmdlist"
t=$(now)
if start_daemon 1 "${port1}" && start_daemon 2 "${port2}" DISTCC_CMDLIST="${work}/cmdlist" DISTCC_CMDLIST_NUMWORDS=1; then
	pass "two distccd on 127.0.0.1:${port1} (whitelist /usr/lib/distcc) and :${port2} (DISTCC_CMDLIST), PIDs ${pid_1} ${pid_2} ($(since "${t}"))"
else
	fatal "start two distccd on 127.0.0.1:${port1} and :${port2}" "$(tail -n 3 "${work}"/daemon-*/log "${work}"/daemon-*/stderr 2>/dev/null)"
fi
log1=${work}/daemon-1/log log2=${work}/daemon-2/log
hosts="127.0.0.1:${port1}/2 127.0.0.1:${port2}/2"

# @FUNCTION: log_lines
# @USAGE: <log>
# @DESCRIPTION: The number of lines in a daemon log (a mark: what follows it is new).
log_lines() { wc -l < "${1}"; }
# @FUNCTION: since_mark
# @USAGE: <log> <mark>
since_mark() { tail -n "+$(( ${2} + 1 ))" "${1}"; }
# @FUNCTION: ok_jobs
# @USAGE: <log> <mark> [<source-file regex>]
# @DESCRIPTION: Prints how many compile jobs the daemon finished with COMPILE_OK since the mark.
ok_jobs() {
	since_mark "${1}" "${2}" | grep -E "COMPILE_OK .* ${3:-.*}\$" | grep -c .
}
# @FUNCTION: ran_compilers
# @USAGE: <log> <mark>
# @DESCRIPTION:
# Prints, one per line and counted, the compiler binaries the daemon resolved since the mark: the
# whitelist daemon logs the PATH entry it found (dcc_check_compiler_masq), the DISTCC_CMDLIST daemon
# the absolute path it mapped the name to (dcc_remap_compiler).
ran_compilers() {
	since_mark "${1}" "${2}" | sed -n -e 's/.*(dcc_check_compiler_masq) \([^ ]*\) is .*/\1/p' \
		-e 's/.*(dcc_remap_compiler) changed compiler from [^ ]* to \([^ ]*\)$/\1/p' | sort | uniq -c |
		awk '{printf "%s x%s\n", $2, $1}'
}

# --- probes: one-line C file, one compile per form ------------------------------------------
printf '\n== how distcc and ccache treat each way of naming the compiler (one-line C file, daemon 1) ==\n'
probe_dir=${work}/probe
mkdir -p "${probe_dir}"
printf 'int twice(int x) { return 2 * x; }\n' > "${probe_dir}/t.c"
# @FUNCTION: probe
# @USAGE: <features> <extra env (VAR=value ...)> <compiler words...>
# @DESCRIPTION:
# Compiles t.c once (twice with CCACHE_TWICE=1) in an ebuild phase's PATH for <features>, with a
# fresh DISTCC_DIR (no backoff from an earlier probe) and CCACHE_DIR. Sets p_rc, p_ok (jobs the
# daemon finished), p_refused (jobs it refused), p_ran (compilers it resolved), p_version (the clang
# version recorded in t.o), p_hits and p_misses (ccache).
probe() {
	local features=${1} extra=${2} mark i
	shift 2
	rm -rf "${probe_dir}/distcc" "${probe_dir}/ccache" "${probe_dir}/t.o"
	mkdir -p "${probe_dir}/distcc" # distcc creates only the last component of DISTCC_DIR (Portage makes it)
	mark=$(log_lines "${log1}") p_mark=${mark}
	for ((i = 0; i < ${CCACHE_TWICE:-0} + 1; i++)); do
		rm -f "${probe_dir}/t.o"
		# shellcheck disable=SC2086 # extra is a list of VAR=value words
		(cd "${probe_dir}" && env -i HOME="${probe_dir}" PATH="$(portage_path "${features}")" \
			DISTCC_HOSTS="127.0.0.1:${port1}/2" DISTCC_DIR="${probe_dir}/distcc" CCACHE_DIR="${probe_dir}/ccache" \
			${extra} "$@" -c t.c -o t.o > "${probe_dir}/out" 2>&1)
		p_rc=$?
	done
	sleep 0.2 # the daemon writes its job summary after the client has its result
	p_ok=$(ok_jobs "${log1}" "${mark}")
	p_refused=$(since_mark "${log1}" "${mark}" | grep -c 'CRITICAL')
	p_ran=$(ran_compilers "${log1}" "${mark}" | paste -sd' ')
	p_version=$(readelf -p .comment "${probe_dir}/t.o" 2>/dev/null | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n 1)
	p_hits=0 p_misses=0
	if [[ -d ${probe_dir}/ccache ]]; then
		p_hits=$(CCACHE_DIR="${probe_dir}/ccache" ccache --print-stats | awk '$1 ~ /_cache_hit$/ {s += $2} END {print s + 0}')
		p_misses=$(CCACHE_DIR="${probe_dir}/ccache" ccache --print-stats | awk '$1 == "cache_miss" {print $2}')
	fi
	note "-> exit ${p_rc}; daemon: ${p_ok} job(s) done, ${p_refused} refused; ran: ${p_ran:-nothing}; t.o from clang ${p_version:-?}; ccache: ${p_hits} hit(s), ${p_misses:-0} miss(es)"
}
want_ran=${slotbin}/clang-${slot}

printf 'FEATURES=distcc, CC=clang-%s (the hook form, through PATH):\n' "${slot}"
probe distcc '' "clang-${slot}"
(( p_rc == 0 && p_ok == 1 )) && [[ ${p_ran} == "${want_ran} x1" && ${p_version} == "${slot_version}" ]]
check $? "clang-${slot} through the masquerade: the job ran on the daemon, with the slot's clang-${slot} (clang ${slot_version})"

printf 'FEATURES=distcc, CC=<masquerade dir>/clang-%s (absolute masquerade path):\n' "${slot}"
probe distcc '' "${distcc_masq}/clang-${slot}"
(( p_rc == 0 && p_ok == 1 )) && [[ ${p_ran} == "${want_ran} x1" ]]
check $? "the absolute masquerade path works the same way"

printf 'FEATURES=distcc, CC=%s/clang (the current hook):\n' "${slotbin}"
probe distcc '' "${slotbin}/clang"
(( p_rc == 0 && p_ok == 0 && p_refused == 0 )) && [[ ${p_version} == "${slot_version}" ]]
check $? "an absolute slot path bypasses distcc: built locally, exit 0, the daemon never hears of it"

printf 'FEATURES=distcc, CC="distcc %s/clang":\n' "${slotbin}"
probe distcc '' distcc "${slotbin}/clang"
(( p_rc == 0 && p_ok == 0 && p_refused == 1 )) && since_mark "${log1}" "${p_mark}" | grep -q 'cannot be an absolute path'
check $? "distcc with an absolute compiler: the daemon refuses it ('cannot be an absolute path'), the client compiles locally, exit 0"

printf 'FEATURES=distcc, CC="distcc clang-%s" (explicit distcc, masquerade also in PATH):\n' "${slot}"
probe distcc '' distcc "clang-${slot}"
(( p_rc == 0 && p_ok == 1 ))
check $? "explicit 'distcc clang-${slot}' is distributed too (its local preprocessing goes through the masquerade again)"

printf 'FEATURES=distcc, CC=clang (bare name; the daemon'"'"'s PATH has slot %s first):\n' "${other}"
probe distcc '' clang
(( p_rc == 0 && p_ok == 1 )) && [[ ${p_version} == "${other_version}" ]]
check $? "a bare 'clang' runs whatever slot comes first on each machine (here slot ${other}, not ${slot})"

printf 'FEATURES="ccache distcc", CC=clang-%s, compiled twice:\n' "${slot}"
CCACHE_TWICE=1 probe "ccache distcc" '' "clang-${slot}"
(( p_rc == 0 && p_ok == 1 && p_hits == 1 && p_misses == 1 ))
check $? "ccache then distcc: the first compile goes to the daemon, the second is a cache hit"

printf 'FEATURES="ccache distcc", CC=clang-%s -Wp,-MMD,t.d (as Kbuild compiles), twice:\n' "${slot}"
CCACHE_TWICE=1 probe "ccache distcc" '' "clang-${slot}" -Wp,-MMD,t.d
p_unsupported=$(CCACHE_DIR="${probe_dir}/ccache" ccache --print-stats | awk '$1 == "unsupported_compiler_option" {print $2}')
(( p_rc == 0 && p_ok == 2 && p_hits == 0 && p_unsupported == 2 ))
check $? "ccache takes the distcc masquerade for an unknown compiler: -Wp,-MMD is 'unsupported', nothing cached (${p_unsupported:-0} of 2)"
printf 'the same with CCACHE_COMPILERTYPE=clang:\n'
CCACHE_TWICE=1 probe "ccache distcc" CCACHE_COMPILERTYPE=clang "clang-${slot}" -Wp,-MMD,t.d
(( p_rc == 0 && p_ok == 1 && p_hits == 1 ))
check $? "CCACHE_COMPILERTYPE=clang: the first compile goes to the daemon, the second is a cache hit"

printf 'FEATURES=ccache, CCACHE_PREFIX=distcc, CC=clang-%s:\n' "${slot}"
probe ccache CCACHE_PREFIX=distcc "clang-${slot}"
(( p_rc == 0 && p_ok == 0 && p_refused == 1 ))
check $? "CCACHE_PREFIX=distcc hands distcc the absolute path ccache resolved: refused, compiled locally"

printf 'FEATURES=distcc, CC=clang-%s with -march=native (as in the wiki'"'"'s KCFLAGS):\n' "${slot}"
probe distcc '' "clang-${slot}" -march=native
(( p_rc == 0 && p_ok == 0 && p_refused == 0 ))
check $? "distcc keeps every compile with -march=native (or -mtune=native) local"

printf '\n== the real hook: what it exports for FEATURES (setup phase) ==\n'
# @FUNCTION: exports_for
# @USAGE: <features> [PATH]
# @DESCRIPTION:
# Runs the hook's setup phase with FEATURES and PATH (default: Portage's for FEATURES); sets e_cc,
# e_cxx, e_hostcc, e_cctype, e_path and e_warn (its ewarn lines).
exports_for() {
	e_cc='' e_cxx='' e_hostcc='' e_cctype='' e_path='' e_warn=''
	hook_phases "${1}" "${2:-$(portage_path "${1}")}" setup:pkg_setup || {
		e_warn="setup failed: $(tail -n 5 "${h_dir}/messages" "${h_dir}/phase.log" 2>/dev/null)"
		return 0
	}
	local ex=${h_dir}/exports.setup
	e_cc=$(exported_var "${ex}" CC) e_cxx=$(exported_var "${ex}" CXX) e_hostcc=$(exported_var "${ex}" HOSTCC)
	e_cctype=$(exported_var "${ex}" CCACHE_COMPILERTYPE) e_path=$(exported_var "${ex}" PATH)
	e_warn=$(grep -E '^(WARN|ERROR|DIE) ' "${h_dir}/messages" 2>/dev/null)
}
exports_for distcc
[[ ${e_cc} == "clang-${slot}" && ${e_cxx} == "clang++-${slot}" && ${e_hostcc} == "${slotbin}/clang" && -z ${e_cctype} && -z ${e_warn} ]]
check $? "FEATURES=distcc: CC=${e_cc} CXX=${e_cxx}, HOSTCC stays ${e_hostcc}" "${e_warn}"
[[ ${e_path} == "${distcc_masq}:${slotbin}:"* ]]
check $? "FEATURES=distcc: PATH is the masquerade, then ${slotbin}, then the rest" "PATH=${e_path}"
exports_for "ccache distcc"
[[ ${e_cc} == "clang-${slot}" && ${e_cctype} == clang && ${e_path} == "${ccache_masq}:${distcc_masq}:${slotbin}:"* && -z ${e_warn} ]]
check $? "FEATURES=\"ccache distcc\": CC=${e_cc} CCACHE_COMPILERTYPE=${e_cctype}, the slot after both masquerades" "${e_warn}; PATH=${e_path}"
exports_for ""
[[ ${e_cc} == "${slotbin}/clang" && -z ${e_warn} ]]
check $? "FEATURES without distcc/ccache: CC stays absolute (${e_cc})" "${e_warn}"
mkdir -p "${work}/masq-without-link"
ln -s "${distcc_bin}" "${work}/masq-without-link/clang"
exports_for distcc "${work}/masq-without-link:${base_path}"
[[ ${e_cc} == "${slotbin}/clang" && ${e_warn} == *"no masquerade directory at the front of PATH links clang-${slot}"* ]]
check $? "a masquerade directory without clang-${slot}: CC falls back to the absolute path, with a warning" "${e_warn}"
note "${e_warn}"
mkdir -p "${work}/other-clang"
printf '#!/bin/sh\nexec %q "$@"\n' "/usr/lib/llvm-${other}/bin/clang" > "${work}/other-clang/clang-${slot}"
chmod +x "${work}/other-clang/clang-${slot}"
exports_for distcc "${distcc_masq}:${work}/other-clang:${base_path}"
[[ ${e_cc} == "clang-${slot}" && ${e_path} == "${distcc_masq}:${slotbin}:${work}/other-clang:"* && -z ${e_warn} ]]
check $? "another clang-${slot} in PATH before the slot's: the hook puts ${slotbin} first after the masquerade" "${e_warn}; PATH=${e_path}"

# --- the kernel tree, unpacked once per tarball (shared with test/kbuild/run.sh) ---------------
t=$(now)
src=${cache}/linux-source-6.1
key="$(stat -L -c '%s %Y' "${tarball}") ${tarball}"
if [[ -f ${src}/.gentoo-kopt-stamp && $(<"${src}/.gentoo-kopt-stamp") == "${key}" ]]; then
	printf '\nkernel source: %s (cached)\n' "${src}"
else
	{ mkdir -p "${cache}" && rm -rf "${src}"; } || fatal "cannot prepare ${cache}"
	unpack=$(mktemp -d "${cache}/unpack.XXXXXX")
	top=linux-source-6.1
	tar -xJf "${tarball}" -C "${unpack}" --strip-components=1 --anchored \
		--exclude="${top}/drivers/*.[ch]" --exclude="${top}/sound/*.[ch]" ||
		{ rm -rf "${unpack}"; fatal "cannot unpack ${tarball}"; }
	printf '%s\n' "${key}" > "${unpack}/.gentoo-kopt-stamp"
	mv -T "${unpack}" "${src}" 2>/dev/null || rm -rf "${unpack}"
	printf '\nkernel source: %s (unpacked in %s)\n' "${src}" "$(since "${t}")"
fi

# --- Kbuild ----------------------------------------------------------------------------------
build=${work}/build
mkdir -p "${build}" "${work}/distcc-dir"
# @FUNCTION: kbuild
# @USAGE: <label> <features> <targets...>
# @DESCRIPTION:
# Runs the hook's phases setup .. compile for <features> (hook_phases), then make the way
# kernel-build.eclass does (test/kbuild/eclass-make.sh: every tool on the command line) in what the
# compile phase exported (the hook's PATH among it) plus DISTCC_HOSTS and the cache directories;
# KOPT_FORCE_CC overrides CC. Log: $W/<label>.log, the hook's messages $W/<label>.messages.
kbuild() {
	local label=${1} features=${2}
	shift 2
	hook_phases "${features}" "$(portage_path "${features}")" setup:pkg_setup unpack:src_unpack \
		prepare:src_prepare configure:src_configure compile:src_compile ||
		{ printf 'a phase failed:\n%s\n' "$(cat "${h_dir}/messages" "${h_dir}/phase.log" 2>/dev/null)" > "${work}/${label}.log"; return 1; }
	{
		cat "${h_dir}/exports.compile"
		printf 'export DISTCC_HOSTS=%q DISTCC_DIR=%q CCACHE_DIR=%q HOME=%q\n' "${hosts}" \
			"${work}/distcc-dir" "${work}/ccache" "${work}"
		[[ -z ${KOPT_FORCE_CC-} ]] || printf 'export CC=%q\n' "${KOPT_FORCE_CC}"
	} > "${work}/${label}.exports"
	cp "${h_dir}/messages" "${work}/${label}.messages" 2>/dev/null
	# in the background, so that an interrupt does not wait for the whole make (see finish)
	env -i PATH="$(portage_path "${features}")" bash --noprofile --norc "${eclass_make}" \
		"${work}/${label}.exports" "${src}" "${build}" "$@" > "${work}/${label}.log" 2>&1 &
	build_pid=$!
	wait "${build_pid}"
	local rc=$?
	build_pid=''
	return "${rc}"
}
remove_objects() { local o; for o in "${objects[@]}"; do rm -f "${build}/${o}"; done; }
# c and e need fewer objects to show what they show (a shared machine: keep the run short)
few=(init/version.o kernel/panic.o lib/string.o lib/vsprintf.o)
objects_regex=$(printf '%s|' "${objects[@]%.o}") objects_regex="${src}/(${objects_regex%|})\\.c"
# @FUNCTION: compile_line
# @USAGE: <log> <object>
# @DESCRIPTION: The V=1 compile command of <object> in a make log.
compile_line() {
	local l
	l=$(grep -E -- " -c -o ${2//./\\.} " "${1}" | tail -n 1)
	printf '%s\n' "${l#"${l%%[![:space:]]*}"}"
}
# @FUNCTION: remote_jobs_check
# @USAGE: <mark 1> <mark 2>
# @DESCRIPTION:
# The check of a distributed build: kernel objects reached both daemons since the marks, and every
# compiler they resolved is the slot's. Sets r_jobs1, r_jobs2, r_ran and r_why; fails when not.
remote_jobs_check() {
	local ran_lines
	r_jobs1=$(ok_jobs "${log1}" "${1}" "${objects_regex}") r_jobs2=$(ok_jobs "${log2}" "${2}" "${objects_regex}")
	ran_lines=$( { ran_compilers "${log1}" "${1}"; ran_compilers "${log2}" "${2}"; } )
	r_ran=$(paste -sd' ' <<<"${ran_lines}") r_why=
	(( r_jobs1 > 0 )) || r_why+="daemon 1 got no kernel object; "
	(( r_jobs2 > 0 )) || r_why+="daemon 2 got no kernel object; "
	[[ -n ${ran_lines} ]] && ! grep -qv "^${slotbin}/clang-${slot} x" <<<"${ran_lines}" || r_why+="daemons resolved: ${r_ran:-nothing}; "
	[[ -z ${r_why} ]]
}

printf '\n== a. FEATURES=distcc, the hook exports: make tinyconfig, then %s objects ==\n' "${#objects[@]}"
t=$(now)
m1=$(log_lines "${log1}") m2=$(log_lines "${log2}")
kbuild a-tinyconfig distcc tinyconfig
rc=$?
sed -n '1p' "${work}/a-tinyconfig.log" | cut -c 1-400 | show | sed 's/^/      /'
if (( rc != 0 )); then
	fatal "a: make tinyconfig (status ${rc})" "$(tail -n 8 "${work}/a-tinyconfig.log")"
fi
grep -qx 'CONFIG_CC_IS_CLANG=y' "${build}/.config" && grep -qx "CONFIG_CLANG_VERSION=${slot}[0-9]\{4\}" "${build}/.config"
check $? "a: make tinyconfig with CC=clang-${slot} through the masquerade: .config has CC_IS_CLANG=y, CLANG_VERSION=${slot}xxxx ($(since "${t}"))" \
	"$(grep -E '^CONFIG_(CC_IS|CLANG_VERSION|CC_VERSION_TEXT)' "${build}/.config")"
t=$(now)
kbuild a-objects distcc "${objects[@]}"
rc=$?
missing=()
for o in "${objects[@]}"; do [[ -f ${build}/${o} ]] || missing+=("${o}"); done
(( rc == 0 && ${#missing[@]} == 0 ))
check $? "a: make ${objects[*]} (status ${rc}, $(since "${t}"))" "missing: ${missing[*]}; $(tail -n 8 "${work}/a-objects.log")"
sleep 0.5
remote_jobs_check "${m1}" "${m2}"
check $? "a: kernel objects compiled on the daemons: daemon 1 ${r_jobs1}, daemon 2 ${r_jobs2} of ${#objects[@]} (their logs)" "${r_why}"
note "daemons resolved: ${r_ran}"
note "all jobs on the daemons (host tools, prepare steps, objects): daemon 1 $(ok_jobs "${log1}" "${m1}"), daemon 2 $(ok_jobs "${log2}" "${m2}")"
errors=$( { since_mark "${log1}" "${m1}"; since_mark "${log2}" "${m2}"; } | grep -c 'COMPILE_ERROR\|CRITICAL')
(( errors == 0 ))
check $? "a: no job failed or was refused on a daemon (host tools stay local: HOSTCC is absolute)" "${errors} failed/refused"
line=$(compile_line "${work}/a-objects.log" init/version.o)
[[ ${line} == "clang-${slot} "* ]]
check $? "a: the V=1 compile line of init/version.o runs clang-${slot}" "${line:0:200}"
versions=$(for o in "${objects[@]}"; do readelf -p .comment "${build}/${o}" 2>/dev/null | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n 1; done | sort -u | paste -sd' ')
[[ ${versions} == "${slot_version}" ]]
check $? "a: every object records clang ${slot_version}" "recorded: ${versions:-none}"
local_runs=$(grep -cE 'failed to distribute|running locally' "${work}/a-objects.log")
note "distcc fell back to local compiles ${local_runs} time(s) in this build"

printf '\n== b. FEATURES="ccache distcc": the objects built twice ==\n'
export CCACHE_DIR=${work}/ccache
t=$(now)
remove_objects
m1=$(log_lines "${log1}") m2=$(log_lines "${log2}")
kbuild b-first "ccache distcc" "${objects[@]}"
rc=$?
sleep 0.5
b_jobs=$(( $(ok_jobs "${log1}" "${m1}" "${objects_regex}") + $(ok_jobs "${log2}" "${m2}" "${objects_regex}") ))
misses=$(ccache --print-stats | awk '$1 == "cache_miss" {print $2}')
(( rc == 0 && misses >= ${#objects[@]} && b_jobs > 0 ))
check $? "b: first build: ${misses} ccache misses, ${b_jobs} of ${#objects[@]} objects compiled on the daemons ($(since "${t}"))" \
	"status ${rc}; $(tail -n 5 "${work}/b-first.log")"
ccache -z > /dev/null
t=$(now)
remove_objects
m1=$(log_lines "${log1}") m2=$(log_lines "${log2}")
kbuild b-second "ccache distcc" "${objects[@]}"
rc=$?
sleep 0.5
b_jobs=$(( $(ok_jobs "${log1}" "${m1}" "${objects_regex}") + $(ok_jobs "${log2}" "${m2}" "${objects_regex}") ))
hits=$(ccache --print-stats | awk '$1 ~ /_cache_hit$/ {s += $2} END {print s + 0}')
(( rc == 0 && hits >= ${#objects[@]} && b_jobs == 0 ))
check $? "b: second build: ${hits} ccache hits, ${b_jobs} objects sent to a daemon ($(since "${t}"))" "status ${rc}; $(tail -n 5 "${work}/b-second.log")"
ccache -s 2>/dev/null | grep -iE 'hits|misses' | head -n 4 | sed 's/^/      ccache -s: /'
unset CCACHE_DIR

printf '\n== c. NEGATIVE CONTROL: FEATURES=distcc with CC forced to the absolute slot path (the old hook form) ==\n'
t=$(now)
remove_objects
m1=$(log_lines "${log1}") m2=$(log_lines "${log2}")
KOPT_FORCE_CC="${slotbin}/clang" kbuild c-absolute distcc "${few[@]}"
rc=$?
sleep 0.5
c_jobs=$(( $(ok_jobs "${log1}" "${m1}") + $(ok_jobs "${log2}" "${m2}") ))
line=$(compile_line "${work}/c-absolute.log" init/version.o)
(( rc == 0 && c_jobs == 0 )) && [[ ${line} == "${slotbin}/clang "* ]]
check $? "c: CC=${slotbin}/clang builds (status ${rc}) and no job at all reaches a daemon (${c_jobs}) ($(since "${t}"))" "${line:0:160}"
if remote_jobs_check "${m1}" "${m2}"; then
	fail "c: the distributed-build check of (a) fails on this build" "it passed: ${r_jobs1} + ${r_jobs2} jobs"
else
	pass "c: the distributed-build check of (a) fails on this build: ${r_why%; }"
fi

printf '\n== d. CC with a space ("ccache clang-%s", FEATURES=ccache) ==\n' "${slot}"
t=$(now)
rm -f "${build}/init/version.o"
KOPT_FORCE_CC="ccache clang-${slot}" kbuild d-space ccache init/version.o
rc=$?
line=$(compile_line "${work}/d-space.log" init/version.o)
(( rc == 0 )) && [[ ${line} == "ccache clang-${slot} "* ]] && grep -qx 'CONFIG_CC_IS_CLANG=y' "${build}/.config" &&
	grep -qx "CONFIG_CLANG_VERSION=${slot}[0-9]\{4\}" "${build}/.config"
check $? "d: Kbuild takes CC=\"ccache clang-${slot}\": config re-synced, still CC_IS_CLANG=y, CLANG_VERSION=${slot}xxxx ($(since "${t}"))" \
	"status ${rc}; ${line:0:160}; $(tail -n 5 "${work}/d-space.log")"

printf '\n== e. daemon 2 stopped (PID %s): FEATURES=distcc, the hook exports ==\n' "${pid_2}"
stop_daemon "${pid_2}"
daemon_pids=("${pid_1}")
for _ in {1..50}; do (exec 3<>"/dev/tcp/127.0.0.1/${port2}") 2>/dev/null || break; sleep 0.1; done
if (exec 3<>"/dev/tcp/127.0.0.1/${port2}") 2>/dev/null; then
	fail "e: daemon 2 is down (port ${port2} closed)"
else
	pass "e: daemon 2 is down (port ${port2} closed)"
fi
t=$(now)
remove_objects
m1=$(log_lines "${log1}")
kbuild e-one-down distcc "${few[@]}"
rc=$?
sleep 0.5
missing=()
for o in "${few[@]}"; do [[ -f ${build}/${o} ]] || missing+=("${o}"); done
e_jobs=$(ok_jobs "${log1}" "${m1}" "${objects_regex}")
e_refused=$(grep -cE "127\.0\.0\.1:${port2}.*(refused|failed)|failed to distribute.*:${port2}/" "${work}/e-one-down.log")
(( rc == 0 && ${#missing[@]} == 0 && e_jobs > 0 ))
check $? "e: the build succeeds: daemon 1 compiled ${e_jobs} of ${#few[@]} objects, what went to the stopped daemon ran locally ($(since "${t}"))" \
	"status ${rc}; missing: ${missing[*]}; $(tail -n 5 "${work}/e-one-down.log")"
note "distcc's messages about the stopped daemon (:${port2}) in the build log: ${e_refused}"
grep -E "127\.0\.0\.1:${port2}" "${work}/e-one-down.log" | head -n 2 | sed 's/^/      | /'

finish
