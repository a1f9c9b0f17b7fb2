/**
 * haproxy.cfg of a site's load balancer, a pure renderer: the Zabbix UI over HTTPS (this site's
 * frontends first, the other sites' frontends as backups, each reached over verified TLS) and a
 * PostgreSQL port that reaches only the read-write primary.
 */
import { compareAddresses, hostCidr } from "../config/network";
import { TLS12_CIPHERS, TLS13_CIPHERSUITES, TLS_MIN_VERSION } from "../pki/tlsPolicy";
import { CA_FILE, HAPROXY_PEM } from "../pki/files";
import { PATRONI_REST_PORT } from "../postgres/patroniYml";
import { RENDERED_HEADER } from "../shell";
import { HTTPS_DEFAULT_PORT } from "./ports";

/** Where HAProxy reads its configuration, and the directory of its admin socket. */
export const HAPROXY_CONFIG = "/etc/haproxy/haproxy.cfg";
export const HAPROXY_RUN_DIR = "/run/haproxy";
/** HAProxy's section of the DB port, whose servers the newest-primary watcher sets ready or in maintenance. */
export const DB_PROXY = "postgres_primary";

/** HAProxy's admin socket in `runDir`: the stats socket the watcher sets server states through. */
export function adminSocket(runDir: string): string {
    return `${runDir}/admin.sock`;
}

/** What haproxy.cfg says: the UI's frontends, the DB port's servers, and how the primary is told. */
export interface HaproxyInput extends UiRouting, DbRouting {
    /** The site this load balancer serves (named in the file's header). */
    readonly site: string;
    /** The host's own address: every port binds to it alone, never to every address (IPv6 included). */
    readonly bindAddress: string;
    /** The TLS files the UI is served and its frontends verified with. */
    readonly tls: HaproxyTls;
    /** Script HAProxy runs to ask a DB host whether it is the read-write primary. */
    readonly primaryCheckCommand: string;
    /** Patroni's REST port, for the `patroni` check. */
    readonly patroniPort?: number;
    /**
     * The `patroni` check's TLS: the CA Patroni's REST API is verified against, and the certificate
     * and key HAProxy presents (one PEM; the API asks every client for one). The host's by default.
     */
    readonly patroniTls?: { readonly caFile: string; readonly pemFile: string };
    /** Directory for the stats socket (per-instance, so tests can run side by side). */
    readonly runDir: string;
    /** User HAProxy drops to after binding; the DB check runs as this user. */
    readonly runAs?: string;
}

/** Where HAProxy finds its certificate and the CA it verifies the frontends against. */
export interface HaproxyTls {
    /** The load balancer's certificate followed by its key, one file (HAPROXY_PEM on a host). */
    readonly certificateWithKey: string;
    /** The stack's CA: every frontend's certificate must verify against it (CA_FILE on a host). */
    readonly caFile: string;
}

/** The UI's side of a load balancer (`frontend zabbix_ui`): where users' requests go. */
export interface UiRouting {
    /** HTTP port: it only redirects to `httpsPort`. */
    readonly httpPort: number;
    /** HTTPS port the Zabbix UI is served on (UI_HTTPS_PORT on a host). */
    readonly httpsPort: number;
    /** Frontends of this site: they take the traffic. */
    readonly localFrontends: readonly Backend[];
    /** Frontends of other sites: used only when no local one is up. */
    readonly remoteFrontends: readonly Backend[];
}

/** The database's side of a load balancer (`listen postgres_primary`): who may use it and where it leads. */
export interface DbRouting {
    /** Port that forwards to the read-write PostgreSQL primary. */
    readonly dbPort: number;
    /**
     * Every DB host, the configured primary first: the check lets only the newest primary through, and
     * `balance first` sends every session to the first server that passes. Empty: no DB port (a
     * managed endpoint).
     */
    readonly dbServers: readonly Backend[];
    /** Who may use the DB port: addresses and networks of the cluster's hosts and the admin network. */
    readonly dbAllowedSources: readonly string[];
    /**
     * How the DB port tells the primary: `query` asks each server pg_is_in_recovery() (an external
     * check), `patroni` asks Patroni's REST API (GET /primary answers 200 on the leader only).
     */
    readonly dbCheck?: "query" | "patroni";
}

/** A server of an HAProxy backend. */
export interface Backend {
    /** Host name (a frontend's certificate carries it); HAProxy server names must be unique within a backend. */
    readonly name: string;
    readonly address: string;
    readonly port: number;
}

const byName = (a: Backend, b: Backend) => a.name.localeCompare(b.name);

/** Mozilla intermediate (pki/tlsPolicy.ts) for what HAProxy serves and for its sessions to the frontends. */
const TLS_GLOBALS = (["bind", "server"] as const)
    .map(
        side => `    ssl-default-${side}-ciphers ${TLS12_CIPHERS}
    ssl-default-${side}-ciphersuites ${TLS13_CIPHERSUITES}
    ssl-default-${side}-options ssl-min-ver ${TLS_MIN_VERSION} no-tls-tickets`,
    )
    .join("\n");
/** Browsers that once reached the UI over HTTPS refuse plain HTTP to it for two years (Mozilla's value). */
export const HSTS_HEADER = "max-age=63072000";

/** haproxy.cfg: the UI on `httpsPort` (`httpPort` redirects there), and with DB servers the port that leads to the newest primary only. */
export function renderHaproxyCfg(c: HaproxyInput): string {
    const server = (b: Backend, extra = "") => `    server ${b.name} ${b.address}:${b.port} check${extra}`;
    // A site whose Zabbix uses a managed DB endpoint balances the UI only.
    const withDb = c.dbServers.length > 0;
    const viaPatroni = c.dbCheck === "patroni";
    // With the query check, DB servers start in maintenance: the newest-primary watcher sets one ready.
    // The Patroni check verifies the REST API's certificate names the DB host (verifyhost).
    const dbServer = (b: Backend) => server(b, viaPatroni ? ` verifyhost ${b.name}` : " disabled");
    const patroniTls = c.patroniTls ?? { caFile: CA_FILE, pemFile: HAPROXY_PEM };
    // check-ssl: only the checks speak TLS (to Patroni's REST API); sessions pass through as TCP.
    const check = viaPatroni
        ? `    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions port ${c.patroniPort ?? PATRONI_REST_PORT} check-ssl verify required ca-file ${patroniTls.caFile} crt ${patroniTls.pemFile}`
        : `    option external-check
    external-check path "/usr/bin:/bin"
    external-check command ${c.primaryCheckCommand}
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions`;
    // Canonical: the same design in any order renders the same file (a reordered config plans nothing).
    const sources = [...new Set(c.dbAllowedSources.map(hostCidr))].sort(compareAddresses).join(" ");
    // Every frontend over TLS, its certificate verified against the stack's CA and its host name.
    const verified = (b: Backend) => ` ssl verify required ca-file ${c.tls.caFile} verifyhost ${b.name}`;
    const frontends = [
        ...[...c.localFrontends].sort(byName).map(b => server(b, verified(b))),
        ...[...c.remoteFrontends].sort(byName).map(b => server(b, `${verified(b)} backup`)),
    ];
    // The HTTP port only redirects, to the same host name on the HTTPS port (no port in the URL at 443).
    const httpsAuthority = `%[req.hdr(host),field(1,:)]${c.httpsPort === HTTPS_DEFAULT_PORT ? "" : `:${c.httpsPort}`}`;
    return `# ${RENDERED_HEADER}
# Load balancer of site "${c.site}".
global
    log stdout format raw local0 notice
    maxconn 4096
    stats socket ${adminSocket(c.runDir)} mode 600 level admin
${TLS_GLOBALS}
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
    bind ${c.bindAddress}:${c.httpPort}
    bind ${c.bindAddress}:${c.httpsPort} ssl crt ${c.tls.certificateWithKey} alpn h2,http/1.1
    http-request redirect location https://${httpsAuthority}%[capture.req.uri] code 301 unless { ssl_fc }
    http-response set-header Strict-Transport-Security "${HSTS_HEADER}" if { ssl_fc }
    default_backend zabbix_frontends

backend zabbix_frontends
    mode http
    balance roundrobin
    option httpchk
    http-check send meth GET uri /index.php ver HTTP/1.1 hdr Host zabbix
    http-check expect status 200
    default-server inter 2s fall 2 rise 2
${frontends.join("\n")}

${
    withDb
        ? `# PostgreSQL: only the newest primary is up (it accepts writes, and no other server does on a later
# timeline). A TCP or pgsql-check would also pass a replica, and Zabbix would sit on a read-only database.
listen ${DB_PROXY}
    mode tcp
    bind ${c.bindAddress}:${c.dbPort}
    # Zabbix keeps its DB connections open; cut them when the primary changes, not before.
    timeout client 30m
    timeout server 30m
    option tcpka
    # A server cut off mid-session sends nothing, not even a reset: its sessions would hang until
    # timeout server, and every frontend worker waiting on one with them (the 7.0 lab's UI through the
    # surviving site died after a few cuts, all of its php-fpm workers stuck). Probes after 10 s of
    # silence find a dead server in 25 s and close both sides; the client reconnects to the new primary.
    srvtcpka-idle 10s
    srvtcpka-intvl 5s
    srvtcpka-cnt 3
    # Every session to the first server that passes its check (the configured primary is listed
    # first): even two servers claiming to be primaries never take sessions at once through here.
    balance first
    tcp-request connection reject unless { src ${sources} }
${check}
${c.dbServers.map(dbServer).join("\n")}
`
        : ""
}`;
}
