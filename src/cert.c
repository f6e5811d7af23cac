/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "tether/exit.h"
#include "cert.h"

/* A bounded reader over the certificate's wire form. */
struct cert_reader {
	const unsigned char *p;
	size_t left;
};

static int
cert_take(struct cert_reader *r, size_t n, const unsigned char **out)
{
	if (n > r->left)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
cert_uint(struct cert_reader *r, size_t n, uint64_t *v)
{
	const unsigned char *b;
	size_t i;

	if (cert_take(r, n, &b) == -1)
		return -1;
	for (*v = 0, i = 0; i < n; i++)
		*v = (*v << 8) | b[i];
	return 0;
}

/* An SSH "string": uint32 length, then that many bytes. */
static int
cert_string(struct cert_reader *r, const unsigned char **s, size_t *len)
{
	uint64_t n;

	if (cert_uint(r, 4, &n) == -1 || cert_take(r, (size_t)n, s) == -1)
		return -1;
	*len = (size_t)n;
	return 0;
}

static int
cert_skip_strings(struct cert_reader *r, int n)
{
	const unsigned char *s;
	size_t len;

	while (n-- > 0) {
		if (cert_string(r, &s, &len) == -1)
			return -1;
	}
	return 0;
}

/* The public key's fields after the nonce: how many strings, by type. */
static int
cert_key_fields(const unsigned char *type, size_t len)
{
	if (len > 8 && memcmp(type, "ssh-rsa-", 8) == 0)
		return 2; /* e, n */
	if (len > 6 && memcmp(type, "ecdsa-", 6) == 0)
		return 2; /* curve, Q */
	if (len > 12 && memcmp(type, "ssh-ed25519-", 12) == 0)
		return 1; /* pk */
	return -1;
}

/* "a, b" from the packed principal strings. */
static int
cert_principals(const unsigned char *s, size_t len, char *out, size_t sz)
{
	struct cert_reader r = { s, len };
	const unsigned char *name;
	size_t nlen, used = 0;

	out[0] = '\0';
	while (r.left > 0) {
		if (cert_string(&r, &name, &nlen) == -1)
			return -1;
		if (used + nlen + 3 < sz)
			used += (size_t)snprintf(out + used, sz - used,
			    "%s%.*s", used > 0 ? ", " : "", (int)nlen,
			    (const char *)name);
	}
	return 0;
}

static int
cert_parse(const unsigned char *blob, size_t len, struct cert_info *info)
{
	struct cert_reader r = { blob, len };
	const unsigned char *type, *s;
	size_t tlen, slen;
	uint64_t skip;
	int fields;

	if (cert_string(&r, &type, &tlen) == -1 ||
	    (fields = cert_key_fields(type, tlen)) == -1 ||
	    cert_skip_strings(&r, 1 + fields) == -1 || /* nonce, key */
	    cert_uint(&r, 8, &skip) == -1 ||           /* serial */
	    cert_uint(&r, 4, &skip) == -1 ||           /* type */
	    cert_string(&r, &s, &slen) == -1)
		return -1;
	snprintf(info->key_id, sizeof info->key_id, "%.*s",
	    (int)(slen < sizeof info->key_id ? slen : sizeof info->key_id - 1),
	    (const char *)s);
	if (cert_string(&r, &s, &slen) == -1 ||
	    cert_principals(s, slen, info->principals,
	        sizeof info->principals) == -1 ||
	    cert_uint(&r, 8, &info->valid_after) == -1 ||
	    cert_uint(&r, 8, &info->valid_before) == -1)
		return -1;
	return 0;
}

/* Standard base64 into out; the decoded length, or -1 if it is not base64. */
static long
cert_base64_decode(const char *in, unsigned char *out, size_t sz)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;
	const char *c;

	for (; *in != '\0' && *in != '='; in++) {
		if ((c = strchr(alphabet, *in)) == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(c - alphabet);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == sz)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)n;
}

int
cert_read(const char *path, struct cert_info *info, struct error *err)
{
	size_t blobsz = 16384; /* an RSA 16384-bit certificate fits */
	unsigned char *blob = malloc(blobsz);
	ssh_key cert = NULL;
	char *b64 = NULL;
	long len;
	int rc = -1;

	memset(info, 0, sizeof *info);
	/* A certificate's public blob is the certificate itself. */
	if (blob != NULL && ssh_pki_import_cert_file(path, &cert) == SSH_OK &&
	    ssh_pki_export_pubkey_base64(cert, &b64) == SSH_OK &&
	    (len = cert_base64_decode(b64, blob, blobsz)) > 0)
		rc = cert_parse(blob, (size_t)len, info);
	ssh_string_free_char(b64);
	ssh_key_free(cert);
	free(blob);
	if (rc == -1)
		error_set(err, TETHER_EXIT_KEY,
		    "certificate %s: not an OpenSSH user certificate tether "
		    "can read; check it with ssh-keygen -L -f %s",
		    path, path);
	return rc;
}

int
cert_allows(const struct cert_info *info, const char *user)
{
	const char *p = info->principals;
	size_t ulen = strlen(user), n;

	if (*p == '\0')
		return 1;
	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n == ulen && strncmp(p, user, n) == 0)
			return 1;
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}
