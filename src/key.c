/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tether/exit.h"
#include "key.h"

/* libssh asks for a passphrase only for an encrypted key: note it, refuse. */
static int
key_on_passphrase_prompt(const char *prompt,
    char *buf, /* NOLINT(readability-non-const-parameter): libssh's type */
    size_t len, int echo, int verify, void *arg)
{
	(void)prompt;
	(void)buf;
	(void)len;
	(void)echo;
	(void)verify;
	*(int *)arg = 1;
	return -1;
}

/* Attaches the certificate at cert_path to key: 0, or -1 if it does not fit. */
static int
key_try_certificate(const char *cert_path, ssh_key key)
{
	ssh_key cert = NULL;
	int rc;

	rc = ssh_pki_import_cert_file(cert_path, &cert);
	/* libssh checks that the certificate is for this very key. */
	if (rc == SSH_OK)
		rc = ssh_pki_copy_cert_to_privkey(cert, key);
	ssh_key_free(cert);
	return rc == SSH_OK ? 0 : -1;
}

/*
 * The key's certificate, as ssh finds it: cert->path when it certifies
 * this key (ssh_config's CertificateFile may be another identity's), else
 * KEY-cert.pub beside the key. A bastion that trusts a user CA
 * (TrustedUserCAKeys) accepts the key only with it. None is fine; one
 * that cannot be used is an error, as is a required one that does not fit.
 */
static int
key_attach_certificate(const char *path, const struct key_cert *cert,
    ssh_key key, struct error *err)
{
	char beside[4096];
	const char *bad;
	int n;

	if (cert != NULL && cert->path != NULL && cert->path[0] != '\0') {
		if (key_try_certificate(cert->path, key) == 0)
			return 0;
		if (cert->required) {
			bad = cert->path;
			goto fail;
		}
	}
	n = snprintf(beside, sizeof beside, "%s-cert.pub", path);
	if (n < 0 || (size_t)n >= sizeof beside || access(beside, F_OK) == -1)
		return 0;
	if (key_try_certificate(beside, key) == 0)
		return 0;
	bad = beside;
fail:
	error_set(err, TETHER_EXIT_KEY,
	    "certificate %s: not an OpenSSH certificate for key %s; "
	    "sign the key's .pub again (ssh-keygen -s CA -I ID -n USER "
	    "%s.pub) or remove the file",
	    bad, path, path);
	return -1;
}

/* key_load, or 1 for a passphrase-protected key when agent_ok. */
static int
key_import(const char *path, const struct key_cert *cert, int agent_ok,
    ssh_key *key, struct error *err)
{
	struct stat st;
	int asked = 0;

	if (stat(path, &st) == -1) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s: %s; give the private key's path with -s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s is not a regular file; "
		    "give the private key's path with -s",
		    path);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s: permissions %04o are "
		    "too open, others could read it; run: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (ssh_pki_import_privkey_file(path, NULL, key_on_passphrase_prompt,
	        &asked, key) == SSH_OK) {
		if (key_attach_certificate(path, cert, *key, err) == 0)
			return 0;
		ssh_key_free(*key);
		*key = NULL;
		return -1;
	}
	if (asked && agent_ok) {
		*key = NULL;
		return 1;
	}
	if (asked) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s is protected by a "
		    "passphrase and tether runs unattended: load it into "
		    "ssh-agent and omit -s, or use a key without a passphrase",
		    path);
	} else {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s is not a private key "
		    "tether can read (OpenSSH, PEM or PKCS#8 ed25519, ecdsa or "
		    "rsa); is it the .pub file?",
		    path);
	}
	return -1;
}

int
key_load(const char *path, const struct key_cert *cert, ssh_key *key,
    struct error *err)
{
	return key_import(path, cert, 0, key, err);
}

int
key_load_for_auth(const char *path, const struct key_cert *cert,
    int agent_available, ssh_key *key, struct error *err)
{
	return key_import(path, cert, agent_available, key, err);
}
