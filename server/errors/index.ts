/** ArangoDB error numbers and bodies, and how engine errors become HTTP answers. */
export { ERROR_NUM, errorBody, errorFromEngine } from './arango-errors.js';
