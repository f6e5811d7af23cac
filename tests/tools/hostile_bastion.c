/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * hostile_bastion: an SSH server (libssh's server API) that plays a bastion
 * gone bad, for tests/integration/hostile_bastion.sh. Loopback only, one
 * process, one connection at a time, bounded in time and in resources.
 *
 *   hostile_bastion -k HOST_KEY -a AUTHORIZED_PUB -m MODE [options]
 *
 *   -p PORT     listen on 127.0.0.1:PORT (default 0: pick one; either way
 *               the first line printed is "listening on 127.0.0.1:PORT")
 *   -k FILE     the host key (private, OpenSSH format)
 *   -a FILE     the one public key accepted (publickey auth, any user)
 *   -m MODE     what to do once the client's tcpip-forward was granted:
 *     normal              behave: a legit forwarded channel, echo check
 *     open-session        open a "session" channel to the client
 *     open-x11            open an "x11" channel
 *     open-agent          open an "auth-agent@openssh.com" channel
 *     open-unrequested    open "forwarded-tcpip" for a port never requested
 *       (each of these then opens one legit forwarded-tcpip channel for the
 *       granted port and checks that ECHO_BYTES come back through it: the
 *       client's target must be an echo server)
 *     flood               COUNT forwarded-tcpip opens for the granted port
 *                         as fast as possible, never closing the ones the
 *                         client accepts; hold them HOLD s, close them all,
 *                         then the legit echo check
 *     ignore-keepalive    never answer a global request after the forwards
 *                         (nor send anything), keep the TCP connection open
 *     ignore-requests-chatty
 *                         never answer a global request after the forwards,
 *                         but send an SSH_MSG_IGNORE every 0.3 s: alive,
 *                         yet deaf to requests
 *     close-mid-handshake drop the first COUNT connections during the
 *                         handshake, in turn: after the version exchange;
 *                         after the client's KEXINIT, with a reset; after
 *                         the client's ECDH init, before our reply; and
 *                         stalled after the client's KEXINIT (we answer
 *                         nothing until the client gives up, at most HOLD
 *                         s, default 30 here); then behave (normal)
 *     window-overrun      open a legit forwarded channel and send BYTES more
 *                         than the window the client granted (never reading
 *                         what comes back), hold HOLD s, close it, then the
 *                         legit echo check
 *     window-reopen       a legit forwarded channel to an echo target: send
 *                         ECHO_BYTES (use more than 64000), let the client
 *                         use up the 64000-byte window we granted, wait
 *                         HOLD s, then reopen the window (one adjust) and
 *                         time how long the rest of the echo takes
 *   -d SECONDS  deadline for the whole run (default 60): then it exits 3.
 *               A hard SIGALRM stop follows 10 s later if a call hangs.
 *   -n COUNT    flood: channel opens (default 2000, at most 20000);
 *               close-mid-handshake: connections dropped (default 4)
 *   -H SECONDS  flood, window-overrun: how long to hold (default 3);
 *               close-mid-handshake: longest stall (default 30)
 *   -w SECONDS  wait this long after the first forward was granted before
 *               misbehaving (default 0.2), e.g. for a baseline sample
 *   -b BYTES    window-overrun: bytes past the window (default 64 MiB,
 *               at most 1 GiB)
 *   -e BYTES    legit echo check size (default 49152: under the 64000-byte
 *               window libssh grants first, see -r; at most 16 MiB)
 *   -r SECONDS  legit echo check: read nothing back until SECONDS after
 *               the last byte was sent (default 0), so the window the
 *               client may use towards us runs out and must reopen
 *   -c CONNS    connections served before exiting 0 (default 20)
 *   -C CHANS    window-overrun: channels overrun at once (default 1)
 *   -v          libssh's own log on stderr (SSH_LOG_PROTOCOL)
 *
 * Every event is one line on stdout, "[hostile +SECONDS] conn N: ...",
 * which the test reads. Lines with "FAIL" mark what this server could not
 * do (a setup problem), "BAD" what the client did wrong (accepted a bogus
 * channel, ...).
 *
 * window-overrun needs to write past the client's window, which libssh's
 * ssh_channel_write never does: the tool raises the remote window libssh
 * keeps in its channel struct (the 7th field of struct ssh_channel_struct
 * in libssh 0.10, after the session pointer and five 32-bit fields) before
 * each write. It first checks that the field it found is the one
 * ssh_channel_window_size() reads; if not, it says "UNSUPPORTED" and exits
 * 5 (the test then skips that mode).
 *
 * Exit: 0 done, 2 usage, 3 deadline, 4 system or libssh error,
 * 5 unsupported here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

enum {
	EXIT_USAGE = 2,
	EXIT_DEADLINE = 3,
	EXIT_SYSTEM = 4,
	EXIT_UNSUPPORTED = 5,
};

enum mode {
	MODE_NORMAL,
	MODE_OPEN_SESSION,
	MODE_OPEN_X11,
	MODE_OPEN_AGENT,
	MODE_OPEN_UNREQUESTED,
	MODE_FLOOD,
	MODE_IGNORE_KEEPALIVE,
	MODE_IGNORE_REQUESTS_CHATTY,
	MODE_CLOSE_MID_HANDSHAKE,
	MODE_WINDOW_OVERRUN,
	MODE_WINDOW_REOPEN,
};

static const char *const mode_names[] = {
	"normal", "open-session", "open-x11", "open-agent", "open-unrequested",
	"flood", "ignore-keepalive", "ignore-requests-chatty",
	"close-mid-handshake", "window-overrun", "window-reopen", NULL
};

enum phase {
	PHASE_AUTH,          /* key exchange done, waiting for auth + forward */
	PHASE_BOGUS,         /* opening the channel the client must refuse */
	PHASE_FLOOD,
	PHASE_FLOOD_HOLD,
	PHASE_OVERRUN,
	PHASE_OVERRUN_HOLD,
	PHASE_REOPEN,
	PHASE_ECHO,          /* the legit forwarded channel, echo check */
	PHASE_DONE,          /* answer requests, wait for the client to go */
	PHASE_SILENT,        /* ignore-keepalive: answer nothing */
};

#define FORWARDS_MAX 16
#define FLOOD_MAX 20000
#define FLOOD_BATCH 200          /* opens sent per loop turn */
#define PHASE_LIMIT 30.0         /* seconds any phase may take */
/*
 * window-overrun: a channel the client keeps granting window to is not
 * overrun; past this, such channels are reported as flowing, not waited
 * for (the client may rightly keep them: they behave).
 */
#define OVERRUN_FLOW_LIMIT 20.0
#define CHATTY_EVERY 0.3         /* ignore-requests-chatty: between IGNOREs */
#define CHUNK (32 * 1024)
#define HANDSHAKE_IO_TIMEOUT_MS 5000
#define PACKET_MAX 35000

/* Options. */
static enum mode mode = MODE_NORMAL;
static double deadline_seconds = 60;
static long flood_count = 2000;
static long drop_count = 3;
static int count_given;
static double hold_seconds = 3;
static int hold_given;
static double start_wait = 0.2;
static uint64_t overrun_bytes = 64ull << 20;
static int overrun_channels = 1;

/* One channel of window-overrun. */
struct overrun {
	ssh_channel ch;
	int open, stopped;
	uint32_t *window;            /* libssh's remote_window field */
	uint32_t granted;
	uint64_t real;               /* what the client's window allows now */
	uint64_t sent, past;
	uint32_t last;
	uint64_t adjusted;
};
static size_t echo_bytes = 48 * 1024;
static double echo_read_delay;
static long max_conns = 20;

static double t_start, t_deadline;
static ssh_key authorized;

struct forward {
	char addr[64];
	int port;
};

struct conn {
	ssh_session s;
	int n;
	int authed;
	struct forward fwd[FORWARDS_MAX];
	int nfwd;
	int silent;                  /* ignore every global request */
	int chatty;                  /* ... while sending SSH_MSG_IGNOREs */
	double chatted;              /* when the last one went */
	unsigned ignored;
	unsigned answered;
	enum phase phase;
	double phase_t;
	/* bogus */
	ssh_channel bogus;
	/* echo */
	ssh_channel echo;
	unsigned char *echo_buf;
	size_t echo_sent, echo_got;
	double echo_sent_t;          /* when the last byte went out */
	int echo_open;
	/* flood */
	ssh_channel *flood;
	unsigned char *flood_state;  /* 0 pending, 1 open, 2 refused */
	long flood_started, flood_open, flood_refused, flood_pending;
	double flood_t0, flood_last_change;
	/* overrun */
	struct overrun *ovrs;        /* overrun_channels of them */
	int ovr_opened;              /* how many are open */
	int ovr_turn;                /* where the next round starts */
	unsigned char *ovr_buf;
	/* reopen */
	int ro_state;                /* 0 opening, 1 waiting for the window
	                                to run out, 2 holding, 3 reopened */
	uint32_t *ro_local_window;   /* libssh's local_window field */
	uint32_t ro_granted;
	double ro_t;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(int conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(int conn, const char *fmt, ...)
{
	va_list ap;

	printf("[hostile +%.3f] ", now() - t_start);
	if (conn > 0)
		printf("conn %d: ", conn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
check_deadline(void)
{
	if (now() >= t_deadline) {
		say(0, "deadline of %g s reached, exiting", deadline_seconds);
		exit(EXIT_DEADLINE);
	}
}

static const char *
phase_name(enum phase p)
{
	static const char *const names[] = { "auth", "bogus", "flood",
	    "flood-hold", "overrun", "overrun-hold", "reopen", "echo", "done",
	    "silent" };

	return names[p];
}

static void
set_phase(struct conn *c, enum phase p)
{
	c->phase = p;
	c->phase_t = now();
}

/* ---- the raw handshake drops ------------------------------------------ */

/* Reads exactly n bytes within the handshake timeout; -1 on EOF/timeout. */
static int
read_full(int fd, unsigned char *buf, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (poll(&pfd, 1, HANDSHAKE_IO_TIMEOUT_MS) <= 0)
			return -1;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const char *q = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, q, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The client's version line; returns its length or -1. */
static int
read_banner(int fd, char *line, size_t cap)
{
	size_t n = 0;
	unsigned char ch;

	while (n + 1 < cap) {
		if (read_full(fd, &ch, 1) == -1)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			line[n++] = (char)ch;
	}
	line[n] = '\0';
	return (int)n;
}

/* One unencrypted binary packet; returns its message type or -1. */
static int
read_packet(int fd, uint32_t *len_out)
{
	unsigned char hdr[6], *body;
	uint32_t len;
	int type;

	if (read_full(fd, hdr, 4) == -1)
		return -1;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 2 || len > PACKET_MAX)
		return -1;
	if ((body = malloc(len)) == NULL)
		return -1;
	if (read_full(fd, body, len) == -1) {
		free(body);
		return -1;
	}
	type = body[1];
	free(body);
	*len_out = len;
	return type;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A plausible server KEXINIT (curve25519, ed25519, chacha20-poly1305). */
static int
send_kexinit(int fd)
{
	static const char *const lists[10] = {
		("curve25519-sha256,curve25519-sha256@libssh.org,"
		    "ecdh-sha2-nistp256"),
		"ssh-ed25519",
		"chacha20-poly1305@openssh.com,aes128-ctr",
		"chacha20-poly1305@openssh.com,aes128-ctr",
		"hmac-sha2-256", "hmac-sha2-256", "none", "none", "", "",
	};
	unsigned char pkt[1024], *p;
	size_t payload, padding, i, l;

	p = pkt + 5;              /* length, padding length */
	*p++ = 20;                /* SSH_MSG_KEXINIT */
	for (i = 0; i < 16; i++)
		*p++ = (unsigned char)rand();
	for (i = 0; i < 10; i++) {
		l = strlen(lists[i]);
		put_u32(p, (uint32_t)l);
		memcpy(p + 4, lists[i], l);
		p += 4 + l;
	}
	*p++ = 0;                 /* first_kex_packet_follows */
	put_u32(p, 0);
	p += 4;
	payload = (size_t)(p - (pkt + 5));
	padding = 8 - (5 + payload) % 8;
	if (padding < 4)
		padding += 8;
	memset(p, 0, padding);
	p += padding;
	put_u32(pkt, (uint32_t)(1 + payload + padding));
	pkt[4] = (unsigned char)padding;
	return write_full(fd, pkt, (size_t)(p - pkt));
}

/* Answers nothing until the client gives up (EOF) or hold_seconds pass. */
static void
stall(int fd, int n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double t0 = now();
	char sink[4096];
	ssize_t r;

	say(n, "drop kind 4/4: stalling after the client's KEXINIT (at most "
	    "%g s)", hold_seconds);
	while (now() - t0 < hold_seconds) {
		check_deadline();
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(fd, sink, sizeof sink);
		if (r <= 0) {
			say(n, "stall: the client gave up after %.3f s",
			    now() - t0);
			return;
		}
	}
	say(n, "stall: the client was still waiting after %.3f s, closing",
	    now() - t0);
}

/* Drops connection number n (1-based) in the middle of the handshake. */
static void
drop_mid_handshake(int fd, int n)
{
	static const char banner[] = "SSH-2.0-hostile_bastion\r\n";
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	char line[256];
	uint32_t len = 0;
	int variant = (n - 1) % 4, type;

	if (write_full(fd, banner, sizeof banner - 1) == -1 ||
	    read_banner(fd, line, sizeof line) == -1) {
		say(n, "drop: the client went away before its version line");
		goto out;
	}
	if (variant == 0) {
		say(n, "drop kind 1/4: closing (FIN) after the version "
		    "exchange (client '%.64s')", line);
		goto out;
	}
	type = read_packet(fd, &len);
	if (type != 20) {
		say(n, "drop: expected the client's KEXINIT, got type %d", type);
		goto out;
	}
	if (variant == 1) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
		say(n, "drop kind 2/4: resetting (RST) after the client's "
		    "KEXINIT (%u bytes)", len);
		goto out;
	}
	if (variant == 3) {
		stall(fd, n);
		goto out;
	}
	if (send_kexinit(fd) == -1) {
		say(n, "drop: could not send our KEXINIT");
		goto out;
	}
	type = read_packet(fd, &len);
	say(n, "drop kind 3/4: closing (FIN) after the client's key exchange "
	    "init (type %d, %u bytes), before our reply", type, len);
out:
	close(fd);
}

/* ---- authentication and requests ---------------------------------------- */

static int
on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key,
    char state, void *arg)
{
	struct conn *c = arg;

	(void)s;
	if (ssh_key_cmp(key, authorized, SSH_KEY_CMP_PUBLIC) != 0) {
		say(c->n, "auth: refused an unknown key for '%s'", user);
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;      /* the probe: this key would do */
	if (state != SSH_PUBLICKEY_STATE_VALID) {
		say(c->n, "auth: bad signature for '%s'", user);
		return SSH_AUTH_DENIED;
	}
	c->authed = 1;
	say(c->n, "auth: '%s' authenticated with the authorized key", user);
	return SSH_AUTH_SUCCESS;
}

static int
on_message(ssh_session s, ssh_message msg, void *arg)
{
	struct conn *c = arg;
	const char *addr;
	int port, type = ssh_message_type(msg);

	(void)s;
	if (type == SSH_REQUEST_GLOBAL && c->silent) {
		c->ignored++;
		say(c->n, "ignored global request %u (type %d), no answer",
		    c->ignored, ssh_message_subtype(msg));
		return 0;   /* handled: freed without a reply */
	}
	if (type == SSH_REQUEST_GLOBAL &&
	    ssh_message_subtype(msg) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD &&
	    c->authed) {
		addr = ssh_message_global_request_address(msg);
		port = ssh_message_global_request_port(msg);
		if (c->nfwd == FORWARDS_MAX) {
			say(c->n, "refused tcpip-forward %s:%d: too many", addr,
			    port);
			return 1;
		}
		if (port == 0)
			port = 40000 + c->n * 16 + c->nfwd;
		snprintf(c->fwd[c->nfwd].addr, sizeof c->fwd[c->nfwd].addr,
		    "%s", addr != NULL ? addr : "");
		c->fwd[c->nfwd].port = port;
		c->nfwd++;
		if (ssh_message_global_request_reply_success(msg,
		    (uint16_t)port) != SSH_OK) {
			say(c->n, "FAIL: cannot answer tcpip-forward: %s",
			    ssh_get_error(c->s));
			return 0;
		}
		say(c->n, "granted tcpip-forward %s:%d", addr != NULL ? addr :
		    "", port);
		return 0;
	}
	if (type == SSH_REQUEST_GLOBAL) {
		c->answered++;
		return 1;   /* REQUEST_FAILURE: an answer is life all the same */
	}
	if (type == SSH_REQUEST_CHANNEL_OPEN) {
		say(c->n, "refused a channel the client opened (type %d)",
		    ssh_message_subtype(msg));
		return 1;
	}
	return 1;
}

/* ---- channels --------------------------------------------------------- */

static void
channel_drop(ssh_channel *ch)
{
	if (*ch == NULL)
		return;
	if (ssh_channel_is_open(*ch))
		ssh_channel_close(*ch);
	ssh_channel_free(*ch);
	*ch = NULL;
}

static int
open_forwarded(struct conn *c, ssh_channel ch, int port, int src_port)
{
	return ssh_channel_open_reverse_forward(ch, c->fwd[0].addr[0] != '\0' ?
	    c->fwd[0].addr : "127.0.0.1", port, "127.0.0.1", src_port);
}

/* A port this client never asked for. */
static int
unrequested_port(const struct conn *c)
{
	int port, i, used;

	for (port = c->fwd[0].port + 1;; port++) {
		if (port > 65535)
			port = 1;
		for (used = 0, i = 0; i < c->nfwd; i++)
			used |= c->fwd[i].port == port;
		if (!used)
			return port;
	}
}

static const char *
bogus_kind(void)
{
	switch (mode) {
	case MODE_OPEN_SESSION:
		return "session";
	case MODE_OPEN_X11:
		return "x11";
	case MODE_OPEN_AGENT:
		return "auth-agent@openssh.com";
	default:
		return "forwarded-tcpip (unrequested port)";
	}
}

static void
step_bogus(struct conn *c)
{
	int rc;

	if (c->bogus == NULL && (c->bogus = ssh_channel_new(c->s)) == NULL) {
		say(c->n, "FAIL: ssh_channel_new: %s", ssh_get_error(c->s));
		set_phase(c, PHASE_DONE);
		return;
	}
	switch (mode) {
	case MODE_OPEN_SESSION:
		rc = ssh_channel_open_session(c->bogus);
		break;
	case MODE_OPEN_X11:
		rc = ssh_channel_open_x11(c->bogus, "127.0.0.1", 6010);
		break;
	case MODE_OPEN_AGENT:
		rc = ssh_channel_open_auth_agent(c->bogus);
		break;
	default:
		rc = open_forwarded(c, c->bogus, unrequested_port(c), 50001);
		break;
	}
	if (rc == SSH_AGAIN)
		return;
	if (rc == SSH_OK) {
		say(c->n, "BAD: the client accepted the bogus %s channel",
		    bogus_kind());
	} else if (ssh_is_connected(c->s)) {
		say(c->n, "bogus %s channel refused by the client: %s",
		    bogus_kind(), ssh_get_error(c->s));
	} else {
		say(c->n, "BAD: the connection ended on the bogus %s channel",
		    bogus_kind());
	}
	channel_drop(&c->bogus);
	set_phase(c, PHASE_ECHO);
}

/* Bytes of the echo check: the same for every run of connection n. */
static void
fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

static void
echo_finish(struct conn *c, int ok, const char *why)
{
	double took = now() - c->phase_t;

	if (ok)
		say(c->n, "legit echo ok: %zu bytes through forwarded port %d "
		    "in %.3f s", echo_bytes, c->fwd[0].port, took);
	else
		say(c->n, "legit echo FAILED on forwarded port %d after %zu "
		    "sent, %zu back: %s", c->fwd[0].port, c->echo_sent,
		    c->echo_got, why);
	channel_drop(&c->echo);
	free(c->echo_buf);
	c->echo_buf = NULL;
	set_phase(c, PHASE_DONE);
	say(c->n, "script done, serving requests until the client leaves");
}

static void
step_echo(struct conn *c)
{
	unsigned char rx[CHUNK];
	uint32_t win;
	size_t n;
	int rc;

	if (c->echo == NULL) {
		if ((c->echo = ssh_channel_new(c->s)) == NULL ||
		    (c->echo_buf = malloc(echo_bytes)) == NULL) {
			say(c->n, "FAIL: out of memory for the echo check");
			exit(EXIT_SYSTEM);
		}
		fill_pattern(c->echo_buf, echo_bytes, (uint32_t)c->n);
		c->echo_sent = c->echo_got = 0;
		c->echo_open = 0;
	}
	if (!c->echo_open) {
		rc = open_forwarded(c, c->echo, c->fwd[0].port, 50002);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			echo_finish(c, 0, ssh_get_error(c->s));
			return;
		}
		c->echo_open = 1;
		say(c->n, "legit forwarded-tcpip channel to port %d accepted",
		    c->fwd[0].port);
	}
	while (c->echo_sent < echo_bytes &&
	    (win = ssh_channel_window_size(c->echo)) > 0) {
		n = echo_bytes - c->echo_sent;
		if (n > win)
			n = win;
		if (n > CHUNK)
			n = CHUNK;
		rc = ssh_channel_write(c->echo, c->echo_buf + c->echo_sent,
		    (uint32_t)n);
		if (rc < 0) {
			echo_finish(c, 0, ssh_get_error(c->s));
			return;
		}
		if (rc == 0)
			break;
		c->echo_sent += (size_t)rc;
		if (c->echo_sent == echo_bytes) {
			c->echo_sent_t = now();
			if (echo_read_delay > 0)
				say(c->n, "legit echo: all sent, reading back "
				    "only in %g s", echo_read_delay);
		}
	}
	while (echo_read_delay == 0 || (c->echo_sent == echo_bytes &&
	    now() - c->echo_sent_t >= echo_read_delay)) {
		rc = ssh_channel_read_nonblocking(c->echo, rx, sizeof rx, 0);
		if (rc == SSH_ERROR) {
			echo_finish(c, 0, ssh_get_error(c->s));
			return;
		}
		if (rc <= 0)
			break;
		if (c->echo_got + (size_t)rc > echo_bytes ||
		    memcmp(rx, c->echo_buf + c->echo_got, (size_t)rc) != 0) {
			echo_finish(c, 0, "the bytes that came back differ");
			return;
		}
		c->echo_got += (size_t)rc;
	}
	if (c->echo_got == echo_bytes) {
		echo_finish(c, 1, NULL);
		return;
	}
	if (ssh_channel_is_eof(c->echo) || ssh_channel_is_closed(c->echo))
		echo_finish(c, 0, "the client closed the channel early");
}

/* ---- flood -------------------------------------------------------------- */

static void
flood_report(struct conn *c, const char *when)
{
	say(c->n, "flood %s: %ld opens sent in %.3f s, %ld accepted, "
	    "%ld refused, %ld pending", when, c->flood_started,
	    now() - c->flood_t0, c->flood_open, c->flood_refused,
	    c->flood_pending);
}

static void
step_flood(struct conn *c)
{
	long i, k;
	int rc;

	if (c->flood == NULL) {
		c->flood = calloc((size_t)flood_count, sizeof *c->flood);
		c->flood_state = calloc((size_t)flood_count, 1);
		if (c->flood == NULL || c->flood_state == NULL) {
			say(c->n, "FAIL: out of memory for the flood");
			exit(EXIT_SYSTEM);
		}
		c->flood_t0 = c->flood_last_change = now();
		say(c->n, "flood: opening %ld forwarded-tcpip channels to "
		    "port %d", flood_count, c->fwd[0].port);
	}
	for (k = 0; k < FLOOD_BATCH && c->flood_started < flood_count; k++) {
		i = c->flood_started++;
		if ((c->flood[i] = ssh_channel_new(c->s)) == NULL) {
			say(c->n, "FAIL: ssh_channel_new: %s",
			    ssh_get_error(c->s));
			exit(EXIT_SYSTEM);
		}
		c->flood_pending++;
	}
	for (i = 0; i < c->flood_started; i++) {
		if (c->flood_state[i] != 0)
			continue;
		rc = open_forwarded(c, c->flood[i], c->fwd[0].port,
		    (int)(20000 + i % 40000));
		if (rc == SSH_AGAIN)
			continue;
		c->flood_pending--;
		c->flood_last_change = now();
		if (rc == SSH_OK) {
			c->flood_state[i] = 1;
			c->flood_open++;
		} else {
			c->flood_state[i] = 2;
			c->flood_refused++;
			channel_drop(&c->flood[i]);
		}
		if (!ssh_is_connected(c->s))
			return;
	}
	if (c->flood_started == flood_count && c->flood_pending == 0) {
		flood_report(c, "done");
		say(c->n, "flood: holding %ld accepted channels open for %g s",
		    c->flood_open, hold_seconds);
		set_phase(c, PHASE_FLOOD_HOLD);
	} else if (now() - c->flood_last_change > 10) {
		flood_report(c, "stalled (no answer for 10 s)");
		set_phase(c, PHASE_FLOOD_HOLD);
	}
}

static void
step_flood_hold(struct conn *c)
{
	long i, closed = 0;

	if (now() - c->phase_t < hold_seconds)
		return;
	for (i = 0; i < c->flood_started; i++) {
		if (c->flood[i] != NULL) {
			closed += c->flood_state[i] == 1;
			channel_drop(&c->flood[i]);
		}
	}
	free(c->flood);
	free(c->flood_state);
	c->flood = NULL;
	c->flood_state = NULL;
	say(c->n, "flood: closed the %ld accepted channels", closed);
	set_phase(c, PHASE_ECHO);
}

/* ---- window overrun ----------------------------------------------------- */

/*
 * libssh 0.10's struct ssh_channel_struct begins: ssh_session session;
 * uint32_t local_channel, local_window; int local_eof; uint32_t
 * local_maxpacket, remote_channel, remote_window; ...
 */
#define REMOTE_WINDOW_OFFSET (sizeof(void *) + 5 * sizeof(uint32_t))

static uint32_t *
find_remote_window(ssh_channel ch)
{
	uint32_t *p = (uint32_t *)(void *)((char *)ch + REMOTE_WINDOW_OFFSET);
	uint32_t was = ssh_channel_window_size(ch), ok;

	if (*p != was || was < 2)
		return NULL;
	*p = was - 1;
	ok = ssh_channel_window_size(ch) == was - 1;
	*p = was;
	return ok ? p : NULL;
}

/*
 * The window we grant (local_window, the 3rd field). No getter exists: it
 * is trusted when it holds the window libssh advertised when opening the
 * channel (64000) and the next-but-one field the maximum packet (32768).
 */
#define LOCAL_WINDOW_OFFSET (sizeof(void *) + sizeof(uint32_t))
#define LOCAL_MAXPACKET_OFFSET (sizeof(void *) + 3 * sizeof(uint32_t))

static uint32_t *
find_local_window(ssh_channel ch)
{
	uint32_t *w = (uint32_t *)(void *)((char *)ch + LOCAL_WINDOW_OFFSET);
	uint32_t *mp = (uint32_t *)(void *)((char *)ch +
	    LOCAL_MAXPACKET_OFFSET);

	if (find_remote_window(ch) == NULL || *w != 64000 || *mp != 32768)
		return NULL;
	return w;
}

static void
overrun_report(struct conn *c, const char *how)
{
	uint64_t sent = 0, past = 0, adjusted = 0;
	int i, closed = 0;

	for (i = 0; i < overrun_channels; i++) {
		sent += c->ovrs[i].sent;
		past += c->ovrs[i].past;
		adjusted += c->ovrs[i].adjusted;
		closed += c->ovrs[i].stopped;
	}
	say(c->n, "window-overrun %s: %d channel(s), client window %u, sent "
	    "%llu bytes, %llu past the window (client adjusted +%llu), %d "
	    "closed by the client", how, overrun_channels,
	    c->ovrs[0].granted, (unsigned long long)sent,
	    (unsigned long long)past, (unsigned long long)adjusted, closed);
}

/* Opens the channels one after the other; 1 once all are open. */
static int
overrun_open(struct conn *c)
{
	struct overrun *o;
	int rc;

	while (c->ovr_opened < overrun_channels) {
		o = &c->ovrs[c->ovr_opened];
		if (o->ch == NULL && (o->ch = ssh_channel_new(c->s)) == NULL) {
			say(c->n, "FAIL: out of memory for the overrun");
			exit(EXIT_SYSTEM);
		}
		rc = open_forwarded(c, o->ch, c->fwd[0].port,
		    50003 + c->ovr_opened % 10000);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc != SSH_OK) {
			say(c->n, "FAIL: the client refused overrun channel %d: "
			    "%s", c->ovr_opened, ssh_get_error(c->s));
			return -1;
		}
		o->open = 1;
		o->window = find_remote_window(o->ch);
		if (o->window == NULL) {
			say(c->n, "UNSUPPORTED: cannot find the remote window in "
			    "this libssh's channel struct; window-overrun cannot "
			    "run here");
			exit(EXIT_UNSUPPORTED);
		}
		o->granted = o->last = *o->window;
		o->real = o->granted;
		c->ovr_opened++;
	}
	say(c->n, "window-overrun: %d channel(s) to port %d open, the client "
	    "granted a window of %u bytes; sending %llu bytes past it on each",
	    overrun_channels, c->fwd[0].port, c->ovrs[0].granted,
	    (unsigned long long)overrun_bytes);
	return 1;
}

/* One CHUNK on o; 0 when o is done (closed or overrun enough). */
static int
overrun_write(struct conn *c, struct overrun *o)
{
	uint32_t n = CHUNK;
	int rc;

	if (o->stopped || o->past >= overrun_bytes)
		return 0;
	if (!ssh_channel_is_open(o->ch) || ssh_channel_is_eof(o->ch)) {
		o->stopped = 1;
		return 0;
	}
	/* Window adjusts from the client since our last write. */
	if (*o->window > o->last) {
		o->adjusted += *o->window - o->last;
		o->real += *o->window - o->last;
	}
	if (o->real >= n) {
		o->real -= n;
	} else {
		o->past += n - o->real;
		o->real = 0;
	}
	if (*o->window < n)
		*o->window = n;
	rc = ssh_channel_write(o->ch, c->ovr_buf, n);
	o->last = *o->window;
	if (rc < 0) {
		o->stopped = 1;
		return 0;
	}
	o->sent += (uint64_t)rc;
	return 1;
}

static void
step_overrun(struct conn *c)
{
	int i, k, rc, flowing;

	if (c->ovrs == NULL) {
		if ((c->ovrs = calloc((size_t)overrun_channels,
		         sizeof *c->ovrs)) == NULL ||
		    (c->ovr_buf = malloc(CHUNK)) == NULL) {
			say(c->n, "FAIL: out of memory for the overrun");
			exit(EXIT_SYSTEM);
		}
		fill_pattern(c->ovr_buf, CHUNK, 7);
	}
	if (c->ovr_opened < overrun_channels) {
		rc = overrun_open(c);
		if (rc == 0)
			return;
		if (rc == -1) {
			set_phase(c, PHASE_OVERRUN_HOLD);
			return;
		}
	}
	if (!ssh_is_connected(c->s)) {
		overrun_report(c, "stopped: the client is gone");
		set_phase(c, PHASE_OVERRUN_HOLD);
		return;
	}
	/* 1 MiB a turn, round robin, so packets from the client are read. */
	for (k = 0; k < 32; k++) {
		i = c->ovr_turn;
		c->ovr_turn = (c->ovr_turn + 1) % overrun_channels;
		overrun_write(c, &c->ovrs[i]);
	}
	for (i = 0, flowing = 0; i < overrun_channels; i++)
		flowing += !c->ovrs[i].stopped && c->ovrs[i].past < overrun_bytes;
	if (flowing > 0 && now() - c->phase_t < OVERRUN_FLOW_LIMIT)
		return;
	if (flowing > 0) {
		char how[96];

		snprintf(how, sizeof how,
		    "stopped: %d channel(s) still within the window the "
		    "client grants after %g s",
		    flowing, OVERRUN_FLOW_LIMIT);
		overrun_report(c, how);
	} else {
		overrun_report(c, "done");
	}
	say(c->n, "window-overrun: holding the channels for %g s",
	    hold_seconds);
	set_phase(c, PHASE_OVERRUN_HOLD);
}

static void
overrun_drop(struct conn *c)
{
	int i;

	if (c->ovrs == NULL)
		return;
	for (i = 0; i < overrun_channels; i++)
		channel_drop(&c->ovrs[i].ch);
	free(c->ovrs);
	c->ovrs = NULL;
	free(c->ovr_buf);
	c->ovr_buf = NULL;
}

static void
step_overrun_hold(struct conn *c)
{
	int i, open = 0;

	if (now() - c->phase_t < hold_seconds)
		return;
	for (i = 0; c->ovrs != NULL && i < overrun_channels; i++)
		open += c->ovrs[i].ch != NULL && ssh_channel_is_open(c->ovrs[i].ch);
	say(c->n, "window-overrun: closing the channels (%d still open)",
	    open);
	overrun_drop(c);
	set_phase(c, PHASE_ECHO);
}

/* ---- window reopen -------------------------------------------------------- */

/*
 * libssh grows our window by itself as data arrives (while the window and
 * what is buffered stay under 640000), usually before the client has used
 * it up. To make the client run out first, deterministically, the window
 * libssh believes it granted is raised (the client still has 64000), and
 * lowered back to 0 for the one read that sends the adjust.
 */
static void
step_reopen(struct conn *c)
{
	unsigned char rx[CHUNK];
	int rc;

	switch (c->ro_state) {
	case 0:
		if (c->echo == NULL) {
			if ((c->echo = ssh_channel_new(c->s)) == NULL ||
			    (c->echo_buf = malloc(echo_bytes)) == NULL) {
				say(c->n, "FAIL: out of memory for the reopen");
				exit(EXIT_SYSTEM);
			}
			fill_pattern(c->echo_buf, echo_bytes, (uint32_t)c->n);
		}
		rc = open_forwarded(c, c->echo, c->fwd[0].port, 50004);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			say(c->n, "FAIL: the client refused the channel: %s",
			    ssh_get_error(c->s));
			set_phase(c, PHASE_DONE);
			return;
		}
		c->ro_local_window = find_local_window(c->echo);
		if (c->ro_local_window == NULL) {
			say(c->n, "UNSUPPORTED: cannot find the local window in "
			    "this libssh's channel struct; window-reopen cannot "
			    "run here");
			exit(EXIT_UNSUPPORTED);
		}
		c->ro_granted = *c->ro_local_window;
		*c->ro_local_window = 1u << 30;   /* no adjust from libssh */
		c->echo_open = 1;
		c->ro_state = 1;
		c->ro_t = now();
		say(c->n, "window-reopen: channel to port %d open, %u-byte "
		    "window granted; sending %zu bytes to echo", c->fwd[0].port,
		    c->ro_granted, echo_bytes);
		/* FALLTHROUGH */
	case 1:
		while (c->echo_sent < echo_bytes &&
		    ssh_channel_window_size(c->echo) > 0) {
			size_t n = echo_bytes - c->echo_sent;

			if (n > ssh_channel_window_size(c->echo))
				n = ssh_channel_window_size(c->echo);
			if (n > CHUNK)
				n = CHUNK;
			rc = ssh_channel_write(c->echo, c->echo_buf +
			    c->echo_sent, (uint32_t)n);
			if (rc <= 0)
				break;
			c->echo_sent += (size_t)rc;
		}
		if (ssh_channel_poll(c->echo, 0) < (int)c->ro_granted)
			return;
		say(c->n, "window-reopen: the client used up the %u-byte "
		    "window (%zu of %zu bytes sent); holding %g s before "
		    "reopening it", c->ro_granted, c->echo_sent, echo_bytes,
		    hold_seconds);
		c->ro_state = 2;
		c->ro_t = now();
		return;
	case 2:
		if (now() - c->ro_t < hold_seconds)
			return;
		/* A read with no window left makes libssh send one adjust. */
		*c->ro_local_window = 0;
		rc = ssh_channel_read_nonblocking(c->echo, rx, sizeof rx, 0);
		if (rc < 0 || memcmp(rx, c->echo_buf, (size_t)rc) != 0) {
			say(c->n, "FAIL: reading the echo: %s",
			    rc < 0 ? ssh_get_error(c->s) : "wrong bytes");
			set_phase(c, PHASE_DONE);
			return;
		}
		c->echo_got = (size_t)rc;
		say(c->n, "window-reopen: window reopened to %u bytes",
		    *c->ro_local_window);
		c->ro_state = 3;
		c->ro_t = now();
		/* The rest is the echo check, timed from the reopening. */
		set_phase(c, PHASE_ECHO);
		c->phase_t = c->ro_t;
		return;
	default:
		return;
	}
}

/* ---- one connection ------------------------------------------------------ */

static void
begin_script(struct conn *c)
{
	switch (mode) {
	case MODE_OPEN_SESSION:
	case MODE_OPEN_X11:
	case MODE_OPEN_AGENT:
	case MODE_OPEN_UNREQUESTED:
		set_phase(c, PHASE_BOGUS);
		break;
	case MODE_FLOOD:
		set_phase(c, PHASE_FLOOD);
		break;
	case MODE_IGNORE_REQUESTS_CHATTY:
		c->chatty = 1;
		/* FALLTHROUGH */
	case MODE_IGNORE_KEEPALIVE:
		c->silent = 1;
		say(c->n, "silent from now on: no global request will be "
		    "answered");
		set_phase(c, PHASE_SILENT);
		break;
	case MODE_WINDOW_OVERRUN:
		set_phase(c, PHASE_OVERRUN);
		break;
	case MODE_WINDOW_REOPEN:
		set_phase(c, PHASE_REOPEN);
		break;
	default:
		set_phase(c, PHASE_ECHO);
		break;
	}
}

static void
serve(struct conn *c)
{
	struct ssh_server_callbacks_struct cb = {
		.userdata = c,
		.auth_pubkey_function = on_auth_pubkey,
	};
	double t0 = now();
	ssh_event ev;
	long timeout = 2;
	enum phase was;

	if (ssh_handle_key_exchange(c->s) != SSH_OK) {
		say(c->n, "key exchange failed: %s", ssh_get_error(c->s));
		return;
	}
	say(c->n, "key exchange done");
	ssh_callbacks_init(&cb);
	ssh_set_server_callbacks(c->s, &cb);
	ssh_set_auth_methods(c->s, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_message_callback(c->s, on_message, c);
	/* ssh_channel_write flushes: never wait long on a stuck client. */
	ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_set_blocking(c->s, 0);
	if ((ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(ev, c->s) != SSH_OK) {
		say(c->n, "FAIL: ssh_event: out of memory");
		exit(EXIT_SYSTEM);
	}
	set_phase(c, PHASE_AUTH);
	while (ssh_is_connected(c->s)) {
		check_deadline();
		if (ssh_event_dopoll(ev, 20) == SSH_ERROR &&
		    !ssh_is_connected(c->s))
			break;
		was = c->phase;
		switch (c->phase) {
		case PHASE_AUTH:
			/* Start a while after the first forward: all are in. */
			if (c->nfwd == 0)
				c->phase_t = now();
			else if (now() - c->phase_t >= start_wait)
				begin_script(c);
			break;
		case PHASE_BOGUS:
			step_bogus(c);
			break;
		case PHASE_FLOOD:
			step_flood(c);
			break;
		case PHASE_FLOOD_HOLD:
			step_flood_hold(c);
			break;
		case PHASE_OVERRUN:
			step_overrun(c);
			break;
		case PHASE_OVERRUN_HOLD:
			step_overrun_hold(c);
			break;
		case PHASE_REOPEN:
			step_reopen(c);
			break;
		case PHASE_ECHO:
			step_echo(c);
			break;
		case PHASE_SILENT:
			if (c->chatty && now() - c->chatted >= CHATTY_EVERY) {
				ssh_send_ignore(c->s, "hostile");
				c->chatted = now();
			}
			break;
		case PHASE_DONE:
			break;
		}
		if (c->phase == was && c->phase != PHASE_DONE &&
		    c->phase != PHASE_SILENT && c->phase != PHASE_AUTH &&
		    now() - c->phase_t > PHASE_LIMIT) {
			say(c->n, "FAIL: phase %s took more than %g s",
			    phase_name(c->phase), PHASE_LIMIT);
			set_phase(c, PHASE_DONE);
		}
	}
	say(c->n, "connection ended after %.3f s (phase %s; %u global "
	    "requests answered, %u ignored): %s", now() - t0,
	    phase_name(c->phase), c->answered, c->ignored,
	    ssh_get_error(c->s));
	ssh_event_remove_session(ev, c->s);
	ssh_event_free(ev);
}

static void
conn_cleanup(struct conn *c)
{
	long i;

	channel_drop(&c->bogus);
	channel_drop(&c->echo);
	overrun_drop(c);
	if (c->flood != NULL) {
		for (i = 0; i < c->flood_started; i++)
			channel_drop(&c->flood[i]);
	}
	free(c->flood);
	free(c->flood_state);
	free(c->echo_buf);
}

/* ---- main ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr, "usage: hostile_bastion -k HOST_KEY -a AUTHORIZED_PUB "
	    "-m MODE [-p PORT] [-d SECONDS]\n"
	    "       [-n COUNT] [-H SECONDS] [-w SECONDS] [-b BYTES] [-e BYTES] "
	    "[-r SECONDS] "
	    "[-c CONNS] [-v]\nmodes:");
	for (int i = 0; mode_names[i] != NULL; i++)
		fprintf(stderr, " %s", mode_names[i]);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static double
num_arg(const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "hostile_bastion: '%s' is not a number from %g "
		    "to %g\n", s, min, max);
		usage();
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *key_path = NULL, *pub_path = NULL;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct pollfd pfd;
	ssh_key host_key = NULL;
	ssh_bind sshbind;
	int opt, port = 0, lfd, fd, one = 1, verbose = 0, i, rc;
	long served = 0, kex_timeout = 10;

	t_start = now();
	while ((opt = getopt(argc, argv, "p:k:a:m:d:n:H:w:b:e:r:c:C:v")) != -1) {
		switch (opt) {
		case 'p':
			port = (int)num_arg(optarg, 0, 65535);
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'a':
			pub_path = optarg;
			break;
		case 'm':
			for (i = 0; mode_names[i] != NULL; i++) {
				if (strcmp(mode_names[i], optarg) == 0)
					break;
			}
			if (mode_names[i] == NULL)
				usage();
			mode = (enum mode)i;
			break;
		case 'd':
			deadline_seconds = num_arg(optarg, 1, 3600);
			break;
		case 'n':
			flood_count = drop_count = (long)num_arg(optarg, 1,
			    FLOOD_MAX);
			count_given = 1;
			break;
		case 'H':
			hold_seconds = num_arg(optarg, 0, 600);
			hold_given = 1;
			break;
		case 'w':
			start_wait = num_arg(optarg, 0, 600);
			break;
		case 'b':
			overrun_bytes = (uint64_t)num_arg(optarg, CHUNK,
			    1024.0 * 1024 * 1024);
			break;
		case 'e':
			echo_bytes = (size_t)num_arg(optarg, 1, 16 << 20);
			break;
		case 'r':
			echo_read_delay = num_arg(optarg, 0, 600);
			break;
		case 'c':
			max_conns = (long)num_arg(optarg, 1, 1000);
			break;
		case 'C':
			overrun_channels = (int)num_arg(optarg, 1, 1024);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (key_path == NULL || pub_path == NULL || optind != argc)
		usage();
	if (!count_given && mode == MODE_CLOSE_MID_HANDSHAKE)
		drop_count = 4;
	if (!hold_given && mode == MODE_CLOSE_MID_HANDSHAKE)
		hold_seconds = 30;
	t_deadline = t_start + deadline_seconds;
	/* A hard stop even if a libssh call blocks past the deadline. */
	alarm((unsigned)deadline_seconds + 10);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());

	if (ssh_init() != SSH_OK) {
		fprintf(stderr, "hostile_bastion: ssh_init failed\n");
		return EXIT_SYSTEM;
	}
	if (ssh_pki_import_privkey_file(key_path, NULL, NULL, NULL,
	    &host_key) != SSH_OK) {
		fprintf(stderr, "hostile_bastion: cannot read host key %s\n",
		    key_path);
		return EXIT_SYSTEM;
	}
	if (ssh_pki_import_pubkey_file(pub_path, &authorized) != SSH_OK) {
		fprintf(stderr, "hostile_bastion: cannot read public key %s\n",
		    pub_path);
		return EXIT_SYSTEM;
	}
	if ((sshbind = ssh_bind_new()) == NULL ||
	    ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_IMPORT_KEY,
	    host_key) != SSH_OK) {
		fprintf(stderr, "hostile_bastion: ssh_bind setup failed\n");
		return EXIT_SYSTEM;
	}
	if (verbose) {
		int level = SSH_LOG_PROTOCOL;

		ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_LOG_VERBOSITY,
		    &level);
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1) {
		fprintf(stderr, "hostile_bastion: cannot listen on 127.0.0.1:%d: "
		    "%s\n", port, strerror(errno));
		return EXIT_SYSTEM;
	}
	say(0, "listening on 127.0.0.1:%d, mode %s, deadline %g s",
	    ntohs(sin.sin_port), mode_names[mode], deadline_seconds);

	while (served < max_conns) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		check_deadline();
		rc = poll(&pfd, 1, 200);
		if (rc <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1)
			continue;
		served++;
		say((int)served, "accepted a connection");
		if (mode == MODE_CLOSE_MID_HANDSHAKE && served <= drop_count) {
			drop_mid_handshake(fd, (int)served);
			continue;
		}
		{
			struct conn c;

			memset(&c, 0, sizeof c);
			c.n = (int)served;
			if ((c.s = ssh_new()) == NULL) {
				say(c.n, "FAIL: ssh_new: out of memory");
				return EXIT_SYSTEM;
			}
			/* Bounds the blocking key exchange too. */
			ssh_options_set(c.s, SSH_OPTIONS_TIMEOUT, &kex_timeout);
			if (ssh_bind_accept_fd(sshbind, c.s, fd) != SSH_OK) {
				say(c.n, "FAIL: ssh_bind_accept_fd: %s",
				    ssh_get_error(sshbind));
				ssh_free(c.s);
				close(fd);
				continue;
			}
			serve(&c);
			conn_cleanup(&c);
			ssh_disconnect(c.s);
			ssh_free(c.s);
		}
	}
	say(0, "served %ld connections, exiting", served);
	ssh_bind_free(sshbind);     /* frees host_key too (IMPORT_KEY) */
	ssh_key_free(authorized);
	ssh_finalize();
	close(lfd);
	return 0;
}
