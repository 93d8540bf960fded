#!/usr/bin/env bash
# make-distfiles.sh [OUTDIR]: the two distfiles app-portage/gentoo-kopt installs, built from this tree.
#
#   <name>-<version>.tgz               exactly what `npm pack` (and `npm publish`) makes: package.json,
#                                      README, dist/ compiled by tsc, hooks/, patches/, etc-portage/
#   <name>-<version>-node_modules.tar.xz
#                                      package/node_modules: the production dependencies pinned by
#                                      package-lock.json (`npm ci --omit=dev --ignore-scripts`), without
#                                      node_modules/.bin and without the Bare runtime's prebuilt binaries
#                                      (prebuilds/: never loaded by Node), as a reproducible tar
#
# Both unpack into ${WORKDIR}/package, the ebuild's ${S}. The tree is copied first (tracked and untracked
# files, not ignored ones, so not node_modules/ or dist/), so a parallel test run never sees its dist/
# rebuilt. npm reads npm_config_* from the environment: the live ebuild sets npm_config_offline=true and
# its cache. SOURCE_DATE_EPOCH (default: the last commit's time) is the time stamp inside the tar.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-${top}/packaging/distfiles}
die() { printf 'make-distfiles.sh: %s\n' "$*" >&2; exit 1; }

[[ -f ${top}/package-lock.json ]] || die "${top}/package-lock.json is missing: the vendored dependencies come from it"
[[ -d ${top}/node_modules ]] || die "${top}/node_modules is missing: run npm ci first (tsc builds dist/ from it)"
name=$(node -p 'require(process.argv[1]).name' "${top}/package.json")
version=$(node -p 'require(process.argv[1]).version' "${top}/package.json")
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
	SOURCE_DATE_EPOCH=$(git -C "${top}" log -1 --format=%ct 2>/dev/null || echo 499162500)
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/make-distfiles.XXXXXX")
trap 'rm -rf "${stage}"' EXIT
mkdir -p "${stage}/src" "${stage}/pack" "${stage}/vendor/package" "${out}"

# 1. The tree, without what .gitignore names (git ls-files), or without node_modules, dist and .git
#    where this is no git work tree (a live ebuild's checkout may not be one).
if git -C "${top}" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "${top}" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[[ -e ${top}/${f} || -L ${top}/${f} ]] && printf '%s\0' "${f}"
		done |
		tar -C "${top}" --null -T - -cf - | tar -xf - -C "${stage}/src"
else
	tar -C "${top}" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . |
		tar -xf - -C "${stage}/src"
fi
ln -s "${top}/node_modules" "${stage}/src/node_modules"

# 2. dist/ by the project's own build, then the registry tarball (prepare would build again: skip it).
(cd "${stage}/src" && npm run --silent build && npm pack --silent --ignore-scripts --pack-destination "${stage}/pack") >&2
[[ -f ${stage}/pack/${name}-${version}.tgz ]] || die "npm pack made no ${name}-${version}.tgz"

# 3. The production dependencies, exactly as the lockfile pins them; no lifecycle scripts run.
cp "${top}/package.json" "${top}/package-lock.json" "${stage}/vendor/package/"
(cd "${stage}/vendor/package" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
rm -rf "${stage}/vendor/package/node_modules/.bin" "${stage}/vendor/package/node_modules/.package-lock.json"
find "${stage}/vendor/package/node_modules" -type d -name prebuilds -prune -exec rm -rf {} +

vendor=${name}-${version}-node_modules.tar.xz
tar -C "${stage}/vendor" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mtime="@${SOURCE_DATE_EPOCH}" --mode=u+rwX,go+rX,go-w -cf - package/node_modules |
	xz -9 -T1 -c >"${stage}/pack/${vendor}"

mv -f "${stage}/pack/${name}-${version}.tgz" "${stage}/pack/${vendor}" "${out}/"
(cd "${out}" && sha256sum "${name}-${version}.tgz" "${vendor}")
