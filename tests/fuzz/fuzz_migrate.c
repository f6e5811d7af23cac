/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * migrate's parser of the unit files other tools wrote
 * (autossh-tunnel-PORT.service). The input is the unit's text, read under
 * the name autossh-tunnel-2222.service. Whatever it holds: no crash, and
 * either a refusal that names the unit, or a result the setup code can take
 * as it is (every field a C string, the port the unit's, a bastion and a
 * target that parse again).
 */
#include "fuzz_common.h"
#include "migrate.h"

#define FUZZ_UNIT "autossh-tunnel-2222.service"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migrate_unit u;
	struct bastion_spec b;
	char host[SPEC_HOST_MAX];
	struct error err;
	char *text;
	int port;

	if ((text = fuzz_strndup_nonul(data, size)) == NULL)
		return -1;
	error_clear(&err);
	memset(&u, 0xa5, sizeof u);
	if (migrate_parse_unit(FUZZ_UNIT, text, &u, &err) != 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(strstr(err.msg, FUZZ_UNIT) != NULL);
		free(text);
		return 0;
	}
	FUZZ_CHECK(!error_is_set(&err));
	FUZZ_CHECK(u.port == 2222);
	FUZZ_CHECK(FUZZ_TERMINATED(u.bastion) && FUZZ_TERMINATED(u.key_path));
	FUZZ_CHECK(FUZZ_TERMINATED(u.user) && FUZZ_TERMINATED(u.group));
	FUZZ_CHECK(FUZZ_TERMINATED(u.target));
	FUZZ_CHECK(FUZZ_TERMINATED(u.known_hosts));
	FUZZ_CHECK(FUZZ_TERMINATED(u.notes));
	FUZZ_CHECK(u.user[0] == '\0' || spec_user_is_valid(u.user));
	FUZZ_CHECK(u.key_path[0] != '\0');
	FUZZ_CHECK(spec_parse_bastion(u.bastion, &b, &err) == 0);
	FUZZ_CHECK(spec_parse_target(u.target, host, &port, &err) == 0);
	free(text);
	return 0;
}
