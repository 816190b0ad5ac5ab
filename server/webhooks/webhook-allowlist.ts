import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { WebhookConfigError, WebhookLookupError } from './webhook-errors.js';
import { parseWebhookTarget } from './webhook-target.js';

/** The verdict on one target URL. */
export type WebhookCheck =
  | {
    allowed: true;
    /** The IP address that was checked; the delivery must connect to exactly this one. */
    address: string;
    family: 4 | 6;
  }
  | { allowed: false; reason: string };

/** Resolves a host name to all of its addresses, as `dns.lookup(hostname, { all: true })` does. */
export type WebhookLookup = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface WebhookAllowlistOptions {
  /**
   * Resolver for host names that only address entries can allow.
   * @defaultValue `node:dns` `lookup(hostname, { all: true })` (the system resolver, /etc/hosts included)
   */
  lookup?: WebhookLookup;
}

/** One DNS label: letters, digits, `_` and inner hyphens, at most 63 characters (RFC 1035, with `_` for internal names). */
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_HOST_NAME_LENGTH = 253;
/** The ports an entry without one allows: plain web traffic, not the host's other services. */
const WEB_PORTS: readonly number[] = [80, 443];

/** What the entries for one port allow. */
class PortRules {
  /** Exact host names, lowercase ASCII without a trailing dot. */
  readonly hostNames = new Set<string>();
  /** Parent domains of `*.` entries, each with a leading dot (`.example.com`). */
  readonly wildcardSuffixes: string[] = [];
  readonly addresses = new BlockList();
  hasAddressEntries = false;

  matchesHostName(host: string): boolean {
    return this.hostNames.has(host) || this.wildcardSuffixes.some((suffix) => host.endsWith(suffix));
  }

  includesAddress(address: string, family: number): boolean {
    return this.addresses.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/**
 * The outbound targets an operator allowed with `--webhook.allow`; empty allows nothing.
 *
 * Entries are host names (`hooks.example.com`; `*.example.com` matches any name below
 * example.com at any depth, not example.com itself), IP addresses (`127.0.0.1`, `::1`,
 * `[::1]`) and CIDRs (`10.0.0.0/8`, `fd00::/8`), each optionally with a port:
 * `hooks.example.com:8443`, `*.example.com:8443`, `127.0.0.1:9000`, `[::1]:8080`,
 * `10.0.0.0/8:9000`, `fd00::/8:9000`. An entry without a port allows ports 80 and 443 only, so
 * that allowing a host does not open its other services (SSH, a database, this server) to
 * anyone who can submit a callback URL; a URL without a port means its scheme's default.
 *
 * For the URL's port, a host name is allowed when it matches a host-name entry (the operator
 * trusts that name wherever it points), or when every address it resolves to lies inside an
 * address or CIDR entry ("every", so that a name with one internal address among public ones
 * cannot reach the internal one). An IP-literal URL is checked against the address and CIDR
 * entries only. IPv4 and IPv6 entries also match the other family's IPv4-mapped form (Node's
 * BlockList semantics), so `::/0` allows every IPv4 address too.
 */
export class WebhookAllowlist {
  readonly #rulesByPort: ReadonlyMap<number, PortRules>;
  readonly #lookup: WebhookLookup;

  private constructor(rulesByPort: ReadonlyMap<number, PortRules>, lookup: WebhookLookup) {
    this.#rulesByPort = rulesByPort;
    this.#lookup = lookup;
  }

  /**
   * Builds the allowlist from the values of every `--webhook.allow` given, each a comma-separated
   * list; blank items are skipped.
   * @throws {WebhookConfigError} (a TypeError, code `ERR_WEBHOOK_CONFIG`) naming the first malformed entry.
   */
  static parse(values: readonly string[], options: WebhookAllowlistOptions = {}): WebhookAllowlist {
    const rulesByPort = new Map<number, PortRules>();
    for (const value of values) {
      for (const item of value.split(',')) {
        const entry = item.trim();
        if (entry === '') continue;
        const { pattern, ports } = splitPort(entry);
        const address = parseAddressPattern(pattern, entry);
        const hostName = address === null ? normaliseHostPattern(pattern, entry) : null;
        for (const port of ports) {
          let rules = rulesByPort.get(port);
          if (rules === undefined) rulesByPort.set(port, rules = new PortRules());
          if (address !== null) {
            if (address.prefix === null) rules.addresses.addAddress(address.address, address.type);
            else rules.addresses.addSubnet(address.address, address.prefix, address.type);
            rules.hasAddressEntries = true;
          } else if (hostName!.startsWith('.')) {
            rules.wildcardSuffixes.push(hostName!);
          } else {
            rules.hostNames.add(hostName!);
          }
        }
      }
    }
    const lookup = options.lookup ?? ((hostname: string) => dnsLookup(hostname, { all: true }));
    return new WebhookAllowlist(rulesByPort, lookup);
  }

  /** True when no entry was given: every target is refused. */
  get isEmpty(): boolean {
    return this.#rulesByPort.size === 0;
  }

  /**
   * The verdict that needs no DNS lookup, for answering a submit with 400 early: a reason when
   * `url` is certainly refused, `null` when it may be allowed (then `check` decides at delivery).
   */
  refusalWithoutLookup(url: string): string | null {
    const verdict = this.#checkWithoutLookup(url);
    return 'reason' in verdict ? verdict.reason : null;
  }

  /**
   * Decides whether `url` may be called and, if so, which address to connect to.
   * @throws {WebhookLookupError} (rejects) when the host name cannot be resolved; a transient
   *   condition, unlike a refusal, so the dispatcher retries it.
   */
  async check(url: string): Promise<WebhookCheck> {
    const verdict = this.#checkWithoutLookup(url);
    if ('allowed' in verdict) return verdict;
    const { host, port, rules, matchesHostName } = verdict;
    let resolved: ReadonlyArray<{ address: string; family: number }>;
    try {
      resolved = await this.#lookup(host);
    } catch (error) {
      throw new WebhookLookupError(host, { cause: error });
    }
    const first = resolved[0];
    if (first === undefined) throw new WebhookLookupError(host);
    if (!matchesHostName) {
      for (const { address, family } of resolved) {
        if (!rules.includesAddress(address, family)) {
          return { allowed: false, reason: `${host} resolves to ${address}, which --webhook.allow does not include for port ${port}${portHint(port)}` };
        }
      }
    }
    return { allowed: true, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /** A final verdict, or the host name still to resolve, with the rules of its port and whether a host-name entry matched it. */
  #checkWithoutLookup(url: string): WebhookCheck | { host: string; port: number; rules: PortRules; matchesHostName: boolean } {
    if (this.isEmpty) return { allowed: false, reason: 'no webhook targets are allowed (--webhook.allow is empty)' };
    const target = parseWebhookTarget(url);
    if (typeof target === 'string') return { allowed: false, reason: target };
    const { host } = target;
    const port = effectivePort(target.url);
    const rules = this.#rulesByPort.get(port);
    const family = isIP(host);
    const hostAndPort = `${family === 6 ? `[${host}]` : host}:${port}`;
    if (family !== 0) {
      return rules?.includesAddress(host, family) === true
        ? { allowed: true, address: host, family: family === 6 ? 6 : 4 }
        : { allowed: false, reason: `${hostAndPort} is not inside --webhook.allow${portHint(port)}` };
    }
    const matchesHostName = rules?.matchesHostName(host) === true;
    // Without address entries for the port, a name that matches no host-name entry cannot be
    // allowed by its addresses either; refusing before the lookup also keeps refused names out of DNS.
    if (rules === undefined || (!matchesHostName && !rules.hasAddressEntries)) {
      return { allowed: false, reason: `${hostAndPort} does not match --webhook.allow${portHint(port)}` };
    }
    return { host, port, rules, matchesHostName };
  }
}

/** The port a request to `url` connects to: WHATWG URL leaves `port` empty for the scheme's default. */
function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Says why a refused URL with an unusual port may surprise its author. */
function portHint(port: number): string {
  return WEB_PORTS.includes(port) ? '' : ' (an entry without a port allows only ports 80 and 443)';
}

/**
 * Splits an entry into what it matches and the ports it allows. A port follows the last `:` of
 * `name:port`, `1.2.3.4:port`, `[v6]:port` and `cidr/prefix:port`; a bare IPv6 address
 * (`::1`, more than one colon and no brackets) has none, since its last group would be taken
 * for a port.
 */
function splitPort(entry: string): { pattern: string; ports: readonly number[] } {
  let portStart = -1;
  if (entry.startsWith('[')) {
    // After the `]` only the port has a colon: `[v6]`, `[v6]:port`, `[v6]/prefix`, `[v6]/prefix:port`.
    const close = entry.indexOf(']');
    if (close !== -1) portStart = entry.indexOf(':', close);
  } else {
    const slash = entry.indexOf('/');
    if (slash !== -1) portStart = entry.indexOf(':', slash);
    else if (entry.indexOf(':') === entry.lastIndexOf(':')) portStart = entry.indexOf(':');
  }
  if (portStart === -1) return { pattern: entry, ports: WEB_PORTS };
  const portText = entry.slice(portStart + 1);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new WebhookConfigError(`--webhook.allow: "${entry}" has a port that is not a number from 1 to 65535`);
  }
  return { pattern: entry.slice(0, portStart), ports: [port] };
}

/** An IP address or CIDR pattern (brackets allowed around an IPv6 address), or null when `pattern` is neither (a host name, then). */
function parseAddressPattern(pattern: string, entry: string): { address: string; prefix: number | null; type: 'ipv4' | 'ipv6' } | null {
  const slash = pattern.indexOf('/');
  const address = stripBrackets(slash === -1 ? pattern : pattern.slice(0, slash));
  const family = isIP(address);
  if (family === 0) {
    if (slash !== -1) throw new WebhookConfigError(`--webhook.allow: "${entry}" is not a CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`);
    if (pattern.startsWith('[')) throw new WebhookConfigError(`--webhook.allow: "${entry}" has brackets around something that is not an IPv6 address`);
    return null;
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (slash === -1) return { address, prefix: null, type };
  const prefixText = pattern.slice(slash + 1);
  const maxPrefix = family === 6 ? 128 : 32;
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) {
    throw new WebhookConfigError(`--webhook.allow: "${entry}" has a prefix length outside 0-${maxPrefix}`);
  }
  return { address, prefix, type };
}

function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/**
 * A host-name pattern as WHATWG URL would spell the names it matches (lowercase, punycode, no
 * trailing dot): the name itself, or `.domain` for `*.domain`; a config error naming `entry` otherwise.
 */
function normaliseHostPattern(pattern: string, entry: string): string {
  const wildcard = pattern.startsWith('*.');
  const name = wildcard ? pattern.slice(2) : pattern;
  const ascii = domainToASCII(name.endsWith('.') ? name.slice(0, -1) : name);
  const labels = ascii.split('.');
  const valid = ascii !== ''
    && ascii.length <= MAX_HOST_NAME_LENGTH
    && labels.every((label) => HOST_LABEL.test(label))
    // URL parsing turns a name whose last label is numeric into an IPv4 address (`10.1` is 10.0.0.1),
    // so such an entry could never match a URL host; it is a mistyped address.
    && !/^\d+$/.test(labels[labels.length - 1]!);
  if (!valid) {
    throw new WebhookConfigError(
      `--webhook.allow: "${entry}" is not a host name, *.domain, IP address or CIDR, with an optional :port (no scheme or path)`,
    );
  }
  return wildcard ? `.${ascii}` : ascii;
}
