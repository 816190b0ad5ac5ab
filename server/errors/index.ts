/** Every error answer of the server (the error table), ArangoDB's bodies, and how engine errors and job failures map to them. */
export { ERRORS, errorBody, type ServerError } from './error-table.js';
export { JOB_ENDINGS, errorFromEngine, failureAnswer, type ArangoError } from './arango-errors.js';
