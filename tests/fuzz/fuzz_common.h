/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared bits of the libFuzzer targets in tests/fuzz: turning the input into
 * C strings, and a check that aborts (so libFuzzer reports it as a crash)
 * when an invariant of the code under test does not hold.
 */
#ifndef TETHER_FUZZ_COMMON_H
#define TETHER_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A HOME that exists nowhere: '~' expands, nothing is ever read there. */
#define FUZZ_HOME "/nonexistent/tether-fuzz-home"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* data as a malloc'd C string; NULL if it holds a NUL byte. */
static inline char *
fuzz_strndup_nonul(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, '\0', size) != NULL)
		return NULL;
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether a fixed-size char field holds a NUL (a C string that fits). */
#define FUZZ_TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

/* What a finished config promises the session code (see session.c). */
static inline void
fuzz_check_finished_config(const struct tether_config *cfg)
{
	char label[2 * SPEC_HOST_MAX + 32];
	struct forward_spec again;
	struct error e;
	size_t i, j;

	/*
	 * With an ssh_config in use its RemoteForward and IdentityFile lines
	 * may still bring the forwards (and so the name) and the key:
	 * sshconfig_apply checks them then.
	 */
	int later = strcmp(cfg->ssh_config, "none") != 0;

	FUZZ_CHECK(FUZZ_TERMINATED(cfg->name) &&
	    (cfg->name[0] != '\0' || (later && cfg->nforwards == 0)));
	FUZZ_CHECK(FUZZ_TERMINATED(cfg->key_path));
	FUZZ_CHECK(FUZZ_TERMINATED(cfg->known_hosts) &&
	    cfg->known_hosts[0] != '\0');
	FUZZ_CHECK(FUZZ_TERMINATED(cfg->state_dir));
	FUZZ_CHECK(cfg->has_bastion);
	FUZZ_CHECK(FUZZ_TERMINATED(cfg->bastion.host) &&
	    spec_host_is_valid(cfg->bastion.host));
	FUZZ_CHECK(FUZZ_TERMINATED(cfg->bastion.user));
	FUZZ_CHECK(cfg->bastion.user[0] == '\0' ||
	    spec_user_is_valid(cfg->bastion.user));
	FUZZ_CHECK(cfg->bastion.port >= 1 && cfg->bastion.port <= 65535);
	FUZZ_CHECK((cfg->nforwards >= 1 || later) &&
	    cfg->nforwards <= CONFIG_FORWARDS_MAX);
	FUZZ_CHECK(cfg->key_path[0] != '\0' || cfg->agent_available || later);
	FUZZ_CHECK(cfg->backoff_max >= cfg->backoff_initial);
	FUZZ_CHECK(cfg->keepalive_count >= 1);
	FUZZ_CHECK(cfg->max_channels >= 1);
	FUZZ_CHECK(cfg->connect_timeout >= 1);
	for (i = 0; i < cfg->nforwards; i++) {
		const struct forward_spec *f = &cfg->forwards[i];

		FUZZ_CHECK(FUZZ_TERMINATED(f->host) &&
		    spec_host_is_valid(f->host));
		FUZZ_CHECK(FUZZ_TERMINATED(f->bind));
		FUZZ_CHECK(f->bind[0] == '\0' || strcmp(f->bind, "*") == 0 ||
		    spec_host_is_valid(f->bind));
		FUZZ_CHECK(f->port >= 0 && f->port <= 65535);
		FUZZ_CHECK(f->host_port >= 1 && f->host_port <= 65535);
		for (j = i + 1; j < cfg->nforwards; j++)
			FUZZ_CHECK(f->port == 0 || f->port !=
			    cfg->forwards[j].port);
		/* The label the session logs parses back to the same forward. */
		spec_format_forward(f, label, sizeof label);
		error_clear(&e);
		FUZZ_CHECK(spec_parse_forward(label, &again, &e) == 0);
		FUZZ_CHECK(again.port == f->port &&
		    again.host_port == f->host_port &&
		    strcmp(again.host, f->host) == 0 &&
		    strcmp(again.bind, f->bind) == 0);
	}
}

#endif
