/**
 * How a site's load balancer lets only the newest DB primary take sessions: the check HAProxy runs
 * per server (its external check, every second, killed after one second; rendered here), and a
 * watcher beside HAProxy that decides which server may take sessions at all (newestPrimaryWatch.ts).
 *
 * Why a watcher: every promotion starts a new timeline, so a former primary that comes back writable
 * (its site was lost and an operator promoted a replica elsewhere) writes on an earlier timeline than
 * the real primary, whatever this load balancer's own, possibly stale, configuration says. Telling
 * them apart means asking every server, across sites, which takes longer than HAProxy's one-second
 * check on a WAN; and HAProxy starts (and reloads) with every server up until its first check, which
 * would hand a superseded primary sessions for a moment. So the DB servers start in maintenance
 * (haproxy.cfg), and the watcher, twice a second, asks every server and sets the one that accepts
 * writes on the latest timeline ready and every other server that answered to maintenance, through
 * HAProxy's admin socket; a server it cannot reach proves nothing and is left as it is. The check
 * then only confirms that the ready server still accepts writes. With `balance first`, one balancer
 * never hands sessions to two servers at once.
 */
import { LIBEXEC_DIR } from "../platform";
import { PgClientTls, clientExport } from "../postgres/tls";
import { RENDERED_HEADER, shellQuote } from "../shell";

/** The check HAProxy runs per DB server; its role's password is in CHECK_PASSFILE (postgres). */
export const PRIMARY_CHECK = "/etc/haproxy/pg-is-primary";
/** The newest-primary watcher and its unit. */
export const NEWEST_PRIMARY_WATCH = `${LIBEXEC_DIR}/newest-primary-watch`;
export const NEWEST_PRIMARY_UNIT = "zabbix-ha-newest-primary.service";

/** How the check logs in to each DB server. */
export interface PrimaryCheckInput {
    /** Role the check logs in as; it needs no privilege beyond connecting. */
    readonly user: string;
    /** .pgpass file readable by the haproxy user only (CHECK_PASSFILE where the stack deploys it). */
    readonly passfile: string;
    /** The CA the DB hosts' certificates must verify against (verify-full). */
    readonly tls: PgClientTls;
}

/** HAProxy's external check: the server's address and port arrive as $3 and $4; exit 0 marks it up. */
export function renderPrimaryCheckScript(c: PrimaryCheckInput): string {
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Exit 0 only when the server at $3:$4 accepts writes: a replica answers "t". (Which writable server
# may take sessions at all is the newest-primary watcher's decision.)
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
${clientExport(c.tls)}
answer=$(psql -X -q -t -A -w -h "$3" -p "$4" -U ${shellQuote(c.user)} -d postgres -c 'select pg_is_in_recovery()' 2>/dev/null) || exit 1
[ "$answer" = f ]
`;
}
