/**
 * Automatic DB failover (db.failover: patroni): pure renderers for etcd (one member per DB host and
 * witness host, across three or more sites) and Patroni, and the steps that run them. Patroni
 * promotes a replica only while it reaches a majority of etcd, and demotes a primary that cannot,
 * so a cut between sites never leaves two writable primaries.
 */
import { posix } from "path";
import { PATRONI_MINIMUM_VERSION, Platform } from "../platform";
import { putFile, putSecretFile, shellQuote } from "../shell";
import { HbaRule, REPLICATION_ROLE } from "./render";

// No backticks: patroni.yml goes through an unquoted here-document (for its password variables).
const HEADER = "Rendered by zabbix-ha; pulumi up overwrites local edits.";

/** Patroni's timing: a primary that cannot renew its leader key for `ttl` seconds loses it. loop_wait + 2 * retry_timeout <= ttl. */
export const PATRONI_TIMING = { ttl: 20, loopWait: 5, retryTimeout: 7 } as const;
export const PATRONI_REST_PORT = 8008;
/** How far behind (bytes of WAL) a replica may be and still be promoted or handed the lead. */
export const MAXIMUM_LAG_ON_FAILOVER = 1048576;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_DATA_DIR = "/var/lib/etcd/zabbix-ha";
/** Where PostgreSQL puts its unix socket on Debian (and where local psql looks for it). */
export const POSTGRES_SOCKET_DIR = "/var/run/postgresql";

export interface EtcdMember {
    readonly name: string;
    readonly address: string;
}

/** Where etcd listens and keeps its data; the defaults are what the stack deploys (tests pick free ports). */
export interface EtcdOptions {
    readonly clientPort?: number;
    readonly peerPort?: number;
    readonly dataDir?: string;
}

/** /etc/default/etcd for one member of the cluster-wide etcd. */
export function renderEtcdEnvironment(member: EtcdMember, members: readonly EtcdMember[], clusterToken: string, options: EtcdOptions = {}): string {
    const clientPort = options.clientPort ?? ETCD_CLIENT_PORT;
    const peer = (m: EtcdMember) => `http://${m.address}:${options.peerPort ?? ETCD_PEER_PORT}`;
    return `# ${HEADER}
ETCD_NAME="${member.name}"
ETCD_DATA_DIR="${options.dataDir ?? ETCD_DATA_DIR}"
ETCD_LISTEN_PEER_URLS="${peer(member)}"
ETCD_LISTEN_CLIENT_URLS="http://${member.address}:${clientPort},http://127.0.0.1:${clientPort}"
ETCD_INITIAL_ADVERTISE_PEER_URLS="${peer(member)}"
ETCD_ADVERTISE_CLIENT_URLS="http://${member.address}:${clientPort}"
ETCD_INITIAL_CLUSTER="${members.map(m => `${m.name}=${peer(m)}`).join(",")}"
ETCD_INITIAL_CLUSTER_STATE="new"
ETCD_INITIAL_CLUSTER_TOKEN="${clusterToken}"
# Elections across sites: a heartbeat of 250 ms and an election after 2.5 s tolerate WAN jitter.
ETCD_HEARTBEAT_INTERVAL="250"
ETCD_ELECTION_TIMEOUT="2500"
# A member that was cut off kept calling elections; without pre-vote its higher term deposes the
# leader when it comes back, etcd answers nothing for seconds, and Patroni demotes a healthy primary.
ETCD_PRE_VOTE="true"
`;
}

export interface PatroniInput {
    /** The cluster's scope (one per Zabbix database). */
    readonly scope: string;
    /** This node: its host name and address. */
    readonly name: string;
    readonly address: string;
    readonly port: number;
    readonly etcdHosts: readonly string[];
    readonly dataDir: string;
    readonly binDir: string;
    /** Where the postgres user's Patroni-managed .pgpass lives. */
    readonly pgpass: string;
    readonly synchronous: boolean;
    readonly maxConnections: number;
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
}

/** patroni.yml. Passwords appear as shell variable references, filled in on the host from stdin. */
export function renderPatroniConfig(c: PatroniInput): string {
    const cidr = (source: string) => (source.includes("/") ? source : `${source}/32`);
    const hba = [
        "local all postgres peer",
        ...c.hba.map(r => `host ${r.database} ${r.user} ${cidr(r.source)} scram-sha-256`),
        // pg_rewind from a former primary connects as the superuser to the new one.
        ...c.rewindSources.map(source => `host all postgres ${cidr(source)} scram-sha-256`),
        // Patroni's own replication connection to the local server (timeline checks, rewind) arrives over TCP from loopback.
        `host replication ${REPLICATION_ROLE} 127.0.0.1/32 scram-sha-256`,
    ];
    const t = PATRONI_TIMING;
    const rest = `${c.address}:${c.restPort ?? PATRONI_REST_PORT}`;
    return `# ${HEADER}
scope: ${c.scope}
namespace: /zabbix-ha/
name: ${c.name}
restapi:
  listen: ${rest}
  connect_address: ${rest}
etcd3:
  hosts: [${c.etcdHosts.map(h => `'${h}:${c.etcdPort ?? ETCD_CLIENT_PORT}'`).join(", ")}]
bootstrap:
  dcs:
    ttl: ${t.ttl}
    loop_wait: ${t.loopWait}
    retry_timeout: ${t.retryTimeout}
    maximum_lag_on_failover: ${MAXIMUM_LAG_ON_FAILOVER}
    synchronous_mode: ${c.synchronous}
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
    replication:
      username: ${REPLICATION_ROLE}
      password: "$${c.replicationPasswordVariable}"
    rewind:
      username: postgres
      password: "$${c.superuserPasswordVariable}"
  parameters:
    unix_socket_directories: ${c.socketDir ?? POSTGRES_SOCKET_DIR}
  pg_hba:
${hba.map(line => `    - ${line}`).join("\n")}
tags:
  nofailover: false
  noloadbalance: false
`;
}

/** Where Patroni keeps its files on a platform (Debian's per-cluster unit and config). */
export function patroniLayout(platform: Platform): { readonly service: string; readonly config: string; readonly dataDir: string } {
    const instance = `${platform.postgres.version}-main`;
    return platform.packageManager === "apt"
        ? { service: `patroni@${instance}`, config: `/etc/patroni/${instance}.yml`, dataDir: `${posix.dirname(platform.postgres.dataDir)}/patroni` }
        : { service: "patroni", config: "/etc/patroni/patroni.yml", dataDir: "/var/lib/pgsql/patroni" };
}

/** An etcd member's step: its settings, and a start that does not wait for a quorum not yet formed. */
export function etcdStep(member: EtcdMember, members: readonly EtcdMember[], clusterToken: string): string {
    return [
        putFile("/etc/default/etcd", renderEtcdEnvironment(member, members, clusterToken), "0644", "root:root"),
        "systemctl enable etcd",
        // The first member would wait for the others forever: start without blocking, check health later.
        `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet etcd; then systemctl restart --no-block etcd; fi`,
    ].join("\n");
}

/**
 * Undoes an etcd member (its host leaves the stack, or no longer carries db or witness): it leaves
 * the cluster first, so the majority is counted among the members that stay, then stops for good;
 * its data directory is moved aside (a member that left must never come back with its old identity).
 */
export function etcdStepDelete(member: EtcdMember, members: readonly EtcdMember[]): string {
    const others = members.filter(m => m.name !== member.name).map(m => `http://${m.address}:${ETCD_CLIENT_PORT}`).join(",");
    return `ETCDCTL_API=3
export ETCDCTL_API
echo "etcd member ${member.name} leaves the cluster"
zha_id=$(etcdctl --endpoints=${others} --dial-timeout=2s member list 2>/dev/null | awk -F', ' '$3 == "${member.name}" { print $1 }')
if [ -n "$zha_id" ]; then etcdctl --endpoints=${others} --dial-timeout=2s member remove "$zha_id"; fi
systemctl disable --now etcd
if [ -d ${ETCD_DATA_DIR} ]; then mv ${ETCD_DATA_DIR} "${ETCD_DATA_DIR}.removed-$(date +%Y%m%d%H%M%S)"; fi`;
}

/** Undoes a DB host's Patroni: it stops for good (Patroni's other members carry on; its data stays). */
export function patroniStepDelete(platform: Platform): string {
    const layout = patroniLayout(platform);
    return `echo "this host leaves the Patroni cluster: stopping Patroni (and its PostgreSQL) for good; its data stays in ${layout.dataDir}"
systemctl disable --now ${layout.service}`;
}

/** Waits until etcd has a healthy majority. */
export function etcdHealthyStep(members: readonly EtcdMember[]): string {
    const endpoints = members.map(m => `http://${m.address}:${ETCD_CLIENT_PORT}`).join(",");
    return `ETCDCTL_API=3
export ETCDCTL_API
zha_retry 120 etcdctl --endpoints=${endpoints} --dial-timeout=2s endpoint status >/dev/null`;
}

export interface PatroniStepInput extends PatroniInput {
    readonly platform: Platform;
    /** Whether this node should lead at first (db.primarySite); the others join as replicas. */
    readonly leader: boolean;
}

/** A DB host's Patroni step: the distribution's own cluster stays down, Patroni runs PostgreSQL. */
export function patroniStep(p: PatroniStepInput): string {
    const layout = patroniLayout(p.platform);
    const role = p.leader ? "primary" : "replica";
    // Debian's postgresql.service starts every cluster whose start.conf says "auto" at boot (a generator
    // makes the unit enabled-runtime), so `disable` alone does not keep it down: after a reboot it would
    // hold port 5432 and the socket lock, and Patroni's PostgreSQL would not start (found in the lab).
    const startConf = p.platform.packageManager === "apt"
        ? [putFile(`${p.platform.postgres.configDir}/start.conf`, "# Rendered by zabbix-ha: Patroni runs PostgreSQL here, not this cluster.\nmanual\n", "0644", "postgres:postgres"),
            `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`]
        : [];
    const rest = `http://${p.address}:${p.restPort ?? PATRONI_REST_PORT}`;
    return [
        patroniVersionGuard(),
        `PG_SERVICE=${shellQuote(p.platform.postgres.service)}`,
        ...startConf,
        // Debian starts its own cluster on install; Patroni runs a cluster of its own in another directory.
        `if systemctl is-enabled --quiet "$PG_SERVICE" 2>/dev/null || systemctl is-active --quiet "$PG_SERVICE"; then systemctl disable --now "$PG_SERVICE"; fi`,
        `mkdir -p ${shellQuote(posix.dirname(layout.config))}`,
        putSecretFile(layout.config, p.superuserPasswordVariable, "0600", "postgres:postgres", renderPatroniConfig(p).trimEnd()),
        `install -d -o postgres -g postgres -m 0700 ${shellQuote(p.dataDir)}`,
        `systemctl enable ${layout.service}`,
        // A running Patroni older than the installed one (the package step just upgraded it) keeps the old code until restarted.
        `zha_running=$(curl -fsS ${rest}/patroni 2>/dev/null | sed -n 's/.*"version": *"\\([^"]*\\)".*/\\1/p')`,
        `if ! systemctl is-active --quiet ${layout.service}; then systemctl start ${layout.service}; `
            + `elif [ -n "$zha_running" ] && [ "$zha_running" != "$zha_patroni" ]; then echo "restarting patroni $zha_running as $zha_patroni"; systemctl restart ${layout.service}; `
            + `elif [ "$ZHA_CHANGED" = 1 ]; then systemctl reload ${layout.service}; fi`,
        // Patroni's REST API answers 200 on /primary on the leader and on /replica on a streaming replica.
        // /health answers 200 once PostgreSQL runs, whichever role Patroni gave it; /replica once it streams.
        // A planned replica that still leads (db.primarySite just moved) keeps the lead until the
        // switchover step on the new primary, which runs after this one, hands it over.
        p.leader
            ? `zha_retry 120 curl -fsS -o /dev/null ${rest}/health`
            : `zha_retry 120 sh -c "curl -fsS -o /dev/null ${rest}/replica || curl -fsS -o /dev/null ${rest}/primary"`,
        `echo "patroni runs this host, planned as the ${role}"`,
    ].join("\n");
}

/**
 * Stops the step before Patroni is configured when the installed Patroni is older than
 * PATRONI_MINIMUM_VERSION (see there why); sets zha_patroni to the installed version.
 */
export function patroniVersionGuard(minimum = PATRONI_MINIMUM_VERSION): string {
    return `zha_patroni=$(patroni --version 2>/dev/null | awk '{print $2}')
if [ -z "$zha_patroni" ] || [ "$(printf '%s\\n%s\\n' ${minimum} "$zha_patroni" | sort -V | head -n 1)" != ${minimum} ]; then
  echo "patroni \${zha_patroni:-is not installed}: zabbix-ha needs ${minimum} or newer (older ones can drop acknowledged commits after a site cut); set db.patroniRepository to a repository that offers it" >&2
  exit 1
fi`;
}

/**
 * On db.primarySite's host: make it the leader by a planned switchover if another node leads.
 * Patroni hands the lead only to a candidate that is in sync (synchronous mode) or streams within
 * maximum_lag_on_failover, so the step waits for that first: a former leader that just rejoined
 * (the previous switchover) is a replica before it is a synchronous one again.
 */
export function patroniSwitchoverStep(p: Pick<PatroniStepInput, "platform" | "name" | "address" | "synchronous">): string {
    const layout = patroniLayout(p.platform);
    const rest = `http://${p.address}:${PATRONI_REST_PORT}`;
    const eligible = p.synchronous ? `${rest}/sync` : `${rest}/replica?lag=${MAXIMUM_LAG_ON_FAILOVER}`;
    return `if ! curl -fsS -o /dev/null ${rest}/primary; then
  zha_retry 120 curl -fsS -o /dev/null ${shellQuote(eligible)}
  echo "switching the primary over to ${p.name}"
  zha_retry 5 patronictl -c ${shellQuote(layout.config)} switchover --candidate ${p.name} --force
  zha_retry 60 curl -fsS -o /dev/null ${rest}/primary
fi`;
}
