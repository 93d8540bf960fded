#!/usr/bin/env bash
# Runs `make` on a kernel tree the way kernel-build.eclass does in src_configure/src_compile, inside
# the environment an ebuild phase exported (the `export -p` file that
# examples/portage-sim/phase-runner.sh saved).
#
# usage: env -i PATH=... bash eclass-make.sh <exports-file> <kernel-source> <build-dir> <target>...
#
# What it mirrors (gentoo's eclass/kernel-build.eclass, kernel-build_src_configure, and
# toolchain-funcs.eclass): every tool goes on make's command line, taken from the package environment
# by tc-getCC & co: the variable when set, else ${CHOST}-<tool> when that is in PATH, else <tool>. The
# build tools (tc-getBUILD_CC & co) look at BUILD_X, X_FOR_BUILD, HOSTX, then X (native build). LD and
# HOSTLD get `.bfd` appended when such a program exists. HOSTCFLAGS is BUILD_CFLAGS, which
# tc-export_build_env defaults to CFLAGS on a native build. ARCH is tc-arch-kernel's (x86_64 on amd64),
# overriding Portage's exported ARCH=amd64. KCFLAGS, LLVM and LLVM_IAS are not on the command line:
# make reads them from the environment, which is why the hook exports them. emake adds MAKEOPTS.
# The eclass also passes TAR=gtar, which only kheaders needs; Debian has no gtar, so it is left out.
set -u

exports=${1:?exports file} src=${2:?kernel source} build=${3:?build dir}
shift 3
# shellcheck disable=SC1090 # the environment the compile phase exported (written by bash's export -p)
source "${exports}" || exit 2

# @FUNCTION: tc_prog
# @USAGE: <tuple variable> <program> <variable>...
# @DESCRIPTION:
# toolchain-funcs' lookup: the first non-empty variable, else <tuple>-<program> if in PATH, else <program>.
tc_prog() {
	local tuple=${1} prog=${2} v
	shift 2
	for v in "$@"; do
		[[ -n ${!v-} ]] && { printf '%s\n' "${!v}"; return 0; }
	done
	[[ -n ${!tuple-} ]] && type -P "${!tuple}-${prog}" >/dev/null && prog=${!tuple}-${prog}
	printf '%s\n' "${prog}"
}

# @FUNCTION: with_bfd
# @USAGE: <linker>
# @DESCRIPTION:
# The eclass's "force ld.bfd if we can find it easily".
with_bfd() {
	if type -P "${1}.bfd" >/dev/null; then printf '%s.bfd\n' "${1}"; else printf '%s\n' "${1}"; fi
}

ld=$(with_bfd "$(tc_prog CHOST ld LD)")
hostld=$(with_bfd "$(tc_prog CBUILD ld BUILD_LD LD_FOR_BUILD HOSTLD LD)")
makeargs=(
	V=1
	WERROR=0
	HOSTCC="$(tc_prog CBUILD gcc BUILD_CC CC_FOR_BUILD HOSTCC CC)"
	HOSTCXX="$(tc_prog CBUILD g++ BUILD_CXX CXX_FOR_BUILD HOSTCXX CXX)"
	HOSTLD="${hostld}"
	HOSTAR="$(tc_prog CBUILD ar BUILD_AR AR_FOR_BUILD HOSTAR AR)"
	HOSTCFLAGS="${BUILD_CFLAGS:-${CFLAGS-}}"
	HOSTLDFLAGS="${BUILD_LDFLAGS:-${LDFLAGS-}}"
	CROSS_COMPILE="${CHOST}-"
	AS="$(tc_prog CHOST as AS)"
	CC="$(tc_prog CHOST gcc CC)"
	LD="${ld}"
	AR="$(tc_prog CHOST ar AR)"
	NM="$(tc_prog CHOST nm NM)"
	STRIP="$(tc_prog CHOST strip STRIP)"
	OBJCOPY="$(tc_prog CHOST objcopy OBJCOPY)"
	OBJDUMP="$(tc_prog CHOST objdump OBJDUMP)"
	READELF="$(tc_prog CHOST readelf READELF)"
	ARCH=x86_64
)

printf '+ make O=%q' "${build}"
printf ' %q' "${makeargs[@]}" "$@"
printf '\n+ (environment: KCFLAGS=%q LLVM=%q LLVM_IAS=%q)\n' "${KCFLAGS-}" "${LLVM-}" "${LLVM_IAS-}"
cd "${src}" || exit 2
# shellcheck disable=SC2086 # MAKEOPTS is a word list, as emake uses it
exec make ${MAKEOPTS-} O="${build}" "${makeargs[@]}" "$@"
