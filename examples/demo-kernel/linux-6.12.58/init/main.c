// SPDX-License-Identifier: GPL-2.0
/*
 * gentoo-kopt demo kernel tree: init/main.c stand-in.
 */
#include <stddef.h>

static const char *linux_banner = "Linux version 6.12.58 (demo)";

int start_kernel(void)
{
	return linux_banner != NULL ? 0 : 1;
}
