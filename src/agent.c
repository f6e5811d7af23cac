/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Asks ssh-agent how many keys it holds (SSH2_AGENTC_REQUEST_IDENTITIES),
 * so that a refusal can say what really happened: no agent at the socket,
 * an agent with no keys, or keys the bastion refused.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENT_TIMEOUT_SECONDS 2

static int
agent_io(int fd, void *buf, size_t len, int writing)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = writing ? write(fd, (char *)buf + done, len - done) :
		              read(fd, (char *)buf + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int
agent_connect(const char *path, char *why, size_t whysz)
{
	struct timeval tv = { AGENT_TIMEOUT_SECONDS, 0 };
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(why, whysz, "the socket path is too long");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
agent_key_count(const char *path, char *why, size_t whysz)
{
	unsigned char req[5] = { 0, 0, 0, 1, AGENTC_REQUEST_IDENTITIES };
	unsigned char head[9];
	uint32_t len, count;
	int fd;

	if (path == NULL || path[0] == '\0') {
		snprintf(why, whysz, "SSH_AUTH_SOCK is not set");
		return -1;
	}
	if ((fd = agent_connect(path, why, whysz)) == -1)
		return -1;
	/* length (4), type (1), then the number of keys (4). */
	if (agent_io(fd, req, sizeof req, 1) == -1 ||
	    agent_io(fd, head, sizeof head, 0) == -1) {
		snprintf(why, whysz, "it did not answer");
		close(fd);
		return -1;
	}
	close(fd);
	len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
	    (uint32_t)head[2] << 8 | head[3];
	count = (uint32_t)head[5] << 24 | (uint32_t)head[6] << 16 |
	    (uint32_t)head[7] << 8 | head[8];
	if (head[4] != AGENT_IDENTITIES_ANSWER || len < 5 || count > 100000) {
		snprintf(why, whysz, "it answered something else");
		return -1;
	}
	return (int)count;
}
