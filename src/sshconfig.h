/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The bastion as the user's ssh_config describes it (ssh -G): HostName,
 * Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking,
 * ServerAliveInterval/CountMax, ConnectTimeout, ExitOnForwardFailure and
 * RemoteForward fill in what tether's own configuration left unsaid;
 * ProxyJump, ProxyCommand, HostKeyAlias, a CertificateFile other than
 * KEY-cert.pub and StrictHostKeyChecking no are refused, not ignored.
 */
#ifndef TETHER_SSHCONFIG_H
#define TETHER_SSHCONFIG_H

#include "config.h"
#include "error.h"

/* 0 (cfg completed, or ssh_config = none), or -1 with a CONFIG error. */
int sshconfig_apply(struct tether_config *, struct error *);

#endif
