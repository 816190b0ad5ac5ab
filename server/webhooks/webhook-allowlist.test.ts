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

  for (const entry of ['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/8x', 'example.com/8', 'https://example.com', 'example.com:8080', '*', '*.*.com', 'exa mple.com', '10.1', '-.com']) {
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
    assert.deepEqual(await allowlist.check('http://10.20.30.40:8080/hook'), { allowed: true, address: '10.20.30.40', family: 4 });
    assert.deepEqual(await allowlist.check('https://192.168.1.7/'), { allowed: true, address: '192.168.1.7', family: 4 });
    assert.deepEqual(await allowlist.check('http://127.0.0.1/'), { allowed: true, address: '127.0.0.1', family: 4 });
  });

  test('IPv4 outside every entry is refused', async () => {
    assert.match(refused(await allowlist.check('http://11.0.0.1/')), /11\.0\.0\.1 is not inside --webhook\.allow/);
    assert.match(refused(await allowlist.check('http://192.168.1.8/')), /192\.168\.1\.8/);
    assert.match(refused(await allowlist.check('http://127.0.0.2/')), /127\.0\.0\.2/);
  });

  test('IPv6 inside a CIDR is allowed; outside is refused', async () => {
    assert.deepEqual(await allowlist.check('http://[::1]:9000/'), { allowed: true, address: '::1', family: 6 });
    assert.deepEqual(await allowlist.check('http://[fd12:3456::1]/'), { allowed: true, address: 'fd12:3456::1', family: 6 });
    assert.match(refused(await allowlist.check('http://[fe80::1]/')), /fe80::1 is not inside/);
    assert.match(refused(await allowlist.check('http://[::2]/')), /::2 is not inside/);
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
    assert.match(refused(await list.check('https://other.example.net/')), /other\.example\.net does not match/);
    assert.deepEqual(namesOnly.queries, []);
  });

  test('refusalWithoutLookup answers what is certain before any DNS', () => {
    assert.equal(allowlist.refusalWithoutLookup('https://hooks.example.com/'), null);
    assert.equal(allowlist.refusalWithoutLookup('https://anything.else/'), null, 'CIDR entries may allow it after lookup');
    assert.match(allowlist.refusalWithoutLookup('http://11.0.0.1/') ?? '', /not inside/);
    assert.match(WebhookAllowlist.parse([]).refusalWithoutLookup('https://hooks.example.com/') ?? '', /empty/);
  });

  test('the system resolver is the default (localhost from /etc/hosts)', async () => {
    const verdict = await WebhookAllowlist.parse(['127.0.0.0/8,::1/128']).check('http://localhost:1/');
    assert.equal(verdict.allowed, true);
  });
});
