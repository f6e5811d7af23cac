/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The bastion as the user's ssh_config describes it (ssh -G): HostName,
 * Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking,
 * ServerAliveInterval/CountMax, ConnectTimeout, ExitOnForwardFailure and
 * RemoteForward (and more: see tether.conf(5)) fill in what tether's own
 * configuration left unsaid; ProxyJump, HostKeyAlias and
 * StrictHostKeyChecking no are refused, not ignored.
 */
#ifndef TETHER_SSHCONFIG_H
#define TETHER_SSHCONFIG_H

#include "config.h"
#include "error.h"

/* 0 (cfg completed, or ssh_config = none), or -1 with a CONFIG error. */
int sshconfig_apply(struct tether_config *, struct error *);
/*
 * in with a leading ~ and ssh's tokens (%% %d %h %i %k %L %l %n %p %r %u)
 * expanded for the bastion, alias being the name it was given as; -1 with
 * err naming a token tether does not expand.
 */
int sshconfig_expand(const struct tether_config *, const char *alias,
    const char *in, char *out, size_t sz, struct error *);

#endif
