/**
 * Pure renderers for a site's HAProxy: the Zabbix UI (this site's frontends first, the other
 * sites' frontends as backups) and a PostgreSQL port that reaches only the read-write primary.
 */

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

export interface Backend {
    /** Host name; HAProxy server names must be unique within a backend. */
    readonly name: string;
    readonly address: string;
    readonly port: number;
}

export interface HaproxyInput {
    readonly site: string;
    readonly httpPort: number;
    /** Frontends of this site: they take the traffic. */
    readonly localFrontends: readonly Backend[];
    /** Frontends of other sites: used only when no local one is up. */
    readonly remoteFrontends: readonly Backend[];
    readonly dbPort: number;
    /** Every DB host; the check lets only the current primary through. */
    readonly dbServers: readonly Backend[];
    /** Who may use the DB port: the cluster's hosts and the admin network. */
    readonly dbAllowedSources: readonly string[];
    /** Script HAProxy runs to ask a DB host whether it is the read-write primary. */
    readonly primaryCheckCommand: string;
    /**
     * How the DB port tells the primary: `query` asks each server pg_is_in_recovery() (an external
     * check), `patroni` asks Patroni's REST API (GET /primary answers 200 on the leader only).
     */
    readonly dbCheck?: "query" | "patroni";
    /** Patroni's REST port, for the `patroni` check. */
    readonly patroniPort?: number;
    /** Directory for the stats socket (per-instance, so tests can run side by side). */
    readonly runDir: string;
    /** User HAProxy drops to after binding; the DB check runs as this user. */
    readonly runAs?: string;
}

export function renderHaproxyCfg(c: HaproxyInput): string {
    const server = (b: Backend, extra = "") => `    server ${b.name} ${b.address}:${b.port} check${extra}`;
    // A site whose Zabbix uses a managed DB endpoint balances the UI only.
    const withDb = c.dbServers.length > 0;
    const viaPatroni = c.dbCheck === "patroni";
    const check = viaPatroni
        ? `    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions port ${c.patroniPort ?? 8008}`
        : `    option external-check
    external-check path "/usr/bin:/bin"
    external-check command ${c.primaryCheckCommand}
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions`;
    const sources = c.dbAllowedSources.map(s => (s.includes("/") ? s : `${s}/32`)).join(" ");
    return `# ${HEADER}
# Load balancer of site "${c.site}".
global
    log stdout format raw local0 notice
    maxconn 4096
    stats socket ${c.runDir}/admin.sock mode 600 level admin
${c.runAs ? `    user ${c.runAs}\n    group ${c.runAs}\n` : ""}${withDb && !viaPatroni ? "    # The DB check runs psql: HAProxy needs fork for external checks.\n    external-check\n    insecure-fork-wanted\n" : ""}
defaults
    log global
    timeout connect 3s
    timeout client 1m
    timeout server 1m
    default-server init-addr last,libc,none

frontend zabbix_ui
    mode http
    option httplog
    bind :${c.httpPort}
    default_backend zabbix_frontends

backend zabbix_frontends
    mode http
    balance roundrobin
    option httpchk
    http-check send meth GET uri /index.php ver HTTP/1.1 hdr Host zabbix
    http-check expect status 200
    default-server inter 2s fall 2 rise 2
${[...c.localFrontends.map(b => server(b)), ...c.remoteFrontends.map(b => server(b, " backup"))].join("\n")}

${withDb ? `# PostgreSQL: only the server that answers pg_is_in_recovery() = false is up. A TCP or
# pgsql-check would also pass a replica, and Zabbix would then sit on a read-only database.
listen postgres_primary
    mode tcp
    bind :${c.dbPort}
    # Zabbix keeps its DB connections open; cut them when the primary changes, not before.
    timeout client 30m
    timeout server 30m
    option tcpka
    tcp-request connection reject unless { src ${sources} }
${check}
${c.dbServers.map(b => server(b)).join("\n")}
` : ""}`;
}

export interface PrimaryCheckInput {
    /** Role the check logs in as; it needs no privilege beyond connecting. */
    readonly user: string;
    /** .pgpass file readable by the haproxy user only. */
    readonly passfile: string;
}

/** External check: HAProxy passes the server's address and port as $3 and $4. */
export function renderPrimaryCheckScript(c: PrimaryCheckInput): string {
    return `#!/bin/sh
# ${HEADER}
# Exit 0 only when the server at $3:$4 accepts writes: a replica answers "t".
PGPASSFILE='${c.passfile}'
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
answer=$(psql -X -q -t -A -w -h "$3" -p "$4" -U '${c.user}' -d postgres -c 'select pg_is_in_recovery()' 2>/dev/null) || exit 1
[ "$answer" = f ]
`;
}
