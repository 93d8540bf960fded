# Copyright 2026 gentoo-kopt authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

# Two distfiles, both made by packaging/make-distfiles.sh and unpacked into ${WORKDIR}/package:
# the registry tarball (`npm pack`: package.json, dist/ already compiled by tsc, the man page and the
# completions already generated, hooks/, patches/, etc-portage/), and the production node_modules pinned
# by package-lock.json. Of Gentoo's two ways to package a Node program, this is nodejs-mod.eclass's
# (sys-process/pm2): a vendored ${P}-node_modules.tar.xz beside the sources. dev-lang/typescript's way,
# `npm install --global --offline` of the registry tarball, works only for a package without
# dependencies (typescript has none; gentoo-kopt has diff, execa, semver and tar-stream, and theirs).
# The eclass itself is not inherited: its src_compile runs `npm run build`, which needs tsc, a
# development dependency the vendored tarball leaves out, and its src_install runs npm again; here
# nothing is built and src_install only copies, so neither npm nor the network is needed
# (FEATURES=network-sandbox).
inherit shell-completion

DESCRIPTION="The Gentoo wiki's kernel-optimization advice for kernels built with emerge"
HOMEPAGE="https://www.npmjs.com/package/gentoo-kopt"
# The second URI is a placeholder (.invalid): set it to the project's release downloads when
# they are published. Until then, put both files (make-distfiles.sh) into DISTDIR yourself.
SRC_URI="
	https://registry.npmjs.org/${PN}/-/${P}.tgz
	https://gentoo-kopt.invalid/releases/${P}-node_modules.tar.xz
"
S="${WORKDIR}/package"

# gentoo-kopt itself is GPL-2.0-only; the rest are the vendored dependencies' licenses.
LICENSE="GPL-2 Apache-2.0 BSD ISC MIT"
SLOT="0"
KEYWORDS="~amd64"

# node runs the program; it runs xz (kernel tarballs), patch (series checks) and bzip2 (the VDB's
# environment.bz2).
RDEPEND="
	>=net-libs/nodejs-20
	app-arch/bzip2
	app-arch/xz-utils
	sys-devel/patch
"

src_install() {
	local dir=/usr/$(get_libdir)/node_modules/${PN}

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
