import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, FORWARDED_NOT_AN_IP, proxyTrust, rateLimitKey } from '../src/client-address.ts';

describe('client address', () => {
  it('is the socket address unless a trusted proxy forwarded one', () => {
    assert.deepEqual(clientAddress('10.0.0.5', '203.0.113.1', undefined), { ip: '10.0.0.5' });
    assert.deepEqual(clientAddress('::ffff:10.0.0.5', undefined, proxyTrust(['10.0.0.0/8'])), { ip: '10.0.0.5' });
    assert.equal(proxyTrust(false), undefined);
  });

  it('walks back X-Forwarded-For while each hop is a trusted proxy, as Express and Fastify do', () => {
    const xff = '198.51.100.1, 203.0.113.1, 10.0.0.9';
    assert.equal(clientAddress('10.0.0.5', xff, proxyTrust(['10.0.0.5'])).ip, '10.0.0.9');
    assert.equal(clientAddress('10.0.0.5', xff, proxyTrust(['10.0.0.5', '10.0.0.9'])).ip, '203.0.113.1');
    const list = proxyTrust(['10.0.0.0/8', 'loopback']);
    assert.equal(clientAddress('10.0.0.5', xff, list).ip, '203.0.113.1');
    assert.equal(clientAddress('127.0.0.1', ['203.0.113.1', '10.1.2.3'], list).ip, '203.0.113.1');
    assert.equal(clientAddress('192.168.1.1', xff, list).ip, '192.168.1.1', 'an untrusted peer: its header is ignored');
    assert.equal(clientAddress('fd00::1', '2001:db8::7', proxyTrust(['uniquelocal'])).ip, '2001:db8::7');
  });

  it('never takes a forwarded value that is not an IP address: the socket address, with the reason', () => {
    for (const value of ['unknown', 'a'.repeat(2048), '203.0.113.1:443', '203.0.113.1, <script>', '']) {
      assert.deepEqual(clientAddress('10.0.0.5', value, proxyTrust(['10.0.0.5'])), { ip: '10.0.0.5', note: FORWARDED_NOT_AN_IP }, value.slice(0, 20));
    }
    assert.deepEqual(clientAddress('10.0.0.5', 'junk, 203.0.113.1', proxyTrust(['10.0.0.5'])), { ip: '203.0.113.1' }, 'entries beyond the trusted hops are not read');
  });

  it('trusts no peer outside TRUST_PROXY, whatever it forwards', () => {
    const proxy = proxyTrust(['10.0.0.0/24']);
    assert.deepEqual(clientAddress('10.0.1.7', '203.0.113.1', proxy), { ip: '10.0.1.7' });
    assert.deepEqual(clientAddress('::ffff:192.0.2.9', '203.0.113.1', proxy), { ip: '192.0.2.9' });
  });

  it('keys the rate limit by IPv4 address and by IPv6 /56 network', () => {
    assert.equal(rateLimitKey('203.0.113.1'), '203.0.113.1');
    assert.equal(rateLimitKey('2001:db8:1:2ff::1'), '2001:db8:1:200::/56');
    assert.equal(rateLimitKey('2001:db8:1:2aa:1:2:3:4'), '2001:db8:1:200::/56');
    assert.equal(rateLimitKey('2001:db8:1:3ff::1'), '2001:db8:1:300::/56');
    assert.equal(rateLimitKey('::1'), '0:0:0:0::/56');
    assert.equal(rateLimitKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/56');
    assert.equal(rateLimitKey('fe80::1%eth0'), 'fe80:0:0:0::/56');
  });
});
