/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * json_get: a strict JSON reader for the integration tests (jansson).
 *
 *   json_get FILE [PATH...]
 *
 * Parses FILE as one JSON document (trailing data, duplicate keys or bad
 * UTF-8 are errors). With no PATH it only checks. Each PATH is a dotted key
 * path, array indexes as numbers ("state", "forwards.0.bound_port",
 * "last_error.message"); its value is printed on one line: strings raw,
 * null as "null", true/false, numbers, objects and arrays as compact JSON.
 * Exit: 0 ok, 1 not valid JSON, 2 cannot read FILE (message says why),
 * 3 a PATH is not in the document, 4 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *
lookup(json_t *root, const char *path)
{
	char buf[512], *save = NULL, *tok, *end;
	json_t *cur = root;

	if (strlen(path) >= sizeof buf)
		return NULL;
	strcpy(buf, path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && cur != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur)) {
			long i = strtol(tok, &end, 10);

			if (*end != '\0' || i < 0)
				return NULL;
			cur = json_array_get(cur, (size_t)i);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else {
			return NULL;
		}
	}
	return cur;
}

static void
print_value(const json_t *v)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		printf("%s\n", json_string_value(v));
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%.17g\n", json_real_value(v));
		break;
	case JSON_TRUE:
		printf("true\n");
		break;
	case JSON_FALSE:
		printf("false\n");
		break;
	case JSON_NULL:
		printf("null\n");
		break;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "?");
		free(s);
		break;
	}
}

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *root, *v;
	FILE *f;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: json_get FILE [PATH...]\n");
		return 4;
	}
	f = fopen(argv[1], "rb");
	if (f == NULL) {
		fprintf(stderr, "json_get: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL) {
		fprintf(stderr, "json_get: %s:%d:%d: %s\n", argv[1], jerr.line,
		    jerr.column, jerr.text);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		v = lookup(root, argv[i]);
		if (v == NULL) {
			fprintf(stderr, "json_get: %s: no %s\n", argv[1], argv[i]);
			printf("\n");
			rc = 3;
			continue;
		}
		print_value(v);
	}
	json_decref(root);
	return rc;
}
