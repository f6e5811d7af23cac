// SPDX-License-Identifier: AGPL-3.0-or-later
// ssh2_bastion.js: a bastion that is not OpenSSH, for the integration tests:
// the npm `ssh2` server (it sends EXT_INFO only after the client's NEWKEYS),
// on 127.0.0.1, accepting the public keys of AUTHORIZED_KEYS (one per line,
// read again at each login, as sshd reads authorized_keys) for any user and
// serving tcpip-forward / cancel-tcpip-forward on loopback. No session
// channels.
//
//   node ssh2_bastion.js PORT HOST_KEY AUTHORIZED_KEYS DEADLINE_S
//
// Prints "listening PORT" once ready; logs one line per event on stderr
// (a login: "accepted ALGO for USER (hash HASH) SHA256:FINGERPRINT");
// exits at the deadline.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const { Server, utils } = require('ssh2');

const [port, hostKeyPath, pubPath, deadline] = process.argv.slice(2);
const log = (m) => process.stderr.write(`[ssh2-bastion] ${m}\n`);

function authorizedKeys() {
  return fs.readFileSync(pubPath, 'utf8').split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => utils.parseKey(l))
      .filter((k) => !(k instanceof Error));
}

function keyMatches(ctx, allowed) {
  const want = allowed.getPublicSSH();
  if (ctx.key.algo !== allowed.type && !(allowed.type === 'ssh-rsa' &&
      ctx.key.algo.startsWith('rsa-sha2'))) return false;
  if (!ctx.key.data.equals(want)) return false;
  if (!ctx.signature) return true;
  return allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}

const fingerprint = (blob) => 'SHA256:' +
    crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');

const server = new Server({ hostKeys: [fs.readFileSync(hostKeyPath)] }, (client) => {
  const listeners = new Map();
  client.on('authentication', (ctx) => {
    if (ctx.method === 'publickey' && authorizedKeys().some((k) => keyMatches(ctx, k))) {
      if (ctx.signature) {
        log(`accepted ${ctx.key.algo} for ${ctx.username} (hash ${ctx.hashAlgo || 'of the key type'}) ` +
            fingerprint(ctx.key.data));
      }
      return ctx.accept();
    }
    return ctx.reject(['publickey']);
  });
  client.on('ready', () => {
    client.on('session', (accept, reject) => { log('refused a session'); reject(); });
    client.on('request', (accept, reject, name, info) => {
      if (name === 'tcpip-forward') {
        const srv = net.createServer((sock) => {
          client.forwardOut(info.bindAddr, info.bindPort, sock.remoteAddress,
              sock.remotePort, (err, stream) => {
                if (err) { sock.destroy(); return; }
                sock.pipe(stream).pipe(sock);
              });
        });
        srv.on('error', () => reject && reject());
        srv.listen(info.bindPort, '127.0.0.1', () => {
          listeners.set(info.bindPort, srv);
          log(`listening for the client on ${info.bindPort}`);
          accept && accept(info.bindPort);
        });
      } else if (name === 'cancel-tcpip-forward' && listeners.has(info.bindPort)) {
        listeners.get(info.bindPort).close();
        listeners.delete(info.bindPort);
        accept && accept();
      } else {
        reject && reject();
      }
    });
  });
  client.on('close', () => { for (const s of listeners.values()) s.close(); });
  client.on('error', (e) => log(`client error: ${e.message}`));
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
setTimeout(() => process.exit(0), Number(deadline) * 1000).unref();
