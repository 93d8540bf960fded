#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016 # pass/fail return 0, so `test && pass || fail` is an if/else; '$1' in bash -c and make's $(...) are meant literally
# Proof script for issue 11, item 2: Clang AutoFDO and Propeller for dist-kernels (kernel 6.13+).
#
# What it shows, with Debian's LLVM (default slot 19) and nothing but this machine:
#  1. Branch sampling (`pgo record`): which perf command the kernel's Documentation/dev-tools/autofdo.rst
#     gives for this CPU, detected from /proc/cpuinfo and the PMU's sysfs caps, and that perf itself
#     agrees: on a CPU or VM without LBR/BRS/LbrExtV2 every documented command fails.
#  2. AutoFDO on a freestanding test program (test/pgo/autofdo/prog.c, linked by ld.lld directly, as
#     Kbuild links vmlinux) with exactly the compile and link flags of the kernel's
#     scripts/Makefile.autofdo (kbuild_cflags/kbuild_ldflags below reproduce its rules): the
#     instrument build, a conversion by `llvm-profgen --kernel` (from a perf script written from the
#     binary's own branches, since perf cannot sample branches here), the hand-written profile
#     test/pgo/autofdo/prof.txt, and the observable effects of using it (remarks, .text.hot.*,
#     .text.split.* from -fsplit-machine-functions, -fprofile-sample-accurate, the ThinLTO link flags).
#  3. Propeller with the flags of scripts/Makefile.propeller: the labels build (.llvm_bb_addr_map), a
#     cluster file (_cc_profile.txt) and a symbol order file (_ld_profile.txt) in the documented
#     formats, their effect on the object and on ld.lld's layout, and what a module name ('m' line)
#     recorded under another source directory does.
#  4. Validation (`pgo use` refuses a bad profile): what `llvm-profdata show --sample` prints and
#     returns for good, text, truncated, foreign and non-sample files, where it is not enough, and a
#     validator (show + section sizes + a clang probe) that refuses every bad one.
#  5. Kbuild: Debian's linux-source-6.12 (no AUTOFDO_CLANG yet: that is 6.13) run through
#     test/kbuild/eclass-make.sh, i.e. make invoked as kernel-build.eclass invokes it, with the
#     environment the hook would export (the LLVM toolchain, CLANG_AUTOFDO_PROFILE,
#     CLANG_PROPELLER_PROFILE_PREFIX). "Reach" means here: every make instance, down to the one
#     compiling lib/string.o, sees both variables with origin "environment", which is all a 6.13+
#     tree's `ifdef CLANG_AUTOFDO_PROFILE` needs. Since 6.12 has no Makefile.autofdo, the flags a
#     6.13+ tree would derive from them are passed in KCFLAGS, so a real kernel object is built by
#     Kbuild with them: instrumented, converted, then optimised (.text.hot.strlen, strcmp.cold).
#
# Needs (Debian bookworm, x86_64): clang-19 lld-19 llvm-19 (llvm-profgen, llvm-profdata), linux-perf,
# make gcc bc flex bison libelf-dev xz-utils, linux-source-6.12. A missing one is a FAIL.
# Environment: KOPT_LLVM_SLOT (default 19), KOPT_KBUILD_TARBALL (default
# /usr/src/linux-source-6.12.tar.xz), KOPT_KBUILD_CACHE (the tree is unpacked there once; default
# ${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache-6.12), KOPT_KEEP=1 (keep the work directory; it is always
# kept after a failure).
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "${here}/../.." && pwd)
fixtures=${here}/autofdo
slot=${KOPT_LLVM_SLOT:-19}
lb=/usr/lib/llvm-${slot}/bin
tarball=${KOPT_KBUILD_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cache=${KOPT_KBUILD_CACHE:-${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache-6.12}
# the documented sample period (autofdo.rst: "a suitable prime number, like 500009")
period=500009

passed=0 failed=0 work='' unpack=''
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "${1}" | show; }
fail() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "${1}" | show
	[[ -z ${2-} ]] || printf '%s\n' "${2}" | show | sed 's/^/      /'
}
# @FUNCTION: check
# @USAGE: <description> <command>...
# @DESCRIPTION:
# PASS when the command succeeds, FAIL (with its last output lines) when it does not.
check() {
	local what=${1} out
	shift
	if out=$("$@" 2>&1); then pass "${what}"; else fail "${what}" "$(tail -n 6 <<<"${out}")"; fi
}
note() { printf '      %s\n' "$@" | show; }
# shortens the temporary paths in what it prints: $W is the work directory, $K the kernel tree
show() {
	local line
	while IFS= read -r line || [[ -n ${line} ]]; do
		[[ -z ${work} ]] || line=${line//"${work}"/'$W'}
		[[ -z ${src-} ]] || line=${line//"${src}"/'$K'}
		printf '%s\n' "${line}"
	done
}
finish() {
	trap - INT TERM
	if [[ -n ${work} ]]; then
		if ((failed)) || [[ -n ${KOPT_KEEP-} ]]; then
			printf '\nwork directory kept: %s\n' "${work}"
		else
			rm -rf "${work}"
		fi
	fi
	printf '\n%d passed, %d failed\n' "${passed}" "${failed}"
	exit $((failed ? 1 : 0))
}
trap 'rm -rf "${work}" "${unpack-}"; printf "\ninterrupted\n"; exit 130' INT TERM
fatal() { fail "${1}" "${2-}"; finish; }
now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
since() { local d=$((($(now) - ${1}) / 100000)); printf '%d.%d s' $((d / 10)) $((d % 10)); }
section() { printf '\n== %s ==\n' "${1}"; }

# ---------------------------------------------------------------------------------------------
# Kbuild's rules, from scripts/Makefile.autofdo and scripts/Makefile.propeller (mainline 6.13+).
# Facts reproduced, not their text: which flags each variable and config option turns into.

# @FUNCTION: kbuild_cflags
# @USAGE: <autofdo: y|n> <profile|''> <propeller: y|n> <prefix|''> <debug_info: y|n> <clang version, e.g. 190107>
# @DESCRIPTION:
# The words CFLAGS_AUTOFDO_CLANG then CFLAGS_PROPELLER_CLANG add to every kernel C object
# (scripts/Makefile.lib appends them in that order), one per line.
kbuild_cflags() {
	local afdo=${1} profile=${2} prop=${3} prefix=${4} debug=${5} ccver=${6}
	if [[ ${afdo} == y ]]; then
		printf '%s\n' -fdebug-info-for-profiling -mllvm -enable-fs-discriminator=true -mllvm -improved-fs-discriminator=true
		[[ ${debug} == y ]] || printf '%s\n' -gmlt
		[[ -z ${profile} ]] || printf '%s\n' "-fprofile-sample-use=${profile}" -ffunction-sections -fsplit-machine-functions
	fi
	if [[ ${prop} == y ]]; then
		if [[ -n ${prefix} ]]; then
			printf '%s\n' "-fbasic-block-sections=list=${prefix}_cc_profile.txt" -ffunction-sections
		elif ((ccver >= 200000)); then
			printf '%s\n' -fbasic-block-address-map
		else
			printf '%s\n' -fbasic-block-sections=labels
		fi
		[[ ${debug} == y || ${afdo} == y ]] || printf '%s\n' -gmlt
	fi
}

# @FUNCTION: kbuild_ldflags
# @USAGE: <autofdo: y|n> <profile|''> <propeller: y|n> <prefix|''> <lto_clang_thin: y|n> <lld version>
# @DESCRIPTION:
# The words the two makefiles add to KBUILD_LDFLAGS (the vmlinux link), one per line.
kbuild_ldflags() {
	local afdo=${1} profile=${2} prop=${3} prefix=${4} thin=${5} ldver=${6}
	if [[ ${afdo} == y && ${thin} == y ]]; then
		[[ -z ${profile} ]] || printf '%s\n' "--lto-sample-profile=${profile}"
		printf '%s\n' --mllvm=-enable-fs-discriminator=true --mllvm=-improved-fs-discriminator=true \
			-plugin-opt=thinlto -plugin-opt=-split-machine-functions
	fi
	if [[ ${prop} == y ]]; then
		[[ -z ${prefix} ]] || printf '%s\n' "--symbol-ordering-file=${prefix}_ld_profile.txt" --no-warn-symbol-ordering
		if [[ ${thin} == y ]]; then
			if [[ -n ${prefix} ]]; then
				printf '%s\n' "--lto-basic-block-sections=${prefix}_cc_profile.txt"
			elif ((ldver >= 200000)); then
				printf '%s\n' --lto-basic-block-address-map
			else
				printf '%s\n' --lto-basic-block-sections=labels
			fi
		fi
	fi
}

# ---------------------------------------------------------------------------------------------
# Helpers on objects and profiles.

# text sections of an object or binary, space separated (relocation sections left out)
sections() { "${lb}/llvm-readelf" -S -W "${1}" | grep -o ' \.text[^ ]*' | sed 's/^ //' | paste -sd' '; }
has_section() { [[ " $(sections "${1}") " == *" ${2} "* ]]; }
# @FUNCTION: prints
# @USAGE: <extended regex> <command>...
# @DESCRIPTION:
# True when a line of the command's output matches. The output is read whole first: `cmd | grep -q`
# under pipefail fails whenever grep stops reading before cmd has written everything.
prints() {
	local re=${1} out
	shift
	out=$("$@" 2>/dev/null)
	grep -qE -- "${re}" <<<"${out}"
}
has_symbol() { prints " ${2}\$" "${lb}/llvm-nm" "${1}"; }
# basic block ids of a function in address order, from .llvm_bb_addr_map: "id:size" per line
bb_ids() {
	"${lb}/llvm-readobj" --bb-addr-map "${1}" |
		awk -v fn="${2}" '/Name:/ { n = $2 } /ID:/ { id = $2 } /Size:/ { if (n == fn) print id ":" $2 }'
}
# the id of the biggest of those blocks
biggest_bb() {
	local e best='' max=-1
	for e in "$@"; do (($(( ${e#*:} )) > max)) && max=$(( ${e#*:} )) best=${e%%:*}; done
	printf '%s\n' "${best}"
}

# @FUNCTION: lbr_samples
# @USAGE: <disassembly file> <function> <samples>
# @DESCRIPTION:
# Prints <samples> lines of `perf script -F ip,brstack` output (the format llvm-profgen reads) for
# <function> of an llvm-objdump disassembly (x86_64 or aarch64): calls into it from outside, two
# turns of its loop (its first backward conditional branch) and its way out (a return, or a tail
# call), newest branch first, as an LBR stack records them.
lbr_samples() {
	local dis=${1} fn=${2} n=${3} line addr mn ops to name
	local start='' back='' target='' out='' out_to='' ext=0x1000 group i
	local re_insn='^ *([0-9a-f]+):[[:space:]]+([^[:space:]]+)[[:space:]]*(.*)$'
	local re_to='^0x([0-9a-f]+) <([^+>]+)(\+0x[0-9a-f]+)?>$'
	while IFS= read -r line; do
		if [[ -z ${start} ]]; then
			[[ ${line} =~ ^([0-9a-f]+)\ \<${fn}\>:$ ]] && start=$((16#${BASH_REMATCH[1]}))
			continue
		fi
		[[ -n ${line} ]] || break
		[[ ${line} =~ ${re_insn} ]] || continue
		addr=$((16#${BASH_REMATCH[1]})) mn=${BASH_REMATCH[2]} ops=${BASH_REMATCH[3]} to='' name=''
		[[ ${ops} =~ ${re_to} ]] && to=$((16#${BASH_REMATCH[1]})) name=${BASH_REMATCH[2]}
		if [[ -z ${back} && ${mn} =~ ^(j[a-z]+|b\.[a-z]+)$ && ${mn} != jmp && ${name} == "${fn}" ]] && ((to < addr)); then
			back=${addr} target=${to}
		elif [[ -n ${back} && -z ${out} ]]; then
			if [[ ${mn} == ret || ${mn} == retq ]]; then
				out=${addr}
			elif [[ (${mn} == jmp || ${mn} == b) && -n ${name} && ${name} != "${fn}" ]]; then
				out=${addr} out_to=${to}
			fi
		fi
	done < "${dis}"
	[[ -n ${start} && -n ${back} && -n ${out} ]] || return 1
	((start < 0)) && ext=0xffffffff80f00000 # a kernel address outside the image: the caller
	[[ -n ${out_to} ]] || out_to=$((ext))
	printf -v group ' 0x%x/0x%x/P/-/-/0 0x%x/0x%x/P/-/-/0 0x%x/0x%x/P/-/-/0 0x%x/0x%x/P/-/-/0' \
		"${out}" "${out_to}" "${back}" "${target}" "${back}" "${target}" "$((ext))" "${start}"
	for ((i = 0; i < n; i++)); do printf ' %x%s%s%s%s\n' "${start}" "${group}" "${group}" "${group}" "${group}"; done
}

# @FUNCTION: build_id_note
# @USAGE: <file of ELF notes, e.g. /sys/kernel/notes>
# @DESCRIPTION:
# Prints the GNU build-id (note type 3) found in a raw sequence of ELF notes.
build_id_note() {
	local -a b
	local i=0 nsz dsz typ j k s
	read -r -a b < <(od -An -v -tx1 "${1}" | tr -s ' \n' '  ')
	while ((i + 12 <= ${#b[@]})); do
		nsz=$((16#${b[i + 3]}${b[i + 2]}${b[i + 1]}${b[i]}))
		dsz=$((16#${b[i + 7]}${b[i + 6]}${b[i + 5]}${b[i + 4]}))
		typ=$((16#${b[i + 11]}${b[i + 10]}${b[i + 9]}${b[i + 8]}))
		j=$((i + 12 + (nsz + 3) / 4 * 4))
		if ((typ == 3 && nsz == 4)); then
			s=
			for ((k = 0; k < dsz; k++)); do s+=${b[j + k]}; done
			printf '%s\n' "${s}"
			return 0
		fi
		i=$((j + (dsz + 3) / 4 * 4))
	done
	return 1
}

# @FUNCTION: validate_profile
# @USAGE: <profile>
# @DESCRIPTION:
# What `pgo use` should do before a build sees a sample profile. Prints the reason and returns 1
# when it would refuse it: `llvm-profdata show --sample` must read it and list a function; an
# extbinary profile must be as long as its header says (show accepts a file cut inside its last
# section, clang does not); and clang itself must accept it (-fprofile-sample-use on a one-line file).
validate_profile() {
	local p=${1} out size want
	out=$("${lb}/llvm-profdata" show --sample "${p}" 2>&1) || { printf 'llvm-profdata: %s\n' "$(tail -n 1 <<<"${out}")"; return 1; }
	grep -q '^Function: ' <<<"${out}" || { printf 'no function in the profile\n'; return 1; }
	if [[ $(head -c 8 "${p}" | od -An -tx1 | tr -d ' \n') == 84e4d0b1f4c994a8 ]]; then
		want=$("${lb}/llvm-profdata" show --sample --show-sec-info-only "${p}" 2>/dev/null | sed -n 's/^File Size: //p')
		size=$(stat -c %s "${p}")
		[[ ${want} == "${size}" ]] || { printf 'truncated: the header says %s bytes, the file has %s\n' "${want:-?}" "${size}"; return 1; }
	fi
	out=$(printf 'int kopt_probe(void) { return 0; }\n' |
		"${lb}/clang" -x c -O2 -fprofile-sample-use="${p}" -c -o /dev/null - 2>&1) ||
		{ printf 'clang: %s\n' "$(grep -m1 error <<<"${out}")"; return 1; }
	return 0
}

# ---------------------------------------------------------------------------------------------
t_all=$(now)
section "prerequisites"
[[ $(uname -m) == x86_64 ]] || fatal "this test builds x86_64 code; this machine is $(uname -m)"
missing=()
for tool in clang ld.lld llvm-profdata llvm-profgen llvm-objdump llvm-readelf llvm-readobj llvm-nm; do
	[[ -x ${lb}/${tool} ]] || missing+=("${lb}/${tool}")
done
for tool in perf make gcc bc flex bison tar xz od awk; do type -P "${tool}" >/dev/null || missing+=("${tool}"); done
[[ -e /usr/include/gelf.h ]] || missing+=(/usr/include/gelf.h)
[[ -r ${tarball} ]] || missing+=("${tarball}")
((${#missing[@]} == 0)) || fatal "missing: ${missing[*]}" \
	"fix: apt-get install clang-${slot} lld-${slot} llvm-${slot} linux-perf make gcc bc flex bison libelf-dev xz-utils linux-source-6.12"
ccver=$("${lb}/clang" -dM -E -x c /dev/null | awk '/__clang_major__/ { M = $3 } /__clang_minor__/ { m = $3 } /__clang_patchlevel__/ { p = $3 } END { printf "%d%02d%02d", M, m, p }')
ldver=$("${lb}/ld.lld" --version | sed -n 's/.*LLD \([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p' | { read -r a b c && printf '%d%02d%02d' "${a}" "${b}" "${c}"; })
note "clang ${ccver}, ld.lld ${ldver}, $(perf --version)"
((ccver >= 190000)) && pass "clang ${ccver} >= 19: AUTOFDO_CLANG (CLANG_VERSION >= 170000) and PROPELLER_CLANG (>= 190000) both possible" ||
	fail "clang ${ccver} >= 19 (Propeller needs 19)"
work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-autofdo.XXXXXX")
note "W=${work}"

# ---------------------------------------------------------------------------------------------
section "branch sampling on this CPU (pgo record)"
t=$(now)
vendor=$(sed -n 's/^vendor_id[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1) "
cpuflags=()
for f in arch_lbr brs amd_lbr_v2 hypervisor; do [[ ${flags} == *" ${f} "* ]] && cpuflags+=("${f}"); done
# x86 PMUs (cpu, or cpu_core/cpu_atom on hybrid Intel) show caps/branches (the LBR depth) only when
# the kernel drives LBR, BRS or LbrExtV2; legacy Intel LBR has no /proc/cpuinfo flag at all.
depth=0
for f in /sys/bus/event_source/devices/*/caps/branches; do
	[[ -r ${f} ]] && (($(<"${f}") > depth)) && depth=$(<"${f}")
done
libpfm=off
prints 'libpfm4: \[ on' perf version --build-options && libpfm=on
note "vendor ${vendor:-?}; flags: ${cpuflags[*]:-(none of arch_lbr brs amd_lbr_v2 hypervisor)}; PMU caps/branches: ${depth}; perf libpfm4: ${libpfm}"
rec_intel=(perf record -e BR_INST_RETIRED.NEAR_TAKEN:k -a -N -b -c "${period}")
rec_amd=(perf record --pfm-events RETIRED_TAKEN_BRANCH_INSTRUCTIONS:k -a -N -b -c "${period}")
verdict='' cmd=()
if ((depth == 0)); then
	verdict="refuse: no branch stack sampling (no LBR/BRS/LbrExtV2 PMU)"
	[[ ${flags} == *" hypervisor "* ]] && verdict+="; this is a VM: record on the host, or give the guest the host's LBR"
elif [[ ${vendor} == GenuineIntel ]]; then
	cmd=("${rec_intel[@]}")
elif [[ ${vendor} == AuthenticAMD && (${flags} == *" brs "* || ${flags} == *" amd_lbr_v2 "*) ]]; then
	if [[ ${libpfm} == on ]]; then cmd=("${rec_amd[@]}"); else verdict="refuse: perf has no libpfm4 (--pfm-events); rebuild perf with it (Gentoo: dev-util/perf[libpfm])"; fi
else
	verdict="refuse: branch stack present but vendor ${vendor} has no documented AutoFDO event"
fi
if ((${#cmd[@]})); then
	note "pgo record would run: ${cmd[*]} -o <perf.data> -- COMMAND"
	check "perf agrees: the documented command records branch stacks here" "${cmd[@]}" -o "${work}/probe.data" -- true
else
	note "pgo record: ${verdict}"
	out=$("${rec_intel[@]}" -o "${work}/probe.data" -- true 2>&1) && fail "perf agrees: the Intel command (autofdo.rst) fails here" ||
		{ pass "perf agrees: the Intel command (autofdo.rst) fails here (status $?)"; note "$(grep -m1 -E 'error|Error|not' <<<"${out}")"; }
	out=$("${rec_amd[@]}" -o "${work}/probe.data" -- true 2>&1) && fail "perf agrees: the AMD command (autofdo.rst) fails here" ||
		{ pass "perf agrees: the AMD command (autofdo.rst) fails here (status $?)"; note "$(grep -m1 -E 'error|Error|unknown' <<<"${out}")"; }
	out=$(perf record -b -e cycles:k -a -N -c "${period}" -o "${work}/probe.data" -- true 2>&1) &&
		fail "perf agrees: no event at all samples branch stacks here (-b -e cycles)" ||
		{ pass "perf agrees: no event at all samples branch stacks here (-b -e cycles, status $?)"; note "$(grep -m1 -i 'branch' <<<"${out}")"; }
fi
note "($(since "${t}"))"

# ---------------------------------------------------------------------------------------------
section "AutoFDO on the test program (instrument, convert, use)"
t=$(now)
prog=${fixtures}/prog.c
cd "${work}" || fatal "cannot enter ${work}"
base=(-O2 -fno-pie -fno-stack-protector -ffreestanding)
# CONFIG_DEBUG_INFO=n (a dist-kernel without USE=debug): Makefile.autofdo adds -gmlt
mapfile -t cf_instr < <(kbuild_cflags y '' y '' n "${ccver}")
note "instrument CFLAGS (AUTOFDO_CLANG + PROPELLER_CLANG, no profile): ${cf_instr[*]}"
check "instrument build: clang ${cf_instr[*]:0:3}... -c prog.c" "${lb}/clang" "${base[@]}" "${cf_instr[@]}" -c "${prog}" -o instr.o
check "instrument link: ld.lld -static -nostdlib (user address), and it runs" \
	bash -c '"$1" -static -nostdlib -o instr instr.o && ./instr' _ "${lb}/ld.lld"
has_symbol instr.o __llvm_fs_discriminator__ && pass "instrumented object carries FS discriminators (__llvm_fs_discriminator__)" ||
	fail "instrumented object carries FS discriminators (__llvm_fs_discriminator__)"
prints '\.llvm_bb_addr_map' "${lb}/llvm-readelf" -S -W instr && pass "instrumented binary has .llvm_bb_addr_map (clang ${ccver%????} < 20: -fbasic-block-sections=labels)" ||
	fail "instrumented binary has .llvm_bb_addr_map"
prints '\.debug_line' "${lb}/llvm-readelf" -S -W instr && pass "instrumented binary has line tables (-gmlt) for the conversion" ||
	fail "instrumented binary has line tables (-gmlt)"

# the same object linked at the kernel's address stands in for vmlinux
check "kernel-model build linked at 0xffffffff81000000 (a vmlinux stand-in)" bash -c \
	'"$1/clang" "${@:2}" -mcmodel=kernel -c "$0" -o kinstr.o && "$1/ld.lld" -static -nostdlib --build-id=sha1 -Ttext=0xffffffff81000000 -o vmlinux kinstr.o' \
	"${prog}" "${lb}" "${base[@]}" "${cf_instr[@]}"
"${lb}/llvm-objdump" -d --no-show-raw-insn vmlinux > vmlinux.dis 2>/dev/null
{
	printf 'PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1000000) @ 0xffffffff81000000]: x [kernel.kallsyms]_text\n'
	lbr_samples vmlinux.dis hot_work 200
} > kernel.perfscript
if (($(wc -l < kernel.perfscript) == 201)); then
	pass "perf script written from vmlinux's branches (calls into hot_work, its loop, its return; 200 LBR samples)"
else
	fail "perf script written from vmlinux's branches" "$(head -c 300 kernel.perfscript)"
fi
out=$("${lb}/llvm-profgen" --kernel --binary=vmlinux --perfscript=kernel.perfscript --output=kernel.afdo 2>&1) &&
	pass "llvm-profgen --kernel --binary=vmlinux converts it (the [kernel.kallsyms]_text mmap event maps it)" ||
	fail "llvm-profgen --kernel converts the perf script" "${out}"
tail -n +2 kernel.perfscript > nommap.perfscript
out=$("${lb}/llvm-profgen" --kernel --binary=vmlinux --perfscript=nommap.perfscript --output=x.afdo 2>&1) &&
	fail "llvm-profgen --kernel refuses data without the kernel's mmap event" ||
	{ pass "llvm-profgen --kernel refuses data without the kernel's mmap event"; note "$(grep -m1 error <<<"${out}")"; }
why=$(validate_profile kernel.afdo) && pass "the converted profile validates" || fail "the converted profile validates" "${why}"
prints '^  [0-9]+\.[0-9]+: ' "${lb}/llvm-profdata" show --sample kernel.afdo &&
	pass "its line offsets carry FS discriminators (NN.DDD: entries)" || fail "its line offsets carry FS discriminators"
mapfile -t cf_kuse < <(kbuild_cflags y "${work}/kernel.afdo" n '' n "${ccver}")
"${lb}/clang" "${base[@]}" -mcmodel=kernel "${cf_kuse[@]}" -c "${prog}" -o kuse.o 2>/dev/null
has_section kuse.o .text.hot.hot_work && pass "rebuilt with it: hot_work goes to .text.hot.hot_work" ||
	fail "rebuilt with the converted profile: .text.hot.hot_work" "sections: $(sections kuse.o)"

# the hand-written profile
check "prof.txt (hand-written, text format) merges to extbinary: llvm-profdata merge --sample --extbinary" \
	"${lb}/llvm-profdata" merge --sample --extbinary "${fixtures}/prof.txt" -o prog.afdo
why=$(validate_profile prog.afdo) && pass "prog.afdo validates" || fail "prog.afdo validates" "${why}"
mapfile -t cf_use < <(kbuild_cflags y "${work}/prog.afdo" n '' n "${ccver}")
note "use CFLAGS (CLANG_AUTOFDO_PROFILE=\$W/prog.afdo): ${cf_use[*]}"
"${lb}/clang" "${base[@]}" "${cf_use[@]}" -Rpass-analysis=sample-profile -c "${prog}" -o use.o 2> remarks.txt
n=$(grep -c 'remark: Applied [0-9]* samples from profile' remarks.txt)
((n >= 8)) && pass "clang reports the profile applied (${n} 'Applied N samples from profile' remarks)" ||
	fail "clang reports the profile applied" "$(head -n 5 remarks.txt)"
note "$(grep -m1 'Applied 300000' remarks.txt)"
"${lb}/clang" "${base[@]}" -gmlt -ffunction-sections -c "${prog}" -o plain.o
note "plain:   $(sections plain.o)" "profile: $(sections use.o)"
bad=()
for s in .text.hot.hot_work .text.hot.check .text.split.check; do has_section use.o "${s}" || bad+=("${s}"); done
has_symbol use.o check.cold || bad+=(check.cold)
((${#bad[@]} == 0)) && pass "with the profile: hot functions in .text.hot.*, check's cold block split to .text.split.check (check.cold)" ||
	fail "with the profile: .text.hot.*, .text.split.check" "missing: ${bad[*]}"
[[ $(sections plain.o) != *.text.hot.* && $(sections plain.o) != *.text.split.* ]] &&
	pass "without it: neither .text.hot.* nor .text.split.* (the difference is the profile's)" ||
	fail "without the profile: no .text.hot.*/.text.split.*" "$(sections plain.o)"
nomfs=("${cf_use[@]/-fsplit-machine-functions/}")
"${lb}/clang" "${base[@]}" "${nomfs[@]}" -c "${prog}" -o nomfs.o
! has_symbol nomfs.o check.cold && pass "-fsplit-machine-functions is what splits check (without it: no check.cold)" ||
	fail "-fsplit-machine-functions is what splits check"
"${lb}/clang" "${base[@]}" "${cf_use[@]}" -fprofile-sample-accurate -c "${prog}" -o accurate.o
has_section accurate.o .text.unlikely.cold_path && has_section use.o .text.cold_path &&
	pass "-fprofile-sample-accurate (AUTOFDO_PROFILE_ACCURATE, proposed): cold_path, absent from the profile, moves to .text.unlikely.cold_path" ||
	fail "-fprofile-sample-accurate moves cold_path to .text.unlikely" "$(sections accurate.o)"
check "the optimised program links and runs" bash -c '"$1" -static -nostdlib -o use use.o && ./use' _ "${lb}/ld.lld"

# CONFIG_LTO_CLANG_THIN: code generation moves into ld.lld, so the link flags matter
"${lb}/clang" "${base[@]}" -flto=thin "${cf_use[@]}" -c "${prog}" -o thin.o
mapfile -t ld_thin < <(kbuild_ldflags y "${work}/prog.afdo" n '' y "${ldver}")
note "ThinLTO link flags: ${ld_thin[*]}"
"${lb}/ld.lld" -static -nostdlib -o thin-plain thin.o
check "ThinLTO: ld.lld ${ld_thin[0]} ... links" "${lb}/ld.lld" -static -nostdlib "${ld_thin[@]}" -o thin-afdo thin.o
has_symbol thin-afdo check.cold && ! has_symbol thin-plain check.cold &&
	pass "ThinLTO: check.cold appears only with Makefile.autofdo's link flags (the compile flags alone do nothing there)" ||
	fail "ThinLTO: check.cold only with the link flags"
note "($(since "${t}"))"

# ---------------------------------------------------------------------------------------------
section "Propeller on the test program"
t=$(now)
# the cluster file, in the documented v1 format: the hot blocks of check in one cluster, its biggest
# block (the calls to report) left out, so it goes to a cold section
mapfile -t ids < <(bb_ids instr.o check)
note "check's basic blocks (id:size) in instr.o: ${ids[*]}"
cold=$(biggest_bb "${ids[@]}")
hot=()
for e in "${ids[@]}"; do [[ ${e%%:*} == "${cold}" ]] || hot+=("${e%%:*}"); done
printf 'v1\nf check\nc %s\n' "${hot[*]}" > prop_cc_profile.txt
printf '%s\n' check hot_work dispatch main _start no_such_symbol > prop_ld_profile.txt
note "prop_cc_profile.txt: $(paste -sd'|' prop_cc_profile.txt)   prop_ld_profile.txt: $(paste -sd' ' prop_ld_profile.txt)"
mapfile -t cf_prop < <(kbuild_cflags y "${work}/prog.afdo" y "${work}/prop" n "${ccver}")
mapfile -t ld_prop < <(kbuild_ldflags y "${work}/prog.afdo" y "${work}/prop" n "${ldver}")
note "CFLAGS with CLANG_PROPELLER_PROFILE_PREFIX=\$W/prop: ${cf_prop[*]}" "LDFLAGS: ${ld_prop[*]}"
check "compile with the cluster file" "${lb}/clang" "${base[@]}" "${cf_prop[@]}" -c "${prog}" -o prop.o
has_section prop.o .text.split.check && has_symbol prop.o check.cold && [[ " ${hot[*]} " == *" 0 "* ]] &&
	pass "cluster 'c ${hot[*]}': check's block ${cold} left out of it goes to .text.split.check (check.cold)" ||
	fail "the cluster file splits check" "$(sections prop.o)"
"${lb}/ld.lld" -static -nostdlib -o prop-plain prop.o
out=$("${lb}/ld.lld" -static -nostdlib "${ld_prop[@]}" -o prop prop.o 2>&1) && [[ -z ${out} ]] &&
	pass "ld.lld --symbol-ordering-file ... --no-warn-symbol-ordering links, silent about no_such_symbol" ||
	fail "ld.lld with the symbol order file" "${out}"
order=$("${lb}/llvm-nm" -n prop | awk '$2 ~ /^[Tt]$/ { print $3 }' | grep -xE 'check|hot_work|dispatch|main|_start' | paste -sd' ')
plain_order=$("${lb}/llvm-nm" -n prop-plain | awk '$2 ~ /^[Tt]$/ { print $3 }' | grep -xE 'check|hot_work|dispatch|main|_start' | paste -sd' ')
note "text order, default: ${plain_order}" "text order, ordered: ${order}"
[[ ${order} == 'check hot_work dispatch main _start' && ${plain_order} != "${order}" ]] &&
	pass "the layout follows _ld_profile.txt" || fail "the layout follows _ld_profile.txt"
check "the Propeller-optimised program runs" ./prop
out=$("${lb}/ld.lld" -static -nostdlib --symbol-ordering-file=prop_ld_profile.txt -o x prop.o 2>&1)
[[ ${out} == *'no such symbol: no_such_symbol'* ]] && pass "(without --no-warn-symbol-ordering ld.lld warns: ${out##*: })" ||
	fail "ld.lld warns about unknown symbols without --no-warn-symbol-ordering" "${out}"
# the instrumented ThinLTO link (no profile yet): --lto-basic-block-sections=labels on ld.lld 19
mapfile -t ld_thin_instr < <(kbuild_ldflags y '' y '' y "${ldver}")
"${lb}/clang" "${base[@]}" -flto=thin "${cf_instr[@]}" -c "${prog}" -o thin-instr.o
"${lb}/ld.lld" -static -nostdlib "${ld_thin_instr[@]}" -o thin-instr thin-instr.o &&
	prints '\.llvm_bb_addr_map' "${lb}/llvm-readelf" -S -W thin-instr &&
	pass "ThinLTO instrument link (${ld_thin_instr[*]: -1}) keeps .llvm_bb_addr_map" ||
	fail "ThinLTO instrument link keeps .llvm_bb_addr_map"
# module names: create_llvm_prof --propeller_output_module_name writes 'm <DW_AT_name>', and a
# dist-kernel's source directory contains ${PF}, so a revision bump changes every name
mkdir -p r0 r1 && cp "${prog}" r0/prog.c && cp "${prog}" r1/prog.c
printf 'v1\nm %s/r0/prog.c\nf check\nc %s\n' "${work}" "${hot[*]}" > m_cc_profile.txt
"${lb}/clang" "${base[@]}" -gmlt -ffunction-sections -fbasic-block-sections=list=m_cc_profile.txt -c "${work}/r0/prog.c" -o m0.o
"${lb}/clang" "${base[@]}" -gmlt -ffunction-sections -fbasic-block-sections=list=m_cc_profile.txt -c "${work}/r1/prog.c" -o m1.o
"${lb}/clang" "${base[@]}" -gmlt -ffunction-sections -fbasic-block-sections=list=m_cc_profile.txt \
	-fdebug-prefix-map="${work}/r1=${work}/r0" -c "${work}/r1/prog.c" -o m2.o
has_symbol m0.o check.cold && ! has_symbol m1.o check.cold && has_symbol m2.o check.cold &&
	pass "an 'm' line names the source path: the same cluster is silently ignored from another directory, used again with -fdebug-prefix-map" ||
	fail "'m' lines and source directories" "m0 $(has_symbol m0.o check.cold && echo split) m1 $(has_symbol m1.o check.cold && echo split) m2 $(has_symbol m2.o check.cold && echo split)"
note "($(since "${t}"))"

# ---------------------------------------------------------------------------------------------
section "profile validation (pgo use refuses a bad profile)"
t=$(now)
size=$(stat -c %s prog.afdo)
head -c $((size / 2)) prog.afdo > half.afdo
head -c $((size - 8)) prog.afdo > tail.afdo
: > empty.afdo
printf 'hot_work:100:1\n 2 1000\n' > badline.txt
printf 'main\n# Func Hash:\n0\n# Num Counters:\n1\n# Counter Values:\n1\n' > instr.proftext
"${lb}/llvm-profdata" merge -o instr.profdata instr.proftext 2>/dev/null
# a profile recorded on arm64: same source, an aarch64 build, converted by the same llvm-profgen
sed 's/__asm__ volatile("syscall".*/__builtin_trap();/' "${prog}" > prog-arm64.c
"${lb}/clang" --target=aarch64-linux-gnu "${base[@]}" "${cf_instr[@]}" -c prog-arm64.c -o arm64.o 2>/dev/null &&
	"${lb}/ld.lld" -m aarch64linux -static -nostdlib -o arm64 arm64.o 2>/dev/null
"${lb}/llvm-objdump" -d --no-show-raw-insn arm64 > arm64.dis 2>/dev/null
lbr_samples arm64.dis hot_work 50 > arm64.perfscript &&
	"${lb}/llvm-profgen" --binary=arm64 --perfscript=arm64.perfscript --output=arm64.afdo >/dev/null 2>&1
cp "${fixtures}/prof.txt" text.txt
# name:file:what pgo use must do
cases=(
	"good extbinary:prog.afdo:accept" "text format:text.txt:accept" "cut in half:half.afdo:refuse"
	"last 8 bytes cut:tail.afdo:refuse" "empty file:empty.afdo:refuse" "bad text line:badline.txt:refuse"
	"instrumentation profile (.profdata):instr.profdata:refuse" "an ELF binary:instr:refuse" "recorded on arm64:arm64.afdo:accept"
)
for c in "${cases[@]}"; do
	IFS=: read -r name file want <<<"${c}"
	if [[ ! -s ${file} && ${file} != empty.afdo ]]; then fail "${name}: fixture ${file} was not made"; continue; fi
	out=$("${lb}/llvm-profdata" show --sample "${file}" 2>&1)
	st=$?
	first=$(grep -m1 -E '^(Function|error)|error:' <<<"${out}")
	cc=ok
	printf 'int f(void) { return 0; }\n' | "${lb}/clang" -x c -O2 -fprofile-sample-use="${file}" -c -o /dev/null - >/dev/null 2>&1 || cc=refused
	why=$(validate_profile "${file}") && got=accept || got=refuse
	line="${name}: show --sample exits ${st} ('${first:0:70}'), clang ${cc}; validator: ${got}${why:+ (${why})}"
	[[ ${got} == "${want}" ]] && pass "${line}" || fail "${line}" "expected: ${want}"
done
"${lb}/llvm-profdata" show --sample tail.afdo >/dev/null 2>&1 && ! "${lb}/clang" -x c -O2 -fprofile-sample-use=tail.afdo -c -o /dev/null - <<<'int f(void) { return 0; }' >/dev/null 2>&1 &&
	pass "show --sample alone is not enough: it accepts the file cut by 8 bytes that clang refuses" ||
	fail "show --sample accepts the file cut by 8 bytes, clang refuses it"
if [[ -s arm64.afdo ]]; then
	prints AArch64 "${lb}/llvm-readelf" -h arm64 && prints '^hot_work:' "${lb}/llvm-profdata" merge --sample --text arm64.afdo -o - &&
		pass "a sample profile names functions and line offsets only: an arm64 profile is accepted for x86 (the store must record the arch)" ||
		fail "the arm64 profile names hot_work"
fi
out=$("${lb}/clang" -x c -fprofile-sample-use="${work}/missing.afdo" -c -o /dev/null - <<<'int f(void) { return 0; }' 2>&1) &&
	fail "a missing profile fails every compile" || pass "a missing profile fails every compile: ${out##*error: }"
printf 'v1\nf check\nc 0 0\n' > dup_cc_profile.txt
out=$("${lb}/clang" "${base[@]}" -fno-crash-diagnostics -fbasic-block-sections=list=dup_cc_profile.txt -c "${prog}" -o /dev/null 2>&1) &&
	fail "a bad cluster file fails the compile" ||
	pass "a bad cluster file (block 0 twice) fails the compile: $(grep -m1 -o 'invalid profile.*' <<<"${out}" | sed "s|${work}/||")"
printf 'v1\nf not_in_this_file\nc 0 0\n' > dup2_cc_profile.txt
"${lb}/clang" -O2 -fno-crash-diagnostics -fbasic-block-sections=list=dup2_cc_profile.txt -x c -c -o /dev/null - <<<'int f(void) { return 0; }' >/dev/null 2>&1 &&
	pass "a clang probe cannot vet a cluster file: clusters of functions absent from the probe are not parsed (validate it by its format)" ||
	fail "a clang probe skips the clusters of absent functions"
out=$("${lb}/ld.lld" -static -nostdlib --symbol-ordering-file="${work}/missing_ld_profile.txt" -o x prop.o 2>&1) &&
	fail "a missing _ld_profile.txt fails the link" || pass "a missing _ld_profile.txt fails the link: ${out##*error: }"
note "($(since "${t}"))"

# ---------------------------------------------------------------------------------------------
section "running kernel and vmlinux (doctor)"
# /sys/kernel/notes holds the running kernel's ELF notes; the GNU build-id (type 3) names its vmlinux
kid=$(build_id_note /sys/kernel/notes)
[[ ${kid} =~ ^[0-9a-f]{40}$ ]] && pass "running kernel $(uname -r): build-id ${kid} (from /sys/kernel/notes)" ||
	fail "the running kernel's build-id from /sys/kernel/notes" "${kid}"
vid=$("${lb}/llvm-readelf" -n vmlinux | sed -n 's/.*Build ID: //p')
note "vmlinux stand-in: build-id ${vid}"
[[ -n ${vid} && ${vid} != "${kid}" ]] && pass "a vmlinux is matched to the running kernel by build-id (here they differ: convert would refuse it)" ||
	fail "build-ids compared"
found=
for f in "/lib/modules/$(uname -r)/build/vmlinux" "/usr/src/linux-$(uname -r)/vmlinux" "/lib/modules/$(uname -r)/vmlinux"; do
	[[ -e ${f} ]] && found=${f}
done
note "vmlinux of the running kernel: ${found:-none (a dist-kernel installs /usr/src/linux-<KV>/vmlinux only with USE=debug)}"

# ---------------------------------------------------------------------------------------------
section "Kbuild: linux-source-6.12 through the eclass's make"
t=$(now)
src=${cache}/linux-source-6.12
key="$(stat -L -c '%s %Y' "${tarball}") ${tarball}"
if [[ -f ${src}/.gentoo-kopt-stamp && $(<"${src}/.gentoo-kopt-stamp") == "${key}" ]]; then
	note "kernel source: ${src} (cached)"
else
	mkdir -p "${cache}" && rm -rf "${src}" || fatal "cannot prepare ${cache}"
	unpack=$(mktemp -d "${cache}/unpack.XXXXXX")
	# Kconfig reads no C file of drivers/ or sound/ and no document but Documentation/Kconfig; the
	# objects built here need none of them (1.5 GB -> ~460 MB)
	top=linux-source-6.12
	tar -xJf "${tarball}" -C "${unpack}" --strip-components=1 --anchored \
		--exclude="${top}/drivers/*.[ch]" --exclude="${top}/sound/*.[ch]" \
		--exclude="${top}/Documentation/*/*" --exclude="${top}/Documentation/*.*" ||
		{ rm -rf "${unpack}"; fatal "cannot unpack ${tarball}"; }
	printf '%s\n' "${key}" > "${unpack}/.gentoo-kopt-stamp"
	mv -T "${unpack}" "${src}" 2>/dev/null || rm -rf "${unpack}"
	unpack=
	note "kernel source: ${src} (unpacked in $(since "${t}"))"
fi
kver=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "${src}/Makefile" | paste -sd.)
note "K=${src} (${kver})"
[[ ! -e ${src}/scripts/Makefile.autofdo ]] && ! grep -q 'config AUTOFDO_CLANG' "${src}/arch/Kconfig" &&
	pass "${kver} has no scripts/Makefile.autofdo and no AUTOFDO_CLANG (mainline gained both in 6.13)" ||
	fail "${kver} predates AutoFDO"

build=${work}/build
mkdir -p "${build}"
# what the hook exports for toolchain = llvm (hooks/kernel-hook.bash), plus what `pgo use` would add
exports_file() {
	local kcflags=${1}
	{
		printf 'export CHOST=%q MAKEOPTS=%q CFLAGS=%q\n' "$(gcc -dumpmachine)" "-j$(nproc)" '-O2 -pipe'
		printf 'export LLVM=1 LLVM_IAS=1\n'
		local v
		for v in CC:clang CXX:clang++ LD:ld.lld AR:llvm-ar NM:llvm-nm STRIP:llvm-strip OBJCOPY:llvm-objcopy \
			OBJDUMP:llvm-objdump READELF:llvm-readelf HOSTCC:clang HOSTCXX:clang++ HOSTAR:llvm-ar HOSTLD:ld.lld; do
			printf 'export %s=%q\n' "${v%%:*}" "${lb}/${v#*:}"
		done
		printf 'export CLANG_AUTOFDO_PROFILE=%q CLANG_PROPELLER_PROFILE_PREFIX=%q\n' "${work}/kernel-string.afdo" "${work}/kprop"
		[[ -z ${kcflags} ]] || printf 'export KCFLAGS=%q\n' "${kcflags}"
	}
}
emake() {
	local exports=${1}
	shift
	env -i PATH="${PATH}" bash --noprofile --norc "${project}/test/kbuild/eclass-make.sh" "${exports}" "${src}" "${build}" "$@"
}
exports_file '' > exports.configure
t1=$(now)
if emake exports.configure tinyconfig > tinyconfig.log 2>&1; then
	pass "make ... tinyconfig ($(since "${t1}"))"
else
	fail "make ... tinyconfig" "$(tail -n 8 tinyconfig.log)"
fi
bad=()
for l in CONFIG_CC_IS_CLANG=y CONFIG_LD_IS_LLD=y "CONFIG_CLANG_VERSION=${ccver}"; do grep -qx "${l}" "${build}/.config" || bad+=("${l}"); done
((${#bad[@]} == 0)) && pass ".config: CONFIG_CC_IS_CLANG=y CONFIG_LD_IS_LLD=y CONFIG_CLANG_VERSION=${ccver}" || fail ".config has the LLVM toolchain" "missing ${bad[*]}"
# a config.d fragment asking for AUTOFDO_CLANG on a kernel that has no such option
cp "${build}/.config" config.saved
printf 'CONFIG_AUTOFDO_CLANG=y\nCONFIG_PROPELLER_CLANG=y\n' >> "${build}/.config"
emake exports.configure olddefconfig > olddefconfig.log 2>&1
! grep -qE 'CONFIG_(AUTOFDO|PROPELLER)_CLANG' "${build}/.config" &&
	pass "olddefconfig silently drops CONFIG_AUTOFDO_CLANG/PROPELLER_CLANG on ${kver}: pgo instrument must check the kernel version" ||
	fail "olddefconfig drops the unknown options"
cp config.saved "${build}/.config"

# the instrument build of one object, with a probe in every make instance
probe='--eval=$(info kopt-probe: level=$(MAKELEVEL) obj=$(if $(obj),$(obj),-) CLANG_AUTOFDO_PROFILE=$(origin CLANG_AUTOFDO_PROFILE):$(CLANG_AUTOFDO_PROFILE) CLANG_PROPELLER_PROFILE_PREFIX=$(origin CLANG_PROPELLER_PROFILE_PREFIX):$(CLANG_PROPELLER_PROFILE_PREFIX))'
mapfile -t kcf_instr < <(kbuild_cflags y '' y '' n "${ccver}")
exports_file "${kcf_instr[*]}" > exports.instr
t1=$(now)
if emake exports.instr "${probe}" lib/string.o > instr-make.log 2>&1 && [[ -f ${build}/lib/string.o ]]; then
	pass "make ... lib/string.o, instrumented: KCFLAGS='${kcf_instr[*]}' ($(since "${t1}"))"
else
	fail "make ... lib/string.o, instrumented" "$(tail -n 8 instr-make.log)"
fi
probes=$(grep -c '^kopt-probe:' instr-make.log)
good=$(grep -cF "CLANG_AUTOFDO_PROFILE=environment:${work}/kernel-string.afdo CLANG_PROPELLER_PROFILE_PREFIX=environment:${work}/kprop" instr-make.log)
levels=$(grep '^kopt-probe:' instr-make.log | grep -o 'level=[0-9]*' | sort -u | paste -sd' ')
((probes > 0 && probes == good)) && grep -q '^kopt-probe: level=[0-9]* obj=lib ' instr-make.log &&
	pass "all ${probes} make instances (${levels}, down to obj=lib) see both variables, origin 'environment'" ||
	fail "every make instance sees the variables from the environment" "$(grep '^kopt-probe:' instr-make.log | grep -v environment | head -n 3)"
cc_line=$(grep -E -- ' -c -o lib/string\.o ' instr-make.log | tail -n 1)
[[ " ${cc_line} " == *" ${kcf_instr[*]} "* && ${cc_line} == *' -mcmodel=kernel '* ]] &&
	pass "lib/string.o's V=1 compile line: Kbuild's own flags (-mcmodel=kernel ...) then the AutoFDO/Propeller ones" ||
	fail "the compile line carries the flags" "${cc_line:0:300}"
cp "${build}/lib/string.o" string-instr.o
prints '\.llvm_bb_addr_map' "${lb}/llvm-readelf" -S -W string-instr.o && has_symbol string-instr.o __llvm_fs_discriminator__ &&
	pass "lib/string.o has .llvm_bb_addr_map and FS discriminators" || fail "lib/string.o is instrumented"

# convert: lib/string.o linked alone at the kernel's address stands in for vmlinux
"${lb}/ld.lld" -static -nostdlib -e 0 --unresolved-symbols=ignore-all -Ttext=0xffffffff81000000 -o kvmlinux string-instr.o
"${lb}/llvm-objdump" -d --no-show-raw-insn kvmlinux > kvmlinux.dis
{
	printf 'PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1000000) @ 0xffffffff81000000]: x [kernel.kallsyms]_text\n'
	lbr_samples kvmlinux.dis strlen 400
	lbr_samples kvmlinux.dis strcmp 3
} > kstring.perfscript
out=$("${lb}/llvm-profgen" --kernel --binary=kvmlinux --perfscript=kstring.perfscript --output=kernel-string.afdo 2>&1) &&
	why=$(validate_profile kernel-string.afdo) &&
	pass "llvm-profgen --kernel: a profile of strlen (hot) and strcmp (3 samples) that validates" ||
	fail "convert the kernel object's samples" "${out} ${why-}"
# the cluster file as create_llvm_prof --propeller_output_module_name writes it: 'm' is the DW_AT_name
mapfile -t kids < <(bb_ids string-instr.o strcmp)
khot=()
for e in "${kids[@]:0:3}"; do khot+=("${e%%:*}"); done
printf 'v1\nm %s/lib/string.c\nf strcmp\nc %s\n' "${src}" "${khot[*]}" > kprop_cc_profile.txt
printf '%s\n' strlen strcmp > kprop_ld_profile.txt
note "strcmp's blocks: ${kids[*]}; kprop_cc_profile.txt: $(paste -sd'|' kprop_cc_profile.txt)"
# the use build: the flags a 6.13+ tree derives from the two variables, passed in KCFLAGS on 6.12
mapfile -t kcf_use < <(kbuild_cflags y "${work}/kernel-string.afdo" y "${work}/kprop" n "${ccver}")
exports_file "${kcf_use[*]}" > exports.use
t1=$(now)
rm -f "${build}/lib/string.o" # Kbuild rebuilds on a changed command line, not on a changed profile
if emake exports.use lib/string.o > use-make.log 2>&1 && [[ -f ${build}/lib/string.o ]]; then
	pass "make ... lib/string.o with the profiles ($(since "${t1}"))"
else
	fail "make ... lib/string.o with the profiles" "$(tail -n 8 use-make.log)"
fi
note "sections: $(sections "${build}/lib/string.o")"
has_section "${build}/lib/string.o" .text.hot.strlen && ! has_section string-instr.o .text.hot.strlen &&
	pass "the kernel object uses the AutoFDO profile: strlen in .text.hot.strlen (the instrumented one: .text.strlen)" ||
	fail "strlen in .text.hot.strlen with the profile only"
has_section "${build}/lib/string.o" .text.split.strcmp && has_symbol "${build}/lib/string.o" strcmp.cold &&
	pass "and the cluster file: strcmp's blocks outside 'c ${khot[*]}' in .text.split.strcmp (strcmp.cold)" ||
	fail "strcmp split by the cluster file"
grep -qE 'objtool/objtool .*lib/string\.o' use-make.log && ! grep -q 'lib/string.o: warning' use-make.log &&
	pass "objtool checked the optimised object without a warning" || fail "objtool is silent on lib/string.o" "$(grep -m3 warning use-make.log)"
# the same cluster file recorded in the -r0 build of a dist-kernel, used by the -r1 build
sed -i "s|^m .*|m /var/tmp/portage/sys-kernel/gentoo-kernel-${kver}/work/linux-${kver%.*}/lib/string.c|" kprop_cc_profile.txt
rm -f "${build}/lib/string.o"
emake exports.use lib/string.o > use-m-make.log 2>&1
! has_symbol "${build}/lib/string.o" strcmp.cold && has_section "${build}/lib/string.o" .text.hot.strlen &&
	pass "a cluster file whose 'm' lines name another \${S} is ignored without a word (the AutoFDO profile still applies)" ||
	fail "an 'm' line for another source directory"
note "($(since "${t}"))"

printf '\nAutoFDO/Propeller proof: %s in all\n' "$(since "${t_all}")"
finish
