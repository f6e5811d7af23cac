/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The small grammars of the command line. The first byte picks the parser:
 * 0 spec_parse_bastion, 1 spec_parse_forward, 2 spec_parse_target,
 * 3 spec_parse_port; the rest is the string. A forward that parses is
 * formatted (as the session's log label) and must parse back to itself.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[SPEC_HOST_MAX], label[2 * SPEC_HOST_MAX + 32];
	struct bastion_spec b;
	struct forward_spec f, again;
	struct error err;
	char *s;
	int port, rc;

	if (size < 1)
		return -1;
	if ((s = fuzz_strndup_nonul(data + 1, size - 1)) == NULL)
		return -1;
	error_clear(&err);
	switch (data[0] % 4) {
	case 0:
		rc = spec_parse_bastion(s, &b, &err);
		if (rc == 0) {
			FUZZ_CHECK(FUZZ_TERMINATED(b.host) &&
			    spec_host_is_valid(b.host));
			FUZZ_CHECK(FUZZ_TERMINATED(b.user));
			FUZZ_CHECK(b.user[0] == '\0' ||
			    spec_user_is_valid(b.user));
			FUZZ_CHECK(b.port >= 1 && b.port <= 65535);
		}
		break;
	case 1:
		rc = spec_parse_forward(s, &f, &err);
		if (rc == 0) {
			FUZZ_CHECK(spec_host_is_valid(f.host));
			FUZZ_CHECK(f.bind[0] == '\0' || strcmp(f.bind, "*") == 0 ||
			    spec_host_is_valid(f.bind));
			FUZZ_CHECK(f.port >= 0 && f.port <= 65535);
			FUZZ_CHECK(f.host_port >= 1 && f.host_port <= 65535);
			spec_format_forward(&f, label, sizeof label);
			FUZZ_CHECK(spec_parse_forward(label, &again, &err) == 0);
			FUZZ_CHECK(memcmp(&f, &again, sizeof f) == 0);
		}
		break;
	case 2:
		rc = spec_parse_target(s, host, &port, &err);
		if (rc == 0) {
			FUZZ_CHECK(spec_host_is_valid(host) ||
			    strcmp(host, "localhost") == 0);
			FUZZ_CHECK(port >= 1 && port <= 65535);
		}
		break;
	default:
		rc = spec_parse_port(s, 0, &port);
		if (rc == 0)
			FUZZ_CHECK(port >= 0 && port <= 65535);
		break;
	}
	if (rc != 0 && data[0] % 4 != 3)
		FUZZ_CHECK(error_is_set(&err) && FUZZ_TERMINATED(err.msg));
	free(s);
	return 0;
}
