import { fileURLToPath } from 'node:url';

/**
 * The server's own handler modules, loaded into the engine like an operator's: ArangoDB's
 * endpoints always, the demonstration routes with `--server.demo-handlers true`.
 */
export const ARANGO_HANDLERS = fileURLToPath(new URL('./arango-handlers.js', import.meta.url));
export const DEMO_HANDLERS = fileURLToPath(new URL('./demo-handlers.js', import.meta.url));
