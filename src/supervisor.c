#include <sys/random.h>
#include <sys/resource.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "tether/exit.h"
#include "backoff.h"
#include "session.h"
#include "supervisor.h"

struct supervisor {
	struct ev_loop *loop;
	const struct tether_config *cfg;
	const struct logger *log;
	struct session *session;
	ev_signal sigint;
	ev_signal sigterm;
	ev_timer retry;        /* the wait before reconnecting */
	ev_timer stable;       /* up long enough: the backoff starts over */
	struct backoff backoff;
	uint64_t rng;
	int ever_up;           /* a session has reached the bastion before */
	unsigned reconnects;
	int exit_code;
};

/* Failures that a retry cannot fix end the process. */
static int
supervisor_is_permanent(const struct supervisor *sv, int code)
{
	switch (code) {
	case TETHER_EXIT_CONFIG:
	case TETHER_EXIT_KEY:
	case TETHER_EXIT_HOSTKEY:
	case TETHER_EXIT_FORWARD:
		return 1;
	case TETHER_EXIT_AUTH:
		/* A typo fails fast; a bastion that once let us in may again. */
		return !sv->ever_up;
	default:
		return 0;
	}
}

static void
supervisor_finish(struct supervisor *sv, int code)
{
	sv->exit_code = code;
	ev_timer_stop(sv->loop, &sv->retry);
	ev_timer_stop(sv->loop, &sv->stable);
	ev_break(sv->loop, EVBREAK_ALL);
}

static void
supervisor_schedule_retry(struct supervisor *sv, const struct error *err)
{
	double wait;

	if (supervisor_is_permanent(sv, err->code)) {
		log_err(sv->log, "%s", err->msg);
		supervisor_finish(sv, err->code);
		return;
	}
	wait = backoff_next(&sv->backoff, rng_unit(&sv->rng));
	log_warn(sv->log, "%s; reconnecting in %.1f s", err->msg, wait);
	ev_timer_set(&sv->retry, wait, 0);
	ev_timer_start(sv->loop, &sv->retry);
}

static void
supervisor_on_forward_bound(struct session *s, void *arg)
{
	struct supervisor *sv = arg;

	(void)s;
	sv->ever_up = 1;
	if (!ev_is_active(&sv->stable)) {
		ev_timer_set(&sv->stable, sv->cfg->stable_after, 0);
		ev_timer_start(sv->loop, &sv->stable);
	}
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
	.on_forward_bound = supervisor_on_forward_bound,
	.on_closed = supervisor_on_session_closed,
};

static void
supervisor_start_session(struct supervisor *sv)
{
	struct error err;

	error_clear(&err);
	if (session_start(sv->session, &err) == -1)
		supervisor_schedule_retry(sv, &err);
}

static void
supervisor_on_retry_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	sv->reconnects++;
	supervisor_start_session(sv);
}

static void
supervisor_on_stable_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	backoff_reset(&sv->backoff);
}

static void
supervisor_on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	log_info(sv->log, "%s: stopping", strsignal(w->signum));
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

int
supervisor_run(const struct tether_config *cfg, const struct logger *log)
{
	struct supervisor sv;

	memset(&sv, 0, sizeof sv);
	sv.cfg = cfg;
	sv.log = log;
	sv.rng = supervisor_seed();
	backoff_init(&sv.backoff, cfg->backoff_initial, cfg->backoff_max,
	    cfg->backoff_factor);
	sv.loop = ev_loop_new(EVFLAG_AUTO);
	if (sv.loop == NULL) {
		log_err(log, "cannot create the event loop");
		return TETHER_EXIT_FAILURE;
	}
	sv.session = session_new(sv.loop, cfg, log, &supervisor_session_events,
	    &sv);
	if (sv.session == NULL) {
		log_err(log, "out of memory");
		ev_loop_destroy(sv.loop);
		return TETHER_EXIT_FAILURE;
	}
	supervisor_raise_fd_limit(log);
	ev_signal_init(&sv.sigint, supervisor_on_stop_signal, SIGINT);
	ev_signal_init(&sv.sigterm, supervisor_on_stop_signal, SIGTERM);
	ev_timer_init(&sv.retry, supervisor_on_retry_timer, 0, 0);
	ev_timer_init(&sv.stable, supervisor_on_stable_timer, 0, 0);
	sv.sigint.data = sv.sigterm.data = sv.retry.data = sv.stable.data = &sv;
	ev_signal_start(sv.loop, &sv.sigint);
	ev_signal_start(sv.loop, &sv.sigterm);

	supervisor_start_session(&sv);
	ev_run(sv.loop, 0);

	session_free(sv.session);
	ev_signal_stop(sv.loop, &sv.sigint);
	ev_signal_stop(sv.loop, &sv.sigterm);
	ev_loop_destroy(sv.loop);
	return sv.exit_code;
}
