/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "bytebuf.h"
#include "splice.h"

#define SPLICE_SCRATCH_SIZE ((size_t)64 * 1024)
#define SPLICE_ADDRS_MAX 4
/* The system libssh holds about 2 MiB within its window: 1 MiB of slack. */
#define SPLICE_SYSTEM_HELD (2u * 1024 * 1024)
#define SPLICE_LIBSSH_MAX (3u * 1024 * 1024)
#define SPLICE_SLACK (1u * 1024 * 1024)
/*
 * All channels together, at least. Past it, a channel is closed when it
 * holds more than its window, or more than SPLICE_FAIR_SHARES times its
 * share of the cap: 64 busy connections keep theirs, 256 overrun ones
 * are cut short.
 */
#define SPLICE_SET_HELD_MAX ((size_t)32 * 1024 * 1024)
#define SPLICE_FAIR_SHARES 3
#define SPLICE_BIG_HOLDER (128u * 1024)
/* Per-connection log lines, as for refused channels (session.c). */
#define SPLICE_LOG_BURST 10
#define SPLICE_LOG_INTERVAL 5.0

enum splice_state {
	SPLICE_CONNECTING,
	SPLICE_OPEN,
	SPLICE_DEAD,
};

struct splice {
	struct splice_set *set;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	/* The target's addresses, copied: a forward may go away on reload. */
	struct sockaddr_storage addrs[SPLICE_ADDRS_MAX];
	socklen_t addr_lens[SPLICE_ADDRS_MAX];
	int naddrs;
	int next_addr; /* the next address to try */
	int fd;
	ev_io rio;
	ev_io wio;
	ev_timer connect_timer; /* the SYN, or the rest after a close */
	enum splice_state state;
	struct bytebuf to_local;
	/* Read from the target, not yet taken by libssh (a rekey, say). */
	struct bytebuf to_remote;
	uint32_t in_libssh; /* bytes libssh still holds for us */
	unsigned remote_eof : 1;
	unsigned remote_closed : 1;
	unsigned local_eof : 1;   /* the target sent EOF */
	unsigned local_shut : 1;  /* we sent EOF to the target */
	unsigned remote_shut : 1; /* we sent EOF to the bastion */
	unsigned dirty : 1;
	unsigned starved : 1; /* on the starved list */
	uint64_t bytes_to_local;
	uint64_t bytes_to_remote;
	char label[96];
	TAILQ_ENTRY(splice) entry;
	TAILQ_ENTRY(splice) dirty_entry;
	TAILQ_ENTRY(splice) starved_entry;
};

static void splice_on_socket_readable(struct ev_loop *, ev_io *, int);
static void splice_on_connect_timeout(struct ev_loop *, ev_timer *, int);
static void splice_try_next_address(struct splice *, int);
static void splice_on_socket_writable(struct ev_loop *, ev_io *, int);

static void
splice_mark_dirty(struct splice *s)
{
	if (!s->dirty) {
		s->dirty = 1;
		TAILQ_INSERT_TAIL(&s->set->dirty, s, dirty_entry);
	}
}

static void splice_fail(struct splice *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Whether one more per-connection line may go out: 3,000 opens against a
 * dead target must not make 3,000 lines. The rest are counted and said in
 * one line when the interval ends.
 */
static int
splice_log_allowed(struct splice_set *set)
{
	if (ratelimit_allow(&set->budget, ev_now(set->loop)))
		return 1;
	if (!ev_is_active(&set->log_report)) {
		ev_timer_set(&set->log_report, SPLICE_LOG_INTERVAL, 0);
		ev_timer_start(set->loop, &set->log_report);
	}
	return 0;
}

static void
splice_on_log_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct splice_set *set = w->data;
	unsigned n = ratelimit_take_suppressed(&set->budget);

	if (n > 0)
		log_warn(set->log,
		    "... and %u more connection line(s) not logged one by one "
		    "(at most %d such lines per %.0f s)",
		    n, SPLICE_LOG_BURST, SPLICE_LOG_INTERVAL);
}

static void
splice_fail(struct splice *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (s->state == SPLICE_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (splice_log_allowed(s->set))
		log_warn(s->set->log, "connection %s: %s", s->label, msg);
	s->state = SPLICE_DEAD;
	splice_mark_dirty(s);
}

/* in_libssh, and the set-wide sum of it (splice_set_over_cap). */
static void
splice_held(struct splice *s, uint32_t n)
{
	s->set->held = s->set->held - s->in_libssh + n;
	s->in_libssh = n;
}

static int
splice_would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Starts a non-blocking connect to the next address that will take one. */
static void
splice_watch_socket(struct splice *s)
{
	ev_io_init(&s->rio, splice_on_socket_readable, s->fd, EV_READ);
	ev_io_init(&s->wio, splice_on_socket_writable, s->fd, EV_WRITE);
	s->rio.data = s->wio.data = s;
}

static void
splice_connect(struct splice *s)
{
	const struct sockaddr *sa;
	int one = 1;

	for (; s->next_addr < s->naddrs; s->next_addr++) {
		sa = (const struct sockaddr *)&s->addrs[s->next_addr];
		s->fd = socket(sa->sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd == -1)
			continue;
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s->fd, sa, s->addr_lens[s->next_addr]) == 0) {
			s->state = SPLICE_OPEN;
			break;
		}
		if (errno == EINPROGRESS) {
			s->state = SPLICE_CONNECTING;
			ev_timer_set(&s->connect_timer, s->set->connect_timeout,
			    0);
			ev_timer_start(s->set->loop, &s->connect_timer);
			break;
		}
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd == -1) {
		splice_fail(s, "cannot connect to the target: %s",
		    strerror(errno));
		return;
	}
	splice_watch_socket(s);
}

static void
splice_finish_connect(struct splice *s)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	ev_timer_stop(s->set->loop, &s->connect_timer);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0) {
		s->state = SPLICE_OPEN;
		return;
	}
	splice_try_next_address(s, soerr);
}

/* The address being tried failed with err: on to the next, if any. */
static void
splice_try_next_address(struct splice *s, int err)
{
	ev_io_stop(s->set->loop, &s->rio);
	ev_io_stop(s->set->loop, &s->wio);
	close(s->fd);
	s->fd = -1;
	if (++s->next_addr >= s->naddrs) {
		splice_fail(s, "cannot connect to the target: %s",
		    strerror(err));
		return;
	}
	splice_connect(s);
}

static void
splice_on_connect_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct splice *s = w->data;

	splice_mark_dirty(s);
	if (s->state == SPLICE_CONNECTING)
		splice_try_next_address(s, ETIMEDOUT);
	else if (s->state == SPLICE_OPEN && s->remote_closed)
		splice_fail(s,
		    "the target did not take the rest within %.0f s "
		    "of the bastion closing",
		    s->set->connect_timeout);
}

/* Writes what we hold, then pulls what libssh holds, while the socket takes it. */
static void
splice_flush_to_local(struct splice *s)
{
	unsigned char *tail;
	size_t want;
	ssize_t n;
	int got;

	while (s->state == SPLICE_OPEN) {
		if (s->to_local.len > 0) {
			n = send(s->fd, bytebuf_head(&s->to_local),
			    s->to_local.len, MSG_NOSIGNAL);
			if (n == -1) {
				if (!splice_would_block())
					splice_fail(s,
					    "write to the target: %s",
					    strerror(errno));
				return;
			}
			bytebuf_consume(&s->to_local, (size_t)n);
			s->bytes_to_local += (uint64_t)n;
			s->set->bytes_to_local += (uint64_t)n;
			if (s->to_local.len > 0)
				return;
		}
		if (s->in_libssh == 0 ||
		    (tail = bytebuf_tail(&s->to_local)) == NULL)
			return;
		want = bytebuf_space(&s->to_local);
		if (want > s->in_libssh)
			want = s->in_libssh;
		got = ssh_channel_read_nonblocking(s->channel, tail,
		    (uint32_t)want, 0);
		if (got <= 0) {
			/* libssh holds less than we counted: nothing is lost. */
			splice_held(s, 0);
			return;
		}
		bytebuf_commit(&s->to_local, (size_t)got);
		splice_held(s, s->in_libssh - (uint32_t)got);
	}
}

/*
 * What libssh may hold for one channel before the bastion is taken to
 * ignore the window: the system libssh holds about 2 MiB within its
 * window; the bundled one (docs/libssh.md) at most the window it keeps.
 */
static uint32_t
splice_libssh_max(const struct splice_set *set)
{
	if (set->window == 0)
		return SPLICE_LIBSSH_MAX;
	return set->window + SPLICE_SLACK;
}

/* What libssh holds for a channel whose peer keeps to the window. */
static uint32_t
splice_window_held(const struct splice_set *set)
{
	return set->window != 0 ? set->window : SPLICE_SYSTEM_HELD;
}

/* The cap for all channels together: eight full windows, 32 MiB at least. */
static size_t
splice_set_held_max(const struct splice_set *set)
{
	size_t eight = (size_t)8 * set->window;

	return eight > SPLICE_SET_HELD_MAX ? eight : SPLICE_SET_HELD_MAX;
}

/*
 * Why a channel handed len bytes is closed for the set's sake, or NULL.
 * A channel within its window holds what a slow target has not taken
 * yet; only the greedy ones go, so legit connections go on.
 */
static const char *
splice_set_over_cap(const struct splice *s, uint32_t len)
{
	size_t cap = splice_set_held_max(s->set);
	size_t live = s->set->count > 0 ? s->set->count : 1;

	if (len < SPLICE_BIG_HOLDER || s->set->held - s->in_libssh + len <= cap)
		return NULL;
	if (len > splice_window_held(s->set))
		return "more than its window";
	if (len > SPLICE_FAIR_SHARES * (cap / live))
		return "more than its share";
	return NULL;
}

static int
splice_on_channel_data(ssh_session session, ssh_channel channel, void *data,
    uint32_t len, int is_stderr, void *arg)
{
	struct splice *s = arg;
	const char *why;
	size_t taken = 0;
	ssize_t n;

	(void)session;
	(void)channel;
	/* A closing splice, or stderr (which forwarded-tcpip never has): drop. */
	if (s->state == SPLICE_DEAD || is_stderr) {
		if (s->state == SPLICE_DEAD)
			splice_held(s, 0);
		return (int)len;
	}
	/*
	 * libssh keeps whatever the bastion sends, window or not. Past what
	 * the window allows and 1 MiB of slack is a peer ignoring flow
	 * control: drop it and the connection, as OpenSSH does.
	 */
	if (len > splice_libssh_max(s->set)) {
		splice_fail(s,
		    "the bastion sent %u bytes past the channel's window", len);
		splice_held(s, 0);
		return (int)len;
	}
	/* The bound for the whole process. */
	if ((why = splice_set_over_cap(s, len)) != NULL) {
		splice_fail(s,
		    "closed: the bastion's channels hold %zu KiB in all, past "
		    "tether's cap of %zu MiB, and this one holds %u KiB, %s",
		    (s->set->held - s->in_libssh + len) / 1024,
		    splice_set_held_max(s->set) >> 20, len / 1024, why);
		splice_held(s, 0);
		return (int)len;
	}
	if (s->state == SPLICE_OPEN && s->to_local.len == 0) {
		n = send(s->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			taken = (size_t)n;
			s->bytes_to_local += (uint64_t)n;
			s->set->bytes_to_local += (uint64_t)n;
		} else if (n == -1 && !splice_would_block()) {
			splice_fail(s, "write to the target: %s",
			    strerror(errno));
			return (int)len;
		}
	}
	taken += bytebuf_append(&s->to_local, (unsigned char *)data + taken,
	    len - taken);
	/* libssh hands us everything it holds each time. */
	splice_held(s, len - (uint32_t)taken);
	splice_mark_dirty(s);
	return (int)taken;
}

static void
splice_on_channel_eof(ssh_session session, ssh_channel channel, void *arg)
{
	struct splice *s = arg;

	(void)session;
	(void)channel;
	s->remote_eof = 1;
	splice_mark_dirty(s);
}

static void
splice_on_channel_close(ssh_session session, ssh_channel channel, void *arg)
{
	struct splice *s = arg;

	(void)session;
	(void)channel;
	s->remote_eof = 1;
	s->remote_closed = 1;
	splice_mark_dirty(s);
	/* The target gets a bounded time to take what is left for it. */
	if (s->state == SPLICE_OPEN) {
		ev_timer_stop(s->set->loop, &s->connect_timer);
		ev_timer_set(&s->connect_timer, s->set->connect_timeout, 0);
		ev_timer_start(s->set->loop, &s->connect_timer);
	}
}

static int
splice_on_channel_writable(ssh_session session, ssh_channel channel,
    uint32_t bytes, void *arg)
{
	struct splice *s = arg;

	(void)session;
	(void)channel;
	(void)bytes;
	splice_mark_dirty(s);
	return 0;
}

/*
 * The channel is closed: what the target still sends has nowhere to go.
 * Reading it keeps a target that echoes from blocking on us while we wait
 * to deliver it the rest.
 */
static void
splice_drain_target(struct splice *s)
{
	ssize_t n = recv(s->fd, s->set->scratch, SPLICE_SCRATCH_SIZE, 0);

	if (n == 0)
		s->local_eof = 1;
	else if (n == -1 && !splice_would_block())
		splice_fail(s, "read from the target: %s", strerror(errno));
}

/*
 * Hands data to the channel; returns how much libssh took, or -1 once the
 * splice failed. Taking less than offered is no error: while a key
 * exchange runs (every GiB, or whenever the bastion asks) libssh takes
 * nothing, and a closing window takes part.
 */
static ssize_t
splice_write_remote(struct splice *s, const void *data, size_t len)
{
	int written = ssh_channel_write(s->channel, data, (uint32_t)len);

	if (written < 0) {
		splice_fail(s, "write to the bastion channel: %s",
		    ssh_get_error(ssh_channel_get_session(s->channel)));
		return -1;
	}
	s->bytes_to_remote += (uint64_t)written;
	s->set->bytes_to_remote += (uint64_t)written;
	return written;
}

/*
 * Retries what libssh did not take. The buffer is freed once empty: it is
 * needed only across a rekey or a full window, and idle splices keep none.
 */
static void
splice_flush_to_remote(struct splice *s)
{
	ssize_t n;

	if (s->to_remote.len == 0 || s->state != SPLICE_OPEN)
		return;
	if (s->remote_closed) {
		/* Nobody will read it: the bastion closed the channel. */
		bytebuf_free(&s->to_remote);
		return;
	}
	n = splice_write_remote(s, bytebuf_head(&s->to_remote),
	    s->to_remote.len);
	if (n <= 0)
		return;
	bytebuf_consume(&s->to_remote, (size_t)n);
	if (s->to_remote.len == 0)
		bytebuf_free(&s->to_remote);
}

/* The target's EOF goes on once everything it sent before it has. */
static void
splice_forward_eof(struct splice *s)
{
	if (s->state != SPLICE_OPEN || !s->local_eof || s->remote_shut ||
	    s->remote_closed || s->to_remote.len > 0)
		return;
	s->remote_shut = 1;
	if (ssh_channel_send_eof(s->channel) != SSH_OK)
		splice_fail(s, "cannot send EOF to the bastion");
}

/* Reads the target into the channel; what libssh cannot take yet is kept. */
static void
splice_read_target(struct splice *s, uint32_t window)
{
	ssize_t n, taken;

	if (window > SPLICE_SCRATCH_SIZE)
		window = SPLICE_SCRATCH_SIZE;
	n = recv(s->fd, s->set->scratch, window, 0);
	if (n == -1) {
		if (!splice_would_block())
			splice_fail(s, "read from the target: %s",
			    strerror(errno));
		return;
	}
	if (n == 0) {
		s->local_eof = 1;
		splice_forward_eof(s);
		return;
	}
	taken = splice_write_remote(s, s->set->scratch, (size_t)n);
	if (taken < 0 || taken == n)
		return;
	/* One read's worth always fits: reads stop while any is kept. */
	if (bytebuf_append(&s->to_remote, s->set->scratch + taken,
	        (size_t)(n - taken)) != (size_t)(n - taken))
		splice_fail(s,
		    "out of memory keeping %zd bytes for the bastion",
		    n - taken);
}

static void
splice_on_socket_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct splice *s = w->data;
	uint32_t window;

	splice_mark_dirty(s);
	if (s->state == SPLICE_OPEN && s->remote_closed) {
		splice_drain_target(s);
		return;
	}
	window = ssh_channel_window_size(s->channel);
	if (s->state != SPLICE_OPEN || window == 0 || s->to_remote.len > 0 ||
	    (ssh_get_poll_flags(ssh_channel_get_session(s->channel)) &
	        SSH_WRITE_PENDING))
		return;
	splice_read_target(s, window);
}

static void
splice_on_socket_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct splice *s = w->data;

	splice_mark_dirty(s);
	if (s->state == SPLICE_CONNECTING) {
		splice_finish_connect(s);
		if (s->state == SPLICE_OPEN)
			log_debug(s->set->log,
			    "connection %s: target connected", s->label);
	}
	splice_flush_to_local(s);
}

static void
splice_watch(struct splice *s, ev_io *w, int want)
{
	if (want && !ev_is_active(w))
		ev_io_start(s->set->loop, w);
	else if (!want && ev_is_active(w))
		ev_io_stop(s->set->loop, w);
}

static void
splice_destroy(struct splice *s)
{
	struct splice_set *set = s->set;

	ev_timer_stop(set->loop, &s->connect_timer);
	if (s->starved)
		TAILQ_REMOVE(&set->starved, s, starved_entry);
	if (s->fd != -1) {
		ev_io_stop(set->loop, &s->rio);
		ev_io_stop(set->loop, &s->wio);
		close(s->fd);
	}
	ssh_remove_channel_callbacks(s->channel, &s->cb);
	/* Sends EOF and CLOSE if the channel is still open. */
	ssh_channel_free(s->channel);
	log_debug(set->log,
	    "connection %s: closed, %llu bytes to the target, %llu from it",
	    s->label, (unsigned long long)s->bytes_to_local,
	    (unsigned long long)s->bytes_to_remote);
	bytebuf_free(&s->to_local);
	bytebuf_free(&s->to_remote);
	splice_held(s, 0);
	TAILQ_REMOVE(&set->all, s, entry);
	set->count--;
	free(s);
}

/*
 * libssh 0.10 opens a channel's remote window without telling us (its
 * write-wontblock callback is not called for a window adjust), nor says
 * when a key exchange ends: a splice that stopped reading for want of
 * window, or holds bytes libssh would not take, is kept on a list and
 * looked at again each time the loop is about to sleep.
 */
static void
splice_watch_window(struct splice *s)
{
	int starved = s->state == SPLICE_OPEN && !s->remote_closed &&
	    (s->to_remote.len > 0 ||
	        (!s->local_eof && ssh_channel_window_size(s->channel) == 0));

	if (starved && !s->starved)
		TAILQ_INSERT_TAIL(&s->set->starved, s, starved_entry);
	else if (!starved && s->starved)
		TAILQ_REMOVE(&s->set->starved, s, starved_entry);
	s->starved = starved;
}

/* Whether both directions have finished and everything was delivered. */
static int
splice_is_done(const struct splice *s)
{
	int drained = s->to_local.len == 0 && s->in_libssh == 0;

	if (s->remote_closed)
		return drained || s->local_shut;
	return drained && s->remote_eof && s->remote_shut;
}

static void
splice_update(struct splice *s, int write_blocked)
{
	int want_read, want_write;

	if (!write_blocked)
		splice_flush_to_remote(s);
	splice_forward_eof(s);
	if (s->state == SPLICE_OPEN && s->remote_eof && !s->local_shut &&
	    s->to_local.len == 0 && s->in_libssh == 0) {
		shutdown(s->fd, SHUT_WR);
		s->local_shut = 1;
	}
	if (s->state == SPLICE_OPEN && splice_is_done(s))
		s->state = SPLICE_DEAD;
	if (s->state == SPLICE_DEAD) {
		splice_destroy(s);
		return;
	}
	splice_watch_window(s);
	want_read = s->state == SPLICE_OPEN && !s->local_eof &&
	    (s->remote_closed ||
	        (!write_blocked && s->to_remote.len == 0 &&
	            ssh_channel_window_size(s->channel) > 0));
	want_write = s->state == SPLICE_CONNECTING ||
	    (s->to_local.len > 0 || s->in_libssh > 0);
	splice_watch(s, &s->rio, want_read);
	splice_watch(s, &s->wio, want_write);
}

void
splice_set_reconcile(struct splice_set *set, int write_blocked)
{
	struct splice *s;

	/* A window adjust may have come in with the last packets read. */
	TAILQ_FOREACH(s, &set->starved, starved_entry) {
		if (ssh_channel_window_size(s->channel) > 0)
			splice_mark_dirty(s);
	}
	/* Splices parked by a full bastion socket resume when it drains. */
	if (set->write_blocked && !write_blocked) {
		TAILQ_FOREACH(s, &set->all, entry)
			splice_mark_dirty(s);
	}
	set->write_blocked = write_blocked;
	while ((s = TAILQ_FIRST(&set->dirty)) != NULL) {
		TAILQ_REMOVE(&set->dirty, s, dirty_entry);
		s->dirty = 0;
		splice_update(s, write_blocked);
	}
}

int
splice_set_init(struct splice_set *set, struct ev_loop *loop,
    const struct logger *log)
{
	memset(set, 0, sizeof *set);
	set->loop = loop;
	set->log = log;
	ratelimit_init(&set->budget, SPLICE_LOG_INTERVAL, SPLICE_LOG_BURST);
	ev_init(&set->log_report, splice_on_log_report);
	set->log_report.data = set;
	TAILQ_INIT(&set->all);
	TAILQ_INIT(&set->dirty);
	TAILQ_INIT(&set->starved);
	set->scratch = malloc(SPLICE_SCRATCH_SIZE);
	return set->scratch != NULL ? 0 : -1;
}

size_t
splice_set_open_count(const struct splice_set *set)
{
	const struct splice *s;
	size_t n = 0;

	TAILQ_FOREACH(s, &set->all, entry) {
		if (s->state != SPLICE_DEAD && !s->remote_closed)
			n++;
	}
	return n;
}

void
splice_set_close_all(struct splice_set *set)
{
	struct splice *s;

	TAILQ_FOREACH(s, &set->all, entry) {
		s->state = SPLICE_DEAD;
		splice_mark_dirty(s);
	}
	splice_set_reconcile(set, set->write_blocked);
}

void
splice_set_deinit(struct splice_set *set)
{
	splice_set_close_all(set);
	ev_timer_stop(set->loop, &set->log_report);
	free(set->scratch);
	set->scratch = NULL;
}

/* A splice for channel, its socket not yet made; NULL if out of memory. */
static struct splice *
splice_alloc(struct splice_set *set, ssh_channel channel, const char *label)
{
	struct splice *s;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->set = set;
	s->channel = channel;
	s->fd = -1;
	bytebuf_init(&s->to_local, SPLICE_BUFFER_SIZE);
	bytebuf_init(&s->to_remote, SPLICE_SCRATCH_SIZE);
	ev_init(&s->connect_timer, splice_on_connect_timeout);
	s->connect_timer.data = s;
	snprintf(s->label, sizeof s->label, "%s", label);
	ssh_callbacks_init(&s->cb);
	s->cb.userdata = s;
	s->cb.channel_data_function = splice_on_channel_data;
	s->cb.channel_eof_function = splice_on_channel_eof;
	s->cb.channel_close_function = splice_on_channel_close;
	s->cb.channel_write_wontblock_function = splice_on_channel_writable;
	ssh_set_channel_callbacks(channel, &s->cb);
	TAILQ_INSERT_TAIL(&set->all, s, entry);
	set->count++;
	set->opened++;
	return s;
}

struct splice *
splice_new(struct splice_set *set, ssh_channel channel,
    const struct addrinfo *target, const char *label)
{
	struct splice *s = splice_alloc(set, channel, label);

	if (s == NULL)
		return NULL;
	for (; target != NULL && s->naddrs < SPLICE_ADDRS_MAX;
	     target = target->ai_next) {
		if (target->ai_addrlen > sizeof s->addrs[0])
			continue;
		memcpy(&s->addrs[s->naddrs], target->ai_addr,
		    target->ai_addrlen);
		s->addr_lens[s->naddrs++] = target->ai_addrlen;
	}
	splice_connect(s);
	splice_mark_dirty(s);
	return s;
}

struct splice *
splice_new_connected(struct splice_set *set, ssh_channel channel, int fd,
    const char *label)
{
	struct splice *s = splice_alloc(set, channel, label);

	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->state = SPLICE_OPEN;
	splice_watch_socket(s);
	splice_mark_dirty(s);
	return s;
}
