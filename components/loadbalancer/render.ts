/**
 * Pure renderers of a site's load balancer: typed input in, file text out, no Pulumi. One file per
 * file the host reads: haproxy.cfg (haproxyCfg.ts), the DB servers' external check pg-is-primary
 * (primaryCheck.ts), the newest-primary watcher (newestPrimaryWatch.ts) and its unit
 * (newestPrimaryUnit.ts); the check role's .pgpass is postgres' pgpass.ts. Tests hand them to
 * HAProxy, psql and shellcheck.
 */
export * from "./haproxyCfg";
export * from "./primaryCheck";
export * from "./newestPrimaryWatch";
export * from "./newestPrimaryUnit";
