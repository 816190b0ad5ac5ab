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

/**
 * The outbound targets an operator allowed with `--webhook.allow`; empty allows nothing.
 *
 * Entries are host names (`hooks.example.com`; `*.example.com` matches any name below
 * example.com at any depth, not example.com itself), IP addresses (`127.0.0.1`, `::1`) and
 * CIDRs (`10.0.0.0/8`, `fd00::/8`). A host name is allowed when it matches a host-name entry
 * (the operator trusts that name wherever it points), or when every address it resolves to lies
 * inside an address or CIDR entry ("every", so that a name with one internal address among
 * public ones cannot reach the internal one). An IP-literal URL is checked against the address
 * and CIDR entries only. IPv4 and IPv6 entries also match the other family's IPv4-mapped form
 * (Node's BlockList semantics), so `::/0` allows every IPv4 address too.
 */
export class WebhookAllowlist {
  /** Exact host names, lowercase ASCII without a trailing dot. */
  readonly #hostNames: ReadonlySet<string>;
  /** Parent domains of `*.` entries, each with a leading dot (`.example.com`). */
  readonly #wildcardSuffixes: readonly string[];
  readonly #addresses: BlockList;
  readonly #hasAddressEntries: boolean;
  readonly #lookup: WebhookLookup;

  private constructor(
    hostNames: ReadonlySet<string>,
    wildcardSuffixes: readonly string[],
    addresses: BlockList,
    hasAddressEntries: boolean,
    lookup: WebhookLookup,
  ) {
    this.#hostNames = hostNames;
    this.#wildcardSuffixes = wildcardSuffixes;
    this.#addresses = addresses;
    this.#hasAddressEntries = hasAddressEntries;
    this.#lookup = lookup;
  }

  /**
   * Builds the allowlist from the values of every `--webhook.allow` given, each a comma-separated
   * list; blank items are skipped.
   * @throws {WebhookConfigError} (a TypeError, code `ERR_WEBHOOK_CONFIG`) naming the first malformed entry.
   */
  static parse(values: readonly string[], options: WebhookAllowlistOptions = {}): WebhookAllowlist {
    const hostNames = new Set<string>();
    const wildcardSuffixes: string[] = [];
    const addresses = new BlockList();
    let hasAddressEntries = false;
    for (const value of values) {
      for (const item of value.split(',')) {
        const entry = item.trim();
        if (entry === '') continue;
        if (addAddressEntry(addresses, entry)) {
          hasAddressEntries = true;
        } else if (entry.startsWith('*.')) {
          wildcardSuffixes.push(`.${normaliseHostName(entry.slice(2), entry)}`);
        } else {
          hostNames.add(normaliseHostName(entry, entry));
        }
      }
    }
    const lookup = options.lookup ?? ((hostname: string) => dnsLookup(hostname, { all: true }));
    return new WebhookAllowlist(hostNames, wildcardSuffixes, addresses, hasAddressEntries, lookup);
  }

  /** True when no entry was given: every target is refused. */
  get isEmpty(): boolean {
    return this.#hostNames.size === 0 && this.#wildcardSuffixes.length === 0 && !this.#hasAddressEntries;
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
    const { host, matchesHostName } = verdict;
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
        if (!this.#addresses.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
          return { allowed: false, reason: `${host} resolves to ${address}, which --webhook.allow does not include` };
        }
      }
    }
    return { allowed: true, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /** A final verdict, or the host name still to resolve and whether a host-name entry matched it. */
  #checkWithoutLookup(url: string): WebhookCheck | { host: string; matchesHostName: boolean } {
    if (this.isEmpty) return { allowed: false, reason: 'no webhook targets are allowed (--webhook.allow is empty)' };
    const target = parseWebhookTarget(url);
    if (typeof target === 'string') return { allowed: false, reason: target };
    const { host } = target;
    const family = isIP(host);
    if (family !== 0) {
      return this.#addresses.check(host, family === 6 ? 'ipv6' : 'ipv4')
        ? { allowed: true, address: host, family: family === 6 ? 6 : 4 }
        : { allowed: false, reason: `${host} is not inside --webhook.allow` };
    }
    const matchesHostName = this.#hostNames.has(host) || this.#wildcardSuffixes.some((suffix) => host.endsWith(suffix));
    // Without address entries, a name that matches no host-name entry cannot be allowed by its
    // addresses either; refusing before the lookup also keeps refused names out of DNS.
    if (!matchesHostName && !this.#hasAddressEntries) {
      return { allowed: false, reason: `${host} does not match --webhook.allow` };
    }
    return { host, matchesHostName };
  }
}

/** Adds `entry` to `addresses` when it is an IP address or CIDR; false when it is neither (a host name, then). */
function addAddressEntry(addresses: BlockList, entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = stripBrackets(slash === -1 ? entry : entry.slice(0, slash));
  const family = isIP(address);
  if (family === 0) {
    if (slash !== -1) throw new WebhookConfigError(`--webhook.allow: "${entry}" is not a CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`);
    return false;
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (slash === -1) {
    addresses.addAddress(address, type);
    return true;
  }
  const prefixText = entry.slice(slash + 1);
  const maxPrefix = family === 6 ? 128 : 32;
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) {
    throw new WebhookConfigError(`--webhook.allow: "${entry}" has a prefix length outside 0-${maxPrefix}`);
  }
  addresses.addSubnet(address, prefix, type);
  return true;
}

function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/** `name` as WHATWG URL would spell it in a hostname (lowercase, punycode, no trailing dot), or a config error naming `entry`. */
function normaliseHostName(name: string, entry: string): string {
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
      `--webhook.allow: "${entry}" is not a host name, *.domain, IP address or CIDR (no scheme, port or path)`,
    );
  }
  return ascii;
}
