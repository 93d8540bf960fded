#!/usr/bin/env bash
# Writes the preset fragments of test/kconfig/fragments/ from the tables beside this script:
#   harden.tsv               -> harden-base.config, harden-strict-gnu.config, harden-strict-llvm.config
#   (fixed presets)          -> optimize-performance.config, optimize-size.config, disable-kvm.config
#   gentoo-kernel-config.tsv -> gentoo-<fragment>.config (what gentoo-kernel's ebuild merges; facts only)
# harden-base is every `base` row; harden-strict-<toolchain> adds the `strict` rows; rows marked gcc
# go only to -gnu, rows marked clang only to -llvm. A value n is written `# CONFIG_X is not set`.
# Fragments list every name a symbol has had (PAGE_TABLE_ISOLATION and its 6.9+ name
# MITIGATION_PAGE_TABLE_ISOLATION), as a fragment in /etc/kernel/config.d applies to every kernel.
#
# usage: gen-fragments.sh [OUTDIR]    (default: the fragments/ directory beside this script)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-${here}/fragments}
mkdir -p "${out}"

line() { # <symbol> <value>
	if [[ ${2} == n ]]; then printf '# CONFIG_%s is not set\n' "${1}"; else printf 'CONFIG_%s=%s\n' "${1}" "${2}"; fi
}

# harden: <tiers regex> <toolchains regex>
harden() {
	awk -F'\t' -v tiers="^(${1})\$" -v tcs="^(${2})\$" 'NR > 1 && $3 ~ tiers && $9 ~ tcs { print $1 "\t" $2 "\t" $3 }' \
		"${here}/harden.tsv" | while IFS=$'\t' read -r sym value tier; do line "${sym}" "${value}"; done
}

{
	printf '# harden = base: written from test/kconfig/harden.tsv by gen-fragments.sh (gentoo-kopt)\n'
	harden base 'any|gcc|clang'
} > "${out}/harden-base.config"
for tc in gnu llvm; do
	if [[ ${tc} == gnu ]]; then tcs='any|gcc'; else tcs='any|clang'; fi
	{
		printf '# harden = strict (toolchain = %s): written from test/kconfig/harden.tsv by gen-fragments.sh (gentoo-kopt)\n' "${tc}"
		harden 'base|strict' "${tcs}"
	} > "${out}/harden-strict-${tc}.config"
done

{
	printf '# optimize = performance (gentoo-kopt)\n'
	line CC_OPTIMIZE_FOR_PERFORMANCE y
	line CC_OPTIMIZE_FOR_SIZE n
} > "${out}/optimize-performance.config"
{
	printf '# optimize = size (gentoo-kopt)\n'
	line CC_OPTIMIZE_FOR_SIZE y
	line CC_OPTIMIZE_FOR_PERFORMANCE n
} > "${out}/optimize-size.config"
{
	printf '# disable = KVM (gentoo-kopt; KVM_INTEL and KVM_AMD depend on KVM and go with it)\n'
	line KVM n
} > "${out}/disable-kvm.config"

# Gentoo's own fragments, one file each, as facts (symbol and value) from gentoo-kernel-config.tsv
for frag in $(awk -F'\t' 'NR > 1 { print $1 }' "${here}/gentoo-kernel-config.tsv" | uniq); do
	{
		printf "# %s.config of gentoo-kernel-config (facts: symbols and values only, see gentoo-kernel-config.tsv)\n" "${frag}"
		awk -F'\t' -v f="${frag}" 'NR > 1 && $1 == f { print $2 "\t" $3 }' "${here}/gentoo-kernel-config.tsv" |
			while IFS=$'\t' read -r sym value; do line "${sym}" "${value}"; done
	} > "${out}/gentoo-${frag}.config"
done
