import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebhookAllowlist, type WebhookCheck, type WebhookLookup } from './webhook-allowlist.js';
import { WebhookConfigError, WebhookLookupError } from './webhook-errors.js';

/** A resolver with fixed answers that counts its queries. */
function fakeDns(answers: Record<string, Array<{ address: string; family: number }>>): WebhookLookup & { queries: string[] } {
  const queries: string[] = [];
  const lookup = async (hostname: string): Promise<Array<{ address: string; family: number }>> => {
    queries.push(hostname);
    const addresses = answers[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  return Object.assign(lookup, { queries });
}

function refused(verdict: WebhookCheck): string {
  assert.equal(verdict.allowed, false, `expected a refusal, got ${JSON.stringify(verdict)}`);
  return (verdict as { reason: string }).reason;
}

describe('WebhookAllowlist.parse', () => {
  test('accepts host names, wildcards, addresses and CIDRs, comma-separated and repeated', () => {
    const allowlist = WebhookAllowlist.parse(['hooks.example.com, *.example.org', '10.0.0.0/8,::1/128,[fd00::1]', ' , ']);
    assert.equal(allowlist.isEmpty, false);
  });

  test('empty (the default) allows nothing, without a lookup', async () => {
    const dns = fakeDns({});
    const allowlist = WebhookAllowlist.parse([], { lookup: dns });
    assert.equal(allowlist.isEmpty, true);
    assert.match(refused(await allowlist.check('https://hooks.example.com/x')), /--webhook\.allow is empty/);
    assert.deepEqual(dns.queries, []);
  });

  for (const entry of [
    '10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/8x', 'example.com/8', 'https://example.com', '*', '*.*.com', 'exa mple.com',
    '10.1', '-.com', 'example.com:0', 'example.com:65536', 'example.com:', 'example.com:80x', 'example.com:+80', '*.example.com:99999',
    '[::1]:', '[::1]:0', '[example.com]:80', '10.0.0.0/8:', '10.0.0.0/8:x', 'example.com/path:80', ':80',
  ]) {
    test(`refuses the malformed entry ${entry} with a TypeError naming it`, () => {
      assert.throws(() => WebhookAllowlist.parse([`ok.example.com,${entry}`]), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.ok(error instanceof WebhookConfigError);
        assert.equal(error.code, 'ERR_WEBHOOK_CONFIG');
        assert.ok(error.message.includes(`"${entry}"`), error.message);
        return true;
      });
    });
  }
});

describe('WebhookAllowlist.check with IP literals', () => {
  const allowlist = WebhookAllowlist.parse(['10.0.0.0/8,192.168.1.7,127.0.0.1/32,fd00::/8,::1/128']);

  test('IPv4 inside a CIDR or equal to an address is allowed, with that address', async () => {
    assert.deepEqual(await allowlist.check('http://10.20.30.40/hook'), { allowed: true, address: '10.20.30.40', family: 4 });
    assert.deepEqual(await allowlist.check('https://192.168.1.7/'), { allowed: true, address: '192.168.1.7', family: 4 });
    assert.deepEqual(await allowlist.check('http://127.0.0.1/'), { allowed: true, address: '127.0.0.1', family: 4 });
  });

  test('IPv4 outside every entry is refused', async () => {
    assert.match(refused(await allowlist.check('http://11.0.0.1/')), /^11\.0\.0\.1:80 is not inside --webhook\.allow$/);
    assert.match(refused(await allowlist.check('http://192.168.1.8/')), /192\.168\.1\.8/);
    assert.match(refused(await allowlist.check('http://127.0.0.2/')), /127\.0\.0\.2/);
  });

  test('IPv6 inside a CIDR is allowed; outside is refused', async () => {
    assert.deepEqual(await allowlist.check('http://[::1]/'), { allowed: true, address: '::1', family: 6 });
    assert.deepEqual(await allowlist.check('http://[fd12:3456::1]/'), { allowed: true, address: 'fd12:3456::1', family: 6 });
    assert.match(refused(await allowlist.check('http://[fe80::1]/')), /\[fe80::1\]:80 is not inside/);
    assert.match(refused(await allowlist.check('https://[::2]/')), /\[::2\]:443 is not inside/);
  });

  test('other spellings of an address are checked as the address they mean', async () => {
    // WHATWG URL turns these into 127.0.0.1 and 10.0.0.1; the check must not be fooled by the spelling.
    assert.deepEqual(await allowlist.check('http://0x7f.0.0.1/'), { allowed: true, address: '127.0.0.1', family: 4 });
    assert.deepEqual(await allowlist.check('http://167772161/'), { allowed: true, address: '10.0.0.1', family: 4 });
    assert.match(refused(await allowlist.check('http://0x7f.0.0.2/')), /127\.0\.0\.2/);
  });

  test('only http and https URLs without credentials', async () => {
    assert.match(refused(await allowlist.check('ftp://10.0.0.1/')), /http: or https:/);
    assert.match(refused(await allowlist.check('file:///etc/passwd')), /http: or https:/);
    assert.match(refused(await allowlist.check('http://user:pw@10.0.0.1/')), /user name or password/);
    assert.match(refused(await allowlist.check('not a url')), /not a valid absolute URL/);
  });
});

describe('WebhookAllowlist.check with host names', () => {
  const dns = fakeDns({
    'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
    'a.b.example.org': [{ address: '2606:2800::1', family: 6 }],
    'internal.corp': [{ address: '10.1.2.3', family: 4 }, { address: 'fd00::5', family: 6 }],
    'example.org': [{ address: '2606:2800::2', family: 6 }],
    'evilexample.org': [{ address: '10.9.9.9', family: 4 }, { address: '2606:2800::3', family: 6 }],
    'mixed.corp': [{ address: '10.1.2.3', family: 4 }, { address: '8.8.8.8', family: 4 }],
  });
  const allowlist = WebhookAllowlist.parse(['Hooks.Example.COM', '*.example.org', '10.0.0.0/8,fd00::/8'], { lookup: dns });

  test('an exact host-name entry allows the name, case-insensitively and with a trailing dot', async () => {
    assert.deepEqual(await allowlist.check('https://hooks.example.com/x'), { allowed: true, address: '93.184.216.34', family: 4 });
    assert.deepEqual(await allowlist.check('https://HOOKS.example.com./x'), { allowed: true, address: '93.184.216.34', family: 4 });
  });

  test('a wildcard matches names below the domain at any depth, not the domain itself', async () => {
    assert.deepEqual(await allowlist.check('https://a.b.example.org/'), { allowed: true, address: '2606:2800::1', family: 6 });
    // Not matched by the wildcard, so their addresses decide, and they are outside the CIDRs.
    assert.match(refused(await allowlist.check('https://example.org/')), /^example\.org resolves to 2606:2800::2/);
    assert.match(refused(await allowlist.check('https://evilexample.org/')), /^evilexample\.org resolves to 2606:2800::3/);
  });

  test('a name that no host-name entry matches is allowed when all its addresses are inside CIDRs', async () => {
    assert.deepEqual(await allowlist.check('http://internal.corp/'), { allowed: true, address: '10.1.2.3', family: 4 });
  });

  test('one address outside the CIDRs refuses the name', async () => {
    assert.match(refused(await allowlist.check('http://mixed.corp/')), /mixed\.corp resolves to 8\.8\.8\.8/);
  });

  test('a name that cannot be resolved rejects with a lookup error (retryable), not a refusal', async () => {
    await assert.rejects(allowlist.check('http://nowhere.corp/'), (error: unknown) => {
      assert.ok(error instanceof WebhookLookupError);
      assert.equal(error.code, 'ERR_WEBHOOK_LOOKUP');
      assert.match(error.message, /nowhere\.corp \(ENOTFOUND\)/);
      return true;
    });
  });

  test('with host-name entries only, an unmatched name is refused without a lookup', async () => {
    const namesOnly = fakeDns({ 'other.example.net': [{ address: '1.2.3.4', family: 4 }] });
    const list = WebhookAllowlist.parse(['hooks.example.com'], { lookup: namesOnly });
    assert.match(refused(await list.check('https://other.example.net/')), /other\.example\.net:443 does not match/);
    assert.deepEqual(namesOnly.queries, []);
  });

  test('refusalWithoutLookup answers what is certain before any DNS', () => {
    assert.equal(allowlist.refusalWithoutLookup('https://hooks.example.com/'), null);
    assert.equal(allowlist.refusalWithoutLookup('https://anything.else/'), null, 'CIDR entries may allow it after lookup');
    assert.match(allowlist.refusalWithoutLookup('http://11.0.0.1/') ?? '', /not inside/);
    assert.match(WebhookAllowlist.parse([]).refusalWithoutLookup('https://hooks.example.com/') ?? '', /empty/);
  });

  test('the system resolver is the default (localhost from /etc/hosts)', async () => {
    const verdict = await WebhookAllowlist.parse(['127.0.0.0/8:1,::1/128:1']).check('http://localhost:1/');
    assert.equal(verdict.allowed, true);
  });
});

describe('WebhookAllowlist ports', () => {
  const dns = fakeDns({
    'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
    'a.example.org': [{ address: '93.184.216.35', family: 4 }],
    'internal.corp': [{ address: '10.1.2.3', family: 4 }],
  });

  test('an entry without a port allows 80 and 443 only, whatever the scheme', async () => {
    const allowlist = WebhookAllowlist.parse(['127.0.0.1,hooks.example.com'], { lookup: dns });
    for (const url of ['http://127.0.0.1/', 'https://127.0.0.1/', 'http://127.0.0.1:443/', 'https://127.0.0.1:80/', 'https://hooks.example.com/']) {
      assert.equal((await allowlist.check(url)).allowed, true, url);
    }
    // SSH, and this server's own port: an allowed host's other services stay out of reach.
    assert.match(refused(await allowlist.check('http://127.0.0.1:22/')), /^127\.0\.0\.1:22 is not inside --webhook\.allow \(an entry without a port allows only ports 80 and 443\)$/);
    assert.match(refused(await allowlist.check('http://127.0.0.1:8529/')), /127\.0\.0\.1:8529/);
    assert.match(refused(await allowlist.check('https://hooks.example.com:8443/')), /hooks\.example\.com:8443 does not match/);
  });

  test('an entry with a port allows that port only', async () => {
    const allowlist = WebhookAllowlist.parse(['127.0.0.1:9000', 'hooks.example.com:8443', '*.example.org:8443'], { lookup: dns });
    assert.deepEqual(await allowlist.check('http://127.0.0.1:9000/hook'), { allowed: true, address: '127.0.0.1', family: 4 });
    assert.match(refused(await allowlist.check('http://127.0.0.1/')), /127\.0\.0\.1:80 is not inside/);
    assert.match(refused(await allowlist.check('http://127.0.0.1:9001/')), /127\.0\.0\.1:9001/);
    assert.deepEqual(await allowlist.check('https://hooks.example.com:8443/'), { allowed: true, address: '93.184.216.34', family: 4 });
    assert.match(refused(await allowlist.check('https://hooks.example.com/')), /hooks\.example\.com:443 does not match/);
    assert.deepEqual(await allowlist.check('https://a.example.org:8443/'), { allowed: true, address: '93.184.216.35', family: 4 });
    assert.match(refused(await allowlist.check('https://a.example.org/')), /a\.example\.org:443/);
  });

  test('CIDRs take a port after the prefix, IPv6 addresses in brackets', async () => {
    const allowlist = WebhookAllowlist.parse(['10.0.0.0/8:9000', '[::1]:8080', 'fd00::/8:9000', '[fe80::]/10:7000'], { lookup: dns });
    assert.equal((await allowlist.check('http://10.9.8.7:9000/')).allowed, true);
    assert.match(refused(await allowlist.check('http://10.9.8.7/')), /10\.9\.8\.7:80/);
    assert.deepEqual(await allowlist.check('http://[::1]:8080/'), { allowed: true, address: '::1', family: 6 });
    assert.match(refused(await allowlist.check('http://[::1]/')), /\[::1\]:80 is not inside/);
    assert.equal((await allowlist.check('http://[fd12::1]:9000/')).allowed, true);
    assert.equal((await allowlist.check('http://[fe80::1]:7000/')).allowed, true);
    assert.match(refused(await allowlist.check('http://[fe80::1]:9000/')), /\[fe80::1\]:9000/);
  });

  test('a bare IPv6 address has no port: its last group is part of the address', async () => {
    const allowlist = WebhookAllowlist.parse(['::1:8080']);
    assert.equal((await allowlist.check('http://[::1:8080]/')).allowed, true);
    assert.equal((await allowlist.check('http://[::1]:8080/')).allowed, false);
  });

  test('a name is resolved only when an entry for its port may allow it', async () => {
    const counted = fakeDns({ 'internal.corp': [{ address: '10.1.2.3', family: 4 }] });
    const allowlist = WebhookAllowlist.parse(['10.0.0.0/8:9000'], { lookup: counted });
    assert.deepEqual(await allowlist.check('http://internal.corp:9000/'), { allowed: true, address: '10.1.2.3', family: 4 });
    assert.equal(counted.queries.length, 1);
    assert.match(allowlist.refusalWithoutLookup('http://internal.corp/') ?? '', /internal\.corp:80 does not match/);
    assert.match(refused(await allowlist.check('http://internal.corp:9001/')), /internal\.corp:9001/);
    assert.equal(counted.queries.length, 1, 'no lookup for a port no entry lists');
  });

  test('the addresses of a name must lie inside entries for the same port', async () => {
    const allowlist = WebhookAllowlist.parse(['10.0.0.0/8:9000', '192.168.0.0/16'], { lookup: dns });
    assert.match(refused(await allowlist.check('http://internal.corp/')), /internal\.corp resolves to 10\.1\.2\.3, which --webhook\.allow does not include for port 80/);
  });
});
