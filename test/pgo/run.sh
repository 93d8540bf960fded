#!/usr/bin/env bash
# GCC gcov profile-guided optimisation of a kernel built the way kernel-build.eclass builds it, end to
# end, driven by the real `gentoo-kopt pgo instrument | collect --from | use` (this checkout's
# dist/bin.js) on a sandbox root (--root), with the installed hook giving each build its KCFLAGS.
#
#  0. the sandbox root: kopt.conf (toolchain = gnu), `gentoo-kopt hooks install`, `pgo instrument`;
#     the KCFLAGS of each build are what the hook exports in its compile phase (the phases run around
#     the installed bashrc by examples/portage-sim/phase-runner.sh, as test/kbuild/run.sh runs them).
#  1. Debian's linux-source-6.1, unpacked once into the cache that test/kbuild/run.sh also uses;
#     every build gets its own ${S} (a hard-link copy, so the cache is never written) and its own
#     out-of-tree build directory, laid out as Portage lays them out:
#     ${W}/portage/sys-kernel/${PF}/work/{linux-6.1,modprep,build}.
#  2. instrument: tinyconfig + what booting to a busybox shell needs + every fragment of the root's
#     etc/kernel/config.d (pgo instrument's), merged with the kernel's merge_config.sh -m -r, then
#     olddefconfig in modprep, `cp -pR modprep build` and `make all` with O=build (the eclass's steps),
#     for PF=gentoo-kernel-<ver>.
#  3. boots it in QEMU (TCG, serial console); test/pgo/init.sh runs a workload, copies the gcov tree
#     (cat per file) and sends it back over a second serial port as base64 of a .tar.gz. Why a serial
#     port: the console already needs the 8250 driver, so the channel costs the kernel under test no
#     option (9p needs PCI, virtio and 9P_FS; a raw disk needs a block driver), QEMU writes it to a
#     file, and base64 with an md5 survives the tty's newline translation.
#  4. lays the tree out as it is under /sys/kernel/debug/gcov (the absolute build dir inside), then
#     `gentoo-kopt pgo collect --from` copies it into the root's profile store, adding the object
#     summary that the kernel's .gcda files lack and GCC needs.
#  5. `gentoo-kopt pgo use`, then rebuilds without the fragment (pgo use removed it) as
#     PF=gentoo-kernel-<ver>-r1 (another ${S}, another build
#     dir); first probes, on one object, where GCC looks for the profile (copy into the build tree,
#     -fprofile-use=DIR, -fprofile-prefix-path, -fprofile-prefix-map), then builds the whole kernel
#     with the hook's KCFLAGS and checks in the warnings that GCC found the profile of every object.
#  6. builds the same kernel without profile (and without gcov), and compares where the functions
#     went: a function the workload never ran moves whole into .text.unlikely with the profile.
#  7. boots the profiled kernel.
#  8. source drift (a 6.1.x profile for 6.1.y): recompiles one object from a changed copy of its
#     source and counts what GCC does; and measures why the function ids need
#     --param=profile-func-internal-id=1 when ${S} moves (it does, with every ${PF}).
#
# Needs (x86_64, Debian bookworm; for .ci/run): apt-get install linux-source-6.1 gcc libc6-dev make bc
# flex bison libelf-dev qemu-system-x86 busybox-static xz-utils gzip tar coreutils binutils
# (objdump, readelf, size; gcov-dump comes with gcc), node and a built dist/ (npm run build). No
# network, no KVM (QEMU runs TCG), GCC >= 12.
# About 3 kernel builds of ~550 objects: 15-20 minutes on 2 idle cores, twice that on a busy machine.
# Environment: KOPT_KBUILD_TARBALL (default /usr/src/linux-source-6.1.tar.xz), KOPT_KBUILD_CACHE (the
# tree unpacked once, shared with test/kbuild/run.sh; default ${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache),
# KOPT_PGO_KEEP=1 (keep the work directory; it is always kept after a failure), KOPT_PGO_QEMU_TIMEOUT
# (seconds per boot, default 600).
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`; exits 1 on any failure.
set -uo pipefail
export LC_ALL=C # GCC's messages in ASCII quotes, sort and join in one collation

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "${here}/../.." && pwd)
tarball=${KOPT_KBUILD_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${KOPT_KBUILD_CACHE:-${TMPDIR:-/tmp}/gentoo-kopt-kbuild-cache}
qemu_timeout=${KOPT_PGO_QEMU_TIMEOUT:-600}
jobs=$(nproc 2>/dev/null || echo 2)
busybox=/bin/busybox
probe=fs/pipe.o # the object the placement probes and the drift experiments compile

# The flags of the three builds. The instrumented and the profiled build must agree on how GCC names
# functions in the profile: by default a static function's id hashes its absolute source path, which
# contains ${PF} (see step 8), so both use per-unit sequence numbers.
kc_ids=--param=profile-func-internal-id=1
# the probes' flags (step 5); the builds take theirs from the hook
kc_use_common="${kc_ids} -fprofile-correction -Wno-error=missing-profile -Wno-error=coverage-mismatch -Wmissing-profile"
kc_plain=

passed=0 failed=0 work= unpack=
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "${1}" | show; }
fail() {
	failed=$((failed + 1))
	printf 'FAIL  %s\n' "${1}" | show
	[[ -z ${2-} ]] || printf '%s\n' "${2}" | show | sed 's/^/      /'
}
check() { # <description> <command...>: PASS when the command succeeds
	local what=${1}
	shift
	if "$@"; then pass "${what}"; else fail "${what}"; fi
}
note() { printf '      %s\n' "$@" | show; }
# shortens the temporary paths in what it prints: $W is the work directory
show() {
	local line
	while IFS= read -r line || [[ -n ${line} ]]; do
		[[ -z ${work} ]] || line=${line//"${work}"/'$W'}
		printf '%s\n' "${line}"
	done
}
finish() {
	trap - INT TERM
	if [[ -n ${work} ]]; then
		if (( failed )) || [[ -n ${KOPT_PGO_KEEP-} ]]; then
			printf '\nwork directory kept (logs: $W/*.log, $W/portage/sys-kernel/*/work/*.log): %s\n' "${work}"
		else
			rm -rf "${work}"
		fi
	fi
	printf '\n%d passed, %d failed\n' "${passed}" "${failed}"
	exit $(( failed ? 1 : 0 ))
}
trap 'rm -rf "${work}" "${unpack-}"; printf "\ninterrupted\n"; exit 130' INT TERM
# A missing prerequisite is a failure, never a skip: CI installs everything this needs.
fatal() { fail "${1}" "${2-}"; finish; }

now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
since() { local d=$((($(now) - ${1}) / 100000)); printf '%d.%d s' $((d / 10)) $((d % 10)); }
declare -a timings=()
timed() { timings+=("$(printf '%-44s %s' "${1}" "$(since "${2}")")"); }

# --- prerequisites ---------------------------------------------------------------------------
t_all=$(now)
[[ $(uname -m) == x86_64 ]] || fatal "this test builds and boots an x86_64 kernel; this machine is $(uname -m)"
[[ -r ${tarball} ]] || fatal "no kernel source at ${tarball}" "fix: apt-get install linux-source-6.1 (or run .ci/run)"
for tool in make gcc bc flex bison tar xz gzip base64 md5sum objdump readelf gcov-dump qemu-system-x86_64 timeout; do
	type -P "${tool}" >/dev/null || fatal "${tool} is not installed" "fix: run .ci/run, which installs what this test needs"
done
[[ -f ${project}/dist/bin.js ]] || fatal "no ${project}/dist/bin.js" "fix: npm run build"
type -P node >/dev/null || fatal "node is not installed"
[[ -e /usr/include/gelf.h ]] || fatal "libelf headers are missing (objtool needs them)" "fix: apt-get install libelf-dev"
[[ -x ${busybox} ]] || fatal "no ${busybox}" "fix: apt-get install busybox-static"
[[ $(readelf -l "${busybox}" 2>/dev/null) == *'Requesting program interpreter'* ]] &&
	fatal "${busybox} is linked dynamically; the initramfs needs a static one" "fix: apt-get install busybox-static"
gcc_major=$(gcc -dumpversion) gcc_major=${gcc_major%%.*}
(( gcc_major >= 12 )) || fatal "gcc ${gcc_major}: -fprofile-prefix-path needs GCC 12 or newer"
[[ $(gcc --help=common 2>/dev/null) == *' -fprofile-prefix-path='* ]] ||
	fatal "gcc has no -fprofile-prefix-path= (gcc --help=common)"
chost=$(gcc -dumpmachine)

work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-pgo.XXXXXX")
printf 'W=%s\n' "${work}"

# --- the kernel tree, unpacked once per tarball (shared with test/kbuild/run.sh) --------------
# test/kbuild/run.sh leaves out the C files of drivers/ and sound/ (it compiles one object); a kernel
# that boots needs drivers/. This script unpacks the whole tree under the same stamp (a superset is
# as good for test/kbuild/run.sh), or adds the missing files to a tree that test/kbuild/run.sh
# unpacked; .gentoo-kopt-complete records that the tree is whole.
t=$(now)
src=${cache}/linux-source-6.1
key="$(stat -L -c '%s %Y' "${tarball}") ${tarball}"
top=linux-source-6.1
if [[ -f ${src}/.gentoo-kopt-stamp && $(<"${src}/.gentoo-kopt-stamp") == "${key}" ]]; then
	if [[ -f ${src}/.gentoo-kopt-complete && $(<"${src}/.gentoo-kopt-complete") == "${key}" ]]; then
		printf 'kernel source: %s (cached)\n' "${src}"
	else
		tar -xJf "${tarball}" -C "${src}" --strip-components=1 --anchored --skip-old-files \
			--wildcards "${top}/drivers/*.[ch]" "${top}/sound/*.[ch]" ||
			fatal "cannot add drivers/ and sound/ from ${tarball} to ${src}"
		printf '%s\n' "${key}" > "${src}/.gentoo-kopt-complete"
		printf 'kernel source: %s (cached; drivers/ and sound/ added in %s)\n' "${src}" "$(since "${t}")"
	fi
else
	mkdir -p "${cache}" && rm -rf "${src}" || fatal "cannot prepare ${cache}"
	unpack=$(mktemp -d "${cache}/unpack.XXXXXX")
	tar -xJf "${tarball}" -C "${unpack}" --strip-components=1 || { rm -rf "${unpack}"; fatal "cannot unpack ${tarball}"; }
	printf '%s\n' "${key}" > "${unpack}/.gentoo-kopt-stamp"
	printf '%s\n' "${key}" > "${unpack}/.gentoo-kopt-complete"
	mv -T "${unpack}" "${src}" 2>/dev/null || rm -rf "${unpack}"
	unpack=
	printf 'kernel source: %s (unpacked in %s, %s)\n' "${src}" "$(since "${t}")" "$(du -sh "${src}" | cut -f1)"
fi
timed "unpack (or reuse) the kernel source" "${t}"
kver=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "${src}/Makefile" | paste -sd.)
[[ ${kver} =~ ^([0-9]+\.[0-9]+)\.[0-9]+$ ]] || fatal "cannot read the kernel version from ${src}/Makefile"
base_p=linux-${BASH_REMATCH[1]} # gentoo-kernel's S=${WORKDIR}/${BASE_P}, BASE_P=linux-${PV%.*}
[[ -f ${src}/drivers/tty/serial/8250/8250_core.c ]] || fatal "the cached tree has no drivers/ sources"
printf 'kernel %s, gcc %s, CHOST %s, make -j%s\n' "${kver}" "$(gcc -dumpfullversion)" "${chost}" "${jobs}"

# --- config fragments -------------------------------------------------------------------------
# What booting tinyconfig to a busybox shell on QEMU's pc machine needs, at -O2 like a dist-kernel
# (tinyconfig picks -Os). DEBUG_FS is in the base too: every dist-kernel config has it, and a
# profile is only as good as the match between the instrumented and the profiled configuration.
cat > "${work}/base.config" <<'EOF'
CONFIG_64BIT=y
CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_SERIAL_8250_NR_UARTS=2
CONFIG_SERIAL_8250_RUNTIME_UARTS=2
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
# CONFIG_RD_BZIP2 is not set
# CONFIG_RD_LZMA is not set
# CONFIG_RD_XZ is not set
# CONFIG_RD_LZO is not set
# CONFIG_RD_LZ4 is not set
# CONFIG_RD_ZSTD is not set
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_DEVTMPFS=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_TMPFS=y
CONFIG_DEBUG_FS=y
EOF

# --- 0. the sandbox root and gentoo-kopt -----------------------------------------------------
kroot=${work}/root
kopt() { node "${project}/dist/bin.js" "$@" --root "${kroot}"; }
mkdir -p "${kroot}/etc/gentoo-kopt"
printf 'packages = sys-kernel/gentoo-kernel\ntoolchain = gnu\n' > "${kroot}/etc/gentoo-kopt/kopt.conf"
printf '\n== 0. gentoo-kopt hooks install; pgo instrument (--root $W/root) ==\n'
if out=$(kopt hooks install 2>&1) && out=$(kopt pgo instrument 2>&1); then
	pass "gentoo-kopt hooks install, gentoo-kopt pgo instrument"
	printf '%s\n' "${out}" | sed 's/^/      | /' | show
else
	fatal "gentoo-kopt hooks install, gentoo-kopt pgo instrument" "${out}"
fi
fragment=${kroot}/etc/kernel/config.d/60-gentoo-kopt-pgo.config
[[ -f ${fragment} ]] && pass "pgo instrument wrote \$W/${fragment#"${work}/"}: $(grep '^CONFIG_' "${fragment}" | paste -sd' ')" ||
	fail "pgo instrument wrote the fragment"

# @FUNCTION: hook_kcflags
# @USAGE: <pf dir>
# @DESCRIPTION:
# Runs the phases setup, configure and compile of the package in <pf dir> (PF is its name) around the
# root's bashrc, as Portage would, and prints the KCFLAGS the hook exported in compile.
hook_kcflags() {
	local pfdir=${1} pf=${1##*/} phase pr=r0 pvr=${kver} t=${1}/hook-temp
	[[ ${pf} == *-r[0-9]* ]] && pr=${pf##*-} pvr=${kver}-${pf##*-}
	mkdir -p "${t}"
	for phase in setup:pkg_setup configure:src_configure compile:src_compile; do
		env -i PATH="${PATH}" HOME="${t}" CATEGORY=sys-kernel PN=gentoo-kernel PV="${kver}" PR="${pr}" PVR="${pvr}" \
			P="gentoo-kernel-${kver}" PF="${pf}" SLOT="${kver}" CHOST="${chost}" EBUILD_PHASE="${phase%%:*}" \
			PORTAGE_CONFIGROOT="${kroot}/" ROOT="${kroot}/" T="${t}" PORTAGE_BUILDDIR="${pfdir}" WORKDIR="${pfdir}/work" \
			MERGE_TYPE=source EMERGE_FROM=ebuild EPREFIX= BROOT= ARCH=amd64 CFLAGS="-O2 -pipe" \
			KOPT_TEST_MSGS="${t}/messages" KOPT_TEST_HOOK="${phase#*:}" \
			KOPT_TEST_FILTER="CATEGORY PN PV PR PVR P PF SLOT CHOST EBUILD_PHASE PORTAGE_CONFIGROOT ROOT T PORTAGE_BUILDDIR WORKDIR MERGE_TYPE EMERGE_FROM EPREFIX BROOT ARCH" \
			bash --noprofile --norc "${project}/examples/portage-sim/phase-runner.sh" > "${t}/${phase%%:*}.log" 2>&1 || return 1
	done
	env -i bash --noprofile --norc -c 'source "$1" && printf "%s" "${KCFLAGS-}"' _ "${t}/exports.compile"
}

# --- one dist-kernel build --------------------------------------------------------------------

# @FUNCTION: emake_eclass
# @USAGE: <pf dir> <KCFLAGS> <target>...
# @DESCRIPTION:
# make in <pf dir>/work/${base_p} with O=<pf dir>/work/build, the tools on the command line as the
# eclass passes them (test/kbuild/eclass-make.sh), KCFLAGS from the environment.
emake_eclass() {
	local pfdir=${1} kcflags=${2} exports
	shift 2
	exports=${pfdir}/temp/environment
	mkdir -p "${pfdir}/temp"
	{
		printf 'export CHOST=%q CFLAGS=%q LDFLAGS=%q MAKEOPTS=%q\n' "${chost}" "-O2 -pipe" \
			"-Wl,-O1 -Wl,--as-needed" "-j${jobs}"
		[[ -z ${kcflags} ]] || printf 'export KCFLAGS=%q\n' "${kcflags}"
	} > "${exports}"
	env -i PATH="${PATH}" HOME="${pfdir}/temp" bash --noprofile --norc "${project}/test/kbuild/eclass-make.sh" \
		"${exports}" "${pfdir}/work/${base_p}" "${BUILD_DIR:-${pfdir}/work/build}" "$@"
}

# @FUNCTION: kernel_configure
# @USAGE: <pf dir> <fragment>...
# @DESCRIPTION:
# ${S} as a hard-link copy of the cached tree (Kbuild resolves ${S} with realpath, so a symlink would
# not give it another path), then src_configure's steps: the base configuration (tinyconfig stands
# for the ebuild's distro config) merged with the fragments by merge_config.sh -m -r, olddefconfig in
# modprep, cp -pR modprep build.
kernel_configure() {
	local pfdir=${1}
	shift
	local s=${pfdir}/work/${base_p} m=${pfdir}/work/modprep
	mkdir -p "${pfdir}/work" "${m}" || return 1
	cp -al "${src}" "${s}" || return 1
	BUILD_DIR=${m} emake_eclass "${pfdir}" "" tinyconfig > "${pfdir}/work/configure.log" 2>&1 || return 1
	(cd "${m}" && bash "${s}/scripts/kconfig/merge_config.sh" -m -r .config "$@") >> "${pfdir}/work/configure.log" 2>&1 || return 1
	BUILD_DIR=${m} emake_eclass "${pfdir}" "" olddefconfig >> "${pfdir}/work/configure.log" 2>&1 || return 1
	cp -pR "${m}" "${pfdir}/work/build"
}

# @FUNCTION: config_has
# @USAGE: <.config> <line>...
# @DESCRIPTION: Prints the lines the .config lacks; true when it has them all.
config_has() {
	local cfg=${1} line missing=()
	shift
	for line in "$@"; do
		if [[ ${line} == '!'* ]]; then
			grep -qx "${line#!}=y" "${cfg}" && missing+=("${line#!} (set, should not be)")
		else
			grep -qx "${line}" "${cfg}" || missing+=("${line}")
		fi
	done
	(( ${#missing[@]} == 0 )) || { printf '%s\n' "${missing[@]}"; return 1; }
}

# @FUNCTION: kernel_build
# @USAGE: <label> <pf dir> <KCFLAGS>
kernel_build() {
	local label=${1} pfdir=${2} kcflags=${3} t rc
	t=$(now)
	emake_eclass "${pfdir}" "${kcflags}" all > "${pfdir}/work/compile.log" 2>&1
	rc=$?
	if (( rc == 0 )) && [[ -f ${pfdir}/work/build/arch/x86/boot/bzImage ]]; then
		pass "${label}: make all, O=${pfdir}/work/build ($(since "${t}"), bzImage $(stat -c %s "${pfdir}/work/build/arch/x86/boot/bzImage") bytes)"
		timed "${label}: make all" "${t}"
		return 0
	fi
	fail "${label}: make all (status ${rc})" "$(grep -E 'error|Error' "${pfdir}/work/compile.log" | tail -n 8)"
	return 1
}

# --- QEMU --------------------------------------------------------------------------------------

# @FUNCTION: boot
# @USAGE: <label> <bzImage> <out dir>
# @DESCRIPTION:
# Boots <bzImage> with the initramfs; console in <out>/console.log, ttyS1 in <out>/ttyS1.txt.
boot() {
	local label=${1} image=${2} out=${3} t rc
	mkdir -p "${out}"
	t=$(now)
	timeout "${qemu_timeout}" qemu-system-x86_64 -machine pc -accel tcg -cpu qemu64 -smp 1 -m 512M \
		-nographic -monitor none -no-reboot \
		-serial "file:${out}/console.log" -serial "file:${out}/ttyS1.txt" \
		-kernel "${image}" -initrd "${work}/initramfs.cpio.gz" \
		-append 'console=ttyS0 panic=-1 loglevel=4' > "${out}/qemu.log" 2>&1 < /dev/null
	rc=$?
	timed "${label}: boot, workload, power off" "${t}"
	if (( rc == 124 )); then
		fail "${label}: QEMU ended within ${qemu_timeout} s" "$(tail -n 5 "${out}/console.log" 2>/dev/null)"
		return 1
	fi
	if grep -q '^KOPT: rebooting' "${out}/console.log" 2>/dev/null; then
		pass "${label}: booted, ran the workload and rebooted ($(since "${t}"), QEMU status ${rc})"
		sed -n 's/\r$//; s/^KOPT: /      | /p' "${out}/console.log" | show
		return 0
	fi
	fail "${label}: booted, ran the workload and rebooted (QEMU status ${rc})" \
		"$(tr -d '\r' < "${out}/console.log" 2>/dev/null | tail -n 12; cat "${out}/qemu.log")"
	return 1
}

# --- collect (by hand, until `gentoo-kopt pgo collect --from DIR` exists) ----------------------


# --- what GCC said -----------------------------------------------------------------------------

# @FUNCTION: warning_counts
# @USAGE: <log>
# @DESCRIPTION: One line: how many of each kind of profile warning GCC printed.
warning_counts() {
	local log=${1}
	printf 'file not found: %d, function not in profile: %d, control flow mismatch: %d, counter number mismatch: %d, source locations changed: %d' \
		"$(grep -c 'profile count data file not found' "${log}")" \
		"$(grep -c 'not found in profile data' "${log}")" \
		"$(grep -c 'the control flow of function' "${log}")" \
		"$(grep -c 'number of counters in profile data' "${log}")" \
		"$(grep -c 'source locations for function .* have changed' "${log}")"
}

# @FUNCTION: sections
# @USAGE: <object>
# @DESCRIPTION:
# Prints "<functions placed whole in .text.unlikely> <bytes of .text.unlikely*> <bytes of .text.hot*>":
# whole functions only (the .cold parts GCC splits off hot/cold functions go there too, with or
# without a profile, and are not counted).
sections() {
	local o=${1} fn name size bytes=0 hot=0
	fn=$(objdump -t "${o}" 2>/dev/null | awk '/ F \.text\.unlikely[^ \t]*\t/ && $NF !~ /\.cold(\.[0-9]+)?$/ { n++ } END { print n + 0 }')
	while read -r name size; do
		case ${name} in
			.text.unlikely*) bytes=$((bytes + 16#${size})) ;;
			.text.hot*) hot=$((hot + 16#${size})) ;;
		esac
	done < <(readelf -SW "${o}" 2>/dev/null | sed -nE 's/^ *\[ *[0-9]+\] +(\.text\.[^ ]+) +[A-Z_]+ +[0-9a-f]+ +[0-9a-f]+ +([0-9a-f]+) .*/\1 \2/p')
	printf '%s %s %s\n' "${fn}" "${bytes}" "${hot}"
}

# @FUNCTION: unlikely_functions
# @USAGE: <object>
unlikely_functions() {
	objdump -t "${1}" 2>/dev/null | awk '/ F \.text\.unlikely[^ \t]*\t/ && $NF !~ /\.cold(\.[0-9]+)?$/ { print $NF }' | sort
}

# @FUNCTION: function_section
# @USAGE: <object> <function>
function_section() {
	objdump -t "${1}" 2>/dev/null | awk -v f="${2}" '$NF == f && / F / { for (i = 1; i <= NF; i++) if ($i == "F") { print $(i + 1); exit } }'
}

# === 2. the instrumented build: gentoo-kernel-<ver> ============================================
printf '\n== 2. instrumented build ==\n'
pf_instr=${work}/portage/sys-kernel/gentoo-kernel-${kver}
pf_use=${work}/portage/sys-kernel/gentoo-kernel-${kver}-r1
pf_plain=${work}/portage/sys-kernel/gentoo-kernel-${kver}-r2
b_instr=${pf_instr}/work/build
b_use=${pf_use}/work/build
b_plain=${pf_plain}/work/build
need_boot=(CONFIG_64BIT=y CONFIG_SERIAL_8250_CONSOLE=y CONFIG_BLK_DEV_INITRD=y CONFIG_RD_GZIP=y
	CONFIG_BINFMT_ELF=y CONFIG_BINFMT_SCRIPT=y CONFIG_DEVTMPFS=y CONFIG_PROC_FS=y CONFIG_SYSFS=y CONFIG_DEBUG_FS=y
	CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y CONFIG_CC_IS_GCC=y)
t=$(now)
if kernel_configure "${pf_instr}" "${work}/base.config" "${kroot}"/etc/kernel/config.d/*.config; then
	timed "instrumented: configure" "${t}"
	if out=$(config_has "${b_instr}/.config" "${need_boot[@]}" CONFIG_GCOV_KERNEL=y CONFIG_GCOV_PROFILE_ALL=y CONFIG_ARCH_HAS_GCOV_PROFILE_ALL=y); then
		pass "instrumented: tinyconfig + boot + pgo fragments merged, olddefconfig kept GCOV_KERNEL and GCOV_PROFILE_ALL ($(since "${t}"))"
	else
		fail "instrumented: .config after merge_config.sh + olddefconfig" "missing: ${out}"
	fi
else
	fatal "instrumented: configure" "$(tail -n 8 "${pf_instr}/work/configure.log")"
fi
kc_instrument=$(hook_kcflags "${pf_instr}") ||
	fatal "instrumented: the hook's phases" "$(tail -n 5 "${pf_instr}"/hook-temp/*.log "${pf_instr}/hook-temp/messages" 2>/dev/null)"
[[ ${kc_instrument} == "${kc_ids}" ]] && pass "instrumented: the hook exports KCFLAGS=${kc_instrument}" ||
	fail "instrumented: the hook exports KCFLAGS=${kc_ids}" "got '${kc_instrument}'"
kernel_build instrumented "${pf_instr}" "${kc_instrument}" || finish
line=$(grep -E " -c -o init/main\.o " "${pf_instr}/work/compile.log" | tail -n 1)
[[ ${line} == *' -fprofile-arcs -ftest-coverage '* ]] &&
	pass "instrumented: init/main.o compiled with -fprofile-arcs -ftest-coverage ($(grep -o -- '-fprofile-update=[a-z-]*' <<<"${line}" | head -n 1))" ||
	fail "instrumented: init/main.o compiled with -fprofile-arcs -ftest-coverage" "${line:0:300}"
n_gcno=$(find "${b_instr}" -name '*.gcno' | wc -l)
note "${n_gcno} .gcno files in the build directory; not instrumented here (GCOV_PROFILE := n): $(
	cd "${b_instr}" && find arch/x86/boot arch/x86/realmode arch/x86/entry/vdso -name '*.o' 2>/dev/null | wc -l) objects under arch/x86/{boot,realmode,entry/vdso}"

# === 3. boot it =================================================================================
printf '\n== 3. boot the instrumented kernel, run the workload, fetch the gcov tree ==\n'
t=$(now)
{
	printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /bin 0755 0 0\n'
	printf 'dir /proc 0755 0 0\ndir /sys 0755 0 0\ndir /tmp 01777 0 0\n'
	printf 'file /bin/busybox %s 0755 0 0\nfile /init %s 0755 0 0\n' "${busybox}" "${here}/init.sh"
} > "${work}/initramfs.list"
if "${b_instr}/usr/gen_init_cpio" "${work}/initramfs.list" 2>"${work}/initramfs.log" | gzip -9 > "${work}/initramfs.cpio.gz" &&
	(( $(stat -c %s "${work}/initramfs.cpio.gz") > 100000 )); then
	pass "initramfs: static busybox + test/pgo/init.sh, by the build's usr/gen_init_cpio ($(stat -c %s "${work}/initramfs.cpio.gz") bytes)"
else
	fatal "initramfs by ${b_instr}/usr/gen_init_cpio" "$(cat "${work}/initramfs.log")"
fi
boot instrumented "${b_instr}/arch/x86/boot/bzImage" "${work}/boot-instrumented" || finish

# === 4. the gcov tree as under /sys/kernel/debug/gcov ==========================================
printf '\n== 4. the gcov tree, laid out as under /sys/kernel/debug/gcov ==\n'
t=$(now)
debugfs=${work}/debugfs-gcov
mkdir -p "${debugfs}"
chan=${work}/boot-instrumented/ttyS1.txt
header=$(tr -d '\r' < "${chan}" | grep -m1 '^KOPT-GCOV-BEGIN ')
read -r _ want_md5 want_size <<<"${header}"
tr -d '\r' < "${chan}" | sed -n '/^KOPT-GCOV-BEGIN /,/^KOPT-GCOV-END$/{/^KOPT-GCOV-/d;p}' | base64 -d > "${work}/gcov.tar.gz" 2>/dev/null
got_md5=$(md5sum < "${work}/gcov.tar.gz" | cut -d' ' -f1)
if [[ -n ${want_md5-} && ${got_md5} == "${want_md5}" && $(stat -c %s "${work}/gcov.tar.gz") == "${want_size}" ]] &&
	tar -xzf "${work}/gcov.tar.gz" -C "${debugfs}"; then
	pass "ttyS1: ${want_size} bytes of .tar.gz received intact (md5 ${got_md5}), unpacked into \$W/debugfs-gcov ($(since "${t}"))"
else
	fatal "ttyS1: the gcov archive arrived intact" "header '${header}', got md5 ${got_md5}, $(stat -c %s "${work}/gcov.tar.gz") bytes"
fi
main_gcda=${debugfs}${b_instr}/init/main.gcda
n_gcda=$(find "${debugfs}" -name '*.gcda' -type f | wc -l)
n_links=$(find "${debugfs}" -name '*.gcno' -type l | wc -l)
if [[ -s ${main_gcda} ]] && [[ $(readlink "${main_gcda%.gcda}.gcno") == "${b_instr}/init/main.gcno" ]]; then
	pass "the tree is /sys/kernel/debug/gcov/<absolute build dir>/<object>.gcda: ${main_gcda#"${debugfs}"} ($(stat -c %s "${main_gcda}") bytes), main.gcno -> ${b_instr}/init/main.gcno"
else
	fail "the tree holds <absolute build dir>/init/main.gcda and a main.gcno symlink into the build dir" \
		"$(find "${debugfs}" -maxdepth 12 -name 'main.gcd*' -o -maxdepth 12 -name 'main.gcn*' | head -n 3)"
fi
outside=$(find "${debugfs}" -name '*.gcda' -type f ! -path "${debugfs}${b_instr}/*" | head -n 3)
[[ -z ${outside} ]] && pass "all ${n_gcda} .gcda files (and ${n_links} .gcno symlinks) are under the build dir prefix; none under ${pf_instr}/work/${base_p}" ||
	fail "all .gcda files are under the build dir prefix" "${outside}"
no_gcno=$(cd "${debugfs}${b_instr}" && find . -name '*.gcda' | while read -r f; do [[ -f ${b_instr}/${f%.gcda}.gcno ]] || echo "${f}"; done | head -n 3)
[[ -z ${no_gcno} ]] && pass "every .gcda has its .gcno in the build dir (${n_gcda} .gcda, ${n_gcno} .gcno: objects without functions or not linked in get none)" ||
	fail "every .gcda has its .gcno in the build dir" "${no_gcno}"
nonzero=$(find "${debugfs}" -name '*.gcda' -type f -size +0 | wc -l)
note "${nonzero} of the .gcda files are non-empty; debugfs itself reports: $(sed -n 's/\r$//; s/^KOPT: gcov sizes: //p' "${work}/boot-instrumented/console.log")"

t=$(now)
profile=${kroot}/var/lib/gentoo-kopt/pgo/sys-kernel/gentoo-kernel/${kver}
store=${profile}/gcov
if out=$(kopt pgo collect --from "${debugfs}" 2>&1); then
	pass "gentoo-kopt pgo collect --from \$W/debugfs-gcov ($(since "${t}"))"
	printf '%s\n' "${out}" | sed 's/^/      | /' | show
else
	fatal "gentoo-kopt pgo collect --from \$W/debugfs-gcov" "${out}"
fi
n_store=$(find "${store}" -name '*.gcda' | wc -l)
(( n_store == n_gcda )) && pass "the store holds all ${n_gcda} profiles, named <rel with / as #>.gcda ($(find "${store}" -name 'fs#*' | head -n 2 | sed 's|.*/||' | paste -sd' ') ...)" ||
	fail "the store holds all ${n_gcda} profiles" "${n_store} in ${store}"
grep -q "\"buildDir\": \"${b_instr}\"" "${profile}/profile.json" &&
	pass "collect recorded the build-dir prefix ${b_instr} and the package ($(grep -o '"cpv": "[^"]*"' "${profile}/profile.json"))" ||
	fail "collect recorded the build-dir prefix" "$(cat "${profile}/profile.json")"
timed "fetch, unpack and collect the profile" "${t}"

# === 5. the profiled build: gentoo-kernel-<ver>-r1 =============================================
printf '\n== 5. pgo use; profiled rebuild in another build dir (gentoo-kernel-%s-r1) ==\n' "${kver}"
if out=$(kopt pgo use 2>&1); then
	pass "gentoo-kopt pgo use"
	printf '%s\n' "${out}" | sed 's/^/      | /' | show
else
	fatal "gentoo-kopt pgo use" "${out}"
fi
[[ ! -e ${fragment} ]] && pass "pgo use removed the instrumentation fragment" || fail "pgo use removed the instrumentation fragment"
shopt -s nullglob
fragments=("${kroot}"/etc/kernel/config.d/*.config)
shopt -u nullglob
t=$(now)
if kernel_configure "${pf_use}" "${work}/base.config" "${fragments[@]}"; then
	timed "profiled: configure" "${t}"
	if out=$(config_has "${b_use}/.config" "${need_boot[@]}" '!CONFIG_GCOV_KERNEL'); then
		pass "profiled: configured without the pgo fragment ($(since "${t}"))"
	else
		fail "profiled: configured without the pgo fragment" "${out}"
	fi
else
	fatal "profiled: configure" "$(tail -n 8 "${pf_use}/work/configure.log")"
fi
diff <(grep '^CONFIG_' "${b_instr}/.config") <(grep '^CONFIG_' "${b_use}/.config") | sed -n 's/^[<>] //p' | paste -sd' ' |
	sed 's/^/      config lines that differ from the instrumented build: /' | show

# Where does GCC look for the profile? One object, five ways (make <object> with O=, as Kbuild compiles it).
t=$(now)
rel_gcda=${probe%.o}.gcda
mangled=${store}/${rel_gcda//\//#}
old_store=${work}/probe-store-absolute # keyed by the mangled absolute path of the instrumented build
mkdir -p "${old_store}" && cp "${mangled}" "${old_store}/${b_instr//\//#}#${rel_gcda//\//#}"
raw_store=${work}/probe-store-raw # the kernel's .gcda as debugfs gave it, without the object summary
mkdir -p "${raw_store}" && cp "${debugfs}${b_instr}/${rel_gcda}" "${raw_store}/${rel_gcda//\//#}"
# @FUNCTION: probe_compile
# @USAGE: <name> <KCFLAGS>: make <probe> in the profiled build dir; prints what GCC said about the profile
probe_compile() {
	local log=${pf_use}/work/probe-${1}.log
	emake_eclass "${pf_use}" "${2}" "${probe}" > "${log}" 2>&1 || { echo "make failed: $(tail -n 3 "${log}")"; return 1; }
	local nf base=${probe%.o}
	nf=$(grep -oE "[^ ‘']*${base%%/*}[/#]${base#*/}\.gcda['’] profile count data file not found" "${log}" | head -n 1)
	printf '%s|%s|%s\n' "${nf:-found}" "$(sections "${b_use}/${probe}" | cut -d' ' -f1)" "$(warning_counts "${log}")"
}
declare -A pr=()
pr[none]=$(probe_compile none "${kc_use_common} -fprofile-use")
pr[map]=$(probe_compile map "${kc_use_common} -fprofile-use -fprofile-prefix-map=${b_instr}=${b_use}")
pr[dir]=$(probe_compile dir "${kc_use_common} -fprofile-use=${old_store}")
pr[raw]=$(probe_compile raw "${kc_use_common} -fprofile-use=${raw_store} -fprofile-prefix-path=${b_use}")
pr[prefixpath]=$(probe_compile prefixpath "${kc_use_common} -fprofile-use=${store} -fprofile-prefix-path=${b_use}")
mkdir -p "$(dirname "${b_use}/${rel_gcda}")" && cp "${mangled}" "${b_use}/${rel_gcda}"
pr[copy]=$(probe_compile copy "${kc_use_common} -fprofile-use")
rm -f "${b_use}/${rel_gcda}"
for k in none map dir raw prefixpath copy; do
	IFS='|' read -r nf fn counts <<<"${pr[${k}]}"
	case ${k} in
		none) what="-fprofile-use, nothing copied" want=missing ;;
		map) what="-fprofile-use -fprofile-prefix-map=<old build>=<new build>" want=missing ;;
		dir) what="-fprofile-use=<store keyed by the old absolute path> (mangled)" want=missing ;;
		raw) what="-fprofile-use=<.gcda as debugfs has it> -fprofile-prefix-path=<new build>" want=found ;;
		prefixpath) what="-fprofile-use=<store> -fprofile-prefix-path=<new build>" want=found ;;
		copy) what="-fprofile-use, .gcda copied to <new build>/${rel_gcda}" want=found ;;
	esac
	got=found
	[[ ${nf} == found ]] || got=missing
	msg="probe ${probe}: ${what}: GCC ${got/missing/did not find} the profile (${fn} functions in .text.unlikely)"
	[[ ${got} == missing ]] && msg+=", it looked for ${nf% profile count*}"
	if [[ ${got} == "${want}" ]]; then pass "${msg}"; else fail "${msg}" "${counts}"; fi
done
IFS='|' read -r _ fn_none _ <<<"${pr[none]}"
IFS='|' read -r _ fn_raw _ <<<"${pr[raw]}"
(( fn_raw == fn_none )) && pass "probe ${probe}: the kernel's own .gcda (no object summary) is read without a word and changes nothing: ${fn_raw} functions in .text.unlikely, as without profile" ||
	fail "probe ${probe}: the kernel's own .gcda changes nothing" "${fn_raw} functions in .text.unlikely, ${fn_none} without profile"
IFS='|' read -r _ fn_pp counts_pp <<<"${pr[prefixpath]}"
(( fn_pp > fn_none )) && pass "probe ${probe}: with the profile ${fn_pp} functions move to .text.unlikely, without it ${fn_none}" ||
	fail "probe ${probe}: the profile moves functions to .text.unlikely" "with ${fn_pp}, without ${fn_none}"
note "probe ${probe} with the profile: ${counts_pp}"
timed "profiled: placement probes (6 compiles of ${probe})" "${t}"

kc_use=$(hook_kcflags "${pf_use}") ||
	fatal "profiled: the hook's phases" "$(tail -n 5 "${pf_use}"/hook-temp/*.log "${pf_use}/hook-temp/messages" 2>/dev/null)"
want="${kc_ids} -fprofile-use=${store} -fprofile-prefix-path=${b_use} -fprofile-correction -Wno-error=missing-profile -Wno-error=coverage-mismatch"
[[ ${kc_use} == "${want}" ]] && pass "profiled: the hook exports KCFLAGS with the store and this build directory" ||
	fail "profiled: the hook exports KCFLAGS=${want}" "got '${kc_use}'"
note "KCFLAGS=${kc_use}"
kernel_build profiled "${pf_use}" "${kc_use}" || finish
log_use=${pf_use}/work/compile.log
note "GCC's profile warnings in the whole build: $(warning_counts "${log_use}")"
# every object that has a profile must have found it; the others are the GCOV_PROFILE := n ones
missing_profiled=() missing_other=()
while IFS= read -r f; do
	rel=${f#"${store}/"}
	if [[ -f ${store}/${rel} ]]; then missing_profiled+=("${rel//#//}"); else missing_other+=("${rel//#//}"); fi
done < <(grep -o "[^ ‘']*\.gcda['’] profile count data file not found" "${log_use}" | sed "s/['’] profile count.*//" | sort -u)
(( ${#missing_profiled[@]} == 0 )) &&
	pass "every object with a profile found it (no 'profile count data file not found' for any of the ${n_gcda} .gcda)" ||
	fail "every object with a profile found it" "${#missing_profiled[@]} did not: ${missing_profiled[*]:0:8}"
note "${#missing_other[@]} objects have no profile (not instrumented): $(printf '%s\n' "${missing_other[@]}" | sed 's/\.gcda$/.o/' | head -n 12 | paste -sd' ')"
n_cfg=$(grep -c 'the control flow of function\|number of counters in profile data' "${log_use}")
n_nf=$(grep -c 'not found in profile data' "${log_use}")
n_loc=$(grep -c 'source locations for function .* have changed' "${log_use}")
(( n_cfg + n_nf <= 20 )) &&
	pass "functions whose profile GCC dropped: ${n_cfg} mismatching, ${n_nf} missing (the configs differ only in GCOV_KERNEL & co)" ||
	fail "at most 20 functions lost their profile" "${n_cfg} mismatching, ${n_nf} missing: $(grep -E 'does not match its profile|not found in profile data' "${log_use}" | head -n 5)"
(( n_loc > 1000 )) && note "${n_loc} 'source locations for function ... have changed': expected, ${pf_instr}/work/${base_p} -> ${pf_use}/work/${base_p} is in every function's line checksum; harmless (the counts are used)"
grep -E 'does not match its profile data|not found in profile data' "${log_use}" | sed -E 's/^.*warning: //' | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/      | /' | show

# === 6. the plain build and the difference ======================================================
printf '\n== 6. the same kernel without profile (gentoo-kernel-%s-r2), and the difference ==\n' "${kver}"
t=$(now)
kernel_configure "${pf_plain}" "${work}/base.config" || fatal "plain: configure" "$(tail -n 8 "${pf_plain}/work/configure.log")"
timed "plain: configure" "${t}"
kernel_build plain "${pf_plain}" "${kc_plain}" || finish
diff -q <(grep '^CONFIG_' "${b_use}/.config") <(grep '^CONFIG_' "${b_plain}/.config") >/dev/null &&
	pass "plain and profiled builds have the same .config" || fail "plain and profiled builds have the same .config"

t=$(now)
tot_p_fn=0 tot_p_b=0 tot_p_h=0 tot_n_fn=0 tot_n_b=0 tot_n_h=0 n_obj=0
declare -a rows=()
while IFS= read -r g; do
	rel=${g#"${store}/"} rel=${rel//#//} rel=${rel%.gcda}.o
	[[ -f ${b_use}/${rel} && -f ${b_plain}/${rel} ]] || continue
	read -r p_fn p_b p_h < <(sections "${b_use}/${rel}")
	read -r n_fn n_b n_h < <(sections "${b_plain}/${rel}")
	tot_p_fn=$((tot_p_fn + p_fn)) tot_p_b=$((tot_p_b + p_b)) tot_p_h=$((tot_p_h + p_h))
	tot_n_fn=$((tot_n_fn + n_fn)) tot_n_b=$((tot_n_b + n_b)) tot_n_h=$((tot_n_h + n_h))
	n_obj=$((n_obj + 1))
	rows+=("${p_fn} ${n_fn} ${rel}")
done < <(find "${store}" -name '*.gcda' | sort)
printf '      %-28s %s\n' "object" "functions placed whole in .text.unlikely: with the profile / without" | show
for rel in kernel/fork.o fs/pipe.o fs/namei.o mm/memory.o kernel/sched/core.o fs/read_write.o; do
	for r in "${rows[@]}"; do
		[[ ${r##* } == "${rel}" ]] && { read -r a b _ <<<"${r}"; printf '      %-28s %5d / %d\n' "${rel}" "${a}" "${b}"; }
	done
done
note "over all ${n_obj} profiled objects: ${tot_p_fn} functions in .text.unlikely with the profile, ${tot_n_fn} without;" \
	".text.unlikely ${tot_p_b} bytes with, ${tot_n_b} without; .text.hot ${tot_p_h} bytes with, ${tot_n_h} without"
(( tot_p_fn >= 500 && tot_p_fn >= 10 * (tot_n_fn + 1) )) &&
	pass "the profile is visible: ${tot_p_fn} functions the workload never ran are in .text.unlikely, ${tot_n_fn} in the plain build" ||
	fail "the profile is visible (>= 500 functions and 10x the plain build in .text.unlikely)" "${tot_p_fn} vs ${tot_n_fn}"
# one function the workload ran and one it did not, in the probe object
hot_sec=$(function_section "${b_use}/${probe}" pipe_read)
cold_fn=$(unlikely_functions "${b_use}/${probe}" | head -n 3 | paste -sd' ')
[[ -n ${hot_sec} && ${hot_sec} != .text.unlikely* ]] &&
	pass "${probe}: pipe_read (run by the workload) stays in ${hot_sec}; never run, now in .text.unlikely: ${cold_fn}" ||
	fail "${probe}: pipe_read stays out of .text.unlikely" "it is in '${hot_sec}'"
note "bzImage: $(stat -c %s "${b_use}/arch/x86/boot/bzImage") bytes profiled, $(stat -c %s "${b_plain}/arch/x86/boot/bzImage") plain (code never run is optimised for size)"
timed "compare the profiled and the plain objects" "${t}"

# === 7. the profiled kernel boots ===============================================================
printf '\n== 7. boot the profiled kernel ==\n'
if boot profiled "${b_use}/arch/x86/boot/bzImage" "${work}/boot-profiled"; then
	grep -q '^KOPT: no gcov in this kernel' "${work}/boot-profiled/console.log" &&
		pass "profiled: the kernel has no gcov" || fail "profiled: the kernel has no gcov"
	diff <(sed -n 's/\r$//; s/^KOPT: workload: //p' "${work}/boot-instrumented/console.log") \
		<(sed -n 's/\r$//; s/^KOPT: workload: //p' "${work}/boot-profiled/console.log") >/dev/null &&
		pass "profiled: the workload printed what it printed on the instrumented kernel" ||
		fail "profiled: the workload printed what it printed on the instrumented kernel"
fi

# === 8. source drift, and why the function ids ===================================================
printf '\n== 8. a profile for changed sources; function ids when ${S} moves ==\n'
t=$(now)
scratch=${work}/drift
mkdir -p "${scratch}"
s_use=${pf_use}/work/${base_p}
# the compile command Kbuild saved for the probe object (profiled build): gcc ... -c -o fs/pipe.o <src>
# @FUNCTION: saved_cc
# @USAGE: <build dir> <object>
saved_cc() {
	local cmdfile
	cmdfile=${1}/$(dirname "${2}")/.$(basename "${2}").cmd
	sed -n "s/^cmd_${2//\//\\/} := //p" "${cmdfile}" | sed 's/ ; .*//'
}
cc_use=$(saved_cc "${b_use}" "${probe}")
[[ ${cc_use} == *" -c -o ${probe} ${s_use}/${probe%.o}.c"* ]] || fail "the saved compile command of ${probe}" "${cc_use:0:300}"
# @FUNCTION: drift_compile
# @USAGE: <name> <edit command>: compiles an edited copy of the probe's source with the profiled build's command
drift_compile() {
	local name=${1} edit=${2} c cmd
	c=${scratch}/${1}/$(basename "${probe%.o}.c")
	mkdir -p "${scratch}/${name}"
	cp "${s_use}/${probe%.o}.c" "${c}"
	eval "${edit}" || return 1
	cmd=${cc_use/" ${s_use}/${probe%.o}.c"/" -iquote ${s_use}/$(dirname "${probe}") ${c}"}
	(cd "${b_use}" && eval "${cmd}") > "${scratch}/${name}.log" 2>&1 || { tail -n 5 "${scratch}/${name}.log"; return 1; }
	printf '%s|%s\n' "$(grep -c 'the control flow of function\|number of counters in profile data' "${scratch}/${name}.log")" \
		"$(grep -oE "function ['‘][^'’]+['’] does not match" "${scratch}/${name}.log" | sed -E "s/^function ['‘]//; s/['’] does not match$//" | head -n 4 | paste -sd' ')"
}
d0=$(drift_compile same ':')
d1=$(drift_compile body "sed -i '/^pipe_read(struct kiocb \*iocb, struct iov_iter \*to)$/,/^{/{s/^{/{\n\tif (READ_ONCE(iocb->ki_pos) == 0x5a5a)\n\t\tbarrier();/}' \"\${c}\" && grep -q 0x5a5a \"\${c}\"")
d2=$(drift_compile new-function "sed -i '0,/^static /s//static noinline int gentoo_kopt_new(int x) { return x * 3; }\nstatic /' \"\${c}\" && grep -q gentoo_kopt_new \"\${c}\"")
IFS='|' read -r n0 _ <<<"${d0}"
IFS='|' read -r n1 f1 <<<"${d1}"
IFS='|' read -r n2 _ <<<"${d2}"
[[ ${n0} == 0 ]] && pass "drift: ${probe} from an unchanged copy of its source: no function mismatches its profile" ||
	fail "drift: unchanged copy: no mismatch" "${d0}"
[[ ${n1} == 1 && ${f1} == pipe_read ]] &&
	pass "drift: one branch added to pipe_read: only pipe_read mismatches (GCC drops its profile, keeps the other functions')" ||
	fail "drift: one branch added to pipe_read: only pipe_read mismatches" "${d1}"
n_own=$(gcov-dump -l "${b_instr}/${probe%.o}.gcno" | grep -c "FUNCTION .* /.*/${probe%.o}\.c:")
n_nf2=$(grep -c 'not found in profile data' "${scratch}/new-function.log")
(( n2 > 5 )) && pass "drift: one new function before the others: of the ${n_own} functions of ${probe%.o}.c, ${n2} mismatch and ${n_nf2} are not found (profile dropped), the other $((n_own - n2 - n_nf2)) silently take the counts of the function defined after them (ids are per-unit sequence numbers)" ||
	fail "drift: one new function shifts the sequence numbers of the functions after it" "${d2}"
timed "drift experiments (3 compiles of ${probe})" "${t}"

# The default ids: a hash of the name (global functions) or of source path + name + object (static
# ones). Same object, same source, compiled with -fprofile-arcs in ${S} of -r0 and of -r1.
t=$(now)
cc_instr=$(saved_cc "${b_instr}" "${probe}")
s_instr=${pf_instr}/work/${base_p}
# @FUNCTION: ids_of
# @USAGE: <S> <extra flag>: compiles the probe instrumented in ${b_instr} with its sources in <S>; prints "name ident" lines
ids_of() {
	local cmd=${cc_instr//"${s_instr}"/"${1}"}
	cmd=${cmd//" ${kc_ids}"/}
	cmd=${cmd/" -o ${probe} "/" -o ${scratch}/ids.o "}
	rm -f "${scratch}/ids.gcno"
	(cd "${b_instr}" && eval "${cmd} ${2}") > "${scratch}/ids.log" 2>&1 || { tail -n 3 "${scratch}/ids.log" >&2; return 1; }
	gcov-dump -l "${scratch}/ids.gcno" | sed -nE "s/.*FUNCTION ident=([0-9]+), .* \`([^']+)'.*/\2 \1/p" | sort
}
compare_ids() { # one compile after the other: both write ${scratch}/ids.gcno (the object name is part of the id)
	ids_of "${s_instr}" "${1}" > "${scratch}/ids-r0.txt" && ids_of "${s_use}" "${1}" > "${scratch}/ids-r1.txt" || return 1
	join "${scratch}/ids-r0.txt" "${scratch}/ids-r1.txt" | awk '$2 != $3 { d++ } END { printf "%d %d\n", d + 0, NR }'
}
read -r diff_default n_ids < <(compare_ids "")
read -r diff_internal _ < <(compare_ids "${kc_ids}")
(( diff_default > 0 && diff_internal == 0 )) &&
	pass "ids: ${probe} compiled in ${s_instr##*/portage/sys-kernel/} and in ${s_use##*/portage/sys-kernel/}: ${diff_default} of ${n_ids} function ids differ by default (the static functions), 0 with ${kc_ids}" ||
	fail "ids: the default ids of static functions depend on \${S}, the internal ids do not" "default: ${diff_default} of ${n_ids} differ; internal: ${diff_internal}"
timed "function ids (4 compiles of ${probe})" "${t}"

printf '\n== timings ==\n'
printf '      %s\n' "${timings[@]}"
printf '\nPGO test: %s in all\n' "$(since "${t_all}")"
finish
