/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "bastion_line.h"
#include "error.h"
#include "key.h"

int
bastion_line_public_key(const char *path, char *out, size_t sz)
{
	struct error err;
	ssh_key key = NULL, pub = NULL;
	char *b64 = NULL;
	int rc = -1;

	error_clear(&err);
	if (ssh_pki_import_pubkey_file(path, &pub) != SSH_OK) {
		if (key_load(path, NULL, &key, &err) == -1) {
			fprintf(stderr, "tether: %s\n", err.msg);
			return -1;
		}
		if (ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK)
			goto out;
	}
	if (ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK)
		goto out;
	snprintf(out, sz, "%s %s", ssh_key_type_to_char(ssh_key_type(pub)),
	    b64);
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "tether: %s: cannot derive the public key\n",
		    path);
	ssh_string_free_char(b64);
	ssh_key_free(pub);
	ssh_key_free(key);
	return rc;
}

/* sshd's [host:]port: "localhost" for the default bind, IPv6 in []. */
static void
bastion_line_listen(FILE *out, const char *what, const char *bind, int port)
{
	int v6 = bind != NULL && strchr(bind, ':') != NULL;

	if (bind == NULL || bind[0] == '\0')
		bind = "localhost";
	fprintf(out, ",%s=\"%s%s%s:%d\"", what, v6 ? "[" : "", bind,
	    v6 ? "]" : "", port);
}

void
bastion_line_print(FILE *out, const char *indent, const int *ports,
    const char *const *binds, size_t n, const char *pub)
{
	char host[256] = "this-host";
	size_t i;

	gethostname(host, sizeof host - 1);
	/*
	 * restrict alone still lets the key run commands (it only takes the
	 * PTY): the forced command makes "nothing but listen" true whatever
	 * the account's shell. tether never opens a session channel.
	 */
	fprintf(out, "%scommand=\"/bin/false\",restrict,port-forwarding",
	    indent);
	for (i = 0; i < n; i++)
		bastion_line_listen(out, "permitlisten",
		    binds != NULL ? binds[i] : NULL, ports[i]);
	/* Only so tether's end-to-end probe can reach its own port. */
	for (i = 0; i < n; i++)
		fprintf(out, ",permitopen=\"localhost:%d\"", ports[i]);
	fprintf(out, " %s tether@%s\n", pub, host);
}
