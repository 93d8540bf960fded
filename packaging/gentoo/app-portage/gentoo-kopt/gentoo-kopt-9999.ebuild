# Copyright 2026 gentoo-kopt authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

# The live ebuild makes the two release distfiles itself (packaging/make-distfiles.sh) and then installs
# exactly what gentoo-kopt-<version>.ebuild installs from them. npm needs the network once, to fill its
# cache from package-lock.json: in src_unpack, which Portage runs with the network for PROPERTIES=live
# (git-r3) even under FEATURES=network-sandbox, as go-module and cargo live ebuilds vendor there.
# The placeholder (.invalid) is to be set to the project's git repository when it is published.
EGIT_REPO_URI="https://gentoo-kopt.invalid/gentoo-kopt.git"
inherit git-r3 shell-completion

DESCRIPTION="The Gentoo wiki's kernel-optimization advice for kernels built with emerge"
HOMEPAGE="https://www.npmjs.com/package/gentoo-kopt"

# gentoo-kopt itself is GPL-2.0-only; the rest are the vendored dependencies' licenses.
LICENSE="GPL-2 Apache-2.0 BSD ISC MIT"
SLOT="0"

# node runs the program; it runs xz (kernel tarballs), patch (series checks) and bzip2 (the VDB's
# environment.bz2).
RDEPEND="
	>=net-libs/nodejs-20
	app-arch/bzip2
	app-arch/xz-utils
	sys-devel/patch
"
BDEPEND="
	>=net-libs/nodejs-20[npm]
	app-arch/xz-utils
"

# npm's cache and settings for every phase that runs npm: nothing in ${HOME}, no update check.
kopt_npm_env() {
	export npm_config_cache="${T}/npm-cache" npm_config_update_notifier=false
	export npm_config_audit=false npm_config_fund=false
}

src_unpack() {
	git-r3_src_unpack
	kopt_npm_env
	cd "${S}" || die
	# Every dependency, the build's too (tsc), into npm's cache and node_modules; no lifecycle scripts.
	npm ci --ignore-scripts || die "npm ci failed"
}

src_compile() {
	kopt_npm_env
	export npm_config_offline=true
	bash packaging/make-distfiles.sh "${T}/distfiles" || die "make-distfiles.sh failed"
	cd "${WORKDIR}" || die
	unpack "${T}"/distfiles/${PN}-*.tgz "${T}"/distfiles/${PN}-*-node_modules.tar.xz
}

src_install() {
	local dir=/usr/$(get_libdir)/node_modules/${PN}
	cd "${WORKDIR}/package" || die

	# The package directory keeps npm's layout: the program finds hooks/ and patches/ next to dist/
	# (`hooks install` copies hooks/kernel-hook.bash from there), and `hooks install` records the
	# path of dist/bin.js, which stays the same from one version to the next.
	insinto "${dir}"
	doins -r package.json dist hooks patches node_modules
	fperms 0755 "${dir}"/dist/bin.js
	dosym -r "${dir}"/dist/bin.js /usr/bin/${PN}

	dodoc README.md
	# The example configuration, to copy to /etc/gentoo-kopt/kopt.conf: kept uncompressed.
	dodoc etc-portage/kopt.conf
	docompress -x /usr/share/doc/${PF}/kopt.conf

	# Generated from the command table by the project's build (npm run build), so they are in the
	# release tarball: the man page, and the completions (bash-completion loads ${PN} on demand).
	doman man/${PN}.1
	newbashcomp completions/${PN}.bash ${PN}
	dozshcomp completions/_${PN}
}

pkg_postinst() {
	if [[ -z ${REPLACING_VERSIONS} ]]; then
		elog "Describe what you want in ${EROOT}/etc/gentoo-kopt/kopt.conf (an example with every key:"
		elog "${EROOT}/usr/share/doc/${PF}/kopt.conf), then run 'gentoo-kopt hooks install' once."
	else
		elog "The emerge hook in ${EROOT}/etc/gentoo-kopt is a copy: if 'gentoo-kopt doctor' reports it"
		elog "outdated, 'gentoo-kopt hooks install' puts this version's hook in place."
	fi
}
