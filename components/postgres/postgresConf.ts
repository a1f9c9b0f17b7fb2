/**
 * The PostgreSQL settings every DB host shares (conf.d/zabbix-ha.conf), a pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { PgServerTls, serverTlsSettings } from "./tls";

/**
 * How long a replication connection may stay silent before either end drops it (PostgreSQL's
 * default is 60 s). A cut between sites sends no reset, so the walsender to a cut-off replica lived
 * on for a minute: when the cut healed sooner, Patroni saw it "streaming" in pg_stat_replication,
 * made that replica synchronous again at once, and every commit waited 12 s until the dead walsender
 * timed out and the replica's new one caught up (the Patroni lab: the Zabbix node's heartbeat stalled
 * too, and a standby took over after the heal). Each end asks the other for a reply after half of it,
 * so a live link never idles this long.
 */
export const REPLICATION_TIMEOUT_SECONDS = 10;
export const REPLICATION_TIMEOUTS = {
    wal_sender_timeout: `${REPLICATION_TIMEOUT_SECONDS}s`,
    wal_receiver_timeout: `${REPLICATION_TIMEOUT_SECONDS}s`,
} as const;

/** The drop-in's name in PostgreSQL's conf.d. */
export const POSTGRES_CONF_DROP_IN = "zabbix-ha.conf";

/** What the shared settings say. */
export interface PostgresConfInput {
    /** Addresses PostgreSQL listens on: the host's own address and loopback. */
    readonly listenAddresses: readonly string[];
    /** Port PostgreSQL listens on. */
    readonly port: number;
    /** max_connections, sized for the Zabbix servers and frontends. */
    readonly maxConnections: number;
    /** File of the hba rules, when not the distribution's default place. */
    readonly hbaFile?: string;
    /** The certificate and key it serves: every host rule of pg_hba is hostssl. */
    readonly tls: PgServerTls;
}

/** Settings shared by every DB host, whichever its role: a replica can be promoted as it is. */
export function renderPostgresConf(c: PostgresConfInput): string {
    return `# ${RENDERED_HEADER}
listen_addresses = '${c.listenAddresses.join(",")}'
port = ${c.port}
max_connections = ${c.maxConnections}
password_encryption = 'scram-sha-256'
${c.hbaFile ? `hba_file = '${c.hbaFile}'\n` : ""}
# TLS only for every session from another host (pg_hba has hostssl rules only).
${Object.entries(serverTlsSettings(c.tls))
    .map(([key, value]) => `${key} = '${value}'`)
    .join("\n")}

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
# A replication link cut without a reset ends within this, not PostgreSQL's default minute.
${Object.entries(REPLICATION_TIMEOUTS)
    .map(([key, value]) => `${key} = '${value}'`)
    .join("\n")}
`;
}
