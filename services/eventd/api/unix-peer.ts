// The uid of the process at the other end of a unix socket connection: what
// SO_PEERCRED answers in C. Node has no API for it and a native addon would
// add a build step, so this asks the kernel's sock_diag interface through
// `ss -xp` (iproute2), the one way to learn a unix socket's peer without C:
// /proc/net/unix lists inodes but not who is connected to whom. Our side's
// inode comes from /proc/self/fd; ss gives its peer's inode and the process
// holding that inode; /proc/<pid>/status gives that process's effective uid.
// Answers are per connection and cached, so a client pays one lookup per
// connection. Without ss, or without the rights to see other processes, the
// uid is unknown: the socket's mode and group still decide who may connect.
import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

const lookups = new WeakMap<Socket, Promise<number | undefined>>();

export function peerUid(socket: Socket): Promise<number | undefined> {
  let found = lookups.get(socket);
  if (found === undefined) {
    found = lookup(socket).catch(() => undefined);
    lookups.set(socket, found);
  }
  return found;
}

async function lookup(socket: Socket): Promise<number | undefined> {
  const fd = socketFd(socket);
  if (fd === undefined) return undefined;
  const link = await readlink(`/proc/self/fd/${fd}`);
  const own = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (own === undefined) return undefined;
  const sockets = parseSs(await ss());
  const peer = sockets.get(own)?.peer;
  const pid = peer === undefined ? undefined : sockets.get(peer)?.pids[0];
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  // "Uid:\treal\teffective\tsaved\tfs": SO_PEERCRED reports the effective uid.
  const effective = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  return effective === undefined ? undefined : Number(effective);
}

/** The file descriptor under a net.Socket: libuv's handle keeps it; there is no public accessor. */
function socketFd(socket: Socket): number | undefined {
  const handle: unknown = Reflect.get(socket, '_handle');
  if (typeof handle !== 'object' || handle === null) return undefined;
  const fd: unknown = Reflect.get(handle, 'fd');
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function ss(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-x', '-p', '-n', '-H'], { timeout: 3000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

interface SsSocket {
  peer: string;
  pids: number[];
}

/**
 * `u_str ESTAB 0 0 /data/api.sock 23013 * 21818 users:(("node",pid=12571,fd=20))`:
 * local address (a path, possibly with spaces, or *), local inode, peer address, peer inode, holders.
 */
export function parseSs(text: string): Map<string, SsSocket> {
  const sockets = new Map<string, SsSocket>();
  for (const line of text.split('\n')) {
    const match = /^\S+\s+\S+\s+\d+\s+\d+\s+.*?\s(\d+)\s+\S+\s+(\d+)(?:\s+users:\((.*)\))?\s*$/.exec(line);
    if (!match) continue;
    const [, inode, peer, users] = match;
    const pids = [...(users ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    sockets.set(inode as string, { peer: peer as string, pids });
  }
  return sockets;
}
