/**
 * Automatic DB failover (db.failover: patroni): patroni.yml for one DB host, a pure renderer. Patroni
 * promotes a replica only while it reaches a majority of etcd, and demotes a primary that cannot, so
 * a cut between sites never leaves two writable primaries.
 */
import { compareAddresses } from "../config/network";
import { POSTGRES_SOCKET_DIR } from "../platform";
import { RENDERED_HEADER_NO_BACKTICKS } from "../shell";
import { ETCD_CLIENT_PORT, ETCD_SCHEME } from "./etcdEnvironment";
import { HbaRule, patroniHbaLines } from "./pgHba";
import { REPLICATION_TIMEOUTS } from "./postgresConf";
import { REPLICATION_ROLE } from "./roles";
import { CLIENT_SSLMODE, PgClientTls, PgServerTls, serverTlsSettings } from "./tls";

/**
 * Patroni's timing: a primary that cannot renew its leader key for `ttl` seconds loses it, and Patroni
 * requires loop_wait + 2 * retry_timeout <= ttl. retry_timeout stays 7 s: longer than an etcd election
 * after its leader's site is lost (2.5 to 5 s with the election timeout etcdEnvironment.ts renders),
 * so a healthy primary rides it out instead of demoting. A 3 s loop lets the ttl come down to 17 s:
 * the lab's loss of the site holding the primary and the active node went from 38 to 46 s (ttl 20,
 * loop 5, before the takeover watcher marked stale rows) to under 30.
 */
export const PATRONI_TIMING = { ttl: 17, loopWait: 3, retryTimeout: 7 } as const;
export const PATRONI_REST_PORT = 8008;
/** The user of the REST API's unsafe endpoints (PATCH /config, POST /restart, /switchover, ...): Patroni's peers and patronictl. */
export const PATRONI_REST_USER = "patroni";

/**
 * Who may call the REST API's unsafe endpoints (Patroni's `restapi.allowlist`; the safe GETs are
 * open to any client that presents a certificate of the stack's CA): the DB hosts (Patroni's peers,
 * and patronictl on each), the load balancers (their check), and the admin network. The same
 * sources the host firewall admits to PATRONI_REST_PORT (firewall/flows.ts), sorted and unique.
 */
export function patroniRestAllowlist(p: {
    readonly dbHosts: readonly string[];
    readonly loadBalancers: readonly string[];
    readonly adminNetwork: string;
}): string[] {
    return [...new Set([...p.dbHosts, ...p.loadBalancers, p.adminNetwork])].sort(compareAddresses);
}

/** The prefix of a cluster-wide setting that is a PostgreSQL parameter. */
const POSTGRESQL_PARAMETER = "postgresql.parameters.";

/**
 * Patroni's cluster-wide settings, in the order patroni.yml lists them (a dotted key is nested:
 * `postgresql.parameters.X` is a PostgreSQL setting Patroni applies on every member). bootstrap.dcs
 * seeds them in etcd once, when the cluster is created; after that etcd holds them, and a change
 * reaches a running cluster only through `patronictl edit-config` (patroniSettingsStep).
 */
export function patroniClusterSettings(synchronous: boolean): ReadonlyArray<readonly [string, string]> {
    const t = PATRONI_TIMING;
    return [
        ["ttl", String(t.ttl)],
        ["loop_wait", String(t.loopWait)],
        ["retry_timeout", String(t.retryTimeout)],
        ["maximum_lag_on_failover", String(MAXIMUM_LAG_ON_FAILOVER)],
        ["synchronous_mode", String(synchronous)],
        // Failsafe on: when etcd as a whole is unusable (every member down, or its TLS broken by a
        // bad certificate or CA change: no member lost, nothing cut), a primary that still reaches
        // every member's REST API (POST /failsafe) stays primary instead of demoting the whole
        // estate to read-only. It is no way around the quorum in a cut: with the witness site,
        // etcd is lost to a DB site only when that site is cut off, and then a member is out of
        // its reach too, so the primary demotes exactly as without failsafe; a replica that sees
        // etcd's majority never answers for a primary that does not.
        ["failsafe_mode", "true"],
        ...Object.entries(REPLICATION_TIMEOUTS).map(
            ([key, value]) => [`${POSTGRESQL_PARAMETER}${key}`, value] as const,
        ),
    ];
}

/** How far behind (bytes of WAL) a replica may be and still be promoted or handed the lead. */
export const MAXIMUM_LAG_ON_FAILOVER = 1048576;

/** What patroni.yml says about one node of the cluster. */
export interface PatroniInput {
    /** The cluster's scope (one per Zabbix database). */
    readonly scope: string;
    /** This node: its host name and address, and PostgreSQL's port. */
    readonly name: string;
    readonly address: string;
    readonly port: number;
    /** Addresses of every etcd member, the witnesses' included. */
    readonly etcdHosts: readonly string[];
    /** Patroni's own data directory, and the PostgreSQL binaries it runs. */
    readonly dataDir: string;
    readonly binDir: string;
    /** Where the postgres user's Patroni-managed .pgpass lives. */
    readonly pgpass: string;
    /** Patroni's synchronous mode (db.replication: sync). */
    readonly synchronous: boolean;
    /** max_connections, sized for the Zabbix servers and frontends. */
    readonly maxConnections: number;
    /** Who may connect, as for every DB host (pgHba.ts); Patroni adds the rewind and its own replication rules. */
    readonly hba: readonly HbaRule[];
    /** DB hosts that may rewind from this one (as the superuser). */
    readonly rewindSources: readonly string[];
    /** Shell variables holding the superuser and replication passwords (the file is written by a here-document). */
    readonly superuserPasswordVariable: string;
    readonly replicationPasswordVariable: string;
    /** Patroni's REST API port (PATRONI_REST_PORT by default; the load balancers' check asks it). */
    readonly restPort?: number;
    /** The etcd members' client port (ETCD_CLIENT_PORT by default). */
    readonly etcdPort?: number;
    /** PostgreSQL's unix socket directory (POSTGRES_SOCKET_DIR by default). */
    readonly socketDir?: string;
    /**
     * The certificate PostgreSQL serves, and the CA Patroni's replication and rewind sessions verify
     * others' against; the REST API serves the same and asks clients for theirs, and Patroni's etcd
     * client and patronictl present it.
     */
    readonly tls: PgServerTls & PgClientTls;
    /** The REST API's unsafe endpoints: the shell variable of their password (PATRONI_REST_USER's), and patroniRestAllowlist. */
    readonly restApi: { readonly passwordVariable: string; readonly allowlist: readonly string[] };
}

/** patroni.yml. Passwords appear as shell variable references, filled in on the host from stdin. */
export function renderPatroniConfig(c: PatroniInput): string {
    const hba = patroniHbaLines([
        ...c.hba,
        // pg_rewind from a former primary connects as the superuser to the new one.
        ...c.rewindSources.map(source => ({ database: "all", user: "postgres", source })),
        // Patroni's own replication connection to the local server (timeline checks, rewind) arrives over TCP from loopback.
        { database: "replication", user: REPLICATION_ROLE, source: "127.0.0.1" },
    ]);
    const rest = `${c.address}:${c.restPort ?? PATRONI_REST_PORT}`;
    const settings = patroniClusterSettings(c.synchronous);
    return `# ${RENDERED_HEADER_NO_BACKTICKS}
scope: ${c.scope}
namespace: /zabbix-ha/
name: ${c.name}
restapi:
  listen: ${rest}
  connect_address: ${rest}
  certfile: ${c.tls.certFile}
  keyfile: ${c.tls.keyFile}
  cafile: ${c.tls.caFile}
  # Every client presents a certificate of the stack's CA, the safe GETs included: the load
  # balancers' check does (HAProxy's crt), as do Patroni's peers, patronictl and the steps' curl.
  verify_client: required
  # The unsafe endpoints (PATCH /config, POST /restart, /switchover, ...) also need the password
  # and one of these sources: an unauthenticated PATCH /config once ran a command as postgres.
  authentication:
    username: ${PATRONI_REST_USER}
    password: "$${c.restApi.passwordVariable}"
  allowlist:
${c.restApi.allowlist.map(source => `    - ${source}`).join("\n")}
# patronictl (as root or postgres) verifies the REST API and presents the certificate; its
# password is restapi.authentication's.
ctl:
  cacert: ${c.tls.caFile}
  certfile: ${c.tls.certFile}
  keyfile: ${c.tls.keyFile}
etcd3:
  protocol: ${ETCD_SCHEME}
  hosts: [${c.etcdHosts.map(h => `'${h}:${c.etcdPort ?? ETCD_CLIENT_PORT}'`).join(", ")}]
  cacert: ${c.tls.caFile}
  cert: ${c.tls.certFile}
  key: ${c.tls.keyFile}
bootstrap:
  dcs:
${settings
    .filter(([key]) => !key.includes("."))
    .map(([key, value]) => `    ${key}: ${value}`)
    .join("\n")}
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 1GB
        max_connections: ${c.maxConnections}
        password_encryption: scram-sha-256
${settings
    .filter(([key]) => key.startsWith(POSTGRESQL_PARAMETER))
    .map(([key, value]) => `        ${key.slice(POSTGRESQL_PARAMETER.length)}: ${value}`)
    .join("\n")}
  initdb:
    - encoding: UTF8
    - data-checksums
  # Patroni 3.0's validator still asks for the bootstrap copy of the rules.
  pg_hba:
${hba.map(line => `    - ${line}`).join("\n")}
postgresql:
  listen: 127.0.0.1,${c.address}:${c.port}
  connect_address: ${c.address}:${c.port}
  data_dir: ${c.dataDir}
  bin_dir: ${c.binDir}
  pgpass: ${c.pgpass}
  # Patroni's own superuser connection goes over the unix socket (local all postgres peer): over TCP
  # it would come from 127.0.0.1, which the hba rules do not admit, and bootstrap would fail.
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: "$${c.superuserPasswordVariable}"
    # Replicas, pg_basebackup and pg_rewind verify the other node's certificate (verify-full).
    replication:
      username: ${REPLICATION_ROLE}
      password: "$${c.replicationPasswordVariable}"
      sslmode: ${CLIENT_SSLMODE}
      sslrootcert: ${c.tls.caFile}
    rewind:
      username: postgres
      password: "$${c.superuserPasswordVariable}"
      sslmode: ${CLIENT_SSLMODE}
      sslrootcert: ${c.tls.caFile}
  parameters:
    unix_socket_directories: ${c.socketDir ?? POSTGRES_SOCKET_DIR}
${Object.entries(serverTlsSettings(c.tls))
    .map(([key, value]) => `    ${key}: "${value}"`)
    .join("\n")}
  pg_hba:
${hba.map(line => `    - ${line}`).join("\n")}
tags:
  nofailover: false
  noloadbalance: false
`;
}
