import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';

/**
 * What the tests' webhook receivers share: a server on 127.0.0.1 with a port of its own
 * (port 0), its address as a webhook URL, and closing it with whatever it still holds open.
 */
export abstract class LoopbackReceiver<S extends Server> {
  protected readonly server: S;
  readonly #scheme: 'http' | 'https';

  protected constructor(server: S, scheme: 'http' | 'https' = 'http') {
    this.server = server;
    this.#scheme = scheme;
  }

  /** Listens on 127.0.0.1, port 0; resolves with the receiver once it does. */
  protected async listening(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `${this.#scheme}://127.0.0.1:${this.port}${path}`;
  }

  /** Drops what the receiver holds (connections, held answers), then closes its server. */
  async close(): Promise<void> {
    this.dropConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  protected abstract dropConnections(): void;
}
