/**
 * The frontend's zabbix.conf.php, in HA mode (no $ZBX_SERVER): pure renderer.
 */
import { ZabbixDbLogin } from "../postgres/roles";
import { DbClientTls } from "../postgres/tls";
import { RENDERED_HEADER } from "../shell";

/** What zabbix.conf.php says: the DB path and login, and the name the UI shows. */
export interface ZabbixFrontendConfInput extends ZabbixDbLogin {
    /** The local site's load balancer, which forwards to the read-write primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** File holding the DB password, readable by the web server's user only. */
    readonly passwordFile: string;
    /**
     * How the DB session is secured: verify-full against the stack's CA (self-run; the frontend then
     * also checks its session is encrypted), or a managed endpoint's sslmode.
     */
    readonly dbTls: DbClientTls;
    /** Shown in the UI's header; naming the site tells operators which one answered. */
    readonly serverName: string;
}

function phpString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** zabbix.conf.php: the DB through the site's load balancer, the password read from a file, no server named. */
export function renderZabbixConfPhp(c: ZabbixFrontendConfInput): string {
    return `<?php
// ${RENDERED_HEADER}
$DB['TYPE']     = 'POSTGRESQL';
$DB['SERVER']   = ${phpString(c.dbHost)};
$DB['PORT']     = ${phpString(String(c.dbPort))};
$DB['DATABASE'] = ${phpString(c.dbName)};
$DB['USER']     = ${phpString(c.dbUser)};
// Read from a file only the web server can read, so this file holds no secret.
$DB['PASSWORD'] = rtrim((string) @file_get_contents(${phpString(c.passwordFile)}), "\\r\\n");
$DB['SCHEMA']   = '';
$DB['ENCRYPTION']  = ${c.dbTls.sslmode !== "disable" ? "true" : "false"};
$DB['KEY_FILE']    = '';
$DB['CERT_FILE']   = '';
// With a CA file and VERIFY_HOST the frontend connects with sslmode=verify-full.
$DB['CA_FILE']     = ${phpString(c.dbTls.caFile ?? "")};
$DB['VERIFY_HOST'] = ${c.dbTls.caFile ? "true" : "false"};
$DB['CIPHER_LIST'] = '';
$DB['DOUBLE_IEEE754'] = true;

// Native HA: $ZBX_SERVER and $ZBX_SERVER_PORT stay unset, so the frontend asks the
// database (ha_node) which node is active and follows it after a failover.
$ZBX_SERVER_NAME = ${phpString(c.serverName)};

$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
`;
}
