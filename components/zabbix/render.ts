/**
 * Pure renderers for the Zabbix server and frontend: typed input in, file text out.
 * Tests, the real programs (zabbix_server, php, nginx) and the lab all consume these.
 */
import { ServerSizing } from "../sizing";

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

export interface ZabbixServerConfInput {
    /** HA node name (HANodeName): unique in the cluster, turns native HA on. Omitted when a cluster manager runs the server. */
    readonly nodeName?: string;
    /** Address other nodes and the frontend use to reach this node (NodeAddress). */
    readonly nodeAddress: string;
    readonly listenPort: number;
    /** Where the DB is reached: the local site's load balancer, never a fixed primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    readonly dbName: string;
    readonly dbUser: string;
    /** Refuse a database connection without TLS (a managed endpoint reached across zones). */
    readonly dbTlsRequired?: boolean;
    /** File that holds `DBPassword=...`, included so this file holds no secret. */
    readonly passwordInclude: string;
    readonly logFile: string;
    readonly pidFile: string;
    readonly socketDir: string;
    readonly sizing: ServerSizing;
}

export function renderZabbixServerConf(c: ZabbixServerConfInput): string {
    const s = c.sizing;
    const ha = c.nodeName === undefined
        ? "# A cluster manager starts this server on one node at a time: no native HA.\n"
        : `# Native HA: no VIP. The frontend and agents find the active node through the database.
HANodeName=${c.nodeName}
NodeAddress=${c.nodeAddress}:${c.listenPort}
`;
    return `# ${HEADER}
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
${c.dbTlsRequired ? "# The endpoint is reached over networks we do not own: no cleartext session.\nDBTLSConnect=required\n" : ""}Include=${c.passwordInclude}

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
`;
}

/** What Zabbix agents and proxies need to reach one server cluster. */
export interface AgentServerSettings {
    /** Passive checks: every node (or the VIP) may poll, comma-separated. */
    readonly Server: string;
    /** Active checks: the nodes of ONE cluster separated by ";" (a "," would mean separate servers, each sent everything). */
    readonly ServerActive: string;
}

export function agentServerSettings(addresses: readonly string[], port: number): AgentServerSettings {
    return { Server: addresses.join(","), ServerActive: addresses.map(a => `${a}:${port}`).join(";") };
}

/** The agent configuration lines, for an include file in zabbix_agentd.d / zabbix_agent2.d. */
export function renderAgentServerSettings(s: AgentServerSettings): string {
    return `# ${HEADER}\nServer=${s.Server}\nServerActive=${s.ServerActive}\n`;
}

/** The included file with the DB password; the script fills in the value from stdin. */
/**
 * A drop-in for the server's systemd unit. Zabbix stops itself, cleanly (exit 0), when its HA manager
 * meets a database error such as a primary that turned read-only for a moment, and the packages'
 * units restart only on signals: every node of a cluster could stop at once for good. Restart
 * always; an operator's `systemctl stop` still stops it.
 */
export function renderServerUnitDropIn(): string {
    return `# ${HEADER}
[Service]
Restart=always
RestartSec=5
`;
}

export function zabbixServerPasswordTemplate(variable: string): string {
    return `DBPassword=$${variable}`;
}

export interface ZabbixFrontendConfInput {
    /** The local site's load balancer, which forwards to the read-write primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    readonly dbName: string;
    readonly dbUser: string;
    /** File holding the DB password, readable by the web server's user only. */
    readonly passwordFile: string;
    /** Refuse a database connection without TLS: the frontend then checks that its session is encrypted. */
    readonly dbTlsRequired?: boolean;
    /** Shown in the UI's header; naming the site tells operators which one answered. */
    readonly serverName: string;
}

function phpString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function renderZabbixConfPhp(c: ZabbixFrontendConfInput): string {
    return `<?php
// ${HEADER}
$DB['TYPE']     = 'POSTGRESQL';
$DB['SERVER']   = ${phpString(c.dbHost)};
$DB['PORT']     = ${phpString(String(c.dbPort))};
$DB['DATABASE'] = ${phpString(c.dbName)};
$DB['USER']     = ${phpString(c.dbUser)};
// Read from a file only the web server can read, so this file holds no secret.
$DB['PASSWORD'] = rtrim((string) @file_get_contents(${phpString(c.passwordFile)}), "\\r\\n");
$DB['SCHEMA']   = '';
$DB['ENCRYPTION']  = ${c.dbTlsRequired ? "true" : "false"};
$DB['KEY_FILE']    = '';
$DB['CERT_FILE']   = '';
$DB['CA_FILE']     = '';
$DB['VERIFY_HOST'] = false;
$DB['CIPHER_LIST'] = '';
$DB['DOUBLE_IEEE754'] = true;

// Native HA: $ZBX_SERVER and $ZBX_SERVER_PORT stay unset, so the frontend asks the
// database (ha_node) which node is active and follows it after a failover.
$ZBX_SERVER_NAME = ${phpString(c.serverName)};

$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
`;
}

export interface NginxSiteInput {
    readonly listenPort: number;
    /** Document root of the Zabbix frontend. */
    readonly root: string;
    /** php-fpm pool socket. */
    readonly phpSocket: string;
}

export function renderNginxSite(c: NginxSiteInput): string {
    return `# ${HEADER}
server {
    listen ${c.listenPort};
    listen [::]:${c.listenPort};
    server_name _;
    root ${c.root};
    index index.php;
    client_max_body_size 5m;

    location = /favicon.ico { log_not_found off; }
    location / { try_files $uri $uri/ =404; }
    location /assets { access_log off; expires 10d; }
    location ~ /\\.ht { deny all; }
    location ~ /(api\\/|conf[^\\.]|include|locale) { deny all; return 404; }
    location /vendor { deny all; return 404; }

    location ~ [^/]\\.php(/|$) {
        fastcgi_pass unix:${c.phpSocket};
        fastcgi_split_path_info ^(.+\\.php)(/.+)$;
        fastcgi_index index.php;
        include fastcgi_params;
        fastcgi_param DOCUMENT_ROOT ${c.root};
        fastcgi_param SCRIPT_FILENAME ${c.root}$fastcgi_script_name;
        fastcgi_param PATH_TRANSLATED ${c.root}$fastcgi_script_name;
        fastcgi_intercept_errors on;
        fastcgi_read_timeout 300;
    }
}
`;
}

export interface PhpFpmPoolInput {
    readonly socket: string;
    /** User php-fpm and nginx run as (www-data on Debian, nginx on RHEL). */
    readonly user: string;
    readonly timezone: string;
}

/** A pool of its own with the PHP settings the Zabbix frontend's setup check asks for. */
export function renderPhpFpmPool(c: PhpFpmPoolInput): string {
    return `; ${HEADER}
[zabbix]
user = ${c.user}
group = ${c.user}
listen = ${c.socket}
listen.owner = ${c.user}
listen.group = ${c.user}
listen.mode = 0660
pm = dynamic
pm.max_children = 50
pm.start_servers = 5
pm.min_spare_servers = 5
pm.max_spare_servers = 35
pm.max_requests = 200
php_value[max_execution_time] = 300
php_value[memory_limit] = 128M
php_value[post_max_size] = 16M
php_value[upload_max_filesize] = 2M
php_value[max_input_time] = 300
php_value[max_input_vars] = 10000
php_value[date.timezone] = ${c.timezone}
`;
}
