#include <sys/stat.h>

#include <errno.h>
#include <string.h>

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

int
key_load(const char *path, ssh_key *key, struct error *err)
{
	struct stat st;
	int asked = 0;

	if (stat(path, &st) == -1) {
		error_set(err, TETHER_EXIT_KEY,
		    "key %s: %s; give the private "
		    "key's path with -s",
		    path, strerror(errno));
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
	        &asked, key) == SSH_OK)
		return 0;
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
