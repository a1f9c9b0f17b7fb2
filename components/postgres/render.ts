/**
 * Pure renderers for PostgreSQL: the settings every DB host shares, the settings that follow a
 * host's role (primary or replica), and pg_hba.conf. Tests and a scratch `initdb` cluster consume them.
 */

import { compareAddresses } from "../config/network";

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

/** Role names the library creates; fixed so that policies and operators can recognise them. */
export const ADMIN_ROLE = "zabbix_ha_admin";
export const CHECK_ROLE = "zabbix_ha_check";
export const REPLICATION_ROLE = "zabbix_ha_replicator";

/**
 * Where a load balancer keeps the check role's password (a .pgpass only the haproxy user reads): its
 * DB checks and the wait for a writable primary through it read this file.
 */
export const CHECK_PASSFILE = "/etc/haproxy/pg-check.pgpass";

/** The physical replication slot a replica streams from; slot names allow [a-z0-9_] only. */
export function replicationSlotName(hostName: string): string {
    return `zabbix_ha_${hostName.replace(/[^a-z0-9]/g, "_")}`;
}

export interface PostgresConfInput {
    /** Addresses PostgreSQL listens on: the host's own address and loopback. */
    readonly listenAddresses: readonly string[];
    readonly port: number;
    readonly maxConnections: number;
    /** File of the hba rules, when not the distribution's default place. */
    readonly hbaFile?: string;
}

/** Settings shared by every DB host, whichever its role: a replica can be promoted as it is. */
export function renderPostgresConf(c: PostgresConfInput): string {
    return `# ${HEADER}
listen_addresses = '${c.listenAddresses.join(",")}'
port = ${c.port}
max_connections = ${c.maxConnections}
password_encryption = 'scram-sha-256'
${c.hbaFile ? `hba_file = '${c.hbaFile}'\n` : ""}
# Streaming replication across sites; every host can be primary or replica.
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '1GB'
hot_standby = on
hot_standby_feedback = on
# pg_rewind needs hint bits in WAL to rewind an old primary instead of copying it whole.
wal_log_hints = on
recovery_target_timeline = 'latest'
`;
}

export type PostgresRoleConfInput =
    | { readonly role: "primary"; readonly synchronousStandbys: readonly string[] }
    | {
        readonly role: "replica";
        readonly primaryAddress: string;
        readonly primaryPort: number;
        readonly replicationUser: string;
        /** This host's name, sent as application_name: sync replication names standbys by it. */
        readonly applicationName: string;
        readonly slotName: string;
        /** The postgres user's .pgpass, where the replication password lives. */
        readonly passfile: string;
    };

/** Settings that depend on the host's current role. On a replica the primary's address lives here. */
export function renderPostgresRoleConf(c: PostgresRoleConfInput): string {
    if (c.role === "primary") {
        const sync = c.synchronousStandbys.length > 0
            ? `ANY 1 (${c.synchronousStandbys.map(name => `"${name}"`).join(", ")})`
            : "";
        return `# ${HEADER}
# This host is the primary.
synchronous_standby_names = '${sync}'
`;
    }
    const conninfo = [
        `host=${c.primaryAddress}`, `port=${c.primaryPort}`, `user=${c.replicationUser}`,
        `application_name=${c.applicationName}`, `passfile=${c.passfile}`, "connect_timeout=5",
    ].join(" ");
    return `# ${HEADER}
# This host is a replica of ${c.primaryAddress}.
primary_conninfo = '${conninfo}'
primary_slot_name = '${c.slotName}'
synchronous_standby_names = ''
`;
}

export interface HbaRule {
    readonly database: string;
    readonly user: string;
    /** CIDR, or a bare IPv4 address (written as /32). */
    readonly source: string;
}

export interface PgHbaInput {
    readonly rules: readonly HbaRule[];
}

/** pg_hba.conf: local peer access for postgres, then only the cluster's own hosts, by password (SCRAM). */
export function renderPgHba(c: PgHbaInput): string {
    const lines = c.rules.map(rule => {
        const source = rule.source.includes("/") ? rule.source : `${rule.source}/32`;
        return `host    ${rule.database.padEnd(12)} ${rule.user.padEnd(22)} ${source.padEnd(18)} scram-sha-256`;
    });
    return `# ${HEADER}
# TYPE  DATABASE     USER                   ADDRESS            METHOD
local   all          postgres                                  peer
${lines.join("\n")}
`;
}

export interface HbaPlan {
    readonly dbName: string;
    readonly dbUser: string;
    /** Addresses of every DB host: replicas connect to the primary for streaming. */
    readonly dbHosts: readonly string[];
    /** Addresses of the load balancers: clients and checks arrive from them. */
    readonly loadBalancers: readonly string[];
    /** The network `pulumi up` runs from. */
    readonly adminNetwork: string;
}

/**
 * Who may connect: Zabbix and the admin via the load balancers, replicas among DB hosts, and the
 * check role from the load balancers and the DB hosts (the fence asks its peers). Sorted, so that
 * the same design in any config order renders the same file.
 */
export function hbaRules(p: HbaPlan): HbaRule[] {
    const sorted = (sources: readonly string[]) => [...new Set(sources)].sort(compareAddresses);
    const lbs = sorted(p.loadBalancers);
    return [
        ...lbs.map(source => ({ database: p.dbName, user: p.dbUser, source })),
        ...sorted([...p.loadBalancers, ...p.dbHosts]).map(source => ({ database: "postgres", user: CHECK_ROLE, source })),
        ...lbs.map(source => ({ database: "all", user: ADMIN_ROLE, source })),
        { database: "all", user: ADMIN_ROLE, source: p.adminNetwork },
        ...sorted(p.dbHosts).map(source => ({ database: "replication", user: REPLICATION_ROLE, source })),
    ];
}


/** A .pgpass line; ':' and '\' in fields must be escaped. */
export function pgpassLine(host: string, port: string, database: string, user: string, password: string): string {
    const esc = (v: string) => v.replace(/[\\:]/g, m => `\\${m}`);
    return [host, port, database, user].map(esc).concat(password).join(":");
}
