/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "tether/exit.h"
#include "agent.h"
#include "backoff.h"
#include "dial.h"
#include "hostkey.h"
#include "probe.h"
#include "jump.h"
#include "proxy.h"
#include "ratelimit.h"
#include "key.h"
#include "session.h"
#include "splice.h"
#include "sshconfig.h"

enum forward_state {
	FORWARD_PENDING,
	FORWARD_REQUESTING,
	FORWARD_BOUND,
	FORWARD_REFUSED,
};

struct forward {
	const struct forward_spec *spec;
	struct addrinfo *target;    /* resolved when the session starts */
	struct resolver *resolving; /* a lookup of the target in flight */
	double resolved_at;         /* when target was last looked up */
	enum forward_state state;
	int bound_port;
	unsigned refusals;          /* in a row, this session */
	time_t refused_since;       /* wall clock of the first of them */
	unsigned not_permitted : 1; /* refused past any stale session's life */
	double probe_rtt; /* the last good probe's round trip, s; 0 = none */
	double resolve_failed_at; /* when a lookup of the target last failed */
	char label[2 * SPEC_HOST_MAX + 32];
};

/* libssh tracks a single global request: tether keeps one in flight. */
enum global_request {
	GR_NONE,
	GR_FORWARD,
	GR_CANCEL,
	GR_KEEPALIVE,
};

/* A forward dropped by a reload, to be released on the bastion. */
struct cancel {
	char bind[SPEC_HOST_MAX];
	int port;
};

#define CANCELS_MAX ((size_t)2 * CONFIG_FORWARDS_MAX)
#define RESOLVE_RETRY_SECONDS 1.0 /* between lookups of a failing target */
/* A connection after this long looks the target up again, as ssh would. */
#define RESOLVE_REFRESH_SECONDS 60.0
#define FORWARD_RETRY_MAX 60.0 /* seconds between asks for a held port */
/* Refused channels: one line each, up to this many per interval. */
#define REFUSAL_LOG_BURST 10
#define REFUSAL_LOG_INTERVAL 5.0

/* A request no sshd can grant, so any answer proves the bastion alive. */
#define KEEPALIVE_PROBE_HOST "keepalive.tether.invalid"
/* Socket reads per wakeup at most: 1 MiB with 64 KiB reads, 64 KiB with 4. */
#define SESSION_DRAIN_READS 16
/* Flush-and-reconcile rounds before the loop sleeps, at most. */
#define SESSION_FLUSH_ROUNDS 4

struct session {
	struct ev_loop *loop;
	const struct tether_config *cfg;
	const struct logger *log;
	const struct session_events *events;
	void *arg;
	const char *role; /* "bastion" or "jump host", in messages */

	enum session_state state;
	int reported; /* on_closed was called */
	struct error err;

	ssh_session ssh;
	ssh_event event;          /* makes libssh read without blocking */
	ssh_key key;              /* NULL: ssh-agent's keys */
	const char *key_name;     /* the IdentityFile being offered */
	size_t next_key;          /* the next of cfg->more_keys to offer */
	ev_tstamp keepalive_sent; /* when the one in flight left */
	double keepalive_rtt;     /* the last one's round trip, s */
	struct dial dial;         /* name resolution and the TCP connect */
	struct proxy proxy;       /* or the ProxyCommand that reaches it */
	struct jump_chain *chain; /* or the jump hosts that reach it */
	ev_timer handoff;         /* a socket made for us, given to libssh */
	int handoff_fd;           /* ... from the loop, not from start */
	/* A jump host's session carries one channel to the next hop. */
	const char *next_host; /* NULL: the bastion's session */
	int next_port;
	ssh_channel next_channel; /* being opened; then the splice's */
	int next_fd;              /* the next hop's end of the socketpair */
	int dialing;    /* dial in progress: no socket for libssh yet */
	int asked_none; /* the "none" method was asked, as ssh does first */
	int sock_fd;    /* the dialed socket, -1 = none */
	dev_t sock_dev; /* ... and its identity */
	ino_t sock_ino;
	ev_io io;                  /* the bastion socket */
	ev_timer deadline;         /* bounds connect, auth and requests */
	ev_timer gr_deadline;      /* bounds a global request once forwarding */
	struct ratelimit refusals; /* log lines for refused channels */
	ev_timer refusal_report;   /* says how many were not logged */
	unsigned gr_seq;           /* global requests started, this session */
	unsigned gr_armed;         /* the one gr_deadline is running for */
	ev_prepare prepare;        /* reconciles interest before sleeping */

	struct splice_set splices;
	struct forward forwards[CONFIG_FORWARDS_MAX];
	size_t nforwards;

	enum global_request gr;
	struct forward *gr_forward; /* with GR_FORWARD */
	struct forward orphan;      /* in flight when a reload dropped it */
	struct forward_spec orphan_spec; /* its own: the old config is freed */
	struct cancel cancels[CANCELS_MAX];
	size_t ncancels;
	ev_timer forward_retry; /* refused forwards are asked again */
	struct backoff forward_backoff;
	uint64_t rng;

	struct ssh_counter_struct rx;   /* packets from the bastion */
	struct ssh_counter_struct sock; /* bytes read from its socket */
	uint64_t rx_packets_seen;
	ev_tstamp last_alive;
	ev_timer keepalive; /* a probe every keepalive_interval */
	ev_timer liveness;  /* silence for interval x count: dead */

	struct probe probe;            /* the end-to-end check in flight */
	struct forward *probe_forward; /* the forward it checks */
	size_t probe_next;             /* round robin over the forwards */
	unsigned probe_failures;       /* in a row */
	int probe_worked;              /* a probe succeeded this session */
	int probes_off;                /* the bastion forbids them */
	ev_timer probe_timer;          /* every probe_interval */
	ev_timer probe_tick;           /* moves a probe in flight on */
};

static void session_on_io(struct ev_loop *, ev_io *, int);
static void session_on_deadline(struct ev_loop *, ev_timer *, int);
static void session_on_gr_deadline(struct ev_loop *, ev_timer *, int);
static void session_on_refusal_report(struct ev_loop *, ev_timer *, int);
static void session_report_refusals(struct session *);
static void session_on_prepare(struct ev_loop *, ev_prepare *, int);
static void session_on_forward_retry(struct ev_loop *, ev_timer *, int);
static void session_on_keepalive_timer(struct ev_loop *, ev_timer *, int);
static void session_on_liveness_timer(struct ev_loop *, ev_timer *, int);
static void session_advance_global_requests(struct session *);
static void session_tune_socket(struct session *, int);
static void session_on_probe_timer(struct ev_loop *, ev_timer *, int);
static void session_on_probe_tick(struct ev_loop *, ev_timer *, int);
static void session_on_handoff(struct ev_loop *, ev_timer *, int);
static void session_step_probe(struct session *);
static void session_start_probes(struct session *);
static void session_probe_done(struct session *);
static void session_close_socket(struct session *);
static void session_step_next_hop(struct session *);
static void session_start_keepalive(struct session *);
static int session_on_message(ssh_session, ssh_message, void *);

const char *
session_state_name(enum session_state st)
{
	switch (st) {
	case SESSION_CONNECTING:
		return "connecting";
	case SESSION_AUTHENTICATING:
		return "authenticating";
	case SESSION_REQUESTING:
		return "requesting forwards";
	case SESSION_FORWARDING:
		return "forwarding";
	case SESSION_CLOSED:
	default:
		return "closed";
	}
}

struct session *
session_new(struct ev_loop *loop, const struct tether_config *cfg,
    const struct logger *log, const struct session_events *events, void *arg)
{
	struct session *s;
	size_t i;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	if (splice_set_init(&s->splices, loop, log) == -1) {
		free(s);
		return NULL;
	}
	s->splices.connect_timeout = cfg->target_connect_timeout;
	s->splices.window = (uint32_t)cfg->channel_window;
	s->sock_fd = -1;
	s->loop = loop;
	s->cfg = cfg;
	s->log = log;
	s->events = events;
	s->arg = arg;
	s->state = SESSION_CLOSED;
	s->reported = 1;
	error_clear(&s->err);
	s->nforwards = cfg->nforwards;
	for (i = 0; i < s->nforwards; i++) {
		s->forwards[i].spec = &cfg->forwards[i];
		spec_format_forward(&cfg->forwards[i], s->forwards[i].label,
		    sizeof s->forwards[i].label);
	}
	ev_init(&s->io, session_on_io);
	ev_init(&s->deadline, session_on_deadline);
	ev_init(&s->gr_deadline, session_on_gr_deadline);
	ev_init(&s->refusal_report, session_on_refusal_report);
	s->gr_deadline.data = s->refusal_report.data = s;
	ratelimit_init(&s->refusals, REFUSAL_LOG_INTERVAL, REFUSAL_LOG_BURST);
	ev_prepare_init(&s->prepare, session_on_prepare);
	ev_init(&s->forward_retry, session_on_forward_retry);
	ev_init(&s->keepalive, session_on_keepalive_timer);
	ev_init(&s->liveness, session_on_liveness_timer);
	ev_init(&s->probe_timer, session_on_probe_timer);
	ev_init(&s->probe_tick, session_on_probe_tick);
	proxy_init(&s->proxy, loop, log);
	ev_init(&s->handoff, session_on_handoff);
	s->handoff.data = s;
	s->handoff_fd = s->next_fd = -1;
	s->role = "bastion";
	s->probe_timer.data = s->probe_tick.data = s;
	s->io.data = s->deadline.data = s->prepare.data = s;
	s->forward_retry.data = s->keepalive.data = s->liveness.data = s;
	/*
	 * A held port is freed by the bastion's ClientAlive timeout, not by
	 * us: ask again with backoff, at most a minute apart (a port that is
	 * not permitted at all would otherwise be asked for every few
	 * seconds forever), and at once after a reconnect.
	 */
	backoff_init(&s->forward_backoff, cfg->backoff_initial,
	    cfg->backoff_max < FORWARD_RETRY_MAX ? cfg->backoff_max :
	                                           FORWARD_RETRY_MAX,
	    cfg->backoff_factor);
	if (getrandom(&s->rng, sizeof s->rng, GRND_NONBLOCK) != sizeof s->rng ||
	    s->rng == 0)
		s->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)s;
	return s;
}

struct session *
session_new_jump(struct ev_loop *loop, const struct tether_config *cfg,
    const struct logger *log, const struct session_events *events, void *arg,
    const char *next_host, int next_port)
{
	struct session *s = session_new(loop, cfg, log, events, arg);

	if (s == NULL)
		return NULL;
	s->role = "jump host";
	s->next_host = next_host;
	s->next_port = next_port;
	return s;
}

int
session_take_next_fd(struct session *s)
{
	int fd = s->next_fd;

	s->next_fd = -1;
	return fd;
}

/* Frees the target's addresses and drops a lookup still running. */
static void
forward_release_target(struct forward *f)
{
	resolver_free(f->resolving);
	f->resolving = NULL;
	if (f->target != NULL)
		freeaddrinfo(f->target);
	f->target = NULL;
}

/* Drops the SSH connection and every channel; the session can start again. */
static void
session_teardown(struct session *s)
{
	size_t i;

	splice_set_close_all(&s->splices);
	dial_cancel(&s->dial);
	ev_timer_stop(s->loop, &s->handoff);
	if (s->handoff_fd != -1)
		close(s->handoff_fd);
	s->handoff_fd = -1;
	if (s->next_fd != -1)
		close(s->next_fd);
	s->next_fd = -1;
	s->dialing = 0;
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->deadline);
	ev_timer_stop(s->loop, &s->gr_deadline);
	session_report_refusals(s);
	ev_timer_stop(s->loop, &s->forward_retry);
	ev_timer_stop(s->loop, &s->keepalive);
	ev_timer_stop(s->loop, &s->liveness);
	ev_timer_stop(s->loop, &s->probe_timer);
	ev_timer_stop(s->loop, &s->probe_tick);
	probe_stop(&s->probe);
	s->probe_forward = NULL;
	s->probe_failures = 0;
	s->probe_worked = s->probes_off = 0;
	s->gr = GR_NONE;
	s->gr_forward = NULL;
	s->ncancels = 0;
	backoff_reset(&s->forward_backoff);
	if (s->event != NULL) {
		ssh_event_remove_session(s->event, s->ssh);
		ssh_event_free(s->event);
		s->event = NULL;
	}
	if (s->next_channel != NULL)
		ssh_channel_free(s->next_channel);
	s->next_channel = NULL;
	if (s->ssh != NULL) {
		if (ssh_is_connected(s->ssh))
			ssh_disconnect(s->ssh);
		ssh_free(s->ssh);
		s->ssh = NULL;
	}
	session_close_socket(s);
	proxy_stop(&s->proxy);
	jump_chain_free(s->chain);
	s->chain = NULL;
	ssh_key_free(s->key);
	s->key = NULL;
	for (i = 0; i < s->nforwards; i++) {
		forward_release_target(&s->forwards[i]);
		s->forwards[i].state = FORWARD_PENDING;
		s->forwards[i].bound_port = 0;
		s->forwards[i].refusals = 0;
		s->forwards[i].refused_since = 0;
		s->forwards[i].not_permitted = 0;
		s->forwards[i].probe_rtt = 0;
	}
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_teardown(s);
	ev_prepare_stop(s->loop, &s->prepare);
	splice_set_deinit(&s->splices);
	free(s);
}

void
session_set_events(struct session *s, const struct session_events *events,
    void *arg)
{
	s->events = events;
	s->arg = arg;
}

enum session_state
session_get_state(const struct session *s)
{
	return s->state;
}

size_t
session_channel_count(const struct session *s)
{
	return s->splices.count;
}

static const char *
forward_state_name(enum forward_state st)
{
	switch (st) {
	case FORWARD_PENDING:
		return "pending";
	case FORWARD_REQUESTING:
		return "requesting";
	case FORWARD_BOUND:
		return "bound";
	case FORWARD_REFUSED:
	default:
		return "refused";
	}
}

size_t
session_forwards(const struct session *s, struct session_forward_info *out,
    size_t max)
{
	size_t i;

	for (i = 0; i < s->nforwards && i < max; i++) {
		out[i].spec = s->forwards[i].spec;
		out[i].label = s->forwards[i].label;
		out[i].state = forward_state_name(s->forwards[i].state);
		out[i].probe_rtt = s->forwards[i].probe_rtt;
		out[i].refusals = s->forwards[i].refusals;
		out[i].not_permitted = s->forwards[i].not_permitted;
		out[i].refused_since = s->forwards[i].refused_since;
		out[i].bound_port = s->forwards[i].state == FORWARD_BOUND ?
		    s->forwards[i].bound_port :
		    0;
	}
	return s->nforwards;
}

size_t
session_bound_count(const struct session *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nforwards; i++)
		n += s->forwards[i].state == FORWARD_BOUND;
	return n;
}

void
session_bytes(const struct session *s, uint64_t *to_target,
    uint64_t *from_target)
{
	*to_target = s->splices.bytes_to_local;
	*from_target = s->splices.bytes_to_remote;
}

uint64_t
session_channels_total(const struct session *s)
{
	return s->splices.opened;
}

double
session_silence(const struct session *s)
{
	/* Closed by its own silence a moment ago, it still says so. */
	if (s->last_alive == 0)
		return 0;
	return ev_now(s->loop) - s->last_alive;
}

double
session_keepalive_rtt(const struct session *s)
{
	return s->keepalive_rtt;
}

/* Every change of state goes through here so the owner hears of it. */
static void
session_set_state(struct session *s, enum session_state st)
{
	s->state = st;
	if (s->events->on_change != NULL)
		s->events->on_change(s, s->arg);
}

static void
session_changed(struct session *s)
{
	if (s->events->on_change != NULL)
		s->events->on_change(s, s->arg);
}

/* Ends the session; the owner hears of it once the loop is about to sleep. */
static void session_fail(struct session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
session_fail(struct session *s, int code, const char *fmt, ...)
{
	const struct error *hop;
	char msg[ERROR_MSG_MAX];
	va_list ap;

	if (s->state == SESSION_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/*
	 * A hop that failed first closed our socket under us: what it says
	 * is the cause, not the "lost the bastion" that followed.
	 */
	hop = s->chain != NULL ? jump_chain_failure(s->chain) : NULL;
	if (hop != NULL)
		error_set(&s->err, hop->code, "%s", hop->msg);
	else
		error_set(&s->err, code, "%s", msg);
	s->state = SESSION_CLOSED;
	session_teardown(s);
}

void
session_stop(struct session *s)
{
	if (s->state == SESSION_CLOSED)
		return;
	log_event(s->log, LOG_INFO, "disconnected",
	    "closing %zu connection(s) and disconnecting", s->splices.count);
	s->state = SESSION_CLOSED;
	s->reported = 1;
	session_teardown(s);
	ev_prepare_stop(s->loop, &s->prepare);
}

static void session_resolve_target(struct session *, struct forward *);
static void session_refresh_target(struct session *, struct forward *);

static void
session_resolve_targets(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nforwards; i++)
		session_resolve_target(s, &s->forwards[i]);
}

static int
session_configure(struct session *s, struct error *err)
{
	const struct tether_config *cfg = s->cfg;
	int zero = 0, one = 1;
	long timeout = cfg->connect_timeout;

	s->ssh = ssh_new();
	if (s->ssh == NULL) {
		error_set(err, TETHER_EXIT_FAILURE, "out of memory");
		return -1;
	}
	/* Only what tether was told: no ~/.ssh/config read behind its back. */
	if (ssh_options_set(s->ssh, SSH_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_HOST, cfg->bastion.host) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_PORT, &cfg->bastion.port) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_KNOWNHOSTS, cfg->known_hosts) <
	        0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	        cfg->known_hosts) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_NODELAY, &one) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    (cfg->bastion.user[0] != '\0' &&
	        ssh_options_set(s->ssh, SSH_OPTIONS_USER, cfg->bastion.user) <
	            0) ||
	    (cfg->agent_socket[0] != '\0' &&
	        ssh_options_set(s->ssh, SSH_OPTIONS_IDENTITY_AGENT,
	            cfg->agent_socket) < 0)) {
		error_set(err, TETHER_EXIT_CONFIG, "%s %s:%d: %s", s->role,
		    cfg->bastion.host, cfg->bastion.port,
		    ssh_get_error(s->ssh));
		return -1;
	}
#ifdef TETHER_LIBSSH_CHANNEL_WINDOW
	if (cfg->channel_window != 0) {
		uint32_t window = (uint32_t)cfg->channel_window;

		if (ssh_options_set(s->ssh, SSH_OPTIONS_CHANNEL_WINDOW,
		        &window) < 0) {
			error_set(err, TETHER_EXIT_CONFIG, "channel_window: %s",
			    ssh_get_error(s->ssh));
			return -1;
		}
	}
#endif
	ssh_set_blocking(s->ssh, 0);
	return 0;
}

/* ---- the way to the peer: dial, ProxyCommand, jump hosts ----------------- */

/*
 * The socket we dialed is ours to close: libssh 0.10 closes it on a socket
 * error but not when a session is freed mid-handshake (it forgets the fd
 * first). Its identity (device and inode) tells whether the number still
 * names our socket or was closed and reused since.
 */
static void
session_own_socket(struct session *s, int fd)
{
	struct stat st;

	s->sock_fd = fstat(fd, &st) == 0 ? fd : -1;
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
}

static void
session_close_socket(struct session *s)
{
	struct stat st;

	if (s->sock_fd != -1 && fstat(s->sock_fd, &st) == 0 &&
	    st.st_dev == s->sock_dev && st.st_ino == s->sock_ino)
		close(s->sock_fd);
	s->sock_fd = -1;
}

/* The TCP connection is up (or could not be made): the SSH handshake. */
static void
session_on_dialed(struct dial *d, int fd, const char *error, void *arg)
{
	struct session *s = arg;
	const struct bastion_spec *b = &s->cfg->bastion;

	(void)d;
	s->dialing = 0;
	if (fd == -1) {
		session_fail(s, TETHER_EXIT_FAILURE,
		    "cannot reach the %s %s:%d: %s", s->role, b->host, b->port,
		    error);
		return;
	}
	session_tune_socket(s, fd);
	session_own_socket(s, fd);
	if (ssh_options_set(s->ssh, SSH_OPTIONS_FD, &fd) < 0) {
		close(fd);
		session_fail(s, TETHER_EXIT_FAILURE, "%s %s:%d: %s", s->role,
		    b->host, b->port, ssh_get_error(s->ssh));
		return;
	}
	if (ssh_connect(s->ssh) == SSH_ERROR) {
		session_fail(s, TETHER_EXIT_FAILURE,
		    "cannot connect to the %s %s:%d: %s", s->role, b->host,
		    b->port, ssh_get_error(s->ssh));
		return;
	}
	ev_io_set(&s->io, fd, EV_READ | EV_WRITE);
	ev_io_start(s->loop, &s->io);
	/* On loopback the handshake can already be under way. */
	ev_feed_event(s->loop, &s->io, EV_READ);
}

/*
 * A socket made for us (a ProxyCommand's, the last jump host's channel)
 * goes to libssh as dial's would, from the loop: never from inside the
 * call that made it.
 */
static void
session_hand_over(struct session *s, int fd)
{
	s->handoff_fd = fd;
	ev_timer_set(&s->handoff, 0, 0);
	ev_timer_start(s->loop, &s->handoff);
}

static void
session_on_handoff(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	int fd = s->handoff_fd;

	s->handoff_fd = -1;
	session_on_dialed(&s->dial, fd, NULL, s);
}

static void
session_on_chain_ready(int fd, void *arg)
{
	session_hand_over(arg, fd);
}

static void
session_on_chain_failed(const struct error *err, void *arg)
{
	session_fail(arg, err->code, "%s", err->msg);
}

static const struct jump_chain_events session_chain_events = {
	session_on_chain_ready,
	session_on_chain_failed,
};

static int
session_start_proxy(struct session *s, struct error *err)
{
	const struct tether_config *cfg = s->cfg;
	char command[CONFIG_PATH_MAX];
	int fd;

	if (sshconfig_expand(cfg,
	        cfg->bastion_alias[0] != '\0' ? cfg->bastion_alias :
	                                        cfg->bastion.host,
	        cfg->proxy_command, command, sizeof command, err) == -1)
		return -1;
	log_info(s->log, "reaching the bastion through ProxyCommand %s",
	    command);
	if ((fd = proxy_start(&s->proxy, command, err)) == -1)
		return -1;
	session_hand_over(s, fd);
	return 0;
}

/* How the socket to the peer comes: made for us, or found here. */
static int
session_find_way(struct session *s, int fd, struct error *err)
{
	const struct tether_config *cfg = s->cfg;

	if (fd != -1) {
		session_hand_over(s, fd);
		return 0;
	}
	if (cfg->proxy_command[0] != '\0')
		return session_start_proxy(s, err);
	if (cfg->njumps > 0) {
		s->chain = jump_chain_new(s->loop, cfg, s->log,
		    &session_chain_events, s);
		if (s->chain == NULL) {
			error_set(err, TETHER_EXIT_FAILURE, "out of memory");
			return -1;
		}
		return jump_chain_start(s->chain, err);
	}
	if (dial_start(&s->dial, s->loop, cfg->bastion.host, cfg->bastion.port,
	        cfg->address_family, session_on_dialed, s) == -1) {
		error_set(err, TETHER_EXIT_FAILURE,
		    "cannot start connecting to the %s: %s", s->role,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The first key to offer; none means ssh-agent's. */
static int
session_load_key(struct session *s, struct error *err)
{
	const struct tether_config *cfg = s->cfg;
	struct key_cert cert = { cfg->certificate_file,
		(cfg->given & CONFIG_GIVEN_CERTIFICATE) != 0 };
	int rc;

	s->next_key = 0;
	s->key_name = cfg->key_path;
	if (cfg->key_path[0] == '\0')
		return 0;
	rc = key_load_for_auth(cfg->key_path, &cert, cfg->agent_available,
	    &s->key, err);
	if (rc == 1)
		log_info(s->log,
		    "key %s is protected by a passphrase: logging in with ssh-agent's keys instead, as ssh -i does",
		    cfg->key_path);
	return rc == -1 ? -1 : 0;
}

int
session_start(struct session *s, struct error *err)
{
	return session_start_on(s, -1, err);
}

int
session_start_on(struct session *s, int fd, struct error *err)
{
	const struct tether_config *cfg = s->cfg;
	double hops = 1 + (double)(fd == -1 ? cfg->njumps : 0);

	if (s->state != SESSION_CLOSED) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	error_clear(&s->err);
	s->last_alive = 0;
	if (session_load_key(s, err) == -1 || session_configure(s, err) == -1) {
		if (fd != -1)
			close(fd);
		session_teardown(s);
		return -1;
	}
	session_resolve_targets(s);
	log_info(s->log, "connecting to %s%s%s%s:%d%s",
	    s->next_host != NULL ? "jump host " : "", cfg->bastion.user,
	    cfg->bastion.user[0] != '\0' ? "@" : "", cfg->bastion.host,
	    cfg->bastion.port,
	    fd == -1 && cfg->njumps > 0 ? " through its jump host(s)" : "");
	if (session_find_way(s, fd, err) == -1) {
		session_teardown(s);
		return -1;
	}
	s->dialing = 1;
	s->reported = 0;
	session_set_state(s, SESSION_CONNECTING);
	/*
	 * The deadline covers name resolution, TCP, key exchange and auth,
	 * for each jump host on the way too.
	 */
	ev_timer_set(&s->deadline, hops * cfg->connect_timeout, 0);
	ev_timer_start(s->loop, &s->deadline);
	ev_prepare_start(s->loop, &s->prepare);
	return 0;
}

/* ---- connect and authenticate -------------------------------------------- */

/* The kernel gives up on a dead write path too, not only the keepalive. */
static void
session_tune_socket(struct session *s, int fd)
{
	const struct tether_config *cfg = s->cfg;
	int one = 1, idle, count;
	unsigned int timeout_ms;

	if (cfg->keepalive_interval == 0)
		return;
	idle = cfg->keepalive_interval;
	count = cfg->keepalive_count;
	timeout_ms = (unsigned int)idle * (unsigned int)count * 1000u;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) ==
	        -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle) ==
	        -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) ==
	        -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms,
	        sizeof timeout_ms) == -1)
		log_debug(s->log,
		    "cannot set TCP keepalive on the bastion socket: %s",
		    strerror(errno));
}

static void
session_on_authenticated(struct session *s)
{
	const char *user = s->cfg->bastion.user[0] != '\0' ?
	    s->cfg->bastion.user :
	    "the current user";

	if (s->next_host != NULL)
		log_info(s->log, "authenticated to the jump host %s as %s",
		    s->cfg->bastion.host, user);
	else
		log_event(s->log, LOG_INFO, "connected",
		    "authenticated to the bastion as %s", user);
	ssh_set_message_callback(s->ssh, session_on_message, s);
	s->event = ssh_event_new();
	if (s->event == NULL ||
	    ssh_event_add_session(s->event, s->ssh) != SSH_OK) {
		session_fail(s, TETHER_EXIT_FAILURE, "out of memory");
		return;
	}
	memset(&s->rx, 0, sizeof s->rx);
	memset(&s->sock, 0, sizeof s->sock);
	s->rx_packets_seen = 0;
	ssh_set_counters(s->ssh, &s->sock, &s->rx);
	session_set_state(s, SESSION_REQUESTING);
	ev_timer_stop(s->loop, &s->deadline);
	ev_timer_set(&s->deadline, s->cfg->connect_timeout, 0);
	ev_timer_start(s->loop, &s->deadline);
	session_start_keepalive(s);
	session_advance_global_requests(s);
	if (s->next_host != NULL)
		session_step_next_hop(s);
}

static void
session_step_connect(struct session *s)
{
	const struct bastion_spec *b = &s->cfg->bastion;
	struct error err;
	int rc;

	rc = ssh_connect(s->ssh);
	if (rc == SSH_AGAIN)
		return;
	if (rc != SSH_OK) {
		session_fail(s, TETHER_EXIT_FAILURE,
		    "cannot connect to the %s %s:%d: %s", s->role, b->host,
		    b->port, ssh_get_error(s->ssh));
		return;
	}
	error_clear(&err);
	if (hostkey_verify(s->ssh, s->cfg, s->log, &err) == -1) {
		session_fail(s, err.code, "%s", err.msg);
		return;
	}
	log_debug(s->log, "key exchange done, %s key trusted", s->role);
	s->asked_none = 0;
	session_set_state(s, SESSION_AUTHENTICATING);
}

/*
 * The agent offered nothing: it is gone, or holds no keys. Saying the
 * bastion refused them would send the user to the wrong machine.
 */
static int
session_fail_agent(struct session *s)
{
	const char *sock = s->cfg->agent_socket;
	char why[128];
	int n = agent_key_count(sock, why, sizeof why);

	if (n > 0)
		return 0;
	/* AUTH, not KEY: an agent comes back; a tunnel that was up retries. */
	if (n == 0)
		session_fail(s, TETHER_EXIT_AUTH,
		    "ssh-agent at %s holds no keys: add the tunnel's key "
		    "(ssh-add KEY), or give it with -s",
		    sock);
	else
		session_fail(s, TETHER_EXIT_AUTH,
		    "ssh-agent at %s cannot be used (%s): start it again and "
		    "add the key, or give the key with -s",
		    sock[0] != '\0' ? sock : "(unset)", why);
	return 1;
}

/*
 * The bastion refused the key offered: on to ssh_config's next
 * IdentityFile, as ssh goes down its list. 1 if there is one to offer.
 */
static int
session_next_key(struct session *s)
{
	const struct tether_config *cfg = s->cfg;
	struct key_cert cert = { cfg->certificate_file, 0 };
	struct error err;
	const char *path;
	int rc;

	while (s->next_key < cfg->nmore_keys) {
		path = cfg->more_keys[s->next_key++];
		ssh_key_free(s->key);
		s->key = NULL;
		error_clear(&err);
		rc = key_load_for_auth(path, &cert, cfg->agent_available,
		    &s->key, &err);
		if (rc == -1) {
			log_warn(s->log, "skipping IdentityFile %s: %s", path,
			    err.msg);
			continue;
		}
		log_info(s->log, "%s refused %s; offering %s%s", s->role,
		    s->key_name, path, rc == 1 ? " through ssh-agent" : "");
		s->key_name = path;
		return 1;
	}
	return 0;
}

/* AGAIN waits, SUCCESS goes on, ERROR fails: 1 if rc was one of them. */
static int
session_auth_settled(struct session *s, int rc)
{
	if (rc == SSH_AUTH_SUCCESS)
		session_on_authenticated(s);
	else if (rc == SSH_AUTH_ERROR)
		session_fail(s, TETHER_EXIT_FAILURE,
		    "authentication to the %s %s failed: %s", s->role,
		    s->cfg->bastion.host, ssh_get_error(s->ssh));
	return rc == SSH_AUTH_AGAIN || rc == SSH_AUTH_SUCCESS ||
	    rc == SSH_AUTH_ERROR;
}

static void
session_step_auth(struct session *s)
{
	const struct tether_config *cfg = s->cfg;
	int rc;

	/*
	 * Ask "none" first, as ssh does: its answer comes after the server's
	 * EXT_INFO, so libssh knows server-sig-algs before it picks how to
	 * sign with an RSA key (else it falls back to SHA-1 ssh-rsa, which
	 * it then refuses itself: the npm ssh2 server sends EXT_INFO late).
	 */
	if (!s->asked_none) {
		rc = ssh_userauth_none(s->ssh, NULL);
		s->asked_none = rc != SSH_AUTH_AGAIN;
		if (session_auth_settled(s, rc))
			return;
	}
	do {
		if (s->key != NULL)
			rc = ssh_userauth_publickey(s->ssh, NULL, s->key);
		else
			rc = ssh_userauth_agent(s->ssh, NULL);
	} while (rc == SSH_AUTH_DENIED && session_next_key(s));
	if (session_auth_settled(s, rc))
		return;
	if (s->key == NULL && session_fail_agent(s))
		return;
	session_fail(s, TETHER_EXIT_AUTH,
	    "%s %s:%d refused %s%s for user "
	    "%s; add the public key to that user's authorized_keys on the "
	    "%s",
	    s->role, cfg->bastion.host, cfg->bastion.port,
	    s->key != NULL ? s->key_name : "every ssh-agent key",
	    cfg->nmore_keys > 0 ? " and every IdentityFile before it" : "",
	    cfg->bastion.user[0] != '\0' ? cfg->bastion.user : "(current user)",
	    s->role);
}

/* ---- the bastion socket on the loop -------------------------------------- */

/*
 * libssh reads one buffer (4 KiB in 0.10) per poll: read on while a read
 * brings something, so a burst costs one wakeup of the loop, not one per
 * buffer. Bounded, so a bastion that never pauses cannot starve the rest.
 */
static void
session_drain(struct session *s)
{
	uint64_t before;
	int i;

	for (i = 0; i < SESSION_DRAIN_READS; i++) {
		before = s->sock.in_bytes;
		ssh_event_dopoll(s->event, 0);
		if (s->sock.in_bytes == before || !ssh_is_connected(s->ssh))
			break;
	}
}

/* Any packet from the bastion proves it alive. */
static void
session_note_rx(struct session *s)
{
	if (s->rx.in_packets != s->rx_packets_seen) {
		s->rx_packets_seen = s->rx.in_packets;
		s->last_alive = ev_now(s->loop);
	}
}

/*
 * A jump host's way on: a direct-tcpip channel to the next hop, spliced to
 * one end of a socketpair whose other end the next session runs over.
 */
static void
session_step_next_hop(struct session *s)
{
	char label[SPEC_HOST_MAX + 16];
	int rc, sv[2];

	if (s->state != SESSION_REQUESTING)
		return;
	if (s->next_channel == NULL &&
	    (s->next_channel = ssh_channel_new(s->ssh)) == NULL) {
		session_fail(s, TETHER_EXIT_FAILURE, "out of memory");
		return;
	}
	rc = ssh_channel_open_forward(s->next_channel, s->next_host,
	    s->next_port, "127.0.0.1", 0);
	if (rc == SSH_AGAIN)
		return;
	if (rc != SSH_OK) {
		session_fail(s, TETHER_EXIT_FAILURE,
		    "jump host %s:%d cannot reach %s:%d: %s (is AllowTcpForwarding on there, and the name known to it?)",
		    s->cfg->bastion.host, s->cfg->bastion.port, s->next_host,
		    s->next_port, ssh_get_error(s->ssh));
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == -1) {
		session_fail(s, TETHER_EXIT_FAILURE, "socketpair: %s",
		    strerror(errno));
		return;
	}
	snprintf(label, sizeof label, "to %.200s:%d", s->next_host,
	    s->next_port);
	if (splice_new_connected(&s->splices, s->next_channel, sv[0], label) ==
	    NULL) {
		close(sv[0]);
		close(sv[1]);
		session_fail(s, TETHER_EXIT_FAILURE, "out of memory");
		return;
	}
	s->next_channel = NULL; /* the splice's now */
	s->next_fd = sv[1];
	ev_timer_stop(s->loop, &s->deadline);
	log_info(s->log, "jump host %s:%d opened the way to %s:%d",
	    s->cfg->bastion.host, s->cfg->bastion.port, s->next_host,
	    s->next_port);
	session_set_state(s, SESSION_FORWARDING);
	if (s->events->on_forward_bound != NULL)
		s->events->on_forward_bound(s, s->arg);
}

/* Lets libssh read and dispatch what arrived, then moves requests on. */
static void
session_pump(struct session *s)
{
	session_drain(s);
	session_note_rx(s);
	if (s->next_host != NULL)
		session_step_next_hop(s);
	session_advance_global_requests(s);
	if (probe_active(&s->probe))
		session_step_probe(s);
	if (s->state != SESSION_CLOSED && !ssh_is_connected(s->ssh)) {
		const char *why = ssh_get_error(s->ssh);

		session_fail(s, TETHER_EXIT_FAILURE, "lost the %s %s:%d: %s",
		    s->role, s->cfg->bastion.host, s->cfg->bastion.port,
		    why != NULL && why[0] != '\0' ? why : "connection closed");
	}
}

static void
session_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;

	if (s->state == SESSION_CONNECTING)
		session_step_connect(s);
	if (s->state == SESSION_AUTHENTICATING)
		session_step_auth(s);
	else if (s->state == SESSION_REQUESTING ||
	    s->state == SESSION_FORWARDING)
		session_pump(s);
}

static void
session_on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;

	session_fail(s, TETHER_EXIT_FAILURE,
	    "%s %s:%d: %s took longer than %d s (connect_timeout)", s->role,
	    s->cfg->bastion.host, s->cfg->bastion.port,
	    session_state_name(s->state), s->cfg->connect_timeout);
}

/* libssh closed the socket (a failed read or write), or lost the peer. */
static int
session_socket_lost(struct session *s)
{
	return s->state != SESSION_CLOSED &&
	    (ssh_get_fd(s->ssh) != s->io.fd ||
	        (s->state >= SESSION_REQUESTING && !ssh_is_connected(s->ssh)));
}

static void
session_fail_lost(struct session *s)
{
	ev_io_stop(s->loop, &s->io);
	session_fail(s, TETHER_EXIT_FAILURE, "lost the %s %s:%d: %s", s->role,
	    s->cfg->bastion.host, s->cfg->bastion.port,
	    ssh_get_error(s->ssh)[0] != '\0' ? ssh_get_error(s->ssh) :
	                                       "connection closed");
}

/*
 * libssh marks its socket write-pending after every send, however much
 * went out, and sends nothing more until a poll reports POLLOUT. One poll
 * now nearly always finds the socket writable and sends what is queued:
 * cheaper than arming a write watcher, parking every splice, and going
 * round the loop (four epoll_ctl calls per packet in the profile).
 */
static int
session_poll_flags(struct session *s)
{
	int flags = ssh_get_poll_flags(s->ssh);

	if ((flags & SSH_WRITE_PENDING) && s->event != NULL &&
	    s->state >= SESSION_REQUESTING && !session_socket_lost(s)) {
		ssh_event_dopoll(s->event, 0);
		flags = ssh_get_poll_flags(s->ssh);
	}
	return flags;
}

/*
 * Brings the splices in line with the bastion socket. What they queue goes
 * out at once where the socket takes it, and the splices are reconciled
 * again after every poll: a poll can deliver data, and a splice left dirty
 * while the loop sleeps would wait for an event that may never come.
 */
static void
session_reconcile(struct session *s)
{
	int flags, i;

	for (i = 0; i < SESSION_FLUSH_ROUNDS; i++) {
		flags = session_poll_flags(s);
		splice_set_reconcile(&s->splices,
		    (flags & SSH_WRITE_PENDING) != 0);
		if (!(ssh_get_poll_flags(s->ssh) & SSH_WRITE_PENDING) ||
		    session_socket_lost(s))
			break;
	}
	session_note_rx(s);
}

static void
session_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct session *s = w->data;
	int flags, events;

	/*
	 * libssh closes the socket itself when a write fails (inside a
	 * splice's ssh_channel_write, say): never re-arm a watcher on a
	 * closed, perhaps already reused, descriptor. The splices' own
	 * writes below can do it too, so the check follows them as well.
	 */
	if (s->dialing)
		return;
	if (session_socket_lost(s))
		session_fail_lost(s);
	/*
	 * A reply can be read by libssh outside session_pump (a splice's
	 * channel read, a flush, a global request's own call): collect it
	 * now, not at the next event on the socket, which an idle link may
	 * never bring. A jump host's channel open is such a reply too.
	 */
	if (s->state >= SESSION_REQUESTING && s->state != SESSION_CLOSED &&
	    s->gr != GR_NONE)
		session_advance_global_requests(s);
	if (s->state != SESSION_CLOSED) {
		session_reconcile(s);
		if (s->state >= SESSION_REQUESTING && s->gr != GR_NONE)
			session_advance_global_requests(s);
		if (s->next_host != NULL && s->state == SESSION_REQUESTING)
			session_step_next_hop(s);
		if (!TAILQ_EMPTY(&s->splices.dirty))
			splice_set_reconcile(&s->splices,
			    (ssh_get_poll_flags(s->ssh) & SSH_WRITE_PENDING) !=
			        0);
		if (session_socket_lost(s))
			session_fail_lost(s);
	}
	if (s->state == SESSION_CLOSED) {
		ev_prepare_stop(loop, w);
		if (!s->reported) {
			s->reported = 1;
			s->events->on_closed(s, &s->err, s->arg);
		}
		return;
	}
	flags = ssh_get_poll_flags(s->ssh);
	events = EV_READ | ((flags & SSH_WRITE_PENDING) ? EV_WRITE : 0);
	if (events != (s->io.events & (EV_READ | EV_WRITE))) {
		ev_io_stop(loop, &s->io);
		ev_io_set(&s->io, s->io.fd, events);
		ev_io_start(loop, &s->io);
	}
}

/* ---- forwards, channels and global requests ------------------------------ */

static struct forward *
session_find_forward(struct session *s, int port)
{
	size_t i;

	for (i = 0; i < s->nforwards; i++) {
		const struct forward *f = &s->forwards[i];

		if (f->state == FORWARD_BOUND && f->bound_port == port)
			return &s->forwards[i];
		/*
		 * The bastion's "bound" reply can be read in the same batch as
		 * the first connection behind it, before we have taken the
		 * reply: a fixed port in flight is ours already.
		 */
		if (f->state == FORWARD_REQUESTING && f->spec->port != 0 &&
		    f->spec->port == port)
			return &s->forwards[i];
	}
	return NULL;
}

static const char *
channel_type_name(int type)
{
	switch (type) {
	case SSH_CHANNEL_SESSION:
		return "session";
	case SSH_CHANNEL_DIRECT_TCPIP:
		return "direct-tcpip";
	case SSH_CHANNEL_FORWARDED_TCPIP:
		return "forwarded-tcpip";
	case SSH_CHANNEL_X11:
		return "x11";
	case SSH_CHANNEL_AUTH_AGENT:
		return "auth-agent";
	default:
		return "unknown";
	}
}

/* Says how many refusals went unlogged, if any did. */
static void
session_report_refusals(struct session *s)
{
	unsigned n = ratelimit_take_suppressed(&s->refusals);

	ev_timer_stop(s->loop, &s->refusal_report);
	if (n > 0)
		log_warn(s->log,
		    "... and %u more channel(s) refused, not logged one by "
		    "one (at most %d such lines per %.0f s)",
		    n, REFUSAL_LOG_BURST, REFUSAL_LOG_INTERVAL);
}

static void
session_on_refusal_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	session_report_refusals(w->data);
}

/* A refused channel: one line, unless a flood has used up the budget. */
static void __attribute__((format(printf, 2, 3)))
session_refuse(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (!ratelimit_allow(&s->refusals, ev_now(s->loop))) {
		if (!ev_is_active(&s->refusal_report)) {
			ev_timer_set(&s->refusal_report, REFUSAL_LOG_INTERVAL,
			    0);
			ev_timer_start(s->loop, &s->refusal_report);
		}
		return;
	}
	va_start(ap, fmt);
	log_vmsg(s->log, LOG_WARNING, fmt, ap);
	va_end(ap);
}

/*
 * Every request the bastion makes of us lands here. Returning 1 makes libssh
 * send the default answer: a refusal.
 */
static int
session_on_message(ssh_session ssh, ssh_message msg, void *arg)
{
	struct session *s = arg;
	struct forward *f;
	struct splice *sp;
	ssh_channel channel;
	char label[SPEC_HOST_MAX + 32];
	int type, port;

	(void)ssh;
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN)
		return 1;
	type = ssh_message_subtype(msg);
	if (type != SSH_CHANNEL_FORWARDED_TCPIP) {
		session_refuse(s,
		    "refused a %s channel the bastion tried to open",
		    channel_type_name(type));
		return 1;
	}
	port = ssh_message_channel_request_open_destination_port(msg);
	f = session_find_forward(s, port);
	if (f == NULL) {
		session_refuse(s,
		    "refused a connection for remote port %d, "
		    "which this tunnel does not forward",
		    port);
		return 1;
	}
	/*
	 * Connections the bastion has closed are freed only when the loop is
	 * about to sleep; a new one can arrive in the same read as their
	 * CLOSE. They do not count, up to as many again.
	 */
	if (splice_set_open_count(&s->splices) >=
	        (size_t)s->cfg->max_channels ||
	    s->splices.count >= 2 * (size_t)s->cfg->max_channels) {
		session_refuse(s,
		    "refused a connection on remote port %d: "
		    "%zu connections open, the limit (max_channels)",
		    port, splice_set_open_count(&s->splices));
		return 1;
	}
	session_refresh_target(s, f);
	if (f->target == NULL) {
		session_refuse(s,
		    "refused a connection on remote port %d: its target %s %s",
		    port, f->spec->host,
		    f->resolving != NULL ? "is still being looked up" :
		                           "did not resolve");
		return 1;
	}
	channel = ssh_message_channel_request_open_reply_accept(msg);
	if (channel == NULL) {
		log_err(s->log,
		    "cannot accept a connection on remote port %d: %s", port,
		    ssh_get_error(s->ssh));
		return 1;
	}
	snprintf(label, sizeof label, "%.64s:%d->%d",
	    ssh_message_channel_request_open_originator(msg),
	    ssh_message_channel_request_open_originator_port(msg), port);
	sp = splice_new(&s->splices, channel, f->target, label);
	if (sp == NULL) {
		log_err(s->log, "out of memory accepting %s", label);
		ssh_channel_close(channel);
		ssh_channel_free(channel);
		return 0;
	}
	log_debug(s->log, "connection %s: opened to %s:%d", label,
	    f->spec->host, f->spec->host_port);
	return 0;
}

static void
session_on_forward_bound(struct session *s, struct forward *f, int bound)
{
	const struct forward_spec *spec = f->spec;

	f->state = FORWARD_BOUND;
	f->bound_port = spec->port != 0 ? spec->port : bound;
	log_event(s->log, LOG_INFO, "forward_bound",
	    "remote port %d bound on the bastion, forwarding to %s:%d%s",
	    f->bound_port, spec->host, spec->host_port,
	    f->refusals > 0 ? " (the port was freed)" : "");
	f->refusals = 0;
	f->refused_since = 0;
	f->not_permitted = 0;
	session_changed(s);
	if (s->events->on_forward_bound != NULL)
		s->events->on_forward_bound(s, s->arg);
}

/*
 * A port held by a dead session is freed once the bastion's ClientAlive
 * check gives up on it; refused for longer than that (stale_port_timeout),
 * it is far more likely not permitted at all. Said once per session.
 */
static void
session_diagnose_refusal(struct session *s, struct forward *f)
{
	double held = difftime(time(NULL), f->refused_since);

	if (f->not_permitted || held < s->cfg->stale_port_timeout)
		return;
	f->not_permitted = 1;
	session_changed(s);
	log_warn(s->log,
	    "bastion still refuses remote port %d (forward %s) after %.0f s, "
	    "longer than a stale session holds a port (stale_port_timeout): "
	    "probably not permitted; check permitlisten in authorized_keys, "
	    "AllowTcpForwarding and GatewayPorts on the bastion",
	    f->spec->port, f->label, held);
}

/*
 * The bastion often still holds the port for a session that died: keep this
 * session and ask again with backoff. Said once, not at every retry.
 */
static void
session_on_forward_refused(struct session *s, struct forward *f)
{
	double wait;

	f->state = FORWARD_REFUSED;
	/*
	 * Another bastion may serve the port now: a session that has bound
	 * nothing yet gives way to it (the first one is checked again later).
	 */
	if (s->cfg->nbastions > 1 && session_bound_count(s) == 0) {
		session_fail(s, TETHER_EXIT_FORWARD,
		    "bastion %s refused remote port %d (forward %s)",
		    s->cfg->bastion.host, f->spec->port, f->label);
		return;
	}
	if (s->cfg->exit_on_forward_failure) {
		session_fail(s, TETHER_EXIT_FORWARD,
		    "bastion refused remote "
		    "port %d (forward %s) and exit_on_forward_failure is set",
		    f->spec->port, f->label);
		return;
	}
	if (f->refusals == 0)
		f->refused_since = time(NULL);
	session_changed(s);
	if (f->refusals++ == 0)
		log_event(s->log, LOG_WARNING, "forward_refused",
		    "bastion refused remote port %d (forward %s): "
		    "in use, maybe by our own previous session, or not "
		    "permitted (AllowTcpForwarding, permitlisten); retrying",
		    f->spec->port, f->label);
	session_diagnose_refusal(s, f);
	if (!ev_is_active(&s->forward_retry)) {
		wait = backoff_next(&s->forward_backoff, rng_unit(&s->rng));
		log_debug(s->log, "asking for refused forwards again in %.1f s",
		    wait);
		ev_timer_set(&s->forward_retry, wait, 0);
		ev_timer_start(s->loop, &s->forward_retry);
	}
}

static void
session_on_forward_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	size_t i;

	for (i = 0; i < s->nforwards; i++) {
		if (s->forwards[i].state == FORWARD_REFUSED)
			s->forwards[i].state = FORWARD_PENDING;
	}
	session_advance_global_requests(s);
}

/* The first forward still to ask for, or NULL. */
static struct forward *
session_next_pending_forward(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nforwards; i++) {
		if (s->forwards[i].state == FORWARD_PENDING)
			return &s->forwards[i];
	}
	return NULL;
}

static void
session_queue_cancel(struct session *s, const struct forward *f)
{
	struct cancel *c;

	if (s->ncancels == CANCELS_MAX)
		return; /* the bastion frees it when the session ends */
	c = &s->cancels[s->ncancels++];
	snprintf(c->bind, sizeof c->bind, "%s",
	    config_forward_bind_address(f->spec));
	c->port = f->bound_port;
}

/* Calls (again) into libssh for the forward in flight; 0 when it is done. */
static int
session_step_forward(struct session *s)
{
	struct forward *f = s->gr_forward;
	int rc, port = 0;

	if (f == NULL) {
		s->gr = GR_NONE;
		return 0;
	}
	f->state = FORWARD_REQUESTING;
	rc = ssh_channel_listen_forward(s->ssh,
	    config_forward_bind_address(f->spec), f->spec->port, &port);
	if (rc == SSH_AGAIN)
		return -1;
	s->gr = GR_NONE;
	s->gr_forward = NULL;
	if (f == &s->orphan) {
		if (rc == SSH_OK) {
			f->bound_port = f->spec->port != 0 ? f->spec->port :
			                                     port;
			session_queue_cancel(s, f);
		}
		return 0;
	}
	if (rc == SSH_OK)
		session_on_forward_bound(s, f, port);
	else if (ssh_is_connected(s->ssh))
		session_on_forward_refused(s, f);
	return 0;
}

/* Calls (again) into libssh for the cancel in flight; 0 when it is done. */
static int
session_step_cancel(struct session *s)
{
	struct cancel *c = &s->cancels[0];
	int rc;

	rc = ssh_channel_cancel_forward(s->ssh, c->bind, c->port);
	if (rc == SSH_AGAIN)
		return -1;
	s->gr = GR_NONE;
	memmove(&s->cancels[0], &s->cancels[1],
	    (--s->ncancels) * sizeof s->cancels[0]);
	if (rc == SSH_OK) {
		log_info(s->log, "remote port %d released on the bastion",
		    c->port);
		return 0;
	}
	/*
	 * A failure may mean the bastion keeps listening (Dropbear does for a
	 * localhost forward): only the end of this session frees the port.
	 */
	if (ssh_is_connected(s->ssh))
		session_fail(s, TETHER_EXIT_FAILURE,
		    "the bastion did not release remote port %d (it answered "
		    "the cancel with a failure, and may keep listening); "
		    "reconnecting so that the removal takes effect",
		    c->port);
	return 0;
}

/* Calls (again) into libssh for the keepalive in flight; 0 when answered. */
static int
session_step_keepalive(struct session *s)
{
	int rc;

	rc = ssh_channel_cancel_forward(s->ssh, KEEPALIVE_PROBE_HOST, 0);
	if (rc == SSH_AGAIN)
		return -1;
	s->gr = GR_NONE;
	if (ssh_is_connected(s->ssh)) {
		s->last_alive = ev_now(s->loop);
		s->keepalive_rtt = ev_time() - s->keepalive_sent;
		log_debug(s->log, "keepalive answered in %.3f s",
		    s->keepalive_rtt);
	}
	return 0;
}

static void
session_update_state(struct session *s)
{
	size_t i, bound = 0, waiting = 0;

	if (s->state != SESSION_REQUESTING || s->next_host != NULL)
		return;
	for (i = 0; i < s->nforwards; i++) {
		if (s->forwards[i].state == FORWARD_BOUND)
			bound++;
		if (s->forwards[i].state == FORWARD_PENDING ||
		    s->forwards[i].state == FORWARD_REQUESTING)
			waiting++;
	}
	if (waiting > 0)
		return;
	ev_timer_stop(s->loop, &s->deadline);
	if (bound > 0)
		log_info(s->log, "tunnel up: %zu of %zu forward(s) bound",
		    bound, s->nforwards);
	else
		log_warn(s->log,
		    "connected, but no forward is bound yet; retrying them");
	session_set_state(s, SESSION_FORWARDING);
	session_start_probes(s);
}

/*
 * Moves the global request in flight on, then starts the next one: forwards
 * first, a keepalive only when nothing else is asked (see keepalive timer).
 */
static void
session_run_global_requests(struct session *s)
{
	for (;;) {
		if (s->state == SESSION_CLOSED)
			return;
		if (s->gr == GR_FORWARD && session_step_forward(s) == -1)
			return;
		if (s->gr == GR_CANCEL && session_step_cancel(s) == -1)
			return;
		if (s->gr == GR_KEEPALIVE && session_step_keepalive(s) == -1)
			return;
		if (s->state == SESSION_CLOSED)
			return;
		if (s->ncancels > 0) {
			s->gr = GR_CANCEL;
			s->gr_seq++;
			continue;
		}
		s->gr_forward = session_next_pending_forward(s);
		if (s->gr_forward == NULL)
			break;
		s->gr = GR_FORWARD;
		s->gr_seq++;
	}
	if (s->state == SESSION_FORWARDING)
		return;
	/* Only now may a forward that was retried move the state on. */
	session_update_state(s);
	if (session_next_pending_forward(s) == NULL &&
	    s->state == SESSION_FORWARDING) {
		for (size_t i = 0; i < s->nforwards; i++) {
			if (s->forwards[i].state == FORWARD_REFUSED)
				return;
		}
		backoff_reset(&s->forward_backoff);
	}
}

/*
 * Once forwarding, packets of any kind prove the bastion alive, but one
 * that never answers a request would hold every later one (libssh asks
 * one at a time): each is bounded too. Patient enough for a reply queued
 * behind bulk data on a slow link, as the keepalive is.
 */
static double
session_gr_limit(const struct session *s)
{
	double patience = (double)s->cfg->keepalive_interval *
	    s->cfg->keepalive_count;

	return patience > s->cfg->connect_timeout ? patience :
	                                            s->cfg->connect_timeout;
}

static void
session_bound_global_request(struct session *s)
{
	if (s->state != SESSION_FORWARDING || s->gr == GR_NONE) {
		ev_timer_stop(s->loop, &s->gr_deadline);
		return;
	}
	if (ev_is_active(&s->gr_deadline) && s->gr_armed == s->gr_seq)
		return;
	s->gr_armed = s->gr_seq;
	ev_timer_stop(s->loop, &s->gr_deadline);
	ev_timer_set(&s->gr_deadline, session_gr_limit(s), 0);
	ev_timer_start(s->loop, &s->gr_deadline);
}

static void
session_advance_global_requests(struct session *s)
{
	session_run_global_requests(s);
	if (s->state != SESSION_CLOSED)
		session_bound_global_request(s);
}

/*
 * A frozen jump host silences everything past it: when the bastion has
 * been silent for limit, a hop silent half as long is the one to name.
 */
static int
session_blame_jump(struct session *s, double limit)
{
	struct error err;

	error_clear(&err);
	if (s->chain == NULL ||
	    !jump_chain_blame_silence(s->chain, limit / 2, &err))
		return 0;
	session_fail(s, err.code, "%s", err.msg);
	return 1;
}

static void
session_on_gr_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	static const char *const what[] = { "", "forward", "cancel-forward",
		"keepalive" };
	struct session *s = w->data;

	if (session_blame_jump(s, session_gr_limit(s)))
		return;
	session_fail(s, TETHER_EXIT_FAILURE,
	    "%s %s:%d did not answer a %s request for %.0f s (the "
	    "longer of connect_timeout and keepalive_interval x "
	    "keepalive_count)",
	    s->role, s->cfg->bastion.host, s->cfg->bastion.port, what[s->gr],
	    session_gr_limit(s));
}

static void
session_on_keepalive_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;

	if (s->gr != GR_NONE)
		return; /* an answer to what is in flight proves life too */
	s->gr = GR_KEEPALIVE;
	s->gr_seq++;
	s->keepalive_sent = ev_time();
	log_debug(s->log, "keepalive sent");
	session_advance_global_requests(s);
}

static void
session_on_liveness_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	ev_tstamp limit, silent;

	limit = config_liveness_limit(s->cfg);
	silent = ev_now(loop) - s->last_alive;
	if (silent < limit) {
		ev_timer_set(w, limit - silent, 0);
		ev_timer_start(loop, w);
		return;
	}
	if (session_blame_jump(s, limit))
		return;
	session_fail(s, TETHER_EXIT_FAILURE,
	    "%s %s:%d did not answer for "
	    "%.0f s (keepalive_interval %d s x keepalive_count %d)",
	    s->role, s->cfg->bastion.host, s->cfg->bastion.port, silent,
	    s->cfg->keepalive_interval, s->cfg->keepalive_count);
}

static void
session_start_keepalive(struct session *s)
{
	const struct tether_config *cfg = s->cfg;

	if (cfg->keepalive_interval == 0)
		return;
	s->last_alive = ev_now(s->loop);
	ev_timer_set(&s->keepalive, cfg->keepalive_interval,
	    cfg->keepalive_interval);
	ev_timer_start(s->loop, &s->keepalive);
	ev_timer_set(&s->liveness, config_liveness_limit(cfg), 0);
	ev_timer_start(s->loop, &s->liveness);
}

static int
forward_spec_equal(const struct forward_spec *a, const struct forward_spec *b)
{
	return a->port == b->port && a->host_port == b->host_port &&
	    strcmp(a->bind, b->bind) == 0 && strcmp(a->host, b->host) == 0;
}

static void
session_on_target_resolved(struct resolver *r, struct addrinfo *res,
    const char *error, void *arg)
{
	struct session *s = arg;
	struct forward *f = NULL;
	size_t i;

	for (i = 0; i < s->nforwards && f == NULL; i++) {
		if (s->forwards[i].resolving == r)
			f = &s->forwards[i];
	}
	resolver_free(r);
	if (f == NULL) {
		if (res != NULL)
			freeaddrinfo(res);
		return;
	}
	f->resolving = NULL;
	f->resolved_at = ev_now(s->loop);
	if (res == NULL) {
		f->resolve_failed_at = f->resolved_at;
		/* A name that resolved before keeps its last addresses. */
		log_warn(s->log, "forward %s: cannot resolve target %s: %s%s",
		    f->label, f->spec->host, error,
		    f->target != NULL ? "; keeping its last addresses" :
		                        "; its connections will be refused");
		return;
	}
	if (f->target != NULL)
		freeaddrinfo(f->target);
	f->target = res;
	log_debug(s->log, "forward %s: target %s resolved", f->label,
	    f->spec->host);
}

/*
 * An address needs no lookup: parsed at once, so a forward to 127.0.0.1
 * can take a connection the moment it is bound (a reload under load once
 * refused one "still being looked up"). 0 if target is an address.
 */
static int
session_target_numeric(struct session *s, struct forward *f)
{
	struct addrinfo hints, *res = NULL;
	char port[8];

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", f->spec->host_port);
	if (getaddrinfo(f->spec->host, port, &hints, &res) != 0)
		return -1;
	if (f->target != NULL)
		freeaddrinfo(f->target);
	f->target = res;
	f->resolved_at = ev_now(s->loop);
	return 0;
}

/* Looks the target up off the loop; the last answer serves meanwhile. */
static void
session_resolve_target(struct session *s, struct forward *f)
{
	if (f->resolving != NULL || session_target_numeric(s, f) == 0)
		return;
	/*
	 * No AI_ADDRCONFIG: it drops "localhost" on a host whose only
	 * addresses are loopback ones (a container), the common target.
	 */
	f->resolving = resolver_start(s->loop, f->spec->host,
	    f->spec->host_port, AI_NUMERICSERV, session_on_target_resolved, s);
	if (f->resolving == NULL) {
		/* Counts as a failed lookup: retried in a second, not per open. */
		f->resolve_failed_at = f->resolved_at = ev_now(s->loop);
		log_warn(s->log,
		    "forward %s: cannot start looking up target %s: %s",
		    f->label, f->spec->host, strerror(errno));
	}
}

/* A failed name is tried again, a stale answer refreshed, when used. */
static void
session_refresh_target(struct session *s, struct forward *f)
{
	double now = ev_now(s->loop);

	if (f->target == NULL ?
	        now - f->resolve_failed_at >= RESOLVE_RETRY_SECONDS :
	        now - f->resolved_at >= RESOLVE_REFRESH_SECONDS)
		session_resolve_target(s, f);
}

/* Releases a forward a reload dropped: on the bastion too if it was bound. */
static void
session_drop_forward(struct session *s, struct forward *f, int in_flight)
{
	forward_release_target(f);
	if (in_flight) {
		/* Its answer is still to come: hold it until then. */
		s->orphan = *f;
		s->orphan_spec = *f->spec;
		s->orphan.spec = &s->orphan_spec;
		s->gr_forward = &s->orphan;
		return;
	}
	if (f->state == FORWARD_BOUND)
		session_queue_cancel(s, f);
	log_info(s->log, "forward %s removed", f->label);
}

void
session_reconfigure(struct session *s, const struct tether_config *cfg)
{
	struct forward old[CONFIG_FORWARDS_MAX], *f;
	int taken[CONFIG_FORWARDS_MAX] = { 0 };
	size_t i, j, nold = s->nforwards;
	/* Which old forward is in flight, by index: the array is rewritten. */
	ptrdiff_t in_flight = s->gr_forward != NULL &&
	        s->gr_forward != &s->orphan ?
	    s->gr_forward - s->forwards :
	    -1;

	/* A probe in flight names a forward by address: let it go. */
	session_probe_done(s);
	memcpy(old, s->forwards, sizeof old);
	for (i = 0; i < cfg->nforwards; i++) {
		f = &s->forwards[i];
		for (j = 0; j < nold; j++) {
			if (!taken[j] &&
			    forward_spec_equal(old[j].spec, &cfg->forwards[i]))
				break;
		}
		if (j < nold) {
			taken[j] = 1;
			*f = old[j];
			if ((ptrdiff_t)j == in_flight)
				s->gr_forward = f;
		} else {
			memset(f, 0, sizeof *f);
			f->state = FORWARD_PENDING;
		}
		f->spec = &cfg->forwards[i];
		spec_format_forward(f->spec, f->label, sizeof f->label);
		if (j == nold) {
			log_info(s->log, "forward %s added", f->label);
			if (s->state != SESSION_CLOSED)
				session_resolve_target(s, f);
		}
	}
	for (j = 0; j < nold; j++) {
		if (!taken[j])
			session_drop_forward(s, &old[j],
			    (ptrdiff_t)j == in_flight);
	}
	s->nforwards = cfg->nforwards;
	s->cfg = cfg;
	s->splices.connect_timeout = cfg->target_connect_timeout;
	session_changed(s);
	if (s->state == SESSION_REQUESTING || s->state == SESSION_FORWARDING)
		session_advance_global_requests(s);
}

/* ---- the end-to-end probe ------------------------------------------------ */

#define PROBE_TICK_SECONDS 0.2
#define PROBE_QUIET_SECONDS 2.0 /* a silent target: open this long is fine */
#define PROBE_FAILURES_MAX 3    /* then the session itself is suspect */

static void
session_start_probes(struct session *s)
{
	if (s->cfg->probe_interval == 0 || ev_is_active(&s->probe_timer))
		return;
	ev_timer_set(&s->probe_timer, s->cfg->probe_interval,
	    s->cfg->probe_interval);
	ev_timer_start(s->loop, &s->probe_timer);
}

/* Where the bastion itself reaches the forward's listener. */
static const char *
session_probe_host(const struct forward *f)
{
	const char *bind = config_forward_bind_address(f->spec);

	return bind[0] == '\0' ? "127.0.0.1" : bind;
}

static struct forward *
session_next_probe_forward(struct session *s)
{
	size_t i, n = s->nforwards;

	for (i = 0; i < n; i++) {
		struct forward *f = &s->forwards[(s->probe_next + i) % n];

		if (f->state == FORWARD_BOUND) {
			s->probe_next = (s->probe_next + i + 1) % n;
			return f;
		}
	}
	return NULL;
}

static void
session_on_probe_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;
	struct forward *f;

	if (s->state != SESSION_FORWARDING || s->probes_off ||
	    probe_active(&s->probe) ||
	    (f = session_next_probe_forward(s)) == NULL)
		return;
	if (probe_start(&s->probe, s->ssh, session_probe_host(f), f->bound_port,
	        ev_now(loop)) == -1)
		return;
	s->probe_forward = f;
	log_debug(s->log, "probing remote port %d end to end", f->bound_port);
	ev_timer_set(&s->probe_tick, PROBE_TICK_SECONDS, PROBE_TICK_SECONDS);
	ev_timer_start(loop, &s->probe_tick);
	session_step_probe(s);
}

static void
session_on_probe_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	session_step_probe(w->data);
}

static void
session_probe_done(struct session *s)
{
	probe_stop(&s->probe);
	ev_timer_stop(s->loop, &s->probe_tick);
	s->probe_forward = NULL;
}

/* The path through the bastion is broken: ask for the forward again. */
static void
session_on_probe_failed(struct session *s, struct forward *f)
{
	if (++s->probe_failures >= PROBE_FAILURES_MAX) {
		session_fail(s, TETHER_EXIT_FAILURE,
		    "%u end-to-end probes in a "
		    "row failed: the session is up but carries no connection",
		    s->probe_failures);
		return;
	}
	log_warn(s->log,
	    "probe of remote port %d failed: the bastion's "
	    "listener does not reach the target; asking for the forward again",
	    f->bound_port);
	f->probe_rtt = 0;
	session_queue_cancel(s, f);
	f->state = FORWARD_PENDING;
	session_changed(s);
	session_advance_global_requests(s);
}

static void
session_step_probe(struct session *s)
{
	struct forward *f = s->probe_forward;
	enum probe_result r;

	r = probe_step(&s->probe, ev_now(s->loop), PROBE_QUIET_SECONDS,
	    s->cfg->probe_timeout);
	if (r == PROBE_RUNNING)
		return;
	session_probe_done(s);
	/* A reload may have dropped the forward meanwhile. */
	if (f == NULL || f->state != FORWARD_BOUND)
		return;
	if (r == PROBE_OK) {
		s->probe_failures = 0;
		s->probe_worked = 1;
		f->probe_rtt = s->probe.rtt;
		log_debug(s->log, "probe of remote port %d: ok in %.1f ms",
		    f->bound_port, f->probe_rtt * 1000);
		session_changed(s);
	} else if (r == PROBE_REFUSED && !s->probe_worked) {
		s->probes_off = 1;
		log_warn(s->log,
		    "the bastion refuses direct-tcpip channels, so "
		    "end-to-end probes are off (allow them with "
		    "permitopen=\"localhost:%d\" in authorized_keys, or set "
		    "probe_interval = 0)",
		    f->bound_port);
	} else {
		session_on_probe_failed(s, f);
	}
}
