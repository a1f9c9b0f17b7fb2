/**
 * The frontend's zabbix.conf.php, in HA mode (no $ZBX_SERVER): pure renderer.
 */
import { ZabbixDbLogin } from "../postgres/roles";
import { RENDERED_HEADER } from "../shell";

/** What zabbix.conf.php says: the DB path and login, and the name the UI shows. */
export interface ZabbixFrontendConfInput extends ZabbixDbLogin {
    /** The local site's load balancer, which forwards to the read-write primary. */
    readonly dbHost: string;
    readonly dbPort: number;
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
