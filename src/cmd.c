/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The table of verbs, and what the verb files share. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_run_entry,
	&cmd_setup_entry,
	&cmd_status_entry,
	&cmd_remove_entry,
	&cmd_doctor_entry,
	&cmd_metrics_entry,
	&cmd_migrate_entry,
	&cmd_list_apis_entry,
	&cmd_trust_entry,
	&cmd_bastion_line_entry,
	&cmd_bastion_status_entry,
	&cmd_mcp_entry,
	NULL,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const *e;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp(name, (*e)->name) == 0 ||
		    ((*e)->alias != NULL && strcmp(name, (*e)->alias) == 0))
			return *e;
	}
	return NULL;
}

int
cmd_print_result(struct api_result *r, int json)
{
	int rc = r->exit_code;

	if (json && r->json != NULL)
		printf("%s\n", r->json);
	else
		fputs(r->out, stdout);
	fputs(r->err, stderr);
	api_result_free(r);
	return rc;
}

const char *
cmd_env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}
