/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether migrate's reader of the seed's units: the unit scitex-tunnel
 * writes, the same with the extra ssh options, quoting, escapes and layouts
 * people add by hand, and everything it must refuse (naming the unit and the
 * line) rather than guess.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tether/exit.h"
#include "migrate.h"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

#define NAME "autossh-tunnel-2222.service"

/* ExecStart= is line 6. */
#define UNIT_AS(user, exec) \
	"[Unit]\nDescription=AutoSSH tunnel on port 2222\n\n[Service]\n" \
	user "\nExecStart=" exec "\nRestart=always\nRestartSec=3\n\n" \
	"[Install]\nWantedBy=multi-user.target\n"
#define UNIT(exec) UNIT_AS("User=alice", exec)
#define AUTOSSH "/usr/bin/autossh -M 0 -N "
#define KEY "/home/alice/.ssh/id_ed25519"

static struct migrate_unit
parse_ok(const char *name, const char *text)
{
	struct migrate_unit u;
	struct error err;

	error_clear(&err);
	if (migrate_parse_unit(name, text, &u, &err) != 0)
		fail_msg("refused: %s\n--- unit ---\n%s", err.msg, text);
	assert_int_equal(err.code, 0);
	return u;
}

/* Must be refused with a message naming the unit; returns the message. */
static struct error
parse_bad(const char *name, const char *text)
{
	struct migrate_unit u;
	struct error err;

	error_clear(&err);
	if (migrate_parse_unit(name, text, &u, &err) != -1)
		fail_msg("accepted as port %d bastion '%s' key '%s' user '%s' "
		    "target '%s'\n--- unit ---\n%s", u.port, u.bastion,
		    u.key_path, u.user, u.target, text);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_contains(err.msg, name);
	assert_null(strchr(err.msg, '\n'));
	/* Nothing half-parsed is left for a caller to use by mistake. */
	assert_int_equal(u.port, 0);
	assert_string_equal(u.bastion, "");
	return err;
}

static void
bad(const char *text, const char *where, const char *what)
{
	struct error err = parse_bad(NAME, text);

	if (where != NULL)
		assert_contains(err.msg, where);
	assert_contains(err.msg, what);
}

/* ---- names -------------------------------------------------------------- */

static void
test_unit_names(void **state)
{
	(void)state;
	assert_int_equal(migrate_unit_port("autossh-tunnel-2222.service"), 2222);
	assert_int_equal(migrate_unit_port("autossh-tunnel-1.service"), 1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-65535.service"),
	    65535);
	assert_int_equal(migrate_unit_port("autossh-tunnel-0.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-65536.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-02222.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-22x.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-2222.service.bak"),
	    -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-2222.timer"), -1);
	assert_int_equal(migrate_unit_port("x-autossh-tunnel-22.service"), -1);
	assert_int_equal(migrate_unit_port("tether@2222.service"), -1);
	assert_int_equal(migrate_unit_port("autossh-tunnel-99999999999.service"),
	    -1);
}

/* ---- what the seed writes ------------------------------------------------ */

static void
test_seed_unit(void **state)
{
	struct migrate_unit u;

	(void)state;
	u = parse_ok(NAME,
	    "[Unit]\n"
	    "Description=AutoSSH tunnel on port 2222\n"
	    "After=network-online.target\n"
	    "Wants=network-online.target\n"
	    "\n"
	    "[Service]\n"
	    "User=alice\n"
	    "ExecStart=/usr/bin/autossh -M 0 -N -i " KEY
	    " -R 2222:localhost:22 tunnel@bastion.example.com\n"
	    "Restart=always\n"
	    "RestartSec=3\n"
	    "\n"
	    "[Install]\n"
	    "WantedBy=multi-user.target\n");
	assert_int_equal(u.port, 2222);
	assert_string_equal(u.bastion, "tunnel@bastion.example.com");
	assert_string_equal(u.key_path, KEY);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.group, "");
	assert_string_equal(u.target, "localhost:22");
	assert_string_equal(u.known_hosts, "");
	assert_int_equal(u.accept_new, 0);
	assert_string_equal(u.notes, "");
}

static void
test_no_user_means_root(void **state)
{
	struct migrate_unit u;

	(void)state;
	/* The seed's weakness: an empty User= runs the unit as root. */
	u = parse_ok(NAME, UNIT_AS("User=",
	    AUTOSSH "-i /root/.ssh/id -R 2222:localhost:22 h"));
	assert_string_equal(u.user, "");
	u = parse_ok(NAME, UNIT_AS("Group=wheel",
	    AUTOSSH "-i /root/.ssh/id -R 2222:localhost:22 h"));
	assert_string_equal(u.user, "");
	assert_string_equal(u.group, "wheel");
	assert_string_equal(u.bastion, "h");
}

/* ---- what people add by hand -------------------------------------------- */

static void
test_extra_ssh_options(void **state)
{
	struct migrate_unit u;

	(void)state;
	u = parse_ok(NAME,
	    UNIT(AUTOSSH "-o ServerAliveInterval=30 -o \"ServerAliveCountMax 3\" "
	                 "-o ExitOnForwardFailure=yes -oBatchMode=yes -p 2200 "
	                 "-i " KEY " -R 2222:localhost:22 tunnel@bastion"));
	assert_string_equal(u.bastion, "tunnel@bastion:2200");
	assert_contains(u.notes, "-o ServerAliveInterval=30");
	assert_contains(u.notes, "-o ServerAliveCountMax=3");
	assert_contains(u.notes, "-o BatchMode=yes");

	/* ssh reads options after the destination too. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 "
	                                "tunnel@bastion -p 2200 -o "
	                                "StrictHostKeyChecking=accept-new"));
	assert_string_equal(u.bastion, "tunnel@bastion:2200");
	assert_int_equal(u.accept_new, 1);

	/* Clustered flags and attached arguments, as getopt takes them. */
	u = parse_ok(NAME, UNIT("/usr/bin/autossh -M0 -NTfq -i/k/id "
	                        "-R2222:127.0.0.1:2022 -lbob -p2200 host"));
	assert_string_equal(u.bastion, "bob@host:2200");
	assert_string_equal(u.key_path, "/k/id");
	assert_string_equal(u.target, "127.0.0.1:2022");

	/* -o IdentityFile, User, Port, HostName, UserKnownHostsFile. */
	u = parse_ok(NAME,
	    UNIT("autossh -M 0 -N -o IdentityFile=~/.ssh/tunnel -o User=t "
	         "-o Port=2200 -o HostName=real.example.com -o "
	         "UserKnownHostsFile=~/.ssh/kh -R 2222:localhost:22 alias"));
	assert_string_equal(u.bastion, "t@real.example.com:2200");
	assert_string_equal(u.key_path, "~/.ssh/tunnel");
	assert_string_equal(u.known_hosts, "~/.ssh/kh");

	/* A monitor port and compression are noted, not carried. */
	u = parse_ok(NAME, UNIT("autossh -M 20000 -C -N -i " KEY
	                        " -R 2222:localhost:22 h"));
	assert_contains(u.notes, "autossh -M 20000");
	assert_contains(u.notes, "-C");

	/* StrictHostKeyChecking=no: tether's nearest is accept-new. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-o StrictHostKeyChecking=no -i " KEY
	                                " -R 2222:localhost:22 h"));
	assert_int_equal(u.accept_new, 1);
	assert_contains(u.notes, "StrictHostKeyChecking=no");
	u = parse_ok(NAME, UNIT(AUTOSSH "-o StrictHostKeyChecking=yes -i " KEY
	                                " -R 2222:localhost:22 h"));
	assert_int_equal(u.accept_new, 0);

	/* "--" ends the options. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 -- h"));
	assert_string_equal(u.bastion, "h");
}

static void
test_quoting_and_escapes(void **state)
{
	struct migrate_unit u;

	(void)state;
	u = parse_ok(NAME, UNIT("\"/usr/bin/autossh\" -M 0 -N -i "
	                        "\"/srv/keys/my key\" -R '2222:localhost:22' "
	                        "'tunnel@h'"));
	assert_string_equal(u.key_path, "/srv/keys/my key");
	assert_string_equal(u.bastion, "tunnel@h");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i /srv/key\\ dir/id -R "
	                                "2222:localhost:22 h"));
	assert_string_equal(u.key_path, "/srv/key dir/id");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i /k/a\\\"b -R 2222:localhost:22 h"));
	assert_string_equal(u.key_path, "/k/a\"b");
	/* Quotes inside a word, as a shell would take them. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-i /k/'x y'z -R 2222:localhost:22 h"));
	assert_string_equal(u.key_path, "/k/x yz");
	/* %% is a '%' for systemd; the log file is only noted. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-E /var/log/a%%b.log -i " KEY
	                                " -R 2222:localhost:22 h"));
	assert_contains(u.notes, "-E /var/log/a%b.log");
	/* "-": a failure is not an error (tether restarts anyway). */
	u = parse_ok(NAME, UNIT("-/usr/bin/autossh -M 0 -N -i " KEY
	                        " -R 2222:localhost:22 h"));
	assert_int_equal(u.port, 2222);
}

static void
test_layouts(void **state)
{
	struct migrate_unit u;

	(void)state;
	/* Continuation lines, a comment inside, indentation, CRLF. */
	u = parse_ok(NAME,
	    "# written by hand\r\n"
	    "[Unit]\r\n"
	    "Description=tunnel\r\n"
	    "[Service]\r\n"
	    "  User = alice  \r\n"
	    "ExecStart=/usr/bin/autossh -M 0 -N \\\r\n"
	    "    -i " KEY " \\\r\n"
	    "# the forward\r\n"
	    "    -R 2222:localhost:22 \\\r\n"
	    "    tunnel@bastion\r\n"
	    "; another comment\r\n"
	    "Environment=AUTOSSH_GATETIME=0 \"AUTOSSH_POLL=60\"\r\n"
	    "Environment=\"AUTOSSH_LOGLEVEL=7\"\r\n"
	    "Type=simple\r\n");
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.key_path, KEY);
	assert_string_equal(u.bastion, "tunnel@bastion");
	assert_contains(u.notes, "AUTOSSH_GATETIME");
	assert_contains(u.notes, "AUTOSSH_POLL");

	/* An empty ExecStart= resets the list (a drop-in's idiom). */
	u = parse_ok(NAME,
	    "[Service]\nExecStart=\nExecStart=autossh -M 0 -N -i " KEY
	    " -R 2222:localhost:22 h\n");
	assert_string_equal(u.bastion, "h");

	/* Without a trailing newline. */
	u = parse_ok(NAME,
	    "[Service]\nExecStart=autossh -M 0 -N -i " KEY
	    " -R 2222:localhost:22 h");
	assert_int_equal(u.port, 2222);
}

static void
test_destinations(void **state)
{
	struct migrate_unit u;

	(void)state;
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 "
	                                "ssh://tunnel@bastion.example.com:2200"));
	assert_string_equal(u.bastion, "tunnel@bastion.example.com:2200");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 "
	                                "ssh://tunnel@[2001:db8::1]:2200/"));
	assert_string_equal(u.bastion, "tunnel@[2001:db8::1]:2200");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY
	                        " -R 2222:localhost:22 -p 2200 t@2001:db8::1"));
	assert_string_equal(u.bastion, "t@[2001:db8::1]:2200");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:[::1]:22 t@h"));
	assert_string_equal(u.target, "[::1]:22");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY
	                        " -R localhost:2222:localhost:22 t@h"));
	assert_string_equal(u.notes, "");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY
	                        " -R 127.0.0.1:2222:localhost:22 t@h"));
	assert_contains(u.notes, "127.0.0.1");
	/* The same user twice is fine. */
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -l t -R 2222:localhost:22 "
	                                "t@h"));
	assert_string_equal(u.bastion, "t@h");
}

/* ---- hostile and odd units: refused, naming the unit and the line ------- */

static void
test_refused_commands(void **state)
{
	(void)state;
	bad(UNIT("/bin/sh -c 'autossh -M 0 -N -R 2222:localhost:22 h'"),
	    "line 6", "runs '/bin/sh', not autossh");
	bad(UNIT("/usr/bin/ssh -N -i " KEY " -R 2222:localhost:22 h"), "line 6",
	    "not autossh");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 h touch /tmp/x"),
	    "line 6", "remote command 'touch'");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 h ; /bin/rm x"),
	    "line 6", "remote command");
	bad(UNIT("+/usr/bin/autossh -M 0 -N -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "prefix '+'");
	bad(UNIT("@/usr/bin/autossh autossh -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "prefix '@'");
	bad("[Service]\nUser=a\nExecStart=autossh -i " KEY
	    " -R 2222:localhost:22 h\nExecStart=autossh -i " KEY
	    " -R 2222:localhost:22 h\n",
	    "line 4", "a second ExecStart=");
	bad(UNIT(""), NULL, "no ExecStart=");
	bad("", NULL, "no ExecStart=");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22"), "line 6",
	    "names no bastion");
}

static void
test_jump_hosts_carried_over(void **state)
{
	struct migrate_unit u;

	(void)state;
	u = parse_ok(NAME, UNIT(AUTOSSH "-J gw@gate.example.com:2201,inner -i " KEY
	                                " -R 2222:localhost:22 h"));
	assert_string_equal(u.proxy_jump, "gw@gate.example.com:2201,inner");
	u = parse_ok(NAME, UNIT(AUTOSSH "-o ProxyJump=gate -i " KEY
	                                " -R 2222:localhost:22 h"));
	assert_string_equal(u.proxy_jump, "gate");
	u = parse_ok(NAME, UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 h"));
	assert_string_equal(u.proxy_jump, "");
}

static void
test_refused_ssh_options(void **state)
{
	(void)state;
	bad(UNIT(AUTOSSH "-o ProxyCommand=\"nc %h %p\" -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "specifier '%h'");
	bad(UNIT(AUTOSSH "-o \"ProxyCommand=nc %%h %%p\" -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "-o ProxyCommand is an ssh option migrate does not carry");
	bad(UNIT(AUTOSSH "-J 'jump@host;rm' -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "ProxyJump");
	bad(UNIT(AUTOSSH "-J a -o ProxyJump=b -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "two different jump hosts");
	bad(UNIT(AUTOSSH "-L 8080:localhost:80 -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "-L is an ssh option");
	bad(UNIT(AUTOSSH "-NL8080:x:80 -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "-L is an ssh option");
	bad(UNIT(AUTOSSH "-D 1080 -i " KEY " -R 2222:localhost:22 h"), "line 6",
	    "-D is an ssh option");
	bad(UNIT(AUTOSSH "-o RemoteForward=\"2223 localhost:22\" -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "-o RemoteForward");
	bad(UNIT(AUTOSSH "-o Bogus=1 -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "-o Bogus");
	bad(UNIT(AUTOSSH "-o UserKnownHostsFile=/dev/null -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "turns host key checking off");
	bad(UNIT(AUTOSSH "-o \"UserKnownHostsFile=/a /b\" -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "several files");
	bad(UNIT(AUTOSSH "-o StrictHostKeyChecking=maybe -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "StrictHostKeyChecking=maybe");
	bad(UNIT(AUTOSSH "-o NoValue -i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "not KEY=VALUE");
	bad(UNIT(AUTOSSH "-F /home/alice/.ssh/config -i " KEY
	                 " -R 2222:localhost:22 h"),
	    "line 6", "-F /home/alice/.ssh/config");
	bad(UNIT(AUTOSSH "-i " KEY " -i /k/other -R 2222:localhost:22 h"),
	    "line 6", "several keys");
	bad(UNIT(AUTOSSH "-i id_rsa -R 2222:localhost:22 h"), "line 6",
	    "'id_rsa' is not an absolute path");
	bad(UNIT(AUTOSSH "-i /home/%%u/.ssh/id -R 2222:localhost:22 h"),
	    "line 6", "%-token");
	bad(UNIT(AUTOSSH "-R 2222:localhost:22 h"), NULL, "no key (-i KEY)");
	bad(UNIT(AUTOSSH "-i " KEY " -p"), "line 6", "-p needs an argument");
	bad(UNIT(AUTOSSH "-i " KEY " -p 99999 -R 2222:localhost:22 h"),
	    "line 6", "'99999' is not a port");
	bad(UNIT(AUTOSSH "-i " KEY " -l bob -R 2222:localhost:22 alice@h"),
	    "line 6", "two different users");
	bad(UNIT(AUTOSSH "-i " KEY " -p 22 -R 2222:localhost:22 ssh://h:2200"),
	    "line 6", "two ports");
}

static void
test_refused_forwards(void **state)
{
	(void)state;
	bad(UNIT(AUTOSSH "-i " KEY " h"), NULL, "no -R forward");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 -R 2223:localhost:22 "
	                 "h"),
	    "line 6", "several -R forwards");
	bad(UNIT(AUTOSSH "-i " KEY " -R 0.0.0.0:2222:localhost:22 h"), "line 6",
	    "binds '0.0.0.0'");
	bad(UNIT(AUTOSSH "-i " KEY " -R '*:2222:localhost:22' h"), "line 6",
	    "binds '*'");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2223:localhost:22 h"), NULL,
	    "says port 2222 but -R forwards port 2223");
	bad(UNIT(AUTOSSH "-i " KEY " -R 0:localhost:22 h"), NULL,
	    "forwards port 0");
	bad(UNIT(AUTOSSH "-i " KEY " -R /tmp/sock:localhost:22 h"), "line 6",
	    "-R");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:local\\ host:22 h"), "line 6",
	    "-R");
}

static void
test_refused_destinations(void **state)
{
	(void)state;
	/* Option injection through the destination. */
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 -- -oProxyCommand=x"),
	    "line 6", "not a host name");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 'h;touch x'"),
	    "line 6", "not a host name");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 host:2200"), "line 6",
	    "give the port with -p");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 ssh://h/path"),
	    "line 6", "has a path");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 'b o b'@h"), NULL,
	    "may hold only letters");
	bad(UNIT(AUTOSSH "-i " KEY " -o HostName=-x -R 2222:localhost:22 h"),
	    NULL, "HostName=-x");
}

static void
test_refused_syntax(void **state)
{
	char *longline;
	size_t n = 5000;

	(void)state;
	bad(UNIT(AUTOSSH "-i \"" KEY " -R 2222:localhost:22 h"), "line 6",
	    "unterminated \" quote");
	bad(UNIT(AUTOSSH "-i " KEY "\\n -R 2222:localhost:22 h"), "line 6",
	    "escape '\\n'");
	bad(UNIT(AUTOSSH "-i $HOME/.ssh/id -R 2222:localhost:22 h"), "line 6",
	    "environment variable ($HOME");
	bad(UNIT(AUTOSSH "-i ${KEY} -R 2222:localhost:22 h"), "line 6",
	    "environment variable");
	bad(UNIT(AUTOSSH "-i %h/.ssh/id -R 2222:localhost:22 h"), "line 6",
	    "specifier '%h'");
	bad(UNIT(AUTOSSH "-i " KEY " -R 2222:localhost:22 h\x01"), "line 6",
	    "control character");
	bad("[Service]\nExecStart=autossh -i " KEY " \\\n", "line 2",
	    "ends inside a continued line");
	bad("ExecStart=autossh -i " KEY " -R 2222:localhost:22 h\n", "line 1",
	    "before any [Section]");
	bad("[Service]\njust words\n", "line 2", "not KEY=VALUE");
	bad("[Timer]\nOnCalendar=daily\n", "line 1", "section [Timer]");
	bad("[Service\nUser=a\n", "line 1", "not a [Section] header");

	longline = test_malloc(n + 64);
	memset(longline, 0, n + 64);
	strcpy(longline, "[Service]\nExecStart=autossh ");
	memset(longline + strlen(longline), 'a', n);
	bad(longline, "line 2", "longer than");
	test_free(longline);
}

static void
test_refused_service_settings(void **state)
{
	(void)state;
	bad(UNIT_AS("User=alice\nExecStartPre=/bin/sleep 5",
	        AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "ExecStartPre= is a setting migrate does not carry over");
	bad(UNIT_AS("User=alice\nEnvironmentFile=/etc/default/t",
	        AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "EnvironmentFile=");
	bad(UNIT_AS("User=alice\nEnvironment=LD_PRELOAD=/tmp/x.so",
	        AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "sets 'LD_PRELOAD=/tmp/x.so'");
	bad(UNIT_AS("User=a b", AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 5", "User='a b' is not a user");
	bad(UNIT_AS("User=-root", AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 5", "User='-root'");
	bad(UNIT_AS("User=%i", AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 5", "User='%i'");
	bad(UNIT_AS("User=alice\nType=oneshot",
	        AUTOSSH "-i " KEY " -R 2222:localhost:22 h"),
	    "line 6", "Type=oneshot");
}

/* The line of a refused ExecStart= is where it starts, continuations aside. */
static void
test_line_numbers(void **state)
{
	(void)state;
	bad("[Unit]\n# one\n\n[Service]\nUser=a\n"
	    "ExecStart=/usr/bin/autossh -M 0 \\\n"
	    "  -N \\\n"
	    "  -L 1:x:2 \\\n"
	    "  h\n",
	    "line 6", "-L");
	bad("\n\n\n[Service]\n\n\nFoo=bar\n", "line 7", "Foo=");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_names),
		cmocka_unit_test(test_seed_unit),
		cmocka_unit_test(test_no_user_means_root),
		cmocka_unit_test(test_extra_ssh_options),
		cmocka_unit_test(test_quoting_and_escapes),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_refused_commands),
		cmocka_unit_test(test_jump_hosts_carried_over),
		cmocka_unit_test(test_refused_ssh_options),
		cmocka_unit_test(test_refused_forwards),
		cmocka_unit_test(test_refused_destinations),
		cmocka_unit_test(test_refused_syntax),
		cmocka_unit_test(test_refused_service_settings),
		cmocka_unit_test(test_line_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
