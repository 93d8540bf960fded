#!/usr/bin/env bash
# Measures what clang does with GCC flags popular in Gentoo make.conf files, which reach the kernel's
# host programs: kernel-build.eclass passes HOSTCFLAGS="${BUILD_CFLAGS}" and
# HOSTLDFLAGS="${BUILD_LDFLAGS}", and toolchain-funcs' tc-export_build_env defaults those to CFLAGS and
# LDFLAGS on a native build. With toolchain = llvm, HOSTCC is clang.
#
# For each flag and each installed clang (/usr/lib/llvm-<N>/bin/clang) it compiles and links a tiny
# C file five ways:
#   cc     clang FLAG -c t.c                  (a host object: scripts/Makefile.host cmd_host-cobjs)
#   ccW    clang -Werror FLAG -c t.c          (objtool and libbpf compile KBUILD_HOSTCFLAGS with -Werror)
#   ld     clang t.o FLAG -o t                (FLAG in HOSTLDFLAGS; the driver's default linker)
#   one    clang FLAG t.c -o t                (compile and link in one: cmd_host-csingle)
#   lld    clang -fuse-ld=lld FLAG t.c -o t   (the same where clang's default linker is lld)
# Each result is ok, warn(<the warning's -W option>, or linker) or error. The TSV has a header line:
# flag, one column per clang (clang14, clang19: the five results), action, replacement, why.
#
# usage: bash test/distcc/host-flags.sh > test/distcc/host-flags.tsv   (the table, with the actions)
#        bash test/distcc/host-flags.sh --raw                           (the measurements only)
# Needs at least one /usr/lib/llvm-<N>/bin/clang (Debian: clang, clang-19).
set -uo pipefail

# shellcheck disable=SC2054 # -Wl,... flags contain commas
flags=(
	-fgraphite-identity -floop-nest-optimize -floop-interchange -floop-strip-mine -floop-block
	-fipa-pta -flto=auto -flto=jobserver -flto -flto=thin -fuse-linker-plugin -fdevirtualize-at-ltrans
	-flto-partition=one -ffat-lto-objects -fno-fat-lto-objects -fno-semantic-interposition
	-ftree-vectorize -fno-plt -fstack-clash-protection -fcf-protection -fstack-protector-strong
	-mtls-dialect=gnu2 -malign-data=cacheline -fira-loop-pressure -fsched-pressure -fmodulo-sched
	-fgcse-las -fgcse-sm -fipa-cp-clone -ftracer -fno-common -fomit-frame-pointer
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -march=native -mtune=native -O3 -Ofast
	-pipe -ggdb -flive-patching -flive-patching=inline-clone -fno-tree-pre -Wl,-O1 -Wl,--as-needed
	-Wl,-z,pack-relative-relocs -Wl,--hash-style=gnu -Wl,--sort-common -Wl,-z,now
	-fuse-ld=bfd -fuse-ld=gold -fuse-ld=lld -fuse-ld=mold
)

# What the hook should do with each flag in BUILD_CFLAGS / BUILD_LDFLAGS when HOSTCC is clang:
# flag|action|replacement|why. Actions: keep; drop; replace (by the replacement).
decisions() {
	cat <<'EOF'
-fgraphite-identity|drop||GCC Graphite; clang: unknown argument (error, compile and link)
-floop-nest-optimize|drop||GCC Graphite; clang: unknown argument
-floop-interchange|drop||GCC Graphite; clang: unknown argument
-floop-strip-mine|drop||GCC Graphite; clang: unknown argument
-floop-block|drop||GCC Graphite; clang: unknown argument
-fipa-pta|drop||GCC IPA; clang: unknown argument
-flto=auto|drop||LTO of host tools: clang takes it (full LTO), objects become bitcode; a link without -flto (LDFLAGS without it) fails with ld.bfd, and distcc keeps -flto compiles local
-flto=jobserver|drop||as -flto=auto
-flto|drop||as -flto=auto
-flto=thin|drop||as -flto=auto
-fuse-linker-plugin|drop||GCC LTO; clang warns -Wignored-optimization-argument: an error under -Werror (objtool, libbpf)
-fdevirtualize-at-ltrans|drop||GCC LTO; clang: unknown argument
-flto-partition=one|drop||GCC LTO; clang: unknown argument
-ffat-lto-objects|drop||GCC LTO; clang-14 warns -Wignored-optimization-argument (error under -Werror), clang-19 takes it
-fno-fat-lto-objects|drop||as -ffat-lto-objects
-fno-semantic-interposition|keep||accepted
-ftree-vectorize|keep||accepted
-fno-plt|keep||accepted
-fstack-clash-protection|keep||accepted
-fcf-protection|keep||accepted
-fstack-protector-strong|keep||accepted
-mtls-dialect=gnu2|drop||clang-14: unknown argument; clang-19 takes it (drop: nothing gained for host tools)
-malign-data=cacheline|drop||GCC x86 only; clang: unknown argument
-fira-loop-pressure|drop||GCC only; clang: unknown argument
-fsched-pressure|drop||GCC only; clang: unknown argument
-fmodulo-sched|drop||GCC only; clang warns -Wignored-optimization-argument: an error under -Werror
-fgcse-las|drop||GCC only; clang warns -Wignored-optimization-argument: an error under -Werror
-fgcse-sm|drop||GCC only; clang warns -Wignored-optimization-argument: an error under -Werror
-fipa-cp-clone|drop||GCC IPA; clang: unknown argument
-ftracer|drop||GCC only; clang warns -Wignored-optimization-argument: an error under -Werror
-fno-common|keep||accepted
-fomit-frame-pointer|keep||accepted
-fno-omit-frame-pointer|keep||accepted
-mno-omit-leaf-frame-pointer|keep||accepted
-march=native|keep||accepted (host tools run where they are built)
-mtune=native|keep||accepted
-O3|keep||accepted
-Ofast|replace|-O3|clang-19 warns -Wdeprecated-ofast (an error under -Werror); clang's advice: -O3, or -O3 -ffast-math for the same behaviour
-pipe|keep||accepted
-ggdb|keep||accepted
-flive-patching|drop||GCC only; clang: unknown argument
-flive-patching=inline-clone|drop||GCC only; clang: unknown argument
-fno-tree-pre|drop||GCC only; clang: unknown argument
-Wl,-O1|keep||LDFLAGS: both linkers take it (in CFLAGS: -Wunused-command-line-argument, an error under -Werror)
-Wl,--as-needed|keep||as -Wl,-O1
-Wl,-z,pack-relative-relocs|keep||as -Wl,-O1; ld.bfd 2.40 takes it, ld.lld-14 warns (unknown -z value), ld.lld-19 takes it
-Wl,--hash-style=gnu|keep||as -Wl,-O1
-Wl,--sort-common|keep||as -Wl,-O1
-Wl,-z,now|keep||as -Wl,-O1
-fuse-ld=bfd|keep||LDFLAGS only (in CFLAGS: unused at -c, an error under -Werror)
-fuse-ld=gold|keep||as -fuse-ld=bfd
-fuse-ld=lld|keep||as -fuse-ld=bfd
-fuse-ld=mold|keep||as -fuse-ld=bfd (an error when mold is not installed, as here)
EOF
}

work=$(mktemp -d "${TMPDIR:-/tmp}/gentoo-kopt-hostflags.XXXXXX")
trap 'rm -rf "${work}"' EXIT
printf 'int twice(int x) { return 2 * x; }\nint main(void) { return twice(0); }\n' > "${work}/t.c"

clangs=()
for c in /usr/lib/llvm-*/bin/clang; do [[ -x ${c} ]] && clangs+=("${c}"); done
mapfile -t clangs < <(printf '%s\n' "${clangs[@]}" | sort -V)
(( ${#clangs[@]} )) || { printf 'no /usr/lib/llvm-<N>/bin/clang (fix: apt-get install clang)\n' >&2; exit 1; }

# @FUNCTION: outcome
# @USAGE: <command...>
# @DESCRIPTION: Runs the command in the work directory; prints ok, warn(<-W option>) or error.
outcome() {
	local out rc w
	out=$(cd "${work}" && rm -f t.o t && "$@" 2>&1)
	rc=$?
	if (( rc != 0 )); then
		printf 'error'
	elif grep -q 'warning:' <<<"${out}"; then
		w=$(grep -o '\[-W[a-z0-9=-]*\]' <<<"${out}" | head -n 1 | tr -d '[]')
		printf 'warn(%s)' "${w:-linker}"
	else
		printf 'ok'
	fi
}
# @FUNCTION: measure
# @USAGE: <clang> <flag>
measure() {
	local cc=${1} flag=${2} r
	r="cc=$(outcome "${cc}" "${flag}" -c t.c -o t.o)"
	r+=" ccW=$(outcome "${cc}" -Werror "${flag}" -c t.c -o t.o)"
	r+=" ld=$( (cd "${work}" && "${cc}" -c t.c -o t.o.plain) >/dev/null 2>&1; outcome "${cc}" t.o.plain "${flag}" -o t)"
	r+=" one=$(outcome "${cc}" "${flag}" t.c -o t)"
	r+=" lld=$(outcome "${cc}" -fuse-ld=lld "${flag}" t.c -o t)"
	printf '%s' "${r}"
}

declare -A action=() replacement=() why=()
while IFS='|' read -r f a rep w; do action[${f}]=${a} replacement[${f}]=${rep} why[${f}]=${w}; done < <(decisions)

versions=()
for cc in "${clangs[@]}"; do
	v=${cc#/usr/lib/llvm-} versions+=("clang${v%/bin/clang}")
done
if [[ ${1-} == --raw ]]; then
	printf 'flag'; printf '\t%s' "${versions[@]}"; printf '\n'
else
	printf 'flag\t%s\taction\treplacement\twhy\n' "$(IFS=$'\t'; printf '%s' "${versions[*]}")"
fi
for flag in "${flags[@]}"; do
	printf '%s' "${flag}"
	for cc in "${clangs[@]}"; do printf '\t%s' "$(measure "${cc}" "${flag}")"; done
	[[ ${1-} == --raw ]] || printf '\t%s\t%s\t%s' "${action[${flag}]-?}" "${replacement[${flag}]-}" "${why[${flag}]-}"
	printf '\n'
done
