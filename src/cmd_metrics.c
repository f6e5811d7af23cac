/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether metrics: every tunnel on the machine (system, user, daemon and
 * foreground ones, as status finds them) in Prometheus's text exposition
 * format, on stdout or written atomically as DIR/tether.prom for
 * node_exporter's textfile collector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tether/exit.h"
#include "ops.h"
#include "cli.h"
#include "cmd.h"
#include "fsutil.h"
#include "strbuf.h"

enum metrics_opt {
	MT_TEXTFILE = 1,
	MT_HELP,
};

static const struct cli_option metrics_options[] = {
	{ MT_TEXTFILE, 0, "textfile", "DIR",
	    "write DIR/tether.prom (atomically) for node_exporter's textfile "
	    "collector" },
	{ MT_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

/* The families, in the order they are printed; one strbuf each. */
enum family {
	F_UP,
	F_BOUND,
	F_RECONNECTS,
	F_CHANNELS,
	F_CHANNELS_TOTAL,
	F_BYTES,
	F_SINCE,
	F_PROBE,
	F_KEEPALIVE,
	F_INFO,
	F_COUNT,
};

static const struct {
	const char *name, *type, *help;
} families[F_COUNT] = {
	{ "tether_tunnel_up", "gauge",
	    "1 when every forward of the tunnel is bound on the bastion, else "
	    "0." },
	{ "tether_forward_bound", "gauge",
	    "1 when the forward's remote port is bound on the bastion, else "
	    "0." },
	{ "tether_reconnects_total", "counter",
	    "Sessions to the bastion the tunnel started again since it "
	    "started." },
	{ "tether_channels", "gauge", "Forwarded connections open now." },
	{ "tether_channels_total", "counter",
	    "Forwarded connections accepted since the tunnel started." },
	{ "tether_bytes_total", "counter",
	    "Bytes carried through the tunnel, to or from its targets." },
	{ "tether_connected_since_seconds", "gauge",
	    "Unix time the current session to the bastion began." },
	{ "tether_probe_rtt_seconds", "gauge",
	    "Round trip of the last end-to-end probe through the forward." },
	{ "tether_keepalive_rtt_seconds", "gauge",
	    "Round trip of the last keepalive the bastion answered." },
	{ "tether_info", "gauge",
	    "The tunnel's tether version and bastion; always 1." },
};

struct metrics_args {
	const char *textfile;
};

static void
cmd_metrics_help(void)
{
	printf(
	    "usage: tether metrics [--textfile DIR]\n\n"
	    "Every tunnel on this machine in Prometheus's text format: "
	    "tether_tunnel_up,\ntether_forward_bound, "
	    "tether_reconnects_total, tether_channels,\n"
	    "tether_channels_total, tether_bytes_total, "
	    "tether_connected_since_seconds,\ntether_probe_rtt_seconds, "
	    "tether_keepalive_rtt_seconds, tether_info. Exit 0\nwhatever the "
	    "tunnels' state.\n\n");
	cli_print_options(stdout, metrics_options);
}

static int
metrics_apply(int id, const char *arg, void *ctx)
{
	struct metrics_args *a = ctx;

	if (id == MT_TEXTFILE)
		a->textfile = arg;
	return 0;
}

/* A label value as the format wants it: \, " and newline escaped. */
static void
metrics_value(struct strbuf *sb, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addf(sb, "\\%c", *v);
		else if (*v == '\n')
			strbuf_add(sb, "\\n");
		else
			strbuf_addf(sb, "%c", *v);
	}
}

/* NAME{tunnel="T"[,KEY="VALUE"]...} VALUE: extra is NULL-terminated pairs. */
static void
metrics_sample(struct strbuf *sb, enum family f, const char *tunnel,
    const char *const *extra, double value)
{
	size_t i;

	strbuf_addf(sb, "%s{tunnel=\"", families[f].name);
	metrics_value(sb, tunnel);
	strbuf_add(sb, "\"");
	for (i = 0; extra != NULL && extra[i] != NULL; i += 2) {
		strbuf_addf(sb, ",%s=\"", extra[i]);
		metrics_value(sb, extra[i + 1]);
		strbuf_add(sb, "\"");
	}
	strbuf_addf(sb, "} %.17g\n", value);
}

/* "2026-12-05T09:00:00Z" as unix time; 0 if it is not one. */
static double
metrics_unix_time(const char *iso)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL ||
	    (end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return 0;
	return (double)timegm(&tm);
}

static double
metrics_number(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* One forward of a live tunnel: bound or not, and its probe's round trip. */
static void
metrics_forward(struct strbuf *sb, const char *tunnel, const json_t *fw)
{
	char port[16];
	const char *extra[] = { "remote_port", port, NULL };
	const json_t *rtt = json_object_get(fw, "probe_rtt_ms");

	snprintf(port, sizeof port, "%lld",
	    (long long)json_integer_value(json_object_get(fw, "remote_port")));
	metrics_sample(&sb[F_BOUND], F_BOUND, tunnel, extra,
	    json_integer_value(json_object_get(fw, "bound_port")) > 0);
	if (json_is_number(rtt))
		metrics_sample(&sb[F_PROBE], F_PROBE, tunnel, extra,
		    json_number_value(rtt) / 1000.0);
}

/* One tunnel of status's JSON into the families' buffers. */
static void
metrics_tunnel(struct strbuf *sb, const json_t *t)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	const json_t *live = json_object_get(t, "live"), *fw;
	const char *to[] = { "direction", "to_target", NULL };
	const char *from[] = { "direction", "from_target", NULL };
	const char *info[] = { "version", TETHER_VERSION, "bastion",
		json_string_value(json_object_get(live, "bastion")), NULL };
	double since;
	size_t i;

	if (name == NULL || json_object_get(t, "legacy_unit") != NULL)
		return; /* scitex-tunnel's units are not tether's to count */
	if (info[3] == NULL)
		info[3] = "";
	metrics_sample(&sb[F_UP], F_UP, name, NULL,
	    json_is_true(json_object_get(t, "forwarding")));
	metrics_sample(&sb[F_INFO], F_INFO, name, info, 1);
	if (!json_is_object(live))
		return;
	json_array_foreach(json_object_get(live, "forwards"), i, fw) {
		metrics_forward(sb, name, fw);
	}
	metrics_sample(&sb[F_RECONNECTS], F_RECONNECTS, name, NULL,
	    metrics_number(live, "reconnects"));
	metrics_sample(&sb[F_CHANNELS], F_CHANNELS, name, NULL,
	    metrics_number(live, "channels"));
	metrics_sample(&sb[F_CHANNELS_TOTAL], F_CHANNELS_TOTAL, name, NULL,
	    metrics_number(live, "channels_total"));
	if (json_is_number(json_object_get(live, "keepalive_rtt_ms")))
		metrics_sample(&sb[F_KEEPALIVE], F_KEEPALIVE, name, NULL,
		    metrics_number(live, "keepalive_rtt_ms") / 1000.0);
	metrics_sample(&sb[F_BYTES], F_BYTES, name, to,
	    metrics_number(live, "bytes_to_target"));
	metrics_sample(&sb[F_BYTES], F_BYTES, name, from,
	    metrics_number(live, "bytes_from_target"));
	since = metrics_unix_time(
	    json_string_value(json_object_get(live, "connected_since")));
	if (since > 0)
		metrics_sample(&sb[F_SINCE], F_SINCE, name, NULL, since);
}

/* status's JSON as the exposition text; NULL if it cannot be read. */
static char *
metrics_render(const char *status_json)
{
	struct strbuf sb[F_COUNT], out;
	json_t *doc, *t;
	size_t i;

	if ((doc = json_loads(status_json, 0, NULL)) == NULL)
		return NULL;
	for (i = 0; i < F_COUNT; i++)
		strbuf_init(&sb[i]);
	json_array_foreach(json_object_get(doc, "tunnels"), i, t) {
		metrics_tunnel(sb, t);
	}
	json_decref(doc);
	strbuf_init(&out);
	for (i = 0; i < F_COUNT; i++) {
		strbuf_addf(&out, "# HELP %s %s\n# TYPE %s %s\n",
		    families[i].name, families[i].help, families[i].name,
		    families[i].type);
		if (sb[i].data != NULL)
			strbuf_add(&out, sb[i].data);
		out.failed |= sb[i].failed;
		strbuf_free(&sb[i]);
	}
	if (out.failed) {
		strbuf_free(&out);
		return NULL;
	}
	return strbuf_take(&out);
}

/* DIR/tether.prom, whole or not at all: the collector never reads half. */
static int
metrics_write_textfile(const char *dir, const char *text)
{
	char path[4096];
	struct error err;

	error_clear(&err);
	if ((size_t)snprintf(path, sizeof path, "%s/tether.prom", dir) >=
	    sizeof path) {
		fprintf(stderr, "tether: --textfile %.100s: path too long\n",
		    dir);
		return TETHER_EXIT_USAGE;
	}
	if (file_write_atomic(path, text, 0644, 0, &err) == -1) {
		fprintf(stderr, "tether: --textfile: %s\n", err.msg);
		return TETHER_EXIT_FAILURE;
	}
	return TETHER_EXIT_OK;
}

static int
cmd_metrics(int argc, char **argv)
{
	struct api_status_opts opts;
	struct api_result r;
	struct metrics_args a;
	char *text;
	int rc;

	memset(&a, 0, sizeof a);
	if (cli_parse_verb(argc, argv, metrics_options, MT_HELP, metrics_apply,
	        &a, cmd_metrics_help, &rc))
		return rc;
	memset(&opts, 0, sizeof opts);
	opts.all_modes = 1;
	api_status(&opts, &r);
	text = r.json != NULL ? metrics_render(r.json) : NULL;
	if (text == NULL) {
		fprintf(stderr,
		    "tether: metrics: cannot read the tunnels' state%s%s",
		    r.err[0] != '\0' ? ": " : "\n", r.err);
		api_result_free(&r);
		return TETHER_EXIT_FAILURE;
	}
	api_result_free(&r);
	if (a.textfile != NULL)
		rc = metrics_write_textfile(a.textfile, text);
	else if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
		rc = TETHER_EXIT_FAILURE;
	free(text);
	return rc;
}

const struct cmd_entry cmd_metrics_entry = {
	.name = "metrics",
	.summary = "every tunnel in Prometheus's text format (--textfile DIR)",
	.exec = cmd_metrics,
	.help = cmd_metrics_help,
};
