// The version `gentoo-kopt --version` prints: package.json's, written here so that printing it reads no
// file and loads no other module. test/cli.test.ts runs the executable and checks that the two agree.
export const VERSION = '0.1.0';

/** The line --version prints. */
export const VERSION_LINE = `gentoo-kopt ${VERSION}`;
