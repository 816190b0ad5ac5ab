const MAX_INTERNED_HEADER_LISTS = 256;
const EMPTY_HEADERS = Object.freeze([]) as unknown as string[];

function sameStrings(left: readonly string[], right: readonly string[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

/**
 * Shares one frozen copy of each distinct header list, since most results of a route
 * carry the same few headers. The cache is bounded: when full it starts over (lists
 * already stored stay alive through their jobs), so unique headers cost one copy each.
 */
export class HeaderListInterner {
  readonly #byKey = new Map<string, string[]>();
  #last = EMPTY_HEADERS;

  intern(headers: string[]): string[] {
    if (headers.length === 0) return EMPTY_HEADERS;
    if (sameStrings(headers, this.#last)) return this.#last;
    const key = headers.join('\n');
    let list = this.#byKey.get(key);
    // Compared again because a value holding '\n' could share another list's key.
    if (list === undefined || !sameStrings(headers, list)) {
      list = Object.freeze(headers.slice()) as string[];
      if (this.#byKey.size >= MAX_INTERNED_HEADER_LISTS) this.#byKey.clear();
      this.#byKey.set(key, list);
    }
    this.#last = list;
    return list;
  }
}
