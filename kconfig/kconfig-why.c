// SPDX-License-Identifier: GPL-2.0
/*
 * kconfig-why: why does a Kconfig symbol have the value it has?
 * Written for gentoo-kopt: `verify --config` (src/system/kconfig-run.ts) and test/kconfig/run.sh.
 *
 * It is linked with the kconfig objects that `make O=<dir> build_config` leaves in
 * <dir>/scripts/kconfig/ (every .o but conf.o), so it parses Kconfig with the kernel's own
 * parser, macros and toolchain probes of that very tree. It uses only functions that the
 * kconfig headers declare in 6.1 and 6.12 (conf_parse, conf_read, sym_find, expr_calc_value,
 * expr_gstr_print, sym_get_string_value, sym_type_name, str_new/str_get/str_free).
 *
 * usage (in the build directory, with the environment conf runs with: srctree, ARCH, SRCARCH,
 * KERNELVERSION, CC, LD, ...):
 *     kconfig-why <Kconfig> <.config> SYMBOL...
 * One block per symbol, each line starting with the symbol name:
 *     SYM undefined                         no such symbol in this tree's Kconfig
 *     SYM value=<v> type=<t>                the value in .config after reading it
 *     SYM depends <expr [=v]...> => <n|m|y> its direct dependencies (all `depends on` and the
 *                                           enclosing menus and ifs), each symbol with its value
 *     SYM unmet <term [=v]>                 a conjunct of `depends` that is n (or m where the
 *                                           whole is m): the reason a y cannot be had
 *     SYM hidden <expr [=v]> => n           no prompt is visible, so a value set by the user
 *                                           is ignored and the default applies (e.g. `if EXPERT`)
 *     SYM selected-by <expr [=v]> => <v>    reverse dependencies that force a lower bound
 *     SYM implied-by <expr [=v]> => <v>
 *     SYM defined-at <file>:<line>           where each prompt (or, without one, each definition) is
 * A term printed as the bare constant `n` is a condition the parser already evaluated: a
 * $(success,...), $(cc-option,...) or similar toolchain test in the Kconfig source (see defined-at).
 * Build with -DKCONFIG_STRUCT_FILE where struct property has `struct file *file` (6.1; 6.12 has
 * `const char *filename`).
 */
#include <stdio.h>
#include <string.h>

#include "lkc.h"

static const char *tri(tristate t)
{
	return t == yes ? "y" : t == mod ? "m" : "n";
}

static void print_expr(const char *name, const char *what, struct expr *e)
{
	struct gstr gs = str_new();

	expr_gstr_print(e, &gs);
	printf("%s %s %s => %s\n", name, what, str_get(&gs), tri(expr_calc_value(e)));
	str_free(&gs);
}

/* The conjuncts of e whose value is below `want`. */
static void print_unmet(const char *name, struct expr *e, tristate want)
{
	struct gstr gs;

	if (!e)
		return;
	if (e->type == E_AND) {
		print_unmet(name, e->left.expr, want);
		print_unmet(name, e->right.expr, want);
		return;
	}
	if (expr_calc_value(e) >= want)
		return;
	gs = str_new();
	expr_gstr_print(e, &gs);
	printf("%s unmet %s\n", name, str_get(&gs));
	str_free(&gs);
}

static const char *prop_file(const struct property *prop)
{
#ifdef KCONFIG_STRUCT_FILE
	return prop->file ? prop->file->name : "?";
#else
	return prop->filename ? prop->filename : "?";
#endif
}

/* `config` prompts are P_PROMPT, `menuconfig` prompts P_MENU */
static int is_prompt(const struct property *prop)
{
	return prop->type == P_PROMPT || prop->type == P_MENU;
}

static void why(const char *name)
{
	struct symbol *sym = sym_find(name);
	struct property *prop;
	tristate dep = yes, vis = no;
	int prompts = 0;

	if (!sym || sym->type == S_UNKNOWN) {
		printf("%s undefined\n", name);
		return;
	}
	printf("%s value=%s type=%s\n", name, sym_get_string_value(sym), sym_type_name(sym->type));
	if (sym->dir_dep.expr) {
		dep = expr_calc_value(sym->dir_dep.expr);
		print_expr(name, "depends", sym->dir_dep.expr);
		if (dep != yes)
			print_unmet(name, sym->dir_dep.expr, dep == no ? mod : yes);
	}
	for (prop = sym->prop; prop; prop = prop->next) {
		if (!is_prompt(prop))
			continue;
		prompts++;
		if (!prop->visible.expr) {
			vis = yes;
			continue;
		}
		if (expr_calc_value(prop->visible.expr) > vis)
			vis = expr_calc_value(prop->visible.expr);
	}
	if (dep != no && vis == no) {
		if (prompts == 0) {
			printf("%s hidden (no prompt: set only by defaults and selects)\n", name);
		} else {
			for (prop = sym->prop; prop; prop = prop->next)
				if (is_prompt(prop) && prop->visible.expr)
					print_expr(name, "hidden", prop->visible.expr);
		}
	}
	if (sym->rev_dep.expr && expr_calc_value(sym->rev_dep.expr) != no)
		print_expr(name, "selected-by", sym->rev_dep.expr);
	if (sym->implied.expr && expr_calc_value(sym->implied.expr) != no)
		print_expr(name, "implied-by", sym->implied.expr);
	for (prop = sym->prop; prop; prop = prop->next)
		if (is_prompt(prop) || (!prompts && prop->type == P_DEFAULT))
			printf("%s defined-at %s:%d\n", name, prop_file(prop), prop->lineno);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s <Kconfig> <.config> SYMBOL...\n", argv[0]);
		return 2;
	}
	conf_parse(argv[1]);
	if (conf_read(argv[2])) {
		fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[2]);
		return 1;
	}
	for (i = 3; i < argc; i++) {
		const char *name = argv[i];

		if (!strncmp(name, "CONFIG_", 7))
			name += 7;
		why(name);
	}
	return 0;
}
