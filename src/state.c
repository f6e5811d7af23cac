/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tether/exit.h"
#include "fsutil.h"
#include "state.h"

static json_t *
state_time(time_t t)
{
	char buf[32];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/*
 * A string that is not UTF-8 (a message cut mid-character, bytes off the
 * network) would fail the whole render: keep its ASCII, '?' for the rest.
 */
static json_t *
state_string(const char *s)
{
	json_t *j = json_string(s);
	char *copy, *p;

	if (j != NULL || (copy = strdup(s)) == NULL)
		return j;
	for (p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return j;
}

/* Why a forward is not bound, as far as tether can tell. */
static json_t *
state_diagnosis(const struct state_forward *f)
{
	if (f->not_permitted)
		return json_string("not-permitted");
	if (f->refusals > 0)
		return json_string("in-use-or-not-permitted");
	return json_null();
}

static json_t *
state_forwards(const struct state_view *v)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < v->nforwards; i++) {
		const struct state_forward *f = &v->forwards[i];

		json_array_append_new(arr,
		    json_pack("{s:s, s:i, s:i, s:s, s:o, s:I, s:o, s:o}",
		        "spec", f->spec, "remote_port", f->remote_port,
		        "bound_port", f->bound_port, "state", f->state,
		        "probe_rtt_ms",
		        f->probe_rtt_ms > 0 ? json_real(f->probe_rtt_ms) :
		                              json_null(),
		        "refusals", (json_int_t)f->refusals, "refused_since",
		        state_time(f->refused_since), "diagnosis",
		        state_diagnosis(f)));
	}
	return arr;
}

static json_t *
state_bastions(const struct state_view *v)
{
	const struct state_bastion *b;
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < v->nbastions; i++) {
		b = &v->bastions[i];
		json_array_append_new(arr,
		    json_pack("{s:s, s:b, s:o, s:o}", "bastion", b->bastion,
		        "in_use", b->in_use, "last_error",
		        b->last_error != NULL ? state_string(b->last_error) :
		                                json_null(),
		        "last_error_at", state_time(b->last_error_at)));
	}
	return arr;
}

static json_t *
state_jumps(const struct state_view *v)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < v->njumps; i++)
		json_array_append_new(arr, state_string(v->jumps[i]));
	return arr;
}

char *
state_render(const struct state_view *v)
{
	json_t *root, *err, *prev, *ex;
	char *text;

	if (v->last_error != NULL)
		err = json_pack("{s:o, s:o}", "message",
		    state_string(v->last_error), "at",
		    state_time(v->last_error_at));
	else
		err = json_null();
	if (v->previous_error != NULL)
		prev = json_pack("{s:o, s:o, s:o}", "message",
		    state_string(v->previous_error), "at",
		    state_time(v->previous_error_at), "cleared_at",
		    state_time(v->previous_error_cleared_at));
	else
		prev = json_null();
	if (v->exit_code > 0)
		ex = json_pack("{s:i, s:s}", "code", v->exit_code, "meaning",
		    error_exit_meaning(v->exit_code));
	else
		ex = json_null();
	root = json_pack("{s:s, s:I, s:s, s:b, s:s, s:o, s:o, s:I, s:o, s:o, "
	                 "s:o, s:I, s:I, s:I, s:o}",
	    "name", v->name, "pid", (json_int_t)v->pid, "state", v->state,
	    "forwarding", strcmp(v->state, "forwarding") == 0, "bastion",
	    v->bastion, "forwards", state_forwards(v), "connected_since",
	    state_time(v->connected_since), "reconnects",
	    (json_int_t)v->reconnects, "last_error", err, "previous_error",
	    prev, "exit", ex, "channels", (json_int_t)v->channels,
	    "bytes_to_target", (json_int_t)v->bytes_to_target,
	    "bytes_from_target", (json_int_t)v->bytes_from_target, "updated",
	    state_time(v->updated));
	if (root == NULL)
		return NULL;
	json_object_set_new(root, "channels_total",
	    json_integer((json_int_t)v->channels_total));
	json_object_set_new(root, "keepalive_rtt_ms",
	    v->keepalive_rtt_ms > 0 ? json_real(v->keepalive_rtt_ms) :
	                              json_null());
	if (v->nbastions > 1)
		json_object_set_new(root, "bastions", state_bastions(v));
	if (v->njumps > 0)
		json_object_set_new(root, "jumps", state_jumps(v));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text != NULL) {
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);

		if (nl == NULL) {
			free(text);
			return NULL;
		}
		nl[n] = '\n';
		nl[n + 1] = '\0';
		text = nl;
	}
	return text;
}

int
state_write_atomic(const char *path, const char *text, struct error *err)
{
	return file_write_atomic(path, text, 0644, 0, err);
}
