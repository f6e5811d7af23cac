#include <sys/socket.h>

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "tether/exit.h"
#include "hostkey.h"
#include "key.h"
#include "session.h"
#include "splice.h"

enum forward_state {
	FORWARD_PENDING,
	FORWARD_REQUESTING,
	FORWARD_BOUND,
	FORWARD_REFUSED,
};

struct forward {
	const struct forward_spec *spec;
	struct addrinfo *target;     /* resolved when the session starts */
	enum forward_state state;
	int bound_port;
	char label[2 * SPEC_HOST_MAX + 32];
};

struct session {
	struct ev_loop *loop;
	const struct tether_config *cfg;
	const struct logger *log;
	const struct session_events *events;
	void *arg;

	enum session_state state;
	int reported;                /* on_closed was called */
	struct error err;

	ssh_session ssh;
	ssh_event event;             /* makes libssh read without blocking */
	ssh_key key;
	ev_io io;                    /* the bastion socket */
	ev_timer deadline;           /* bounds connect, auth and requests */
	ev_prepare prepare;          /* reconciles interest before sleeping */

	struct splice_set splices;
	struct forward forwards[CONFIG_FORWARDS_MAX];
	size_t nforwards;
};

static void session_on_io(struct ev_loop *, ev_io *, int);
static void session_on_deadline(struct ev_loop *, ev_timer *, int);
static void session_on_prepare(struct ev_loop *, ev_prepare *, int);

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
	ev_prepare_init(&s->prepare, session_on_prepare);
	s->io.data = s->deadline.data = s->prepare.data = s;
	return s;
}

/* Drops the SSH connection and every channel; the session can start again. */
static void
session_teardown(struct session *s)
{
	size_t i;

	splice_set_close_all(&s->splices);
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->deadline);
	if (s->event != NULL) {
		ssh_event_remove_session(s->event, s->ssh);
		ssh_event_free(s->event);
		s->event = NULL;
	}
	if (s->ssh != NULL) {
		if (ssh_is_connected(s->ssh))
			ssh_disconnect(s->ssh);
		ssh_free(s->ssh);
		s->ssh = NULL;
	}
	ssh_key_free(s->key);
	s->key = NULL;
	for (i = 0; i < s->nforwards; i++) {
		if (s->forwards[i].target != NULL)
			freeaddrinfo(s->forwards[i].target);
		s->forwards[i].target = NULL;
		s->forwards[i].state = FORWARD_PENDING;
		s->forwards[i].bound_port = 0;
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

/* Ends the session; the owner hears of it once the loop is about to sleep. */
static void
session_fail(struct session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
session_fail(struct session *s, int code, const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	if (s->state == SESSION_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_set(&s->err, code, "%s", msg);
	s->state = SESSION_CLOSED;
	session_teardown(s);
}

void
session_stop(struct session *s)
{
	if (s->state == SESSION_CLOSED)
		return;
	log_info(s->log, "closing %zu connection(s) and disconnecting",
	    s->splices.count);
	s->state = SESSION_CLOSED;
	s->reported = 1;
	session_teardown(s);
	ev_prepare_stop(s->loop, &s->prepare);
}

static int
session_resolve_targets(struct session *s)
{
	struct addrinfo hints;
	char port[8];
	size_t i;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	for (i = 0; i < s->nforwards; i++) {
		const struct forward_spec *f = s->forwards[i].spec;

		snprintf(port, sizeof port, "%d", f->host_port);
		rc = getaddrinfo(f->host, port, &hints, &s->forwards[i].target);
		if (rc != 0) {
			s->forwards[i].target = NULL;
			log_warn(s->log, "forward %s: cannot resolve target %s: "
			    "%s; its connections will be refused",
			    s->forwards[i].label, f->host, gai_strerror(rc));
		}
	}
	return 0;
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
	    ssh_options_set(s->ssh, SSH_OPTIONS_KNOWNHOSTS,
	    cfg->known_hosts) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_NODELAY, &one) < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    (cfg->bastion.user[0] != '\0' &&
	    ssh_options_set(s->ssh, SSH_OPTIONS_USER, cfg->bastion.user) < 0)) {
		error_set(err, TETHER_EXIT_CONFIG, "bastion %s:%d: %s",
		    cfg->bastion.host, cfg->bastion.port, ssh_get_error(s->ssh));
		return -1;
	}
	ssh_set_blocking(s->ssh, 0);
	return 0;
}

int
session_start(struct session *s, struct error *err)
{
	const struct tether_config *cfg = s->cfg;
	int rc;

	if (s->state != SESSION_CLOSED)
		return 0;
	error_clear(&s->err);
	if (cfg->key_path[0] != '\0' && key_load(cfg->key_path, &s->key,
	    err) == -1)
		return -1;
	if (session_configure(s, err) == -1) {
		session_teardown(s);
		return -1;
	}
	session_resolve_targets(s);
	log_info(s->log, "connecting to %s%s%s:%d", cfg->bastion.user,
	    cfg->bastion.user[0] != '\0' ? "@" : "", cfg->bastion.host,
	    cfg->bastion.port);
	rc = ssh_connect(s->ssh);
	if (rc == SSH_ERROR) {
		error_set(err, TETHER_EXIT_FAILURE, "cannot connect to the "
		    "bastion %s:%d: %s", cfg->bastion.host, cfg->bastion.port,
		    ssh_get_error(s->ssh));
		session_teardown(s);
		return -1;
	}
	s->state = SESSION_CONNECTING;
	s->reported = 0;
	ev_io_set(&s->io, ssh_get_fd(s->ssh), EV_READ | EV_WRITE);
	ev_io_start(s->loop, &s->io);
	ev_timer_set(&s->deadline, cfg->connect_timeout, 0);
	ev_timer_start(s->loop, &s->deadline);
	ev_prepare_start(s->loop, &s->prepare);
	/* On loopback the handshake can already be under way. */
	ev_feed_event(s->loop, &s->io, EV_READ);
	return 0;
}

static struct forward *
session_find_forward(struct session *s, int port)
{
	size_t i;

	for (i = 0; i < s->nforwards; i++) {
		if (s->forwards[i].state == FORWARD_BOUND &&
		    s->forwards[i].bound_port == port)
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
		log_warn(s->log, "refused a %s channel the bastion tried to "
		    "open", channel_type_name(type));
		return 1;
	}
	port = ssh_message_channel_request_open_destination_port(msg);
	f = session_find_forward(s, port);
	if (f == NULL) {
		log_warn(s->log, "refused a connection for remote port %d, "
		    "which this tunnel does not forward", port);
		return 1;
	}
	if (s->splices.count >= (size_t)s->cfg->max_channels) {
		log_warn(s->log, "refused a connection on remote port %d: "
		    "%zu connections open, the limit (max_channels)", port,
		    s->splices.count);
		return 1;
	}
	if (f->target == NULL) {
		log_warn(s->log, "refused a connection on remote port %d: its "
		    "target %s did not resolve", port, f->spec->host);
		return 1;
	}
	channel = ssh_message_channel_request_open_reply_accept(msg);
	if (channel == NULL) {
		log_err(s->log, "cannot accept a connection on remote port %d: "
		    "%s", port, ssh_get_error(s->ssh));
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
session_on_forward_done(struct session *s, struct forward *f, int rc,
    int bound)
{
	const struct forward_spec *spec = f->spec;

	if (rc == SSH_OK) {
		f->state = FORWARD_BOUND;
		f->bound_port = spec->port != 0 ? spec->port : bound;
		log_info(s->log, "remote port %d bound on the bastion, "
		    "forwarding to %s:%d", f->bound_port, spec->host,
		    spec->host_port);
		if (s->events->on_forward_bound != NULL)
			s->events->on_forward_bound(s, s->arg);
		return;
	}
	f->state = FORWARD_REFUSED;
	log_err(s->log, "bastion refused remote port %d (forward %s): is it "
	    "in use, or not permitted by the bastion's sshd "
	    "(AllowTcpForwarding, permitlisten)?", spec->port, f->label);
}

/* Asks for one forward at a time: libssh tracks one global request. */
static void
session_request_forwards(struct session *s)
{
	struct forward *f;
	size_t i, bound = 0;
	int rc, port = 0;

	for (i = 0; i < s->nforwards; i++) {
		f = &s->forwards[i];
		if (f->state == FORWARD_BOUND)
			bound++;
		if (f->state != FORWARD_PENDING &&
		    f->state != FORWARD_REQUESTING)
			continue;
		f->state = FORWARD_REQUESTING;
		rc = ssh_channel_listen_forward(s->ssh,
		    config_forward_bind_address(f->spec), f->spec->port, &port);
		if (rc == SSH_AGAIN)
			return;
		session_on_forward_done(s, f, rc, port);
		if (f->state == FORWARD_BOUND) {
			bound++;
		} else if (s->cfg->exit_on_forward_failure) {
			session_fail(s, TETHER_EXIT_FORWARD, "bastion refused "
			    "remote port %d and exit_on_forward_failure is set",
			    f->spec->port);
			return;
		}
	}
	if (s->state != SESSION_REQUESTING)
		return;
	ev_timer_stop(s->loop, &s->deadline);
	if (bound == 0) {
		session_fail(s, TETHER_EXIT_FORWARD, "bastion refused every "
		    "forward of this tunnel");
		return;
	}
	s->state = SESSION_FORWARDING;
	log_info(s->log, "tunnel up: %zu of %zu forward(s) bound", bound,
	    s->nforwards);
}

static void
session_on_authenticated(struct session *s)
{
	log_info(s->log, "authenticated to the bastion as %s",
	    s->cfg->bastion.user[0] != '\0' ? s->cfg->bastion.user :
	    "the current user");
	ssh_set_message_callback(s->ssh, session_on_message, s);
	s->event = ssh_event_new();
	if (s->event == NULL || ssh_event_add_session(s->event, s->ssh) !=
	    SSH_OK) {
		session_fail(s, TETHER_EXIT_FAILURE, "out of memory");
		return;
	}
	s->state = SESSION_REQUESTING;
	ev_timer_stop(s->loop, &s->deadline);
	ev_timer_set(&s->deadline, s->cfg->connect_timeout, 0);
	ev_timer_start(s->loop, &s->deadline);
	session_request_forwards(s);
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
		session_fail(s, TETHER_EXIT_FAILURE, "cannot connect to the "
		    "bastion %s:%d: %s", b->host, b->port, ssh_get_error(s->ssh));
		return;
	}
	error_clear(&err);
	if (hostkey_verify(s->ssh, s->cfg, s->log, &err) == -1) {
		session_fail(s, err.code, "%s", err.msg);
		return;
	}
	log_debug(s->log, "key exchange done, bastion key trusted");
	s->state = SESSION_AUTHENTICATING;
}

static void
session_step_auth(struct session *s)
{
	const struct tether_config *cfg = s->cfg;
	int rc;

	if (s->key != NULL)
		rc = ssh_userauth_publickey(s->ssh, NULL, s->key);
	else
		rc = ssh_userauth_agent(s->ssh, NULL);
	if (rc == SSH_AUTH_AGAIN)
		return;
	if (rc == SSH_AUTH_SUCCESS) {
		session_on_authenticated(s);
		return;
	}
	if (rc == SSH_AUTH_ERROR) {
		session_fail(s, TETHER_EXIT_FAILURE, "authentication to the "
		    "bastion failed: %s", ssh_get_error(s->ssh));
		return;
	}
	session_fail(s, TETHER_EXIT_AUTH, "bastion %s:%d refused %s for user "
	    "%s; add the public key to that user's authorized_keys on the "
	    "bastion", cfg->bastion.host, cfg->bastion.port,
	    s->key != NULL ? cfg->key_path : "every ssh-agent key",
	    cfg->bastion.user[0] != '\0' ? cfg->bastion.user :
	    "(current user)");
}

/* Lets libssh read and dispatch what arrived, then moves requests on. */
static void
session_pump(struct session *s)
{
	ssh_event_dopoll(s->event, 0);
	if (s->state == SESSION_REQUESTING)
		session_request_forwards(s);
	if (s->state != SESSION_CLOSED && !ssh_is_connected(s->ssh)) {
		const char *why = ssh_get_error(s->ssh);

		session_fail(s, TETHER_EXIT_FAILURE, "lost the bastion %s:%d: "
		    "%s", s->cfg->bastion.host, s->cfg->bastion.port,
		    why != NULL && why[0] != '\0' ? why : "connection closed");
	}
}

static void
session_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;

	(void)loop;
	(void)revents;
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

	(void)loop;
	(void)revents;
	session_fail(s, TETHER_EXIT_FAILURE, "bastion %s:%d: %s took longer "
	    "than %d s (connect_timeout)", s->cfg->bastion.host,
	    s->cfg->bastion.port, session_state_name(s->state),
	    s->cfg->connect_timeout);
}

static void
session_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct session *s = w->data;
	int flags, events;

	(void)revents;
	if (s->state == SESSION_CLOSED) {
		ev_prepare_stop(loop, w);
		if (!s->reported) {
			s->reported = 1;
			s->events->on_closed(s, &s->err, s->arg);
		}
		return;
	}
	flags = ssh_get_poll_flags(s->ssh);
	splice_set_reconcile(&s->splices, (flags & SSH_WRITE_PENDING) != 0);
	events = EV_READ | ((flags & SSH_WRITE_PENDING) ? EV_WRITE : 0);
	if (events != (s->io.events & (EV_READ | EV_WRITE))) {
		ev_io_stop(loop, &s->io);
		ev_io_set(&s->io, s->io.fd, events);
		ev_io_start(loop, &s->io);
	}
}
