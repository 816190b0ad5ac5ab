/** ArangoDB error numbers and bodies, and how engine errors become HTTP answers. */
export { ERROR_NUM, JOB_ENDINGS, errorBody, errorFromEngine, failureAnswer, type ArangoError } from './arango-errors.js';
