/** HTTP on uWebSockets.js: one exchange per request (answers written with backpressure), request bodies within a bound. */
export { Exchange, JSON_TYPE, type Answer } from './exchange.js';
export { readBody } from './request-body.js';
