/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tunnel's configuration: defaults, then an INI file ([tunnel] section),
 * then the environment, then command-line flags; each layer overrides the
 * one before. Pure: the environment comes through a lookup function.
 */
#ifndef TETHER_CONFIG_H
#define TETHER_CONFIG_H

#include <stddef.h>

#include "error.h"
#include "log.h"
#include "spec.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_FORWARDS_MAX 16
#define CONFIG_FILE_MAX ((size_t)64 * 1024)
#define CONFIG_MORE_KEYS_MAX 7
#define CONFIG_BASTIONS_MAX 4
#define CONFIG_JUMPS_MAX 4

/* A host on the way to the bastion (ssh's ProxyJump, -J). */
struct jump_spec {
	struct bastion_spec dest;  /* where to connect, after ssh_config */
	char alias[SPEC_HOST_MAX]; /* the name given: for ssh_config, logs */
	/* its own IdentityFile from ssh_config; "" = the tunnel's key */
	char key_path[CONFIG_PATH_MAX];
};

enum host_key_policy {
	HOST_KEY_STRICT,
	HOST_KEY_ACCEPT_NEW,
};

struct tether_config {
	char name[LOG_NAME_MAX];     /* "" = derived from the first port */
	struct bastion_spec bastion; /* the one in use: one of bastions[] */
	int has_bastion;
	/* Every bastion, most preferred first (bastion = a, b; -b repeated). */
	struct bastion_spec bastions[CONFIG_BASTIONS_MAX];
	size_t nbastions;
	int failback_interval; /* seconds before the first bastion is tried again */
	char bastion_alias[SPEC_HOST_MAX]; /* ssh_config's name; "" = none */
	char key_path[CONFIG_PATH_MAX];    /* "" = use ssh-agent */
	/* ssh_config's further IdentityFiles, tried in turn after key_path */
	char more_keys[CONFIG_MORE_KEYS_MAX][CONFIG_PATH_MAX];
	size_t nmore_keys;
	char certificate_file[CONFIG_PATH_MAX]; /* "" = KEY-cert.pub if there */
	char agent_socket[CONFIG_PATH_MAX];     /* "" = no ssh-agent */
	char known_hosts[CONFIG_PATH_MAX];
	/* Trusted too when known_hosts does not know the bastion; "" = none */
	char global_known_hosts[CONFIG_PATH_MAX];
	int address_family; /* AF_UNSPEC, AF_INET or AF_INET6 */
	/* "" = ssh's own (~/.ssh/config), "none", or a file for ssh -F */
	char ssh_config[CONFIG_PATH_MAX];
	/* Reach the bastion through this command (ssh's ProxyCommand, %h %p
	 * %r %n expanded); "" = connect directly. */
	char proxy_command[CONFIG_PATH_MAX];
	/* Or through these jump hosts in turn, each its own SSH session. */
	struct jump_spec jumps[CONFIG_JUMPS_MAX];
	size_t njumps;
	enum host_key_policy host_key_policy;
	char host_key_pin
	    [64]; /* "SHA256:..." pins the bastion's key; "" = none */

	/* Forwards given as full specs (-R, forward=). */
	struct forward_spec forwards[CONFIG_FORWARDS_MAX];
	size_t nforwards;
	/* The seed's shorthand: -p PORT with -t HOST:PORT (port -1 = unset). */
	int port;
	char target_host[SPEC_HOST_MAX];
	int target_port;

	int keepalive_interval; /* seconds, 0 = off */
	int keepalive_count;
	double backoff_initial; /* seconds */
	double backoff_max;
	double backoff_factor;
	int stable_after;           /* seconds up before backoff resets */
	int refused_retry_interval; /* seconds between asks once refused */
	int stale_port_timeout; /* a forward refused longer: not permitted */
	int connect_timeout;    /* seconds for TCP + handshake + auth */
	int target_connect_timeout; /* seconds to reach a forward's target */
	int probe_interval; /* seconds between end-to-end probes, 0 off */
	int probe_timeout;  /* seconds a probe may take */
	int max_channels;
	int channel_window; /* bytes each channel keeps open, 0 = libssh's */
	int exit_on_forward_failure;
	int verbose;

	/* Keys set by a file, the environment or a flag (CONFIG_GIVEN_*): */
	unsigned given;      /* ssh_config fills only the others */
	int agent_available; /* agent_socket is set */
	/* ssh_config keys set for the bastion that tether does not use */
	char sshconfig_unused[256];
	char state_dir[CONFIG_PATH_MAX]; /* --state-dir; "" = the default */
	char home[CONFIG_PATH_MAX];      /* for '~' */
};

#define CONFIG_GIVEN_KNOWN_HOSTS (1u << 0)
#define CONFIG_GIVEN_POLICY (1u << 1)
#define CONFIG_GIVEN_KEEPALIVE_INTERVAL (1u << 2)
#define CONFIG_GIVEN_KEEPALIVE_COUNT (1u << 3)
#define CONFIG_GIVEN_CONNECT_TIMEOUT (1u << 4)
#define CONFIG_GIVEN_EXIT_ON_FAILURE (1u << 5)
#define CONFIG_GIVEN_CERTIFICATE (1u << 6)
#define CONFIG_GIVEN_AGENT (1u << 7)
#define CONFIG_GIVEN_ADDRESS_FAMILY (1u << 8)
#define CONFIG_GIVEN_PROXY (1u << 9) /* proxy_command or proxy_jump */

/*
 * channel_window: 4 MiB where libssh lets us set it (the bundled build,
 * whose window is kept nearly full: twice OpenSSH's 2 MiB); the system's
 * libssh 0.10 keeps 1,280,000 bytes, topped up at half, not settable.
 */
#define CONFIG_CHANNEL_WINDOW_MIN 32768
#define CONFIG_CHANNEL_WINDOW_MAX (16 * 1024 * 1024)
#ifdef TETHER_LIBSSH_CHANNEL_WINDOW
#define CONFIG_CHANNEL_WINDOW_DEFAULT (4 * 1024 * 1024)
#else
#define CONFIG_CHANNEL_WINDOW_DEFAULT 0
#endif

/* The forwards together make sense (no port twice): -1 naming the clash. */
int config_check_forwards(const struct tether_config *, struct error *);
/*
 * How long the bastion may stay silent before it is taken for dead:
 * keepalive_interval x keepalive_count seconds (0 = keepalives off).
 */
double config_liveness_limit(const struct tether_config *);
/* No name given: the first forward's port names the tunnel. */
void config_name_from_forward(struct tether_config *);
/* At least one forward: -1 with how to give one when there is none. */
int config_check_some_forward(const struct tether_config *, struct error *);
/* A key, or an agent to ask: -1 with the fix named when neither. */
int config_check_key_source(const struct tether_config *, struct error *);

typedef const char *(*env_lookup_fn)(const char *name, void *ctx);

void config_init_defaults(struct tether_config *, const char *home);
/* origin names the source in messages (a file path). */
int config_load_string(struct tether_config *, const char *text,
    const char *origin, struct error *);
int config_load_file(struct tether_config *, const char *path, struct error *);
int config_apply_env(struct tether_config *, env_lookup_fn, void *ctx,
    struct error *);
/*
 * TETHER_DEBUG, else SCITEX_TUNNEL_DEBUG_MODE, into *on (1 or 0; left as
 * it is when neither is set); -1 with err for a value not a yes or a no.
 */
int config_env_debug(env_lookup_fn, void *ctx, int *on, struct error *);

/* Setters shared by the file, environment and flag layers. */
/* "a, b, c": the bastions, most preferred first (replacing any before). */
int config_set_bastion(struct tether_config *, const char *, const char *origin,
    struct error *);
/* One more bastion (or a comma-separated list), after those set before. */
int config_add_bastion(struct tether_config *, const char *, const char *origin,
    struct error *);
int config_set_path(struct tether_config *, char *dst, const char *value,
    const char *origin, struct error *);
int config_set_policy(struct tether_config *, const char *, const char *origin,
    struct error *);
/* "none", "default" (ssh's own ~/.ssh/config) or a file for ssh -F. */
int config_set_ssh_config(struct tether_config *, const char *,
    const char *origin, struct error *);
/* identity_agent: a socket's path, or "none" for no agent at all. */
int config_set_agent(struct tether_config *, const char *, const char *origin,
    struct error *);
/* proxy_command: a command (ssh's ProxyCommand), or "none". */
int config_set_proxy_command(struct tether_config *, const char *,
    const char *origin, struct error *);
/*
 * proxy_jump: "[user@]host[:port][,...]" (ssh's -J), or "none". It and
 * proxy_command replace each other: the one set last is the way.
 */
int config_set_proxy_jump(struct tether_config *, const char *,
    const char *origin, struct error *);
/* address_family: any, inet or inet6, as ssh's AddressFamily. */
int config_set_address_family(struct tether_config *, const char *,
    const char *origin, struct error *);
int config_set_host_key_pin(struct tether_config *, const char *,
    const char *origin, struct error *);
int config_add_forward(struct tether_config *, const char *, const char *origin,
    struct error *);

/*
 * Folds the shorthand port into the forward list, fills the name, checks
 * what must be present. After it the config is ready to run.
 */
int config_finish(struct tether_config *, struct error *);

/* "~/x" → "$HOME/x"; other paths unchanged. */
int config_expand_path(const char *in, const char *home, char *out, size_t sz);

/* The address sent in the tcpip-forward request, as OpenSSH's client does. */
const char *config_forward_bind_address(const struct forward_spec *);

/* "key=value" as in the file's [tunnel] section (the -o flag). */
int config_set_option(struct tether_config *, const char *assignment,
    struct error *);

#endif
