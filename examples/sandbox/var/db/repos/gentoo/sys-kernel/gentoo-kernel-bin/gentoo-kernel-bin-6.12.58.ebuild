# gentoo-kopt demo repository: a stand-in ebuild (never executed)
EAPI=8
inherit kernel-build
SLOT="${PV}"
KEYWORDS="amd64"
