/**
 * Pure step scripts for the PostgreSQL cluster. A switchover (a new `db.primarySite`) and a first
 * deploy run the same graph: every non-primary host stands down, the primary promotes, then each
 * replica follows it. Each step is safe to run again and refuses to destroy data it did not make.
 */
import { Platform } from "../platform";
import { putFile, putSecretFile, shellQuote } from "../shell";
import {
    ADMIN_ROLE, CHECK_ROLE, PostgresConfInput, PostgresRoleConfInput, REPLICATION_ROLE, pgpassLine,
    renderPgHba, renderPostgresConf, renderPostgresRoleConf, HbaRule,
} from "./render";

/** Where the library records what it last made of a host's PostgreSQL (primary, replica, stood-down). */
export const ROLE_MARK = "/var/lib/zabbix-ha/postgres-role";

export interface DbHostFiles {
    readonly platform: Platform;
    readonly port: number;
    readonly conf: PostgresConfInput;
    readonly hba: readonly HbaRule[];
}

/** Shell helpers shared by the PostgreSQL steps. */
function helpers(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    return `PGDATA_DIR=${shellQuote(pg.dataDir)}
# Not every step (re)starts the service.
# shellcheck disable=SC2034
PG_SERVICE=${shellQuote(pg.service)}
zha_sql() { runuser -u postgres -- psql -X -q -t -A -v ON_ERROR_STOP=1 -p ${h.port} "$@"; }
zha_pg_running() { runuser -u postgres -- ${shellQuote(`${pg.binDir}/pg_ctl`)} status -D "$PGDATA_DIR" >/dev/null 2>&1; }
zha_mark() { cat ${ROLE_MARK} 2>/dev/null || echo none; }`;
}

function confDropIn(h: DbHostFiles, file: string): string {
    return `${h.platform.postgres.configDir}/conf.d/${file}`;
}

/** Files shared by every DB host: the server settings and the hba rules. */
function sharedFiles(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    const includeDir = `${pg.configDir}/postgresql.conf`;
    return [
        putFile(confDropIn(h, "zabbix-ha.conf"), renderPostgresConf(h.conf), "0644", "postgres:postgres"),
        putFile(`${pg.configDir}/pg_hba.conf`, renderPgHba({ rules: h.hba }), "0640", "postgres:postgres"),
        // Debian's postgresql.conf reads conf.d already; RHEL's does not.
        `grep -q "^include_dir = 'conf.d'" ${shellQuote(includeDir)} || { echo "include_dir = 'conf.d'" >> ${shellQuote(includeDir)}; ZHA_CHANGED=1; }`,
    ].join("\n");
}

/**
 * Base step of a DB host: a cluster exists, with the shared settings, and runs. On a pair that a
 * cluster manager runs, PostgreSQL is started by the manager, so the step only restarts a running one.
 */
export function configStep(h: DbHostFiles, runBy: "systemd" | "cluster-manager" = "systemd"): string {
    const pg = h.platform.postgres;
    return [
        helpers(h),
        "mkdir -p /var/lib/zabbix-ha",
        pg.initCommand ? `[ -f "$PGDATA_DIR/PG_VERSION" ] || ${pg.initCommand}` : "",
        sharedFiles(h),
        putSecretFile(`${pg.home}/.pgpass`, "REPLICATION_PASSWORD", "0600", "postgres:postgres",
            pgpassLine("*", "*", "replication", REPLICATION_ROLE, "$REPLICATION_PASSWORD")),
        runBy === "cluster-manager"
            ? `if [ "$ZHA_CHANGED" = 1 ] && zha_pg_running; then systemctl restart "$PG_SERVICE"; fi`
            : `systemctl enable "$PG_SERVICE"
# listen_addresses needs a restart; a replica that stood down stays down until it follows.
if [ "$(zha_mark)" != stood-down ]; then
  if [ "$ZHA_CHANGED" = 1 ] || ! zha_pg_running; then systemctl restart "$PG_SERVICE"; fi
fi`,
    ].filter(Boolean).join("\n");
}

/** On a host that is not the primary site's DB: stop any primary running here, cleanly. */
export function standDownStep(h: DbHostFiles): string {
    return [
        helpers(h),
        `if zha_pg_running && [ "$(zha_sql -c 'select pg_is_in_recovery()')" = f ]; then
  echo "a primary runs here but db.primarySite is elsewhere: stopping it cleanly so its last WAL reaches the replicas"
  systemctl stop "$PG_SERVICE"
  if [ "$(zha_mark)" = primary ]; then echo stood-down > ${ROLE_MARK}; fi
fi`,
    ].join("\n");
}

export interface PromoteStepInput extends DbHostFiles {
    /** Role settings for the primary (asynchronous until every replica follows). */
    readonly roleConf: Extract<PostgresRoleConfInput, { role: "primary" }>;
}

/**
 * On the primary site's DB host: promote it if it is a replica (after it has replayed all it
 * received), then create the admin and check roles that the load balancers and provider use.
 */
export function promoteStep(p: PromoteStepInput): string {
    return [
        helpers(p),
        'zha_pg_running || systemctl start "$PG_SERVICE"',
        `zha_retry 30 zha_sql -c 'select 1' >/dev/null`,
        `if [ "$(zha_sql -c 'select pg_is_in_recovery()')" = t ]; then
  echo "promoting: waiting until everything received is replayed"
  zha_retry 120 sh -c "[ \\"\\$(runuser -u postgres -- psql -X -t -A -p ${p.port} -c 'select coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), true)')\\" = t ]"
  zha_sql -c 'select pg_promote(true, 60)' | grep -q t
fi`,
        putFile(confDropIn(p, "zabbix-ha-role.conf"), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
        `if [ "$ZHA_CHANGED" = 1 ]; then zha_sql -c 'select pg_reload_conf()' >/dev/null; fi`,
        bootstrapRoles(),
        `echo primary > ${ROLE_MARK}`,
    ].join("\n");
}

/**
 * On each node of a cluster-manager pair: where the DRBD filesystem is mounted and holds no cluster
 * yet, create it and let Pacemaker start PostgreSQL; then bootstrap the roles where it runs.
 */
export function pairBootstrapStep(p: PromoteStepInput & { readonly mountPoint: string; readonly dbResource: string }): string {
    const pg = p.platform.postgres;
    return [
        helpers(p),
        `if mountpoint -q ${shellQuote(p.mountPoint)} && [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
  echo "creating the PostgreSQL cluster on the pair's shared filesystem"
  install -d -o postgres -g postgres -m 0700 "$PGDATA_DIR"
  runuser -u postgres -- ${shellQuote(`${pg.binDir}/initdb`)} -D "$PGDATA_DIR" -E UTF8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  # Pacemaker gave up on PostgreSQL while it had no data: clear that so it starts it now.
  crm_resource --cleanup --resource ${p.dbResource} >/dev/null
  zha_retry 60 zha_pg_running
fi`,
        `if ! zha_pg_running; then
  echo "PostgreSQL runs on the other node of the pair: nothing to do here"
  exit 0
fi`,
        putFile(confDropIn(p, "zabbix-ha-role.conf"), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
        `if [ "$ZHA_CHANGED" = 1 ]; then zha_sql -c 'select pg_reload_conf()' >/dev/null; fi`,
        bootstrapRoles(),
    ].join("\n");
}

/** On the Patroni leader: the admin and check roles, once PostgreSQL accepts writes. */
export function leaderRolesStep(h: DbHostFiles): string {
    return [
        helpers(h),
        `zha_retry 60 sh -c "[ \\"\\$(runuser -u postgres -- psql -X -t -A -p ${h.port} -c 'select pg_is_in_recovery()')\\" = f ]"`,
        bootstrapRoles(),
    ].join("\n");
}

/** The admin and check roles, made locally: the provider reaches the DB only through them. */
function bootstrapRoles(): string {
    return [
        `zha_sql -f - <<'ZHA_SQL'
DO $zha$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ADMIN_ROLE}') THEN CREATE ROLE ${ADMIN_ROLE} LOGIN SUPERUSER; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${CHECK_ROLE}') THEN CREATE ROLE ${CHECK_ROLE} LOGIN; END IF;
END $zha$;
ZHA_SQL`,
        // Passwords reach psql on stdin; they are letters and digits only (RandomPassword, special off).
        `zha_sql -f - <<ZHA_SQL
ALTER ROLE ${ADMIN_ROLE} PASSWORD '$ADMIN_PASSWORD';
ALTER ROLE ${CHECK_ROLE} PASSWORD '$CHECK_PASSWORD';
ZHA_SQL`,
    ].join("\n");
}

export interface FollowStepInput extends DbHostFiles {
    readonly roleConf: Extract<PostgresRoleConfInput, { role: "replica" }>;
}

/**
 * On a replica: copy the primary with pg_basebackup when the host is new, or keep the data of a
 * host that was a replica or stood down cleanly; point it at the primary and wait until it streams.
 */
export function followStep(f: FollowStepInput): string {
    const pg = f.platform.postgres;
    const r = f.roleConf;
    return [
        helpers(f),
        `zha_copy_primary() {
  echo "copying the primary ${r.primaryAddress} with pg_basebackup"
  runuser -u postgres -- env PGPASSFILE=${shellQuote(r.passfile)} ${shellQuote(`${pg.binDir}/pg_basebackup`)} \\
    -h ${r.primaryAddress} -p ${r.primaryPort} -U ${r.replicationUser} -D "$PGDATA_DIR" \\
    -X stream -S ${r.slotName} -w --checkpoint=fast
}
case "$(zha_mark)" in
  replica|stood-down) echo "keeping the data here and following ${r.primaryAddress}" ;;
  rebuild)
    # Asked for by an operator (a former primary whose history diverged): keep the old data aside, copy afresh.
    systemctl stop "$PG_SERVICE"
    zha_aside="$PGDATA_DIR.before-rebuild-$(date +%Y%m%d%H%M%S)"
    mv "$PGDATA_DIR" "$zha_aside"
    echo "kept the former data in $zha_aside"
    install -d -o postgres -g postgres -m 0700 "$PGDATA_DIR"
    zha_copy_primary
    ;;
  *)
    # A new host's cluster holds only template0, template1 and postgres; anything more is someone's data.
    if [ "$(find "$PGDATA_DIR/base" -mindepth 1 -maxdepth 1 | wc -l)" -gt 3 ]; then
      echo "refusing to replace $PGDATA_DIR: it holds databases zabbix-ha did not create (to rebuild it as a replica: echo rebuild > ${ROLE_MARK}, then pulumi up --replace this step)" >&2
      exit 1
    fi
    systemctl stop "$PG_SERVICE"
    find "$PGDATA_DIR" -mindepth 1 -delete
    zha_copy_primary
    ;;
esac`,
        sharedFiles(f),
        putFile(confDropIn(f, "zabbix-ha-role.conf"), renderPostgresRoleConf(r), "0644", "postgres:postgres"),
        `[ -f "$PGDATA_DIR/standby.signal" ] || { runuser -u postgres -- touch "$PGDATA_DIR/standby.signal"; ZHA_CHANGED=1; }`,
        `echo replica > ${ROLE_MARK}`,
        `if [ "$ZHA_CHANGED" = 1 ] || ! zha_pg_running; then systemctl restart "$PG_SERVICE"; fi`,
        `if ! zha_retry 60 sh -c "runuser -u postgres -- psql -X -t -A -p ${f.port} -c 'select status from pg_stat_wal_receiver' | grep -qx streaming"; then
  echo "this replica does not stream from ${r.primaryAddress}; if its history diverged, rebuild it: echo rebuild > ${ROLE_MARK}, then pulumi up --replace this step (the old data is kept aside)" >&2
  exit 1
fi`,
    ].join("\n");
}

/** On the primary, once every replica streams: make commits wait for one of them. */
export function synchronousStep(p: PromoteStepInput): string {
    return [
        helpers(p),
        putFile(confDropIn(p, "zabbix-ha-role.conf"), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
        `if [ "$ZHA_CHANGED" = 1 ]; then zha_sql -c 'select pg_reload_conf()' >/dev/null; fi`,
    ].join("\n");
}

/** How a host outside the cluster reaches the Zabbix database: through its site's load balancer. */
export interface DbClientInput {
    /** The load balancer's address and DB port, which lead to the read-write primary. */
    readonly dbHost: string;
    readonly dbPort: number;
    readonly dbName: string;
    readonly dbUser: string;
    /** Shell variable holding the zabbix role's password (read from stdin). */
    readonly passwordVariable: string;
    /** Refuse a session without TLS (a managed endpoint). */
    readonly dbTlsRequired?: boolean;
}

/** A `zha_zabbix_sql` function that runs psql as the zabbix role through the load balancer. */
export function zabbixSqlClient(c: DbClientInput): string {
    return `PGPASSWORD="$${c.passwordVariable}"
export PGPASSWORD${c.dbTlsRequired ? "\nPGSSLMODE=require\nexport PGSSLMODE" : ""}
zha_zabbix_sql() { psql -X -q -t -A -w -v ON_ERROR_STOP=1 -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} "$@"; }`;
}

export interface SchemaStepInput extends DbClientInput {
    /** Gzip-compressed SQL files in load order (7.0: server.sql.gz; Debian 6.0: schema, images, data). */
    readonly schemaFiles: readonly string[];
}

/**
 * Loads the Zabbix schema once, in one transaction, onto the primary. It runs on a Zabbix server
 * host (which has the schema files and psql) as the zabbix role, so that role owns every table.
 */
export function schemaStep(s: SchemaStepInput): string {
    const files = s.schemaFiles.map(shellQuote).join(" ");
    return [
        zabbixSqlClient(s),
        `zha_retry 30 zha_zabbix_sql -c 'select 1' >/dev/null
if [ "$(zha_zabbix_sql -c "select to_regclass('public.dbversion') is not null")" = t ]; then
  echo "Zabbix schema already loaded"
else
  # The files as positional parameters: a for loop over a single quoted name reads as a mistake to shellcheck.
  set -- ${files}
  # sh has no pipefail: prove every file reads whole before piping them, so a broken one cannot load half.
  for zha_f in "$@"; do gzip -t "$zha_f" || { echo "missing or damaged schema file $zha_f: is the Zabbix server package installed?" >&2; exit 1; }; done
  echo "loading the Zabbix schema"
  for zha_f in "$@"; do zcat "$zha_f"; done | zha_zabbix_sql --single-transaction -f - >/dev/null
  # Planner statistics now, not when autovacuum gets round to it: the API's template linking crawls without them.
  zha_zabbix_sql -c 'ANALYZE' >/dev/null
fi`,
    ].join("\n");
}
