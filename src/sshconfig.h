/*
 * The bastion as the user's ssh_config describes it (ssh -G): HostName,
 * Port, User and IdentityFile fill in what tether's own configuration left
 * unsaid; ProxyJump and ProxyCommand are refused, not ignored.
 */
#ifndef TETHER_SSHCONFIG_H
#define TETHER_SSHCONFIG_H

#include "config.h"
#include "error.h"

/* 0 (cfg completed, or ssh_config = none), or -1 with a CONFIG error. */
int sshconfig_apply(struct tether_config *, struct error *);

#endif
