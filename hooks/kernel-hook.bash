# gentoo-kopt kernel hook.
# Installed by `gentoo-kopt hooks install` as ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/kernel-hook.bash and
# replaced on every install: do not edit it here. Change etc/gentoo-kopt/kopt.conf and run
# `gentoo-kopt hooks install` again; remove everything with `gentoo-kopt hooks uninstall`.
#
# @BLURB: KCFLAGS, one complete LLVM (or GNU) toolchain and just-in-time patch sync for dist-kernels
# @DESCRIPTION:
# Sourced by the gentoo-kopt block of etc/portage/bashrc, and only for sys-kernel/*-kernel outside the
# depend and clean phases: the block tests CATEGORY and PN before anything else, so the thousands of
# other phases of a world update never see it.
#
# Portage sources bashrc in every phase, after it restored the environment saved by the previous one
# (bin/phase-functions.sh: __ebuild_main). Everything below therefore assigns, never appends. It:
#  - exports KCFLAGS (Kbuild appends it to every compile; kernel-build.eclass does not touch it);
#  - toolchain = llvm: exports LLVM=1 LLVM_IAS=1 and CC, CXX, LD, AR, NM, STRIP, OBJCOPY, OBJDUMP,
#    READELF, HOSTCC, HOSTCXX, HOSTAR, HOSTLD as absolute paths into one LLVM slot, because
#    kernel-build.eclass passes those variables on make's command line (tc-getCC & co), where they beat
#    LLVM=1;
#  - toolchain = gnu: removes LLVM tools and LLVM/LLVM_IAS, so the eclass falls back to ${CHOST}-gcc & co.
# A variable the environment (package.env, make.conf, a profile) set to a tool of the other toolchain is
# a conflict: in the setup phase it is listed with eerror and the build dies, or, with
# mixed-toolchain = warn, listed with ewarn; either way kopt.conf's toolchain is what gets exported.
# A value equal to what this hook exports is its own from an earlier phase and never a conflict.
#
# In the setup phase of a source build (root, sandbox off: Portage's doebuild.py runs the whole setup
# phase unsandboxed and without userpriv) it also runs `gentoo-kopt sync-patches --package
# ${CATEGORY}/${PF}` so the exact version being built has its patch series before eapply_user, and
# prints one einfo summary. A failing sync is an ewarn (the emerge goes on without the series) unless
# strict = yes.
#
# Why no pre_pkg_setup: Portage calls a hook function by name and there is one function of each name
# (bin/phase-functions.sh: __ebuild_phase), so a definition later in bashrc would silently replace
# ours, and ours would have to chain to one defined earlier. The setup work runs while this file is
# sourced in the setup phase instead: the same process and privileges as pre_pkg_setup, moments
# earlier. The hook defines no phase function and unsets its own helpers before it returns, so the
# user's hook functions are never touched, in whatever order bashrc defines them, and the saved
# environment of a kernel build gains nothing but the exported variables and the record below.
#
# Settings come from ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/hook-settings, a data file of key=value
# lines compiled from kopt.conf. It is read with `read -r`, never sourced or evaluated, and every value
# is checked again here against a whitelist: a hand-edited value that is not what its key allows is
# ignored with an ewarn, so no value can run code. The file is ignored as a whole, with an ewarn, unless
# it is a regular file of at most 64 KiB (a FIFO would hang the emerge, /dev/zero fill its memory),
# owned by root (or, when emerge does not run as root, by root or that user) and not writable by group
# or others. node= and bin=, which the setup phase runs as root, are run only when they and their
# directories pass the same owner and mode rules (a strict = yes build dies otherwise).
#
# Nothing is read or run unchecked, and the check costs a fork only where it matters (the block's
# design; Portage facts from bin/phase-functions.sh __ebuild_main, bin/save-ebuild-env.sh,
# lib/_emerge/Binpkg.py, lib/portage/package/ebuild/doebuild.py and lib/portage/dbapi/vartree.py):
#  - The block reads this file only after one stat has shown it and its directory to pass the owner and
#    mode rules above; the same stat covers the settings, which this file then judges (kopt_stat).
#    pretend and setup always check: setup runs as root with the sandbox off, and node and bin get a
#    stat of their own right before they run. This file then records, in order, what it exported and
#    unset (GENTOO_KOPT_EXPORTS) and the 10,000-second interval of the check and the next one
#    (GENTOO_KOPT_DONE). Neither is exported; Portage saves every variable (declare -p) into
#    ${T}/environment, which root and the build user alone can write, for the next phase to restore.
#  - In unpack, prepare, configure, compile, test, install, instprep, preinst, postinst, package and
#    misc-functions.sh (which sources bashrc with EBUILD_PHASE unset after install, preinst and
#    postinst: lib/_emerge/MiscFunctionsProcess.py), within those intervals, the block repeats that
#    record instead: no fork, and this file is not even parsed. Any other phase checks again, because
#    the environment it restores may be old: prerm, postrm, config and info restore the installed
#    package's (the VDB's environment.bz2 keeps the record), a binary package's pretend and setup
#    restore its builder's, and a build resumed hours later has an expired record. Binary packages run
#    setup, and so the check, before preinst (lib/_emerge/Binpkg.py). clean, which only removes the
#    build directory and restores no environment, is left alone. The record is this file's, never
#    exported: an exported GENTOO_KOPT_DONE (from the process environment) is not repeated.
#
# shellcheck disable=SC1007 # `local a= b=` declares empty locals on purpose

# @FUNCTION: _kopt_msg
# @USAGE: <level> <message>
# @INTERNAL
# @DESCRIPTION:
# Prints a message (level: info, warn, error) in the setup phase of a source build only: every other
# phase repeats the same work silently, so the build log says each thing once.
_kopt_msg() {
	[[ -n ${k_setup} ]] || return 0
	case ${1} in
		info) einfo "gentoo-kopt: ${2}" ;;
		warn) ewarn "gentoo-kopt: ${2}" ;;
		error) eerror "gentoo-kopt: ${2}" ;;
	esac
}

# @FUNCTION: _kopt_unsafe
# @USAGE: <stat record: uid, mode as stat's %A, ...> <type: - (a regular file) or d> <path>
# @INTERNAL
# @DESCRIPTION:
# Sets k_why to what makes <path> unfit to be read or run as root, and k_fix to its fix (both empty:
# nothing): another type (a symlink, a FIFO, a device), writable by group or others, or owned by
# anyone but root (or the user emerge runs as, when that is not root). The block in bashrc applies the
# same rules to this file and its directory.
_kopt_unsafe() {
	local uid=${1%% *} mode=${1#* }
	mode=${mode%% *}
	k_why= k_fix=
	if [[ ${mode:0:1} != "${2}" ]]; then
		k_why='is not a regular file'
		[[ ${2} == d ]] && k_why='is not a directory'
		k_fix='run: gentoo-kopt hooks install'
	elif [[ ${mode:5:1} == w || ${mode:8:1} == w ]]; then
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
# Succeeds when the settings file may be read: it is there, and what the block's stat saw of it
# (kopt_stat: the directory, this file, then the settings) passes _kopt_unsafe and the size cap
# (a FIFO, a device or a huge file in its place would hang or slow the emerge). Sourced without the
# block, it looks itself.
_kopt_check_settings() {
	local st=${kopt_stat-} rec size
	[[ -n ${st} ]] || st=$(command stat -c '%u %A %s' -- "${k_conf}/." "${k_conf}/kernel-hook.bash" "${k_settings}" 2>/dev/null)
	rec=${st#*$'\n'}
	if [[ ${rec} == "${st}" || ${rec} != *$'\n'* ]]; then
		if [[ -e ${k_settings} || -L ${k_settings} ]]; then
			_kopt_msg warn "cannot inspect ${k_settings}: settings ignored"
		else
			_kopt_msg warn "${k_settings} is missing: nothing to do (run: gentoo-kopt hooks install)"
		fi
		return 1
	fi
	rec=${rec#*$'\n'}
	_kopt_unsafe "${rec}" - "${k_settings}"
	if [[ -n ${k_why} ]]; then
		_kopt_msg warn "${k_settings} ${k_why}: settings ignored (${k_fix})"
		return 1
	fi
	size=${rec##* }
	if [[ ${size} != +([0-9]) ]] || (( size > k_settings_max )); then
		_kopt_msg warn "${k_settings} is larger than $(( k_settings_max / 1024 )) KiB: settings ignored (run: gentoo-kopt hooks install)"
		return 1
	fi
	return 0
}

# @FUNCTION: _kopt_read_settings
# @INTERNAL
# @DESCRIPTION:
# Reads the settings file line by line into the k_* variables of _kopt_main: format, node, bin, and
# the <category>/<pn>.<key> lines of this package (k_found is set when there is at least one).
# Values are matched against k_rules; a value that does not match is ignored with a warning.
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
	)
	local line key value rule n=0 mine=${CATEGORY}/${PN}. format=
	while IFS= builtin read -r line || [[ -n ${line} ]]; do
		n=$((n + 1))
		[[ -z ${line} || ${line} == '#'* ]] && continue
		if [[ ${line} != *=* ]]; then
			_kopt_msg warn "${k_settings}:${n}: not key=value: line ignored"
			continue
		fi
		key=${line%%=*} value=${line#*=}
		case ${key} in
			"${mine}"*) key=${key#"${mine}"} ;;
			*/*.*) continue ;; # another package's line
			format|node|bin) ;;
			*) _kopt_msg warn "${k_settings}:${n}: unknown key '${key}': line ignored"; continue ;;
		esac
		rule=${k_rules[${key}]-}
		if [[ -z ${rule} ]]; then
			_kopt_msg warn "${k_settings}:${n}: unknown key '${key}': line ignored"
			continue
		fi
		if [[ ! ${value} =~ ${rule} ]]; then
			_kopt_msg warn "${k_settings}:${n}: ${key}: value not allowed, ignored (run: gentoo-kopt hooks install)"
			continue
		fi
		case ${key} in
			format) format=${value} ;;
			node) k_node=${value} ;;
			bin) k_bin=${value} ;;
			kcflags) k_kcflags=${value} k_found=1 ;;
			toolchain) k_toolchain=${value} k_found=1 ;;
			llvm-slot) k_slot=${value} k_found=1 ;;
			lto) k_lto=${value} k_found=1 ;;
			strict) k_strict=${value} k_found=1 ;;
			series) k_series=${value} k_found=1 ;;
			mixed) k_mixed=${value} k_found=1 ;;
		esac
	done < "${k_settings}"
	if [[ -z ${format} ]]; then
		_kopt_msg warn "${k_settings} has no valid format=1 line: settings ignored (run: gentoo-kopt hooks install)"
		return 1
	fi
	return 0
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

# @FUNCTION: _kopt_glob
# @USAGE: <pattern>
# @INTERNAL
# @DESCRIPTION:
# Sets k_matches to the paths matching <pattern> (none: empty), whatever glob options the user's
# bashrc set (nullglob, failglob, nocaseglob, set -f), and puts those options back as they were.
_kopt_glob() {
	local IFS= had_null=0 had_fail=0 had_nocase=0 had_noglob=0
	# only what needs changing: every shopt call refreshes BASHOPTS, which bash does not when
	# GLOBIGNORE switches dotglob, and the user's BASHOPTS is to stay as it was
	shopt -q nullglob && had_null=1
	shopt -q failglob && had_fail=1
	shopt -q nocaseglob && had_nocase=1
	[[ $- == *f* ]] && had_noglob=1
	(( had_null )) || shopt -s nullglob
	(( ! had_fail )) || shopt -u failglob
	(( ! had_nocase )) || shopt -u nocaseglob
	(( ! had_noglob )) || set +f
	# shellcheck disable=SC2206 # the pattern is meant to glob (IFS is empty: no word splitting)
	k_matches=( ${1} )
	(( had_null )) || shopt -u nullglob
	(( ! had_fail )) || shopt -s failglob
	(( ! had_nocase )) || shopt -s nocaseglob
	(( ! had_noglob )) || set -f
	return 0
}

# @FUNCTION: _kopt_slot_missing
# @USAGE: <slot>
# @INTERNAL
# @DESCRIPTION:
# Sets k_missing to the LLVM tools of k_tools that ${k_llvm}/<slot>/bin lacks (empty: complete).
_kopt_slot_missing() {
	local entry tool seen=' '
	k_missing=()
	for entry in "${k_tools[@]}"; do
		tool=${entry#*:}
		[[ ${seen} == *" ${tool} "* ]] && continue
		seen+="${tool} "
		[[ -x ${k_llvm}/${1}/bin/${tool} && -f ${k_llvm}/${1}/bin/${tool} ]] || k_missing+=( "${tool}" )
	done
}

# @FUNCTION: _kopt_pick_slot
# @INTERNAL
# @DESCRIPTION:
# Chooses the LLVM slot into k_slot_used: llvm-slot from the settings when given; else the slot CC
# already points into when that slot is complete (our own export from an earlier phase, so one build
# never switches slots midway, or the user's choice); else the newest complete slot. Records a fatal
# problem in k_fatal when there is none.
_kopt_pick_slot() {
	local dir n best=
	if [[ -n ${k_slot} ]]; then
		_kopt_slot_missing "${k_slot}"
		if (( ${#k_missing[@]} )); then
			k_fatal+=( "llvm-slot = ${k_slot}, but ${k_llvm}/${k_slot}/bin lacks: ${k_missing[*]}"
				"fix: emerge llvm-core/clang:${k_slot} llvm-core/lld:${k_slot} llvm-core/llvm:${k_slot}, or change llvm-slot in kopt.conf" )
			return 1
		fi
		k_slot_used=${k_slot}
		return 0
	fi
	if [[ ${CC-} == "${k_llvm}"/*/bin/clang ]]; then
		n=${CC#"${k_llvm}/"} n=${n%/bin/clang}
		if [[ ${n} =~ ^[0-9]+$ ]]; then
			_kopt_slot_missing "${n}"
			if (( ! ${#k_missing[@]} )); then
				k_slot_used=${n}
				return 0
			fi
		fi
	fi
	_kopt_glob "${k_llvm}/*/bin"
	for dir in "${k_matches[@]}"; do
		n=${dir%/bin} n=${n##*/}
		[[ ${n} =~ ^[0-9]+$ ]] || continue
		[[ -z ${best} ]] || (( n > best )) || continue
		_kopt_slot_missing "${n}"
		(( ${#k_missing[@]} )) || best=${n}
	done
	if [[ -z ${best} ]]; then
		k_fatal+=( "toolchain = llvm, but no LLVM slot in ${k_llvm} has all of: clang clang++ ld.lld llvm-ar llvm-nm llvm-strip llvm-objcopy llvm-objdump llvm-readelf"
			"fix: emerge llvm-core/clang llvm-core/lld llvm-core/llvm (one slot), or set toolchain = gnu in kopt.conf" )
		return 1
	fi
	k_slot_used=${best}
	return 0
}

# @FUNCTION: _kopt_apply_toolchain
# @INTERNAL
# @DESCRIPTION:
# Exports the configured toolchain (see the file header) and collects conflicts in k_conflicts and
# replaced values in k_notes.
_kopt_apply_toolchain() {
	local entry var cur want fam other
	if [[ ${k_toolchain} == llvm ]]; then
		other=gnu
		_kopt_pick_slot || return 0
		k_slot_bin=${k_llvm}/${k_slot_used}/bin
		for entry in "${k_tools[@]}"; do
			var=${entry%%:*} want=${k_slot_bin}/${entry#*:} cur=${!var-}
			if [[ -n ${cur} && ${cur} != "${want}" ]]; then
				_kopt_family "${cur}"
				if [[ ${fam} == gnu ]]; then
					k_conflicts+=( "${var}=${cur}" )
				else
					k_notes+=( "${var}=${cur} from the environment replaced by ${want} (one LLVM slot for every tool)" )
				fi
			fi
			export "${var}=${want}"
			k_record+=( "${var}=${want}" )
		done
		for var in LLVM LLVM_IAS; do
			cur=${!var-}
			[[ -n ${cur} && ${cur} != 1 ]] && k_notes+=( "${var}=${cur} from the environment replaced by ${var}=1" )
			export "${var}=1"
			k_record+=( "${var}=1" )
		done
	else
		other=llvm
		for entry in "${k_tools[@]}"; do
			var=${entry%%:*} cur=${!var-}
			[[ -n ${cur} ]] || continue
			_kopt_family "${cur}"
			if [[ ${fam} == llvm ]]; then
				k_conflicts+=( "${var}=${cur}" )
				unset "${var}"
				k_record+=( "-${var}" )
			fi
		done
		for var in LLVM LLVM_IAS; do
			cur=${!var-}
			[[ -n ${cur} ]] || continue
			[[ ${var} == LLVM && ${cur} != 0 ]] && k_conflicts+=( "${var}=${cur}" )
			unset "${var}"
			k_record+=( "-${var}" )
		done
	fi
	# toolchain-funcs.eclass (tc-getBUILD_PROG) prefers these over HOSTCC & co: never set, but a tool
	# of the other toolchain there would mix the build, so it is a conflict and removed.
	for var in "${k_shadows[@]}"; do
		cur=${!var-}
		[[ -n ${cur} ]] || continue
		_kopt_family "${cur}"
		if [[ ${fam} == "${other}" ]]; then
			k_conflicts+=( "${var}=${cur}" )
			unset "${var}"
			k_record+=( "-${var}" )
		fi
	done
}

# @FUNCTION: _kopt_count_series
# @USAGE: <series>
# @INTERNAL
# @DESCRIPTION:
# Sets k_count to the number of patch files sync-patches installed for <series> (names
# 00-gentoo-kopt-<n>-<series>-<nn>-*) that eapply_user will find for this build: the directories
# ${PN}, ${P} and ${P}-${PR}, each also with :${SLOT%/*} (bin/phase-helpers.sh, eapply_user).
_kopt_count_series() {
	local base=${PORTAGE_CONFIGROOT%/}/etc/portage/patches/${CATEGORY} name dir f seen=' '
	k_count=0
	for name in "${PN}" "${P}" "${P}-${PR}"; do
		for dir in "${base}/${name}" "${base}/${name}:${SLOT%/*}"; do
			_kopt_glob "${dir}/00-gentoo-kopt-[0-9]*-${1}-[0-9][0-9]-*"
			for f in "${k_matches[@]}"; do
				f=${f##*/}
				[[ ${f} == *.patch || ${f} == *.diff ]] || continue
				[[ ${seen} == *" ${f} "* ]] && continue
				seen+="${f} "
				k_count=$((k_count + 1))
			done
		done
	done
	return 0
}

# @FUNCTION: _kopt_check_programs
# @INTERNAL
# @DESCRIPTION:
# Succeeds when node and bin, which the setup phase runs as root, and the directories that hold them
# pass _kopt_unsafe (one stat for the four); else sets problem (a local of _kopt_setup) to why not,
# with the fix.
_kopt_check_programs() {
	local st i type
	local -a recs paths=( "${k_node}" "${k_node%/*}" "${k_bin}" "${k_bin%/*}" )
	st=$(command stat -c '%u %A' -- "${k_node}" "${k_node%/*}/." "${k_bin}" "${k_bin%/*}/." 2>/dev/null)
	builtin mapfile -t recs <<< "${st}"
	if (( ${#recs[@]} != 4 )); then
		problem="cannot inspect ${k_node} and ${k_bin}"
		return 1
	fi
	for i in 0 1 2 3; do
		type=-
		(( i % 2 )) && type=d
		_kopt_unsafe "${recs[i]}" "${type}" "${paths[i]:-/}"
		if [[ -n ${k_why} ]]; then
			problem="${paths[i]:-/} ${k_why} (${k_fix})"
			return 1
		fi
	done
	return 0
}

# @FUNCTION: _kopt_setup
# @INTERNAL
# @DESCRIPTION:
# The setup-phase work: report conflicts and fatal problems (die unless mixed-toolchain = warn), sync
# the patch series for this exact version, check the LTO prerequisites, print the summary.
_kopt_setup() {
	local line problem= rc s fragments= f series_info=
	if (( ${#k_conflicts[@]} )); then
		if [[ ${k_mixed} == warn ]]; then
			ewarn "gentoo-kopt: kopt.conf says toolchain = ${k_toolchain} for ${CATEGORY}/${PN}; replaced from the environment:"
			for line in "${k_conflicts[@]}"; do ewarn "gentoo-kopt:   ${line}"; done
		else
			eerror "gentoo-kopt: kopt.conf says toolchain = ${k_toolchain} for ${CATEGORY}/${PN}, but the environment"
			eerror "gentoo-kopt: (package.env, make.conf or the profile) sets tools of the other toolchain:"
			for line in "${k_conflicts[@]}"; do eerror "gentoo-kopt:   ${line}"; done
			eerror "gentoo-kopt: a kernel built with both GNU and LLVM tools fails or misbehaves. Fix one of:"
			eerror "gentoo-kopt:  - remove these variables for ${CATEGORY}/${PN} (package.env, make.conf);"
			eerror "gentoo-kopt:  - change toolchain in ${k_conf}/kopt.conf, then run: gentoo-kopt hooks install;"
			eerror "gentoo-kopt:  - set mixed-toolchain = warn there to let kopt.conf's toolchain replace them."
			die "gentoo-kopt: mixed GNU/LLVM toolchain for ${CATEGORY}/${PF} (see above)"
		fi
	fi
	if (( ${#k_fatal[@]} )); then
		for line in "${k_fatal[@]}"; do eerror "gentoo-kopt: ${line}"; done
		die "gentoo-kopt: cannot set up the ${k_toolchain} toolchain for ${CATEGORY}/${PF} (see above)"
	fi
	for line in "${k_notes[@]}"; do ewarn "gentoo-kopt: ${line}"; done

	if [[ -z ${k_node} || -z ${k_bin} ]]; then
		problem="the settings name no gentoo-kopt program"
	elif [[ ! -x ${k_node} || ! -f ${k_bin} ]]; then
		problem="${k_node} ${k_bin} is not there any more (reinstall gentoo-kopt, then run gentoo-kopt hooks install)"
	elif _kopt_check_programs; then
		einfo "gentoo-kopt: sync-patches --package ${CATEGORY}/${PF}"
		rc=0
		# with the locale the emerge has (this hook runs under LC_ALL=C, see _kopt_main)
		if [[ ${k_lc_all_attr} == *x* ]]; then
			LC_ALL=${k_lc_all} "${k_node}" "${k_bin}" sync-patches --package "${CATEGORY}/${PF}" || rc=$?
		else
			"${k_node}" "${k_bin}" sync-patches --package "${CATEGORY}/${PF}" || rc=$?
		fi
		(( rc == 0 )) || problem="sync-patches failed with exit status ${rc}"
	fi
	if [[ -n ${problem} ]]; then
		[[ ${k_strict} == yes ]] && die "gentoo-kopt: ${problem}; strict = yes stops the build"
		ewarn "gentoo-kopt: ${problem}: ${CATEGORY}/${PF} is built without syncing its patch series"
	fi

	for s in ${k_series}; do
		_kopt_count_series "${s}"
		series_info+=" ${s} (${k_count} patch files for ${PV})"
	done
	if [[ ${k_lto} == gcc ]]; then
		k_count=0
		for s in ${k_series}; do
			[[ ${s} == gcc-lto* ]] && _kopt_count_series "${s}" && (( k_count )) && break
		done
		if (( ! k_count )); then
			[[ ${k_strict} == yes ]] && die "gentoo-kopt: lto = gcc, but no gcc-lto series for ${PV}; strict = yes stops the build"
			ewarn "gentoo-kopt: lto = gcc, but no gcc-lto patches for ${PV}: this kernel is built WITHOUT LTO"
			ewarn "gentoo-kopt: (olddefconfig drops CONFIG_LTO_GCC when the kernel lacks it)"
		fi
	fi

	_kopt_glob "${k_broot%/}/etc/kernel/config.d/*.config"
	for f in "${k_matches[@]}"; do fragments+=" ${f##*/}"; done
	if [[ ${k_lto} == thin || ${k_lto} == full ]] && [[ ${fragments} != *" 50-gentoo-kopt-lto.config"* ]]; then
		ewarn "gentoo-kopt: lto = ${k_lto}, but ${k_broot%/}/etc/kernel/config.d/50-gentoo-kopt-lto.config is missing (run: gentoo-kopt hooks install)"
	fi

	if [[ ${k_toolchain} == llvm ]]; then
		einfo "gentoo-kopt: ${CATEGORY}/${PF}: toolchain llvm, slot ${k_slot_used} (${k_slot_bin}), LLVM=1 LLVM_IAS=1"
	else
		einfo "gentoo-kopt: ${CATEGORY}/${PF}: toolchain gnu (kernel-build.eclass defaults: ${CHOST-}-gcc & co)"
	fi
	einfo "gentoo-kopt: KCFLAGS=${KCFLAGS-(not set)}"
	einfo "gentoo-kopt: series:${series_info:- none configured}; lto ${k_lto}"
	einfo "gentoo-kopt: config fragments:${fragments:- none}"
}

# @FUNCTION: _kopt_record
# @INTERNAL
# @DESCRIPTION:
# Records what this run exported (NAME=value) and unset (-NAME), in order, for the later phases of this
# build, which repeat it without reading this file; and when they may (see the header).
# shellcheck disable=SC2034 # both are read by the block in bashrc, in the later phases
_kopt_record() {
	[[ -n ${EPOCHSECONDS-} ]] || return 0
	declare -g +x GENTOO_KOPT_DONE="b${EPOCHSECONDS::6} b$(( ${EPOCHSECONDS::6} + 1 ))"
	declare -g -a GENTOO_KOPT_EXPORTS=( "${k_record[@]}" )
}

# @FUNCTION: _kopt_main
# @INTERNAL
# @DESCRIPTION:
# Runs _kopt_run with the shell in a known state, whatever the user's bashrc set before the block, and
# puts that state back exactly afterwards: errexit, nounset, allexport (and noglob, which _kopt_glob
# handles) through `local -`; IFS; nocasematch (it would loosen every [[ == ]], case and =~ below);
# dotglob and GLOBIGNORE (they change globs); the locale (LC_ALL=C in _kopt_run: a locale's collation
# changes what [a-z] matches in the value checks); and BASH_REMATCH, which [[ =~ ]] sets even inside a
# function (a local BASH_REMATCH does not help). Builtins and stat are called as `builtin` and `command`
# where a function of the user's by that name would otherwise run.
_kopt_main() {
	local -
	set +a +e +u
	local IFS=$' \t\n' k_rematch_set= k_nocasematch=0 k_dotglob=0
	local k_lc_all=${LC_ALL-} k_lc_all_attr=${LC_ALL@a}
	declare -p BASH_REMATCH >/dev/null 2>&1 && k_rematch_set=1
	local -a k_rematch=( "${BASH_REMATCH[@]}" )
	shopt -q nocasematch && k_nocasematch=1
	shopt -q dotglob && k_dotglob=1
	(( ! k_nocasematch )) || shopt -u nocasematch
	_kopt_run
	# after _kopt_run's local GLOBIGNORE is gone: restoring GLOBIGNORE switches dotglob too. Only
	# what changed is set again (see _kopt_glob: BASHOPTS).
	if (( k_dotglob )); then shopt -q dotglob || shopt -s dotglob; else ! shopt -q dotglob || shopt -u dotglob; fi
	(( ! k_nocasematch )) || shopt -s nocasematch
	if [[ -n ${k_rematch_set} ]]; then
		BASH_REMATCH=( "${k_rematch[@]}" ) 2>/dev/null
	else
		unset BASH_REMATCH
	fi
	return 0
}

# @FUNCTION: _kopt_run
# @INTERNAL
# @DESCRIPTION:
# Declares the state every helper shares (bash locals are visible to the functions it calls), reads
# the settings and applies them, then records what it did for the later phases. Returns without a
# trace for a package the settings do not name.
_kopt_run() {
	local LC_ALL=C GLOBIGNORE
	unset GLOBIGNORE
	! shopt -q dotglob || shopt -u dotglob
	local k_conf=${PORTAGE_CONFIGROOT%/}/etc/gentoo-kopt
	local k_settings=${PORTAGE_CONFIGROOT%/}/etc/gentoo-kopt/hook-settings k_settings_max=65536
	# build-host tools and the config.d kernel-build.eclass merges live under BROOT (EPREFIX before EAPI 7)
	local k_broot=${BROOT-${EPREFIX-}}
	local k_llvm=${k_broot%/}/usr/lib/llvm
	local k_setup=
	[[ ${EBUILD_PHASE-} == setup && ${MERGE_TYPE-} != binary && ! -e ${PORTAGE_BUILDDIR-/nonexistent}/.setuped ]] && k_setup=1

	# variable:LLVM tool. The same table as src/hooks/toolchain.ts (test/hook-bash.test.ts keeps them equal).
	local -a k_tools=(
		CC:clang CXX:clang++ LD:ld.lld AR:llvm-ar NM:llvm-nm STRIP:llvm-strip
		OBJCOPY:llvm-objcopy OBJDUMP:llvm-objdump READELF:llvm-readelf
		HOSTCC:clang HOSTCXX:clang++ HOSTAR:llvm-ar HOSTLD:ld.lld
	)
	local -a k_shadows=(
		BUILD_CC CC_FOR_BUILD BUILD_CXX CXX_FOR_BUILD BUILD_LD LD_FOR_BUILD BUILD_AR AR_FOR_BUILD
	)

	local k_found= k_node= k_bin= k_kcflags= k_toolchain=gnu k_slot= k_lto=none k_strict=no k_series= k_mixed=die
	local k_slot_used= k_slot_bin= k_count=0 k_why= k_fix=
	local -a k_conflicts=() k_notes=() k_fatal=() k_missing=() k_matches=() k_record=()

	if ! _kopt_read_settings; then
		# unusable settings: the later phases of this build use none either, even if fixed meanwhile
		_kopt_record
		return 0
	fi
	[[ -n ${k_found} ]] || return 0

	if [[ -n ${k_kcflags} ]]; then
		[[ -n ${KCFLAGS-} && ${KCFLAGS} != "${k_kcflags}" ]] &&
			k_notes+=( "KCFLAGS='${KCFLAGS}' from the environment replaced by kopt.conf's" )
		export KCFLAGS=${k_kcflags}
		k_record+=( "KCFLAGS=${k_kcflags}" )
	fi
	_kopt_apply_toolchain
	[[ -n ${k_setup} ]] && _kopt_setup
	_kopt_record
	return 0
}

_kopt_main
unset -f _kopt_main _kopt_run _kopt_msg _kopt_unsafe _kopt_check_settings _kopt_read_settings _kopt_family _kopt_glob \
	_kopt_slot_missing _kopt_pick_slot _kopt_apply_toolchain _kopt_count_series _kopt_check_programs _kopt_setup _kopt_record
