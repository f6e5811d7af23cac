/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "tether/exit.h"
#include "backoff.h"
#include "failover.h"
#include "netwatch.h"
#include "notify.h"
#include "fsutil.h"
#include "paths.h"
#include "resume.h"
#include "session.h"
#include "state.h"
#include "supervisor.h"

/* A burst of route events becomes one reconnect after this pause. */
#define NETWORK_SETTLE_SECONDS 0.05
#define STATE_REFRESH_SECONDS 1.0
#define CLOCK_CHECK_SECONDS 2.0
#define RESUME_MIN_GAP_SECONDS 3.0

struct supervisor {
	struct ev_loop *loop;
	struct tether_config *cfg; /* owned; replaced on reload */
	struct logger *log; /* names the bastion in use for the journal */
	const struct supervisor_hooks *hooks;
	struct session *session;
	struct notifier notifier;
	/* Several bastions: which serves; while a later one does, the first
	 * is checked by a session of its own (failback), taken over once it
	 * has bound every forward. */
	struct failover failover;
	struct session *failback;
	struct tether_config *failback_cfg;
	ev_timer failback_timer; /* when to check the first again */
	ev_timer failback_reap;  /* frees a failed check, off its callback */
	double failback_wait;
	struct netwatch netwatch;

	ev_signal sigint;
	ev_signal sigterm;
	ev_signal sighup;
	ev_signal sigusr1;
	ev_timer retry; /* the wait before reconnecting */
	/* While a host key is refused: a fix to the file ends the wait. */
	ev_stat known_hosts;
	ev_timer stable; /* up long enough: backoff starts over */
	ev_timer watchdog;
	ev_timer refresh;     /* counters into the state file */
	ev_timer clock_check; /* notices a suspend and resume */
	struct resume_watch resume;

	struct backoff backoff;
	uint64_t rng;
	int ever_up;         /* a forward was bound once */
	int refused;         /* waiting out a refusal, slowly */
	int retried_at_once; /* the one immediate retry is spent */
	int ready_sent;
	int stopping;
	unsigned reconnects;
	time_t connected_since;
	char last_error[ERROR_MSG_MAX]; /* the current problem, if any */
	time_t last_error_at;
	char previous_error[ERROR_MSG_MAX]; /* the last one recovered from */
	time_t previous_error_at;
	time_t previous_error_cleared_at;
	char status[512]; /* the last STATUS= sent */
	char state_path[CONFIG_PATH_MAX];
	size_t written_channels;
	uint64_t written_bytes;
	int finished;
	int exit_code;
};

static void supervisor_publish(struct supervisor *);

/* Failures that a retry cannot fix end the process. */
static int
supervisor_is_permanent(const struct supervisor *sv, int code)
{
	switch (code) {
	case TETHER_EXIT_CONFIG:
	case TETHER_EXIT_KEY:
	case TETHER_EXIT_FORWARD:
		return 1;
	case TETHER_EXIT_AUTH:
	case TETHER_EXIT_HOSTKEY:
		/*
		 * A typo fails fast; a bastion that once let us in is asked
		 * again, slowly (see supervisor_is_refusal).
		 */
		return !sv->ever_up;
	default:
		return 0;
	}
}

/*
 * The bastion refuses us on purpose (authentication, a changed host key):
 * no retry storm, and never a check disabled to "fix" it.
 */
static int
supervisor_is_refusal(int code)
{
	return code == TETHER_EXIT_AUTH || code == TETHER_EXIT_HOSTKEY;
}

/* "forwarding" only while every forward is bound: what status trusts. */
static const char *
supervisor_forwarding_state(const struct supervisor *sv)
{
	size_t bound = session_bound_count(sv->session);

	if (bound == sv->cfg->nforwards)
		return "forwarding";
	return bound == 0 ? "waiting-for-port" : "partial";
}

static const char *
supervisor_state_name(const struct supervisor *sv)
{
	if (sv->finished && sv->exit_code != TETHER_EXIT_OK)
		return "failed";
	if (sv->stopping)
		return "stopping";
	if (sv->refused && ev_is_active(&sv->retry))
		return "refused";
	if (ev_is_active(&sv->retry))
		return "waiting-to-retry";
	switch (session_get_state(sv->session)) {
	case SESSION_CONNECTING:
		return "connecting";
	case SESSION_AUTHENTICATING:
		return "authenticating";
	case SESSION_REQUESTING:
		return "requesting";
	case SESSION_FORWARDING:
		return supervisor_forwarding_state(sv);
	case SESSION_CLOSED:
	default:
		return "waiting-to-retry";
	}
}

static void
supervisor_format_spec(const struct bastion_spec *b, char *out, size_t sz)
{
	snprintf(out, sz, "%s%s%s:%d", b->user, b->user[0] != '\0' ? "@" : "",
	    b->host, b->port);
}

/* "2222 refused 3 times since 07:31:02" for each forward not bound. */
static size_t
supervisor_format_unbound(struct supervisor *sv, char *out, size_t sz)
{
	struct session_forward_info fw[CONFIG_FORWARDS_MAX];
	size_t i, n, len = 0;
	struct tm tm;
	char when[16];

	n = session_forwards(sv->session, fw, CONFIG_FORWARDS_MAX);
	for (i = 0; i < n && len < sz; i++) {
		if (fw[i].bound_port != 0)
			continue;
		if (fw[i].refusals == 0) {
			len += (size_t)snprintf(out + len, sz - len, "%s%d %s",
			    len > 0 ? ", " : "", fw[i].spec->port, fw[i].state);
			continue;
		}
		localtime_r(&fw[i].refused_since, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		len += (size_t)snprintf(out + len, sz - len,
		    "%s%d refused %u time%s since %s%s", len > 0 ? ", " : "",
		    fw[i].spec->port, fw[i].refusals,
		    fw[i].refusals == 1 ? "" : "s", when,
		    fw[i].not_permitted ? ", probably not permitted" : "");
	}
	return len;
}

/* One human line for systemctl status. */
static void
supervisor_format_status(struct supervisor *sv, char *out, size_t sz)
{
	struct session_forward_info fw[CONFIG_FORWARDS_MAX];
	size_t i, n, len = 0;
	const char *st = supervisor_state_name(sv);

	if (strcmp(st, "partial") == 0 || strcmp(st, "waiting-for-port") == 0) {
		len = (size_t)snprintf(out, sz, "%s %s: ", st,
		    sv->cfg->bastion.host);
		if (len < sz)
			len += supervisor_format_unbound(sv, out + len,
			    sz - len);
		if (len < sz)
			snprintf(out + len, sz - len,
			    " (port in use on the bastion, or not permitted)");
		return;
	}
	if (strcmp(st, "forwarding") != 0) {
		/* The last error explains a wait; in other states it is old news. */
		int why = (strcmp(st, "waiting-to-retry") == 0 ||
		              strcmp(st, "refused") == 0) &&
		    sv->last_error[0] != '\0';

		snprintf(out, sz, "%s %s%s%.200s", st, sv->cfg->bastion.host,
		    why ? ": " : "", why ? sv->last_error : "");
		return;
	}
	n = session_forwards(sv->session, fw, CONFIG_FORWARDS_MAX);
	len = (size_t)snprintf(out, sz, "forwarding");
	for (i = 0; i < n && len < sz; i++) {
		if (fw[i].bound_port == 0)
			continue;
		len += (size_t)snprintf(out + len, sz - len, "%s %d->%s:%d",
		    len > 10 ? "," : "", fw[i].bound_port, fw[i].spec->host,
		    fw[i].spec->host_port);
	}
	if (len < sz)
		snprintf(out + len, sz - len, " via %s, %zu channels",
		    sv->cfg->bastion.host, session_channel_count(sv->session));
}

static void
supervisor_fill_bastions(const struct supervisor *sv, struct state_view *v)
{
	const struct failover_note *note;
	size_t i;

	v->nbastions = sv->cfg->nbastions;
	for (i = 0; i < v->nbastions; i++) {
		note = &sv->failover.notes[i];
		supervisor_format_spec(&sv->cfg->bastions[i],
		    v->bastions[i].bastion, sizeof v->bastions[i].bastion);
		v->bastions[i].in_use = i == sv->failover.current;
		v->bastions[i].last_error = note->error[0] != '\0' ?
		    note->error :
		    NULL;
		v->bastions[i].last_error_at = note->at;
	}
}

static void
supervisor_fill_view(struct supervisor *sv, struct state_view *v)
{
	struct session_forward_info fw[CONFIG_FORWARDS_MAX];
	size_t i;

	memset(v, 0, sizeof *v);
	v->name = sv->cfg->name;
	v->pid = (long)getpid();
	v->state = supervisor_state_name(sv);
	supervisor_format_spec(&sv->cfg->bastion, v->bastion,
	    sizeof v->bastion);
	v->nforwards = session_forwards(sv->session, fw, CONFIG_FORWARDS_MAX);
	for (i = 0; i < v->nforwards; i++) {
		snprintf(v->forwards[i].spec, sizeof v->forwards[i].spec, "%s",
		    fw[i].label);
		v->forwards[i].remote_port = fw[i].spec->port;
		v->forwards[i].bound_port = fw[i].bound_port;
		v->forwards[i].state = fw[i].state;
		v->forwards[i].probe_rtt_ms = fw[i].probe_rtt * 1000;
		v->forwards[i].refusals = fw[i].refusals;
		v->forwards[i].not_permitted = fw[i].not_permitted;
		v->forwards[i].refused_since = fw[i].refused_since;
	}
	supervisor_fill_bastions(sv, v);
	v->njumps = sv->cfg->njumps;
	for (i = 0; i < v->njumps; i++)
		supervisor_format_spec(&sv->cfg->jumps[i].dest, v->jumps[i],
		    sizeof v->jumps[i]);
	v->connected_since = sv->connected_since;
	v->reconnects = sv->reconnects;
	v->last_error = sv->last_error[0] != '\0' ? sv->last_error : NULL;
	v->last_error_at = sv->last_error_at;
	v->previous_error = sv->previous_error[0] != '\0' ? sv->previous_error :
	                                                    NULL;
	v->previous_error_at = sv->previous_error_at;
	v->previous_error_cleared_at = sv->previous_error_cleared_at;
	v->exit_code = sv->finished ? sv->exit_code : 0;
	v->channels = session_channel_count(sv->session);
	v->channels_total = session_channels_total(sv->session);
	v->keepalive_rtt_ms = session_keepalive_rtt(sv->session) * 1000;
	session_bytes(sv->session, &v->bytes_to_target, &v->bytes_from_target);
	v->updated = time(NULL);
}

static void
supervisor_write_state(struct supervisor *sv)
{
	struct state_view v;
	struct error err;
	char *text;

	if (sv->state_path[0] == '\0')
		return;
	supervisor_fill_view(sv, &v);
	sv->written_channels = v.channels;
	sv->written_bytes = v.bytes_to_target + v.bytes_from_target;
	text = state_render(&v);
	if (text == NULL)
		return;
	error_clear(&err);
	if (state_write_atomic(sv->state_path, text, &err) == -1) {
		log_warn(sv->log, "%s; status will not show this tunnel",
		    err.msg);
		sv->state_path[0] = '\0';
	}
	free(text);
}

/*
 * Once every forward is bound, the last problem is over: it is kept as the
 * previous one, with when it began and ended, and no longer shown as
 * current.
 */
static void
supervisor_clear_recovered(struct supervisor *sv)
{
	if (sv->last_error[0] == '\0' ||
	    strcmp(supervisor_state_name(sv), "forwarding") != 0)
		return;
	snprintf(sv->previous_error, sizeof sv->previous_error, "%s",
	    sv->last_error);
	sv->previous_error_at = sv->last_error_at;
	sv->previous_error_cleared_at = time(NULL);
	sv->last_error[0] = '\0';
	sv->last_error_at = 0;
}

/* A state change: the state file and STATUS=, at once. */
static void
supervisor_publish(struct supervisor *sv)
{
	char status[sizeof sv->status];

	supervisor_clear_recovered(sv);
	supervisor_write_state(sv);
	supervisor_format_status(sv, status, sizeof status);
	if (strcmp(status, sv->status) != 0) {
		snprintf(sv->status, sizeof sv->status, "%s", status);
		notify_send(&sv->notifier, "STATUS=%s", status);
	}
}

static void
supervisor_finish(struct supervisor *sv, int code)
{
	sv->exit_code = code;
	sv->finished = 1;
	ev_timer_stop(sv->loop, &sv->retry);
	ev_timer_stop(sv->loop, &sv->stable);
	ev_break(sv->loop, EVBREAK_ALL);
}

static void
supervisor_record_error(struct supervisor *sv, const struct error *err)
{
	snprintf(sv->last_error, sizeof sv->last_error, "%s", err->msg);
	sv->last_error_at = time(NULL);
}

/*
 * A changed or unknown host key is fixed by editing known_hosts (or by
 * tether trust): retry as soon as the file changes, not at the next
 * refused_retry_interval. libev watches it with inotify.
 */
static void
supervisor_on_known_hosts_changed(struct ev_loop *loop, ev_stat *w, int revents)
{
	struct supervisor *sv = w->data;

	ev_stat_stop(loop, w);
	if (!sv->refused || !ev_is_active(&sv->retry))
		return;
	log_info(sv->log, "%s changed: connecting again now",
	    sv->cfg->known_hosts);
	ev_timer_stop(loop, &sv->retry);
	ev_timer_set(&sv->retry, 0, 0);
	ev_timer_start(loop, &sv->retry);
}

static void
supervisor_watch_known_hosts(struct supervisor *sv)
{
	if (sv->cfg->known_hosts[0] == '\0' || ev_is_active(&sv->known_hosts))
		return;
	ev_stat_set(&sv->known_hosts, sv->cfg->known_hosts, 0.);
	ev_stat_start(sv->loop, &sv->known_hosts);
}

/* The bastion the session dials from now on: the failover's current. */
static void
supervisor_use_bastion(struct supervisor *sv)
{
	if (sv->cfg->nbastions > sv->failover.current)
		sv->cfg->bastion = sv->cfg->bastions[sv->failover.current];
}

/*
 * With several bastions, a failure (to connect, to log in, or a session
 * lost) moves to the next one at once; 1 if it did. After a whole round,
 * 0: the first again, after the usual wait.
 */
static int
supervisor_fail_over(struct supervisor *sv, const struct error *err)
{
	char next[SPEC_USER_MAX + SPEC_HOST_MAX + 16];
	int moved;

	if (sv->failover.n < 2 || sv->stopping)
		return 0;
	moved = failover_failed(&sv->failover, err->msg, time(NULL));
	supervisor_use_bastion(sv);
	if (!moved)
		return 0;
	supervisor_format_spec(&sv->cfg->bastion, next, sizeof next);
	log_event(sv->log, LOG_WARNING, "failover",
	    "%s; trying the next bastion, %s", err->msg, next);
	ev_timer_set(&sv->retry, 0, 0);
	ev_timer_start(sv->loop, &sv->retry);
	supervisor_publish(sv);
	return 1;
}

static const struct session_events supervisor_session_events;
static void supervisor_on_failback_bound(struct session *, void *);
static void supervisor_on_failback_closed(struct session *,
    const struct error *, void *);

static const struct session_events supervisor_failback_events = {
	/* on_change: the candidate's progress shows only once it serves. */
	.on_forward_bound = supervisor_on_failback_bound,
	.on_closed = supervisor_on_failback_closed,
};

static void
supervisor_drop_failback(struct supervisor *sv)
{
	session_free(sv->failback);
	free(sv->failback_cfg);
	sv->failback = NULL;
	sv->failback_cfg = NULL;
}

/* Served by a later bastion: check the first again after a while. */
static void
supervisor_schedule_failback(struct supervisor *sv)
{
	if (sv->failover.current == 0 || sv->failback != NULL ||
	    ev_is_active(&sv->failback_timer))
		return;
	if (sv->failback_wait == 0)
		sv->failback_wait = sv->cfg->failback_interval;
	ev_timer_set(&sv->failback_timer, sv->failback_wait, 0);
	ev_timer_start(sv->loop, &sv->failback_timer);
}

static void
supervisor_on_failback_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;
	char first[SPEC_USER_MAX + SPEC_HOST_MAX + 16];
	struct error err;

	if (sv->failover.current == 0 || sv->failback != NULL || sv->stopping)
		return;
	sv->failback_cfg = malloc(sizeof *sv->failback_cfg);
	if (sv->failback_cfg == NULL)
		return;
	*sv->failback_cfg = *sv->cfg;
	sv->failback_cfg->bastion = sv->cfg->bastions[0];
	sv->failback = session_new(loop, sv->failback_cfg, sv->log,
	    &supervisor_failback_events, sv);
	supervisor_format_spec(&sv->failback_cfg->bastion, first, sizeof first);
	error_clear(&err);
	if (sv->failback == NULL || session_start(sv->failback, &err) == -1) {
		log_warn(sv->log, "cannot check bastion %s: %s", first,
		    sv->failback == NULL ? "out of memory" : err.msg);
		supervisor_drop_failback(sv);
		supervisor_schedule_failback(sv);
		return;
	}
	log_info(sv->log,
	    "checking bastion %s, the first choice, while %s serves", first,
	    sv->cfg->bastion.host);
}

/* The first bastion serves every forward again: it takes over. */
static void
supervisor_take_failback(struct supervisor *sv)
{
	char from[SPEC_USER_MAX + SPEC_HOST_MAX + 16], to[sizeof from];
	struct tether_config *old_cfg = sv->cfg;

	supervisor_format_spec(&old_cfg->bastion, from, sizeof from);
	ev_stat_stop(sv->loop, &sv->known_hosts);
	session_free(sv->session);
	sv->session = sv->failback;
	sv->cfg = sv->failback_cfg;
	sv->failback = NULL;
	sv->failback_cfg = NULL;
	free(old_cfg);
	session_set_events(sv->session, &supervisor_session_events, sv);
	failover_use(&sv->failover, 0);
	sv->failback_wait = 0;
	sv->connected_since = time(NULL);
	supervisor_format_spec(&sv->cfg->bastion, to, sizeof to);
	log_set_bastion(sv->log, to);
	log_event(sv->log, LOG_NOTICE, "failback",
	    "back on bastion %s, the first choice, with every forward; %s "
	    "released",
	    sv->cfg->bastion.host, from);
	supervisor_publish(sv);
}

static void
supervisor_on_failback_bound(struct session *s, void *arg)
{
	struct supervisor *sv = arg;

	if (session_bound_count(s) == sv->failback_cfg->nforwards)
		supervisor_take_failback(sv);
}

static void
supervisor_on_failback_closed(struct session *s, const struct error *err,
    void *arg)
{
	struct supervisor *sv = arg;

	(void)s;
	snprintf(sv->failover.notes[0].error,
	    sizeof sv->failover.notes[0].error, "%s", err->msg);
	sv->failover.notes[0].at = time(NULL);
	sv->failback_wait = sv->failback_wait * 2 > sv->cfg->backoff_max * 10 ?
	    sv->cfg->backoff_max * 10 :
	    sv->failback_wait * 2;
	log_info(sv->log,
	    "the first bastion still fails (%s): checking again in %.0f s",
	    err->msg, sv->failback_wait);
	/* Not from inside its own callback: the session is still running it. */
	ev_timer_set(&sv->failback_reap, 0, 0);
	ev_timer_start(sv->loop, &sv->failback_reap);
}

static void
supervisor_on_failback_reap(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	supervisor_drop_failback(sv);
	supervisor_schedule_failback(sv);
}

static void
supervisor_schedule_retry(struct supervisor *sv, const struct error *err)
{
	double wait;

	supervisor_record_error(sv, err);
	sv->connected_since = 0;
	if (supervisor_fail_over(sv, err))
		return;
	if (supervisor_is_permanent(sv, err->code)) {
		log_err(sv->log, "%s", err->msg);
		supervisor_finish(sv, err->code);
		return;
	}
	sv->refused = supervisor_is_refusal(err->code);
	if (sv->refused) {
		wait = sv->cfg->refused_retry_interval;
		log_err(sv->log,
		    "%s; the bastion refuses this tunnel: asking "
		    "again in %.0f s (refused_retry_interval)%s",
		    err->msg, wait,
		    err->code == TETHER_EXIT_HOSTKEY ?
		        ", or as soon as known_hosts changes" :
		        "");
		if (err->code == TETHER_EXIT_HOSTKEY)
			supervisor_watch_known_hosts(sv);
	} else {
		/*
		 * A tunnel that was up and stable drops: try again at once,
		 * as autossh does, and back off only if that fails too. A
		 * flapping bastion gets it once: only a stable tunnel (see
		 * supervisor_on_stable_timer) earns it again.
		 */
		int first = sv->ever_up && !sv->retried_at_once;

		wait = backoff_next(&sv->backoff, rng_unit(&sv->rng));
		if (first) {
			wait = 0;
			sv->retried_at_once = 1;
		}
		log_event(sv->log, LOG_WARNING, "reconnecting",
		    "%s; reconnecting in %.1f s", err->msg, wait);
	}
	ev_timer_set(&sv->retry, wait, 0);
	ev_timer_start(sv->loop, &sv->retry);
	supervisor_publish(sv);
}

static void
supervisor_start_session(struct supervisor *sv)
{
	char bastion[SPEC_USER_MAX + SPEC_HOST_MAX + 16];
	struct error err;

	supervisor_format_spec(&sv->cfg->bastion, bastion, sizeof bastion);
	log_set_bastion(sv->log, bastion);
	error_clear(&err);
	if (session_start(sv->session, &err) == -1)
		supervisor_schedule_retry(sv, &err);
}

static void
supervisor_on_session_change(struct session *s, void *arg)
{
	(void)s;
	supervisor_publish(arg);
}

static void
supervisor_on_forward_bound(struct session *s, void *arg)
{
	struct supervisor *sv = arg;

	(void)s;
	sv->ever_up = 1;
	if (sv->connected_since == 0)
		sv->connected_since = time(NULL);
	if (!sv->ready_sent) {
		sv->ready_sent = 1;
		notify_send(&sv->notifier, "READY=1");
	}
	if (!ev_is_active(&sv->stable)) {
		ev_timer_set(&sv->stable, sv->cfg->stable_after, 0);
		ev_timer_start(sv->loop, &sv->stable);
	}
	if (session_bound_count(s) == sv->cfg->nforwards) {
		failover_up(&sv->failover);
		supervisor_schedule_failback(sv);
	}
	supervisor_publish(sv);
}

static void
supervisor_on_session_closed(struct session *s, const struct error *err,
    void *arg)
{
	struct supervisor *sv = arg;

	(void)s;
	ev_timer_stop(sv->loop, &sv->stable);
	supervisor_schedule_retry(sv, err);
}

static const struct session_events supervisor_session_events = {
	.on_change = supervisor_on_session_change,
	.on_forward_bound = supervisor_on_forward_bound,
	.on_closed = supervisor_on_session_closed,
};

/* Drops whatever the session is doing and connects again now. */
static void
supervisor_reconnect_now(struct supervisor *sv)
{
	ev_timer_stop(sv->loop, &sv->retry);
	ev_timer_stop(sv->loop, &sv->stable);
	session_stop(sv->session);
	backoff_reset(&sv->backoff);
	sv->connected_since = 0;
	sv->reconnects++;
	supervisor_start_session(sv);
	supervisor_publish(sv);
}

static void
supervisor_on_retry_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	ev_stat_stop(loop, &sv->known_hosts);
	sv->reconnects++;
	supervisor_start_session(sv);
	supervisor_publish(sv);
}

static void
supervisor_on_stable_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	backoff_reset(&sv->backoff);
	sv->retried_at_once = 0;
}

static void
supervisor_on_watchdog_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	/* Proves the loop turns, not that the bastion is reachable. */
	notify_send(&sv->notifier, "WATCHDOG=1");
}

static void
supervisor_on_refresh_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;
	uint64_t to, from;

	session_bytes(sv->session, &to, &from);
	if (to + from != sv->written_bytes ||
	    session_channel_count(sv->session) != sv->written_channels)
		supervisor_publish(sv);
}

static double
supervisor_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * After a suspend longer than the keepalive allows, the bastion has
 * dropped the session: reconnect now rather than wait for silence to prove
 * it. A wait for a retry is cut short the same way.
 */
static void
supervisor_on_clock_check(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;
	double slept, limit;

	slept = resume_watch_check(&sv->resume,
	    supervisor_clock(CLOCK_BOOTTIME), supervisor_clock(CLOCK_MONOTONIC),
	    RESUME_MIN_GAP_SECONDS);
	if (slept == 0 || sv->refused)
		return;
	limit = config_liveness_limit(sv->cfg);
	if (ev_is_active(&sv->retry) || slept > limit ||
	    sv->cfg->keepalive_interval == 0) {
		log_info(sv->log,
		    "resumed after %.0f s asleep: reconnecting now", slept);
		supervisor_reconnect_now(sv);
	}
}

static void
supervisor_on_network_up(struct netwatch *nw, const char *why, void *arg)
{
	struct supervisor *sv = arg;

	(void)nw;
	/* A refusal does not end because a link came back. */
	if (!ev_is_active(&sv->retry) || sv->refused)
		return;
	log_info(sv->log, "network change (%s): reconnecting now", why);
	backoff_reset(&sv->backoff);
	ev_timer_stop(sv->loop, &sv->retry);
	ev_timer_set(&sv->retry, NETWORK_SETTLE_SECONDS, 0);
	ev_timer_start(sv->loop, &sv->retry);
}

/* The same way there: ProxyCommand, or the same jump hosts in order. */
static int
supervisor_same_way(const struct tether_config *a,
    const struct tether_config *b)
{
	const struct jump_spec *x, *y;
	size_t i;

	if (strcmp(a->proxy_command, b->proxy_command) != 0 ||
	    a->njumps != b->njumps)
		return 0;
	for (i = 0; i < a->njumps; i++) {
		x = &a->jumps[i];
		y = &b->jumps[i];
		if (strcmp(x->dest.user, y->dest.user) != 0 ||
		    strcmp(x->dest.host, y->dest.host) != 0 ||
		    x->dest.port != y->dest.port ||
		    strcmp(x->key_path, y->key_path) != 0)
			return 0;
	}
	return 1;
}

static int
supervisor_same_session(const struct tether_config *a,
    const struct tether_config *b)
{
	return supervisor_same_way(a, b) &&
	    strcmp(a->bastion.user, b->bastion.user) == 0 &&
	    strcmp(a->bastion.host, b->bastion.host) == 0 &&
	    a->bastion.port == b->bastion.port &&
	    strcmp(a->key_path, b->key_path) == 0 &&
	    strcmp(a->known_hosts, b->known_hosts) == 0 &&
	    a->host_key_policy == b->host_key_policy &&
	    a->keepalive_interval == b->keepalive_interval &&
	    a->keepalive_count == b->keepalive_count &&
	    a->connect_timeout == b->connect_timeout &&
	    a->max_channels == b->max_channels &&
	    a->channel_window == b->channel_window &&
	    a->exit_on_forward_failure == b->exit_on_forward_failure;
}

static void
supervisor_reload(struct supervisor *sv)
{
	struct tether_config *next, *old = sv->cfg;
	struct error err;

	if (sv->hooks == NULL || sv->hooks->reload == NULL)
		return;
	notify_send(&sv->notifier, "RELOADING=1");
	next = malloc(sizeof *next);
	error_clear(&err);
	if (next == NULL ||
	    sv->hooks->reload(next, &err, sv->hooks->ctx) == -1) {
		log_err(sv->log,
		    "reload failed, keeping the running configuration: %s",
		    next == NULL ? "out of memory" : err.msg);
		free(next);
		notify_send(&sv->notifier, "READY=1");
		return;
	}
	backoff_init(&sv->backoff, next->backoff_initial, next->backoff_max,
	    next->backoff_factor);
	/* The bastions may have changed: start again from the first. */
	supervisor_drop_failback(sv);
	ev_timer_stop(sv->loop, &sv->failback_timer);
	sv->failback_wait = 0;
	failover_init(&sv->failover, next->nbastions);
	if (supervisor_same_session(old, next)) {
		log_info(sv->log, "reloaded: same bastion, updating forwards");
		session_reconfigure(sv->session, next);
		sv->cfg = next;
		free(old);
	} else {
		log_info(sv->log,
		    "reloaded: bastion settings changed, reconnecting");
		session_free(sv->session);
		sv->cfg = next;
		free(old);
		sv->session = session_new(sv->loop, sv->cfg, sv->log,
		    &supervisor_session_events, sv);
		if (sv->session == NULL) {
			log_err(sv->log, "out of memory");
			supervisor_finish(sv, TETHER_EXIT_FAILURE);
			return;
		}
		supervisor_reconnect_now(sv);
	}
	notify_send(&sv->notifier, "READY=1");
	supervisor_publish(sv);
}

static void
supervisor_on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct supervisor *sv = w->data;

	if (w->signum == SIGHUP) {
		log_info(sv->log, "SIGHUP: reloading the configuration");
		supervisor_reload(sv);
		return;
	}
	if (w->signum == SIGUSR1) {
		log_info(sv->log, "SIGUSR1: reconnecting now");
		supervisor_reconnect_now(sv);
		return;
	}
	log_info(sv->log, "%s: stopping", strsignal(w->signum));
	sv->stopping = 1;
	notify_send(&sv->notifier, "STOPPING=1");
	supervisor_publish(sv);
	session_stop(sv->session);
	supervisor_finish(sv, TETHER_EXIT_OK);
}

/* 1,000 forwarded connections need more than the usual 1,024 fds. */
static void
supervisor_raise_fd_limit(const struct logger *log)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug(log, "cannot raise the open-file limit");
	}
}

static uint64_t
supervisor_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

static void
supervisor_init_state_path(struct supervisor *sv)
{
	char dir[CONFIG_PATH_MAX - 80];
	struct path_env env;

	paths_env_from_process(&env);
	if (sv->cfg->state_dir[0] != '\0')
		snprintf(dir, sizeof dir, "%.900s", sv->cfg->state_dir);
	else if (paths_run_runtime_dir(&env, geteuid() == 0, dir, sizeof dir) ==
	    -1)
		return;
	if (mkdir_parents(dir, 0755) == -1) {
		log_warn(sv->log,
		    "cannot create %s: %s; status will not show this tunnel",
		    dir, strerror(errno));
		return;
	}
	snprintf(sv->state_path, sizeof sv->state_path, "%s/%s.json", dir,
	    sv->cfg->name);
}

static void
supervisor_start_watchers(struct supervisor *sv)
{
	ev_signal *sigs[] = { &sv->sigint, &sv->sigterm, &sv->sighup,
		&sv->sigusr1 };
	const int signums[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	size_t i;

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		ev_signal_init(sigs[i], supervisor_on_signal, signums[i]);
		sigs[i]->data = sv;
		ev_signal_start(sv->loop, sigs[i]);
	}
	ev_timer_init(&sv->retry, supervisor_on_retry_timer, 0, 0);
	ev_timer_init(&sv->failback_timer, supervisor_on_failback_timer, 0, 0);
	ev_timer_init(&sv->failback_reap, supervisor_on_failback_reap, 0, 0);
	sv->failback_timer.data = sv->failback_reap.data = sv;
	ev_init(&sv->known_hosts, supervisor_on_known_hosts_changed);
	sv->known_hosts.data = sv;
	ev_timer_init(&sv->stable, supervisor_on_stable_timer, 0, 0);
	ev_timer_init(&sv->refresh, supervisor_on_refresh_timer,
	    STATE_REFRESH_SECONDS, STATE_REFRESH_SECONDS);
	sv->retry.data = sv->stable.data = sv->refresh.data = sv;
	ev_timer_start(sv->loop, &sv->refresh);
	resume_watch_init(&sv->resume);
	ev_timer_init(&sv->clock_check, supervisor_on_clock_check,
	    CLOCK_CHECK_SECONDS, CLOCK_CHECK_SECONDS);
	sv->clock_check.data = sv;
	ev_timer_start(sv->loop, &sv->clock_check);
	supervisor_on_clock_check(sv->loop, &sv->clock_check, 0);
	if (sv->notifier.watchdog_usec > 0) {
		double half = (double)sv->notifier.watchdog_usec / 2e6;

		ev_timer_init(&sv->watchdog, supervisor_on_watchdog_timer, half,
		    half);
		sv->watchdog.data = sv;
		ev_timer_start(sv->loop, &sv->watchdog);
	}
	netwatch_init(&sv->netwatch, sv->loop, sv->log,
	    supervisor_on_network_up, sv);
}

static void
supervisor_stop_watchers(struct supervisor *sv)
{
	ev_signal *sigs[] = { &sv->sigint, &sv->sigterm, &sv->sighup,
		&sv->sigusr1 };
	size_t i;

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		ev_signal_stop(sv->loop, sigs[i]);
	ev_timer_stop(sv->loop, &sv->retry);
	ev_timer_stop(sv->loop, &sv->failback_timer);
	ev_timer_stop(sv->loop, &sv->failback_reap);
	ev_stat_stop(sv->loop, &sv->known_hosts);
	ev_timer_stop(sv->loop, &sv->stable);
	ev_timer_stop(sv->loop, &sv->refresh);
	ev_timer_stop(sv->loop, &sv->clock_check);
	if (sv->notifier.watchdog_usec > 0)
		ev_timer_stop(sv->loop, &sv->watchdog);
	netwatch_deinit(&sv->netwatch);
}

int
supervisor_run(const struct tether_config *cfg, struct logger *log,
    const struct supervisor_hooks *hooks)
{
	struct supervisor sv;

	memset(&sv, 0, sizeof sv);
	sv.log = log;
	sv.hooks = hooks;
	sv.rng = supervisor_seed();
	sv.netwatch.fd = -1;
	sv.cfg = malloc(sizeof *sv.cfg);
	sv.loop = ev_loop_new(EVFLAG_AUTO);
	if (sv.cfg == NULL || sv.loop == NULL) {
		log_err(log, "out of memory creating the event loop");
		free(sv.cfg);
		if (sv.loop != NULL)
			ev_loop_destroy(sv.loop);
		return TETHER_EXIT_FAILURE;
	}
	*sv.cfg = *cfg;
	failover_init(&sv.failover, cfg->nbastions);
	backoff_init(&sv.backoff, cfg->backoff_initial, cfg->backoff_max,
	    cfg->backoff_factor);
	notify_init(&sv.notifier, getenv("NOTIFY_SOCKET"),
	    getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), (long)getpid());
	sv.session = session_new(sv.loop, sv.cfg, log,
	    &supervisor_session_events, &sv);
	if (sv.session == NULL) {
		log_err(log, "out of memory");
		notify_deinit(&sv.notifier);
		ev_loop_destroy(sv.loop);
		free(sv.cfg);
		return TETHER_EXIT_FAILURE;
	}
	supervisor_raise_fd_limit(log);
	if (cfg->sshconfig_unused[0] != '\0')
		log_warn(log,
		    "ssh_config sets %s for the bastion; tether does not use "
		    "them (tether.conf(5) lists the keys it reads)",
		    cfg->sshconfig_unused);
	supervisor_init_state_path(&sv);
	supervisor_start_watchers(&sv);

	supervisor_start_session(&sv);
	supervisor_publish(&sv);
	/* ev_break before ev_run is lost: a first failure ends here. */
	if (!sv.finished)
		ev_run(sv.loop, 0);

	supervisor_stop_watchers(&sv);
	/* The last state names the session: write it before freeing it. */
	if (sv.state_path[0] != '\0') {
		if (sv.exit_code == TETHER_EXIT_OK)
			unlink(sv.state_path);
		else
			supervisor_write_state(&sv);
	}
	supervisor_drop_failback(&sv);
	session_free(sv.session);
	notify_deinit(&sv.notifier);
	ev_loop_destroy(sv.loop);
	free(sv.cfg);
	return sv.exit_code;
}
