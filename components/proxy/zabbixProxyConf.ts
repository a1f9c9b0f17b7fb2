/**
 * zabbix_proxy.conf of one active proxy with its own SQLite database: pure renderer, typed input in,
 * file text out. The real-program tests hand it to `zabbix_proxy -T`.
 */
import { RENDERED_HEADER } from "../shell";
import { ProxySizing } from "../sizing";

/** How a proxy or an agent proves itself, and what it accepts: a pre-shared key, nothing unencrypted. */
export interface PskFiles {
    /** TLSPSKIdentity: unique per proxy and per agent, sent in clear during the handshake (no secret in it). */
    readonly identity: string;
    /** TLSPSKFile: the key, hex, readable by the service alone. */
    readonly file: string;
}

/** What zabbix_proxy.conf says about one proxy. */
export interface ZabbixProxyConfInput {
    /** Hostname: the proxy's name in Zabbix (its host name). */
    readonly hostname: string;
    /** Server: the server cluster's nodes, `address:port` separated by ";" (one cluster), or its VIP. */
    readonly server: string;
    /** ListenIP: the proxy's own address, where agents reach it. */
    readonly listenIp: string;
    readonly listenPort: number;
    /** DBName: the absolute path of the SQLite file (a relative one would follow the daemon's working directory). */
    readonly dbPath: string;
    readonly logFile: string;
    readonly pidFile: string;
    readonly socketDir: string;
    readonly sizing: ProxySizing;
    readonly psk: PskFiles;
}

/** How often a proxy asks the server for its configuration (7.0's ProxyConfigFrequency default, said out loud: the failover bound uses it). */
export const PROXY_CONFIG_FREQUENCY_SECONDS = 10;

/** How often a proxy sends its collected values (DataSenderFrequency): what a killed proxy's memory holds at most, unsent. */
export const DATA_SENDER_FREQUENCY_SECONDS = 1;

/** zabbix_proxy.conf: active mode towards the cluster, the SQLite file, the buffers, PSK both ways. */
export function renderZabbixProxyConf(c: ZabbixProxyConfInput): string {
    if (!c.dbPath.startsWith("/")) {
        throw new Error(`the proxy's DBName must be an absolute path, not ${JSON.stringify(c.dbPath)}`);
    }
    if (c.server.includes(",")) {
        throw new Error(
            `an active proxy reports to one server or one cluster (";" between its nodes), not ${c.server}`,
        );
    }
    const s = c.sizing;
    return `# ${RENDERED_HEADER}
# Zabbix proxy "${c.hostname}", active: it asks the servers for its configuration and sends them its data.
ProxyMode=0
# The nodes of one HA cluster, separated by ";": the proxy follows whichever node is active.
Server=${c.server}
Hostname=${c.hostname}
ListenIP=${c.listenIp}
ListenPort=${c.listenPort}
LogFile=${c.logFile}
LogFileSize=0
PidFile=${c.pidFile}
SocketDir=${c.socketDir}

# Its own database: SQLite, at an absolute path.
DBName=${c.dbPath}

# Sized for ${s.nvps} new values per second (its group's share with one proxy lost).
# Hybrid: values wait in memory while the servers answer, and go to the database when they do not.
ProxyBufferMode=hybrid
ProxyMemoryBufferSize=${s.memoryBufferMiB}M
# Values it could not send are kept ${s.offlineBufferHours} h (up to ${s.offlineBufferDiskMiB} MiB of the database).
ProxyOfflineBuffer=${s.offlineBufferHours}
ProxyConfigFrequency=${PROXY_CONFIG_FREQUENCY_SECONDS}
DataSenderFrequency=${DATA_SENDER_FREQUENCY_SECONDS}

# A pre-shared key towards the servers and from the agents; nothing unencrypted is accepted.
TLSConnect=psk
TLSAccept=psk
TLSPSKIdentity=${c.psk.identity}
TLSPSKFile=${c.psk.file}

Timeout=4
LogSlowQueries=3000
StatsAllowedIP=127.0.0.1
`;
}
