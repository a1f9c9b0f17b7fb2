/**
 * zabbix_server.conf of one Zabbix server node: pure renderer, typed input in, file text out.
 * The real-program tests start zabbix_server with it.
 */
import { ZabbixVersion } from "../config/types";
import { ZabbixDbLogin } from "../postgres/roles";
import { DbClientTls } from "../postgres/tls";
import { RENDERED_HEADER } from "../shell";
import { ServerSizing } from "../sizing";

/** What zabbix_server.conf says about one node. */
export interface ZabbixServerConfInput extends ZabbixDbLogin {
    /** The Zabbix series that reads the file: each parameter is rendered only where the series knows it. */
    readonly version: ZabbixVersion;
    /** HA node name (HANodeName): unique in the cluster, turns native HA on. Omitted when a cluster manager runs the server. */
    readonly nodeName?: string;
    /** Address other nodes and the frontend use to reach this node (NodeAddress). */
    readonly nodeAddress: string;
    readonly listenPort: number;
    /** Where the DB is reached: the local site's load balancer, never a fixed primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** How the DB session is secured: verify_full against the stack's CA (self-run), or the endpoint's sslmode. */
    readonly dbTls: DbClientTls;
    /** File that holds `DBPassword=...`, included so this file holds no secret. */
    readonly passwordInclude: string;
    readonly logFile: string;
    readonly pidFile: string;
    readonly socketDir: string;
    readonly sizing: ServerSizing;
}

/** The DB session's TLS lines: the server refuses a session that is not as secure as they say. */
function dbTlsLines(t: DbClientTls): string {
    if (t.sslmode === "verify-full") {
        return `# The DB's certificate must verify against the stack's CA and name the address above.\nDBTLSConnect=verify_full\nDBTLSCAFile=${t.caFile}\n`;
    }
    return t.sslmode === "require"
        ? "# The endpoint is reached over networks we do not own: no cleartext session.\nDBTLSConnect=required\n"
        : "";
}

/** zabbix_server.conf: HA node settings (unless a cluster manager runs it), the DB path through the site's load balancer, the sizing. */
export function renderZabbixServerConf(c: ZabbixServerConfInput): string {
    const s = c.sizing;
    const ha =
        c.nodeName === undefined
            ? "# A cluster manager starts this server on one node at a time: no native HA.\n"
            : `# Native HA: no VIP. The frontend and agents find the active node through the database.
HANodeName=${c.nodeName}
NodeAddress=${c.nodeAddress}:${c.listenPort}
`;
    return `# ${RENDERED_HEADER}
# Zabbix server${c.nodeName === undefined ? "" : ` HA node "${c.nodeName}"`}.
LogFile=${c.logFile}
LogFileSize=0
PidFile=${c.pidFile}
SocketDir=${c.socketDir}
ListenPort=${c.listenPort}

${ha}
# The local site's load balancer forwards to whichever PostgreSQL is the read-write primary;
# a fixed primary address would leave both nodes in standby after a DB failover.
DBHost=${c.dbHost}
DBPort=${c.dbPort}
DBName=${c.dbName}
DBUser=${c.dbUser}
${dbTlsLines(c.dbTls)}Include=${c.passwordInclude}

# Sized for ${s.nvps} new values per second.
CacheSize=${s.cacheSizeMiB}M
HistoryCacheSize=${s.historyCacheSizeMiB}M
HistoryIndexCacheSize=${s.historyIndexCacheSizeMiB}M
TrendCacheSize=${s.trendCacheSizeMiB}M
ValueCacheSize=${s.valueCacheSizeMiB}M
StartPollers=${s.startPollers}
StartPreprocessors=${s.startPreprocessors}
StartDBSyncers=${s.startDbSyncers}
StartTrappers=${s.startTrappers}

Timeout=4
LogSlowQueries=3000
StatsAllowedIP=127.0.0.1
${
    c.version === "6.0"
        ? ""
        : `# Global scripts run commands on the server and, through it, on agents: off, as Debian 13 ships
# it (7.0's own default is on); 6.0 has no such switch.
EnableGlobalScripts=0
`
}`;
}
