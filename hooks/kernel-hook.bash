# gentoo-kopt kernel hook, installed by `gentoo-kopt hooks install` as
# ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/kernel-hook.bash and replaced on every install: change
# etc/gentoo-kopt/kopt.conf and run it again (`gentoo-kopt hooks uninstall` removes it).
#
# @BLURB: KCFLAGS, one complete LLVM (or GNU) toolchain and a just-in-time patch sync for dist-kernels
# @DESCRIPTION:
# The bashrc block sources this file for sys-kernel/*-kernel only, once one stat has shown it safe to
# read as root. It exports what hook-settings (kopt.conf compiled; read as data, every value checked
# again) asks for this package; in the setup phase of a source build it reports conflicts, runs
# `gentoo-kopt sync-patches --no-fetch --package ${CATEGORY}/${PF}` (it never downloads: it uses the
# download cache, and names `gentoo-kopt fetch` for a file missing there) and prints a summary. It assigns, never
# appends, defines no phase function, leaves no helper behind, and records what it exported for the
# block to repeat in the later phases. The design and the Portage sources it rests on: the README's
# hook section, and src/hooks/bashrc-block.ts in gentoo-kopt's source.

# @FUNCTION: _kopt_msg
# @USAGE: <info|warn|error> <message>...
# @INTERNAL
# @DESCRIPTION:
# Prints each message with einfo, ewarn or eerror, in the setup phase of a source build only: the other
# phases repeat the same work silently, so the build log says each thing once.
_kopt_msg() {
	[[ -n ${k_setup} ]] || return 0
	local level=${1} m
	for m in "${@:2}"; do "e${level}" "gentoo-kopt: ${m}"; done
}

# @FUNCTION: _kopt_unsafe
# @USAGE: <stat record: uid, mode in octal (%a), type letter (%.1A), ...> <type: - (a regular file) or d> <path>
# @INTERNAL
# @DESCRIPTION:
# Sets k_why to what makes <path> unfit to be read or run as root, and k_fix to its fix (both empty:
# nothing): another type, writable by group or others, or owned by anyone but root (or the user emerge
# runs as). The block applies the same rules to this file and its directory.
_kopt_unsafe() {
	local uid=${1%% *} mode=${1#* } type
	type=${mode#* } mode=${mode%% *}
	type=${type%% *}
	k_why='' k_fix=''
	if [[ ${type} != "${2}" ]]; then
		k_why='is not a regular file'
		[[ ${2} == d ]] && k_why='is not a directory'
		k_fix='run: gentoo-kopt hooks install'
	elif [[ ${mode} != *([0-7])[0145][0145] ]]; then
		k_why='is writable by group or others'
		k_fix="fix: chmod go-w '${3}'"
	elif [[ ${uid} != 0 && ${uid} != "${EUID}" ]]; then
		k_why='is not owned by root'
		k_fix="fix: chown root:root '${3}'"
	fi
}

# @FUNCTION: _kopt_check_settings
# @INTERNAL
# @DESCRIPTION:
# Succeeds when the settings may be read: the block's stat (kopt_stat: the directory, this file, then
# the settings when they exist) shows a file that passes _kopt_unsafe and is at most k_settings_max
# bytes (a FIFO or /dev/zero there would hang the emerge or fill its memory).
_kopt_check_settings() {
	local rec=${kopt_stat-} size fix='run: gentoo-kopt hooks install'
	if [[ ${rec} != *$'\n'*$'\n'* ]]; then
		if [[ -e ${k_settings} || -L ${k_settings} ]]; then
			_kopt_msg warn "cannot inspect ${k_settings}: settings ignored (${fix})"
		else
			_kopt_msg warn "${k_settings} is missing: nothing to do (${fix})"
		fi
		return 1
	fi
	rec=${rec##*$'\n'} size=${rec##* }
	_kopt_unsafe "${rec}" - "${k_settings}"
	if [[ -z ${k_why} ]] && { [[ ${size} != +([0-9]) ]] || (( size > k_settings_max )); }; then
		k_why="is larger than $(( k_settings_max / 1024 )) KiB" k_fix=${fix}
	fi
	[[ -z ${k_why} ]] && return 0
	_kopt_msg warn "${k_settings} ${k_why}: settings ignored (${k_fix})"
	return 1
}

# @FUNCTION: _kopt_read_settings
# @INTERNAL
# @DESCRIPTION:
# Reads the settings line by line, never evaluating them, into k_cfg: format, node, bin and this
# package's <category>/<pn>.<key> lines (k_found: at least one). A value that does not match its rule
# in k_rules (the rules of src/hooks/settings.ts) is ignored with a warning.
_kopt_read_settings() {
	_kopt_check_settings || return 1
	local -A k_rules=(
		[format]='^1$'
		[node]='^/[A-Za-z0-9_.+@/-]+$'
		[bin]='^/[A-Za-z0-9_.+@/-]+$'
		[kcflags]='^(--?[A-Za-z0-9][A-Za-z0-9_=,.+:/@%-]*( --?[A-Za-z0-9][A-Za-z0-9_=,.+:/@%-]*)*)?$'
		[toolchain]='^(llvm|gnu)$'
		[llvm-slot]='^([1-9][0-9]{0,3})?$'
		[lto]='^(none|thin|full|gcc)$'
		[strict]='^(yes|no)$'
		[series]='^([a-z0-9][a-z0-9._-]*( [a-z0-9][a-z0-9._-]*)*)?$'
		[mixed]='^(die|warn)$'
		[native]='^(yes|no)$'
		[pgo-mode]='^(none|instrument|use)$'
		[pgo-kind]='^(gcov|autofdo|propeller)$'
		[pgo-pv]='^([0-9][0-9a-z._]*)?$'
		[pgo-profile]='^(/[A-Za-z0-9_.+@/-]+)?$'
	)
	local line key value rule n=0 mine=${CATEGORY}/${PN}.
	local -a lines
	# one read for the whole file (at most k_settings_max bytes): a read per line costs ten times as much
	builtin mapfile -t lines < "${k_settings}"
	for line in "${lines[@]}"; do
		n=$(( n + 1 ))
		[[ -z ${line} || ${line} == '#'* ]] && continue
		if [[ ${line} != *=* ]]; then
			_kopt_msg warn "${k_settings}:${n}: not key=value: line ignored"
			continue
		fi
		key=${line%%=*} value=${line#*=} rule=''
		case ${key} in
			format|node|bin) rule=${k_rules[${key}]} ;;
			"${mine}"?*) key=${key#"${mine}"} rule=${k_rules[${key}]-} ;;
			*/*.*) continue ;; # another package's line
		esac
		if [[ -z ${rule} ]]; then
			_kopt_msg warn "${k_settings}:${n}: unknown key '${line%%=*}': line ignored"
		elif [[ ! ${value} =~ ${rule} ]]; then
			_kopt_msg warn "${k_settings}:${n}: ${key}: value not allowed, ignored (run: gentoo-kopt hooks install)"
		else
			k_cfg[${key}]=${value}
			[[ ${key} == @(format|node|bin) ]] || k_found=1
		fi
	done
	[[ -n ${k_cfg[format]} ]] && return 0
	_kopt_msg warn "${k_settings} has no valid format=1 line: settings ignored (run: gentoo-kopt hooks install)"
	return 1
}

# @FUNCTION: _kopt_has_native_cpu
# @INTERNAL
# @DESCRIPTION:
# Succeeds when this kernel version (PV: 6.16.2, 6.16_rc3, 6.18.32_p1) has CONFIG_X86_NATIVE_CPU, added
# in 6.16 (arch/x86/Kconfig.cpu); a PV that does not parse counts as older (-march=native twice is harmless).
_kopt_has_native_cpu() {
	[[ ${PV-} =~ ^([0-9]+)\.([0-9]+) ]] || return 1
	local major=$(( 10#${BASH_REMATCH[1]} )) minor=$(( 10#${BASH_REMATCH[2]} ))
	(( major > 6 || (major == 6 && minor >= 16) ))
}

# @FUNCTION: _kopt_family
# @USAGE: <value of CC, LD, ...>
# @INTERNAL
# @DESCRIPTION:
# Sets fam (a local of the caller) to llvm, gnu or other for a tool variable's value: the first word
# after a ccache/distcc/sccache/icecc wrapper, without directory, ${CHOST}-/${CBUILD}- prefix or
# -<version> suffix (x86_64-pc-linux-gnu-gcc-14 is gcc, /usr/lib/llvm/19/bin/clang is clang).
_kopt_family() {
	local rest=${1} word name
	while :; do
		rest=${rest#"${rest%%[![:space:]]*}"}
		word=${rest%%[[:space:]]*}
		case ${word##*/} in
			ccache|distcc|sccache|icecc) rest=${rest#"${word}"} ;;
			*) break ;;
		esac
	done
	name=${word##*/}
	[[ -n ${CHOST-} ]] && name=${name#"${CHOST}-"}
	[[ -n ${CBUILD-} ]] && name=${name#"${CBUILD}-"}
	name=${name%-[0-9]*}
	case ${name} in
		clang|clang++|clang-cpp|ld.lld|lld|llvm-*) fam=llvm ;;
		gcc|g++|cpp|ld|ld.bfd|ld.gold|gold|as|ar|gcc-ar|nm|gcc-nm|ranlib|gcc-ranlib|strip|objcopy|objdump|readelf) fam=gnu ;;
		*) fam=other ;;
	esac
}

# @FUNCTION: _kopt_slot_complete
# @USAGE: <slot>
# @INTERNAL
# @DESCRIPTION:
# Succeeds when ${k_llvm}/<slot>/bin has every LLVM tool of k_tools; else sets k_missing to those it lacks.
_kopt_slot_complete() {
	local tool
	k_missing=()
	for tool in "${k_tools[@]#*:}"; do
		[[ -f ${k_llvm}/${1}/bin/${tool} && -x ${k_llvm}/${1}/bin/${tool} ]] ||
			[[ " ${k_missing[*]} " == *" ${tool} "* ]] || k_missing+=( "${tool}" )
	done
	(( ! ${#k_missing[@]} ))
}

# @FUNCTION: _kopt_pick_slot
# @INTERNAL
# @DESCRIPTION:
# Sets k_slot to the LLVM slot to use: llvm-slot from the settings; else the slot CC points into when it
# is complete (this hook's export from an earlier phase, so a build never switches slots midway, or the
# user's choice); else the newest complete slot. Adds the problem to k_fatal when there is none.
_kopt_pick_slot() {
	local dir n=${CC-}
	k_slot=${k_cfg[llvm-slot]}
	if [[ -n ${k_slot} ]]; then
		_kopt_slot_complete "${k_slot}" && return 0
		k_fatal+=( "llvm-slot = ${k_slot}, but ${k_llvm}/${k_slot}/bin lacks: ${k_missing[*]}"
			"fix: emerge llvm-core/clang:${k_slot} llvm-core/lld:${k_slot} llvm-core/llvm:${k_slot}, or change llvm-slot in kopt.conf" )
		return 1
	fi
	n=${n#"${k_llvm}/"} n=${n%/bin/clang}
	[[ ${CC-} == clang-[1-9]*([0-9]) ]] && n=${CC#clang-} # the versioned name of _kopt_wrappers
	if [[ ${CC-} == @("${k_llvm}/${n}/bin/clang"|"clang-${n}") && ${n} == [1-9]*([0-9]) ]] && _kopt_slot_complete "${n}"; then
		k_slot=${n}
		return 0
	fi
	for dir in "${k_llvm}"/*/bin; do
		n=${dir%/bin} n=${n##*/}
		[[ ${n} == [1-9]*([0-9]) ]] && (( n > ${k_slot:-0} )) && _kopt_slot_complete "${n}" && k_slot=${n}
	done
	[[ -n ${k_slot} ]] && return 0
	k_fatal+=( "toolchain = llvm, but no LLVM slot in ${k_llvm} has all of: clang clang++ ld.lld llvm-ar llvm-nm llvm-strip llvm-objcopy llvm-objdump llvm-readelf"
		"fix: emerge llvm-core/clang llvm-core/lld llvm-core/llvm (one slot), or set toolchain = gnu in kopt.conf" )
	return 1
}

# @FUNCTION: _kopt_put
# @USAGE: <NAME=value | -NAME>
# @INTERNAL
# @DESCRIPTION:
# Exports NAME=value or unsets NAME, and records it in k_export or k_unset for the block to repeat.
_kopt_put() {
	if [[ ${1} == -* ]]; then
		unset -v "${1#-}"
		k_unset+=( "${1#-}" )
	else
		# shellcheck disable=SC2163 # ${1} is NAME=value
		export "${1}"
		k_export+=( "${1}" )
	fi
}

# @FUNCTION: _kopt_apply_toolchain
# @INTERNAL
# @DESCRIPTION:
# toolchain = llvm: exports every variable of k_tools as a path into one slot, and LLVM=1 LLVM_IAS=1
# (kernel-build.eclass passes the tools on make's command line, where they beat LLVM=1). gnu: unsets LLVM
# tools and LLVM/LLVM_IAS, so the eclass uses ${CHOST}-gcc & co. A tool of the other toolchain there or in
# k_shadows is a conflict (k_conflicts), another value replaced a note (k_notes); a value equal to the
# export is this hook's own from an earlier phase.
_kopt_apply_toolchain() {
	local entry var cur want fam other=llvm
	local -a vars=( "${k_shadows[@]}" )
	if [[ ${k_cfg[toolchain]} == llvm ]]; then
		other=gnu
		_kopt_pick_slot || return 0
		_kopt_wrappers
		for entry in "${k_tools[@]}"; do
			var=${entry%%:*} want=${k_llvm}/${k_slot}/bin/${entry#*:} cur=${!var-}
			want=${k_wrap[${var}]-${want}}
			if [[ -n ${cur} && ${cur} != "${want}" ]]; then
				_kopt_family "${cur}"
				if [[ ${fam} == gnu ]]; then
					k_conflicts+=( "${var}=${cur}" )
				else
					k_notes+=( "${var}=${cur} from the environment replaced by ${want} (one LLVM slot for every tool)" )
				fi
			fi
			_kopt_put "${var}=${want}"
		done
		for var in LLVM LLVM_IAS; do
			cur=${!var-}
			[[ -n ${cur} && ${cur} != 1 ]] && k_notes+=( "${var}=${cur} from the environment replaced by ${var}=1" )
			_kopt_put "${var}=1"
		done
	else
		vars=( "${k_tools[@]%%:*}" "${vars[@]}" )
		[[ -n ${LLVM-} && ${LLVM} != 0 ]] && k_conflicts+=( "LLVM=${LLVM}" )
		for var in LLVM LLVM_IAS; do [[ -z ${!var-} ]] || _kopt_put "-${var}"; done
	fi
	for var in "${vars[@]}"; do
		cur=${!var-}
		[[ -n ${cur} ]] || continue
		_kopt_family "${cur}"
		[[ ${fam} == "${other}" ]] || continue
		k_conflicts+=( "${var}=${cur}" )
		_kopt_put "-${var}"
	done
}

# @FUNCTION: _kopt_wrappers
# @INTERNAL
# @DESCRIPTION:
# toolchain = llvm with FEATURES=distcc or ccache. Portage turns them on by putting their masquerade
# directories first in PATH (lib/portage/package/ebuild/doebuild.py: ccache, then distcc), so an
# absolute compiler path bypasses them: the kernel silently builds on one machine, uncached. Here CC
# and CXX become the slot's versioned names clang-<slot> and clang++-<slot> (k_wrap): the masquerade
# links them (eselect compiler-shadow), distccd's whitelist accepts them, and only this slot has them,
# on the helpers too. The slot's bin directory goes into PATH right after the masquerade directories,
# so the wrapper runs this slot's compiler. With both, ccache takes distcc for the compiler and caches
# no kernel object unless told: CCACHE_COMPILERTYPE=clang. Without a masquerade link for both names
# the absolute paths stay, with a note. HOSTCC and the binutils stay absolute: objtool, a host tool,
# builds with -Werror, which clang fails on distcc's preprocessed code. test/distcc/run.sh proves it.
_kopt_wrappers() {
	local f dir bin=${k_llvm}/${k_slot}/bin cc=clang-${k_slot} cxx=clang++-${k_slot} lead='' rest=''
	local -a on=() dirs=() wrappers=()
	for f in distcc ccache; do [[ " ${FEATURES-} " == *" ${f} "* ]] && on+=( "${f}" ); done
	(( ${#on[@]} )) || return 0
	IFS=: builtin read -r -a dirs <<< "${PATH-}"
	for dir in "${dirs[@]}"; do
		for f in "${on[@]}"; do [[ -f ${dir}/${f} && -x ${dir}/${f} ]] && wrappers+=( "${dir}/${f}" ); done
	done
	# the leading PATH entries whose clang-<slot> and clang++-<slot> are links to a wrapper
	for dir in "${dirs[@]}"; do
		if [[ -z ${rest} ]]; then
			for f in "${wrappers[@]}"; do
				[[ ${dir}/${cc} -ef ${f} && ${dir}/${cxx} -ef ${f} ]] && { lead+=${dir}:; continue 2; }
			done
		fi
		[[ ${dir} == "${bin}" ]] || rest+=${dir}:
	done
	if [[ -z ${lead} ]]; then
		k_notes+=( "FEATURES has ${on[*]}, but no masquerade directory at the front of PATH links ${cc} and ${cxx}:"
			"  CC and CXX stay absolute paths, which bypass ${on[*]} (fix: eselect compiler-shadow update)" )
		return 0
	elif [[ ! -x ${bin}/${cc} || ! -x ${bin}/${cxx} ]]; then
		k_notes+=( "FEATURES has ${on[*]}, but ${bin} has no ${cc} or ${cxx}: CC and CXX bypass ${on[*]} (fix: emerge llvm-core/clang:${k_slot})" )
		return 0
	fi
	k_wrap=( [CC]=${cc} [CXX]=${cxx} )
	_kopt_put "PATH=${lead}${bin}:${rest%:}"
	[[ ${on[*]} == 'distcc ccache' ]] && _kopt_put CCACHE_COMPILERTYPE=clang
	_kopt_msg info "FEATURES has ${on[*]}: CC=${cc} CXX=${cxx} through ${lead%:}, then ${bin} in PATH"
	[[ ${on[0]} == distcc && " ${KCFLAGS-} " == *' '-m@(arch|tune)=native' '* ]] &&
		_kopt_msg warn "KCFLAGS has -march=native or -mtune=native: distcc compiles every such object locally (use -march=<this CPU's name>)"
	return 0
}

# @FUNCTION: _kopt_host_flags
# @INTERNAL
# @DESCRIPTION:
# toolchain = llvm: the host tools are built by clang with make.conf's flags (kernel-build.eclass
# passes HOSTCFLAGS="${BUILD_CFLAGS}" HOSTLDFLAGS="${BUILD_LDFLAGS}"; toolchain-funcs.eclass,
# tc-export_build_env, defaults them to CFLAGS and LDFLAGS). clang rejects GCC-only flags, or warns,
# and objtool builds with -Werror. So BUILD_CFLAGS and BUILD_LDFLAGS are exported without the words of
# k_host_drop (src/hooks/host-flags.ts has the same table, from clang's own answers in
# test/distcc/host-flags.tsv), -Ofast as -O3, linker flags out of BUILD_CFLAGS; the build log says so.
# CFLAGS, LDFLAGS and KCFLAGS are left alone. Filtering a filtered value changes nothing.
_kopt_host_flags() {
	[[ ${k_cfg[toolchain]} == llvm && -n ${k_slot} ]] || return 0
	local v build value word p new dropped
	local -a words
	# patterns, quoted: unquoted, each would first be expanded against the files of the working directory
	local -a k_host_drop=(
		-fgraphite-identity -floop-nest-optimize -floop-interchange -floop-strip-mine -floop-block
		-fipa-pta -fipa-cp-clone -fdevirtualize-at-ltrans -flto '-flto=*' '-flto-partition=*'
		-ffat-lto-objects -fno-fat-lto-objects -fuse-linker-plugin -mtls-dialect=gnu2 '-malign-data=*'
		-fira-loop-pressure -fsched-pressure -fmodulo-sched -fgcse-las -fgcse-sm -ftracer
		-flive-patching '-flive-patching=*' -fno-tree-pre
	)
	for v in CFLAGS LDFLAGS; do
		build=BUILD_${v} value=${!build-} new='' dropped=''
		[[ -n ${value} ]] || value=${!v-}
		builtin read -r -a words <<< "${value}"
		for word in "${words[@]}"; do
			for p in "${k_host_drop[@]}"; do
				# shellcheck disable=SC2053 # p is a pattern of the table
				[[ ${word} == ${p} ]] && { dropped+=" ${word}"; continue 2; }
			done
			if [[ ${v} == CFLAGS && ${word} == @(-Wl,*|-fuse-ld=*) ]]; then
				dropped+=" ${word}"
			elif [[ ${word} == -Ofast ]]; then
				dropped+=" ${word}(-O3)" new+=' -O3'
			else
				new+=" ${word}"
			fi
		done
		[[ -n ${dropped} ]] || continue
		new=${new# }
		[[ -n ${new} ]] || { new=' '; [[ ${v} == CFLAGS ]] && new=-O2; }
		_kopt_put "${build}=${new}"
		_kopt_msg info "${build} (HOSTCFLAGS/HOSTLDFLAGS of the kernel's host tools, built by clang) without GCC-only${dropped}"
	done
}

# --- pgo (gentoo-kopt pgo; src/commands/pgo.ts) ---------------------------------------------------

# @FUNCTION: _kopt_apply_pgo
# @INTERNAL
# @DESCRIPTION:
# What `gentoo-kopt pgo` set up for this package (pgo-mode, pgo-kind, pgo-pv, pgo-profile). gcov: both
# the instrumented and the profiled build name functions by per-file sequence numbers
# (--param=profile-func-internal-id=1: the default id of a static function hashes its source path, which
# holds ${PF}); the profiled one reads <profile>/<object path with / as #>.gcda, relative to the build
# directory kernel-build.eclass uses (O=${WORKDIR}/build; -fprofile-prefix-path, GCC 12+), with the
# wiki's flags. AutoFDO/Propeller: make reads CLANG_AUTOFDO_PROFILE / CLANG_PROPELLER_PROFILE_PREFIX from
# the environment (scripts/Makefile.autofdo, Makefile.propeller). A profile is applied only to a build
# of pgo-pv; the flags are appended to KCFLAGS once, whatever the earlier phases left there.
_kopt_apply_pgo() {
	local mode=${k_cfg[pgo-mode]:-none} kind=${k_cfg[pgo-kind]-} pv=${k_cfg[pgo-pv]-} prof=${k_cfg[pgo-profile]-}
	local add='' kc work
	[[ ${mode} == none ]] && return 0
	if [[ ${mode} == use && ${pv} != "${PV-}" ]]; then
		_kopt_msg warn "pgo: the ${kind} profile is for ${pv}, not ${PV-?}: built without it (run: gentoo-kopt pgo status)"
		return 0
	fi
	if [[ ${mode} == use && ! -d ${prof} ]]; then
		_kopt_msg warn "pgo: the profile ${prof} is missing: built without it (run: gentoo-kopt doctor)"
		return 0
	fi
	case ${kind}:${mode} in
		gcov:instrument) add='--param=profile-func-internal-id=1' ;;
		gcov:use)
			work=${WORKDIR:-${PORTAGE_BUILDDIR:+${PORTAGE_BUILDDIR}/work}}
			[[ -n ${work} ]] || return 0
			add="--param=profile-func-internal-id=1 -fprofile-use=${prof}/gcov -fprofile-prefix-path=${work}/build"
			add+=' -fprofile-correction -Wno-error=missing-profile -Wno-error=coverage-mismatch'
			;;
		autofdo:use) _kopt_put "CLANG_AUTOFDO_PROFILE=${prof}/kernel.afdo" ;;
		propeller:use)
			_kopt_put "CLANG_AUTOFDO_PROFILE=${prof}/kernel.afdo"
			_kopt_put "CLANG_PROPELLER_PROFILE_PREFIX=${prof}/propeller"
			;;
	esac
	if [[ -n ${add} ]]; then
		kc=${KCFLAGS-}
		[[ " ${kc} " == *" ${add} "* ]] || kc="${kc:+${kc} }${add}"
		_kopt_put "KCFLAGS=${kc}"
	fi
	_kopt_msg info "pgo: ${kind} ${mode}${prof:+ with ${prof}}"
}

# @FUNCTION: _kopt_record
# @INTERNAL
# @DESCRIPTION:
# Records for the block what this run exported and unset, and until when the later phases of this
# build may repeat it: the 10,000-second interval of now and the next one. None of the three is exported.
# shellcheck disable=SC2034 # read by the block in bashrc, in the later phases
_kopt_record() {
	[[ -n ${EPOCHSECONDS-} ]] || return 0
	declare -g +x KOPT_DONE="b${EPOCHSECONDS::6} b$(( ${EPOCHSECONDS::6} + 1 ))"
	declare -g +x -a KOPT_EXPORT=( "${k_export[@]}" ) KOPT_UNSET=( "${k_unset[@]}" )
}

# @FUNCTION: _kopt_run
# @INTERNAL
# @DESCRIPTION:
# Declares the state the helpers share (a bash local is visible to the functions it calls), in the C
# locale (a locale's collation changes what [a-z] matches; sync-patches gets the user's) and without the
# user's GLOBIGNORE, failglob, nocaseglob and nocasematch; reads the settings, applies them to a package
# they name, and records what it did.
_kopt_run() {
	local k_lc_all=${LC_ALL-} k_lc_all_attr=${LC_ALL@a}
	local LC_ALL=C GLOBIGNORE o k_found='' k_setup='' k_slot='' k_why='' k_fix=''
	unset GLOBIGNORE # and with it dotglob; _kopt_main puts dotglob back
	local k_conf=${PORTAGE_CONFIGROOT%/}/etc/gentoo-kopt k_broot=${BROOT-${EPREFIX-}}
	local k_settings=${k_conf}/hook-settings k_settings_max=65536 k_llvm=${k_broot%/}/usr/lib/llvm
	local -A k_cfg=( [toolchain]=gnu [lto]=none [strict]=no [mixed]=die [native]=no )
	local -a k_conflicts=() k_notes=() k_fatal=() k_missing=() k_export=() k_unset=() k_on=()
	local -A k_wrap=()
	# variable:LLVM tool. The same table as src/hooks/toolchain.ts (test/hook-bash.test.ts keeps them equal).
	local -a k_tools=(
		CC:clang CXX:clang++ LD:ld.lld AR:llvm-ar NM:llvm-nm STRIP:llvm-strip
		OBJCOPY:llvm-objcopy OBJDUMP:llvm-objdump READELF:llvm-readelf
		HOSTCC:clang HOSTCXX:clang++ HOSTAR:llvm-ar HOSTLD:ld.lld
	)
	# toolchain-funcs.eclass (tc-getBUILD_PROG) prefers these to HOSTCC & co: never set, and removed
	# (a conflict) when they name a tool of the other toolchain
	local -a k_shadows=(
		BUILD_CC CC_FOR_BUILD BUILD_CXX CXX_FOR_BUILD BUILD_LD LD_FOR_BUILD BUILD_AR AR_FOR_BUILD
	)
	[[ ${EBUILD_PHASE-} == setup && ${MERGE_TYPE-} != binary && ! -e ${PORTAGE_BUILDDIR-/nonexistent}/.setuped ]] &&
		k_setup=1
	# switched off only when on, and back before GLOBIGNORE is: each shopt -s/-u rewrites BASHOPTS,
	# which the user's GLOBIGNORE (it switches dotglob without) may have left stale
	for o in failglob nocaseglob nocasematch; do shopt -q "${o}" && k_on+=( "${o}" ); done
	(( ! ${#k_on[@]} )) || shopt -u "${k_on[@]}"

	if ! _kopt_read_settings; then
		_kopt_record # unusable settings: the later phases of this build use none either, even if fixed meanwhile
	elif [[ -n ${k_found} ]]; then
		# native = yes: the config fragment's X86_NATIVE_CPU does it from 6.16 on; before, -march=native
		if [[ ${k_cfg[native]} == yes ]] && ! _kopt_has_native_cpu; then
			k_cfg[kcflags]+="${k_cfg[kcflags]:+ }-march=native"
		fi
		if [[ -n ${k_cfg[kcflags]} ]]; then
			[[ -n ${KCFLAGS-} && ${KCFLAGS} != "${k_cfg[kcflags]}" ]] &&
				k_notes+=( "KCFLAGS='${KCFLAGS}' from the environment replaced by kopt.conf's" )
			_kopt_put "KCFLAGS=${k_cfg[kcflags]}"
		fi
		_kopt_apply_toolchain
		_kopt_host_flags
		_kopt_apply_pgo
		[[ -n ${k_setup} ]] && _kopt_setup
		_kopt_record
	fi
	(( ! ${#k_on[@]} )) || shopt -s "${k_on[@]}"
}

# @FUNCTION: _kopt_main
# @INTERNAL
# @DESCRIPTION:
# Runs _kopt_run in a known shell state, whatever the user's bashrc set before the block, and puts that
# state back. llvm-utils.eclass saves noglob as the text of $(shopt -p -o noglob), a fork, and runs it
# afterwards; here `local -` restores every set option on return, the shopt options are tested with
# shopt -q, and nullglob is left as it is (a -e test drops a pattern that matched nothing): no fork.
# Also put back: IFS, dotglob (leaving _kopt_run's local GLOBIGNORE switches it), and BASH_REMATCH,
# which [[ =~ ]] sets even inside a function.
_kopt_main() {
	local - IFS=$' \t\n' k_dotglob='' k_rematch_attr=${BASH_REMATCH@a}
	local -a k_rematch=( "${BASH_REMATCH[@]}" )
	set +a +e +f +u -B
	shopt -q dotglob && k_dotglob=1
	_kopt_run
	if [[ -n ${k_dotglob} ]]; then
		shopt -q dotglob || shopt -s dotglob
	elif shopt -q dotglob; then
		shopt -u dotglob
	fi
	if [[ -n ${k_rematch_attr} ]]; then
		BASH_REMATCH=( "${k_rematch[@]}" ) 2>/dev/null
	else
		unset BASH_REMATCH
	fi
	# every function of this file, this one too (bash finishes the body it runs)
	unset -f _kopt_main _kopt_run _kopt_msg _kopt_unsafe _kopt_check_settings _kopt_read_settings _kopt_family \
		_kopt_has_native_cpu _kopt_slot_complete _kopt_pick_slot _kopt_put _kopt_apply_toolchain _kopt_check_programs \
		_kopt_setup _kopt_record _kopt_wrappers _kopt_host_flags _kopt_apply_pgo
	return 0
}

# Only the setup phase of a source build calls the two functions below: in any other phase bash returns
# here, before it has even parsed them.
if [[ ${EBUILD_PHASE-} != setup || ${MERGE_TYPE-} == binary ]]; then
	_kopt_main
	return 0
fi

# @FUNCTION: _kopt_check_programs
# @INTERNAL
# @DESCRIPTION:
# Succeeds when node and bin, which the setup phase runs as root, and their directories pass
# _kopt_unsafe (one stat for the four); else sets problem (a local of _kopt_setup) to why not.
_kopt_check_programs() {
	local i st type
	local -a recs paths=( "${k_cfg[node]}" "${k_cfg[node]%/*}" "${k_cfg[bin]}" "${k_cfg[bin]%/*}" )
	st=$(exec stat -c '%u %a %.1A' -- "${paths[0]}" "${paths[1]}/." "${paths[2]}" "${paths[3]}/." 2>/dev/null)
	builtin mapfile -t recs <<< "${st}"
	if (( ${#recs[@]} != 4 )); then
		problem="cannot inspect ${paths[0]} and ${paths[2]}"
		return 1
	fi
	for i in 0 1 2 3; do
		type=-
		(( i % 2 )) && type=d
		_kopt_unsafe "${recs[i]}" "${type}" "${paths[i]:-/}"
		[[ -z ${k_why} ]] && continue
		problem="${paths[i]:-/} ${k_why} (${k_fix})"
		return 1
	done
	return 0
}

# @FUNCTION: _kopt_setup
# @INTERNAL
# @DESCRIPTION:
# The setup phase of a source build: reports conflicts and fatal problems (dies unless mixed-toolchain
# = warn), runs sync-patches for this exact version (it reports what it installed), checks the LTO
# prerequisites and prints the summary.
_kopt_setup() {
	local f lto_patches='' fragments='' problem='' rc=0 cpn=${CATEGORY}/${PN} tc=${k_cfg[toolchain]}
	local -a sync=( "${k_cfg[node]}" "${k_cfg[bin]}" sync-patches --no-fetch --package "${CATEGORY}/${PF}" )
	local config_d=${k_broot%/}/etc/kernel/config.d patches=${PORTAGE_CONFIGROOT%/}/etc/portage/patches/${CATEGORY}
	if (( ${#k_conflicts[@]} )) && [[ ${k_cfg[mixed]} == warn ]]; then
		_kopt_msg warn "kopt.conf says toolchain = ${tc} for ${cpn}; replaced from the environment:" "${k_conflicts[@]/#/  }"
	elif (( ${#k_conflicts[@]} )); then
		_kopt_msg error "kopt.conf says toolchain = ${tc} for ${cpn}, but the environment" \
			"(package.env, make.conf or the profile) sets tools of the other toolchain:" "${k_conflicts[@]/#/  }" \
			"a kernel built with both GNU and LLVM tools fails or misbehaves. Fix one of:" \
			" - remove these variables for ${cpn} (package.env, make.conf);" \
			" - change toolchain in ${k_conf}/kopt.conf, then run: gentoo-kopt hooks install;" \
			" - set mixed-toolchain = warn there to let kopt.conf's toolchain replace them."
		die "gentoo-kopt: mixed GNU/LLVM toolchain for ${CATEGORY}/${PF} (see above)"
	fi
	if (( ${#k_fatal[@]} )); then
		_kopt_msg error "${k_fatal[@]}"
		die "gentoo-kopt: cannot set up the ${tc} toolchain for ${CATEGORY}/${PF} (see above)"
	fi
	_kopt_msg warn "${k_notes[@]}"

	if [[ -z ${k_cfg[node]} || -z ${k_cfg[bin]} ]]; then
		problem="the settings name no gentoo-kopt program"
	elif [[ ! -x ${k_cfg[node]} || ! -f ${k_cfg[bin]} ]]; then
		problem="${k_cfg[node]} ${k_cfg[bin]} is not there any more (reinstall gentoo-kopt, then run gentoo-kopt hooks install)"
	elif _kopt_check_programs; then
		_kopt_msg info "sync-patches --package ${CATEGORY}/${PF}"
		# with the emerge's locale, not this hook's LC_ALL=C
		if [[ ${k_lc_all_attr} == *x* ]]; then
			LC_ALL=${k_lc_all} "${sync[@]}" || rc=$?
		else
			"${sync[@]}" || rc=$?
		fi
		(( rc == 0 )) || problem="sync-patches failed with exit status ${rc}"
	fi
	if [[ -n ${problem} ]]; then
		[[ ${k_cfg[strict]} == yes ]] && die "gentoo-kopt: ${problem}; strict = yes stops the build"
		_kopt_msg warn "${problem}: ${CATEGORY}/${PF} is built without syncing its patch series"
	fi

	if [[ ${k_cfg[lto]} == gcc ]]; then
		# a gcc-lto* file of sync-patches where eapply_user looks (bin/phase-helpers.sh: eapply_user)
		for f in "${patches}"/{"${PN}","${P}","${P}-${PR}"}{,":${SLOT%/*}"}/00-gentoo-kopt-[0-9]*-gcc-lto*-[0-9][0-9]-*; do
			[[ -e ${f} ]] && lto_patches=1
		done
		if [[ -z ${lto_patches} ]]; then
			[[ ${k_cfg[strict]} == yes ]] && die "gentoo-kopt: lto = gcc, but no gcc-lto series for ${PV}; strict = yes stops the build"
			_kopt_msg warn "lto = gcc, but no gcc-lto patches for ${PV}: this kernel is built WITHOUT LTO" \
				"(olddefconfig drops CONFIG_LTO_GCC when the kernel lacks it)"
		fi
	elif [[ ${k_cfg[lto]} != none && ! -e ${config_d}/50-gentoo-kopt-lto.config ]]; then
		_kopt_msg warn "lto = ${k_cfg[lto]}, but ${config_d}/50-gentoo-kopt-lto.config is missing (run: gentoo-kopt hooks install)"
	fi

	for f in "${config_d}"/*.config; do [[ -e ${f} ]] && fragments+=" ${f##*/}"; done
	if [[ ${tc} == llvm ]]; then
		_kopt_msg info "${CATEGORY}/${PF}: toolchain llvm, slot ${k_slot} (${k_llvm}/${k_slot}/bin), LLVM=1 LLVM_IAS=1"
	else
		_kopt_msg info "${CATEGORY}/${PF}: toolchain gnu (kernel-build.eclass defaults: ${CHOST-}-gcc & co)"
	fi
	_kopt_msg info "KCFLAGS=${KCFLAGS-(not set)}" "series: ${k_cfg[series]:-none configured}; lto ${k_cfg[lto]}" \
		"config fragments:${fragments:- none}"
}

_kopt_main
