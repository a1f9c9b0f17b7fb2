/**
 * The roles the library creates in every self-run Zabbix database, and where their credentials and
 * slots are named: fixed, so that policies and operators can recognise them.
 */

/** Role names the library creates; fixed so that policies and operators can recognise them. */
export const ADMIN_ROLE = "zabbix_ha_admin";
export const CHECK_ROLE = "zabbix_ha_check";
export const REPLICATION_ROLE = "zabbix_ha_replicator";

/**
 * Where a load balancer keeps the check role's password (a .pgpass only the haproxy user reads): its
 * DB checks and the wait for a writable primary through it read this file.
 */
export const CHECK_PASSFILE = "/etc/haproxy/pg-check.pgpass";

/** What every replication slot the library makes starts with: a replica drops those it no longer uses. */
export const SLOT_PREFIX = "zabbix_ha_";

/** The physical replication slot a replica streams from; slot names allow [a-z0-9_] only. */
export function replicationSlotName(hostName: string): string {
    return `${SLOT_PREFIX}${hostName.replace(/[^a-z0-9]/g, "_")}`;
}

/**
 * The Zabbix database and its owner role, named in the config (`db.name`, `db.user`): Zabbix's
 * servers and frontends log in as it, and every DB host's pg_hba names both.
 */
export interface ZabbixDbLogin {
    readonly dbName: string;
    readonly dbUser: string;
}
