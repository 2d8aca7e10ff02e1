import { BlockList, isIP, type Socket } from 'node:net';
import type { Config } from './config.ts';

/**
 * The client's address, for the log and the rate limit: the socket's peer, or, when that peer is a trusted
 * proxy (TRUST_PROXY: the addresses the proxies connect from), the address that proxy put into X-Forwarded-For —
 * walking back while each hop is itself a trusted proxy, as Express and Fastify do. A peer outside that set is
 * the client, whatever it sends. A forwarded value that is not an IP address is never used (it would let
 * a client pick any string as its identity): the socket address is, and `note` says why.
 */
export interface ClientAddress {
  ip: string;
  note?: string;
}

/** Whether a peer is a proxy whose X-Forwarded-For counts. */
export type ProxyTrust = (address: string) => boolean;

const NAMED_RANGES: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']],
  linklocal: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']],
  uniquelocal: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
};

export const FORWARDED_NOT_AN_IP = 'x-forwarded-for holds a value that is not an IP address: the socket address is used';

/** The trust function for TRUST_PROXY (already validated by loadConfig); undefined when no proxy is trusted. */
export function proxyTrust(trust: Config['trustProxy']): ProxyTrust | undefined {
  if (trust === false) return undefined;
  const list = new BlockList();
  for (const entry of trust) {
    for (const [network, prefix, family] of NAMED_RANGES[entry] ?? [cidr(entry)]) list.addSubnet(network, prefix, family);
  }
  return (address) => list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

function cidr(entry: string): [string, number, 'ipv4' | 'ipv6'] {
  const [address = '', prefix] = entry.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return [address, prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix), family];
}

/** An IPv4 address as a dual-stack socket reports it (::ffff:10.0.0.1) becomes plain IPv4. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: ProxyTrust | undefined,
): ClientAddress {
  const peer = unmapped(socketAddress ?? '');
  if (trusted === undefined || forwardedFor === undefined) return { ip: peer };
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  let ip = peer;
  for (let hop = 0; hop < hops.length && trusted(ip); hop++) {
    const next = unmapped((hops[hops.length - 1 - hop] ?? '').trim());
    if (isIP(next) === 0) return { ip: peer, note: FORWARDED_NOT_AN_IP };
    ip = next;
  }
  return { ip };
}

/**
 * The rate limit's key for an address: IPv4 as is, IPv6 by its /56 network (one client usually holds a whole
 * /64 or more, so per-address keys would let it rotate addresses), as express-rate-limit does.
 */
export function rateLimitKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = ipv6Groups(ip);
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}:${((groups[3] ?? 0) & 0xff00).toString(16)}::/56`;
}

/** The eight 16-bit groups of a valid IPv6 address ('::' expanded, an embedded IPv4 tail converted). */
function ipv6Groups(ip: string): number[] {
  const [address = ''] = ip.split('%');
  const side = (text: string | undefined): number[] =>
    !text
      ? []
      : text.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head, tail] = address.split('::');
  const left = side(head);
  const right = side(tail);
  return [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

/**
 * Counts each address's open connections for a per-address cap: `admit` counts a new connection and uncounts it
 * when it closes, or returns false (counting nothing) when the address already has `limit` open.
 */
export function connectionsPerAddress(limit: number): (ip: string, socket: Socket) => boolean {
  const open = new Map<string, number>();
  return (ip, socket) => {
    const count = (open.get(ip) ?? 0) + 1;
    if (count > limit) return false;
    open.set(ip, count);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left === 0) open.delete(ip);
      else open.set(ip, left);
    });
    return true;
  };
}
