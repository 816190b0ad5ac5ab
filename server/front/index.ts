/** The front door: authenticates, routes and hands each request to the job API, the operations surface or the engine. */
export { HttpFront } from './http-front.js';
export { DashboardAssets, DASHBOARD_CSP, DASHBOARD_PATH } from './dashboard-assets.js';
