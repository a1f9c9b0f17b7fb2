/**
 * Pure step scripts for the PostgreSQL cluster. A switchover (a new `db.primarySite`) and a first
 * deploy run the same graph: every non-primary host stands down, the primary promotes, then each
 * replica follows it (replicaSteps.ts). Each step is safe to run again and refuses to destroy data
 * it did not make.
 */
import { POSTGRES_SOCKET_DIR, Platform, STATE_DIR, SYSTEMD_UNIT_DIR } from "../platform";
import { putFile, putSecretFile, shellQuote } from "../shell";
import { FENCE_PASSFILE, FENCE_SCRIPT, FENCE_UNIT, FenceInput, renderFenceScript } from "./fence";
import { fenceDropInPath, renderFenceDropIn } from "./fenceDropIn";
import { renderFenceUnit } from "./fenceUnit";
import { HbaRule, renderPgHba } from "./pgHba";
import { pgpassLine } from "./pgpass";
import { POSTGRES_CONF_DROP_IN, PostgresConfInput, renderPostgresConf } from "./postgresConf";
import { READ_ONLY_DROP_IN, renderReadOnlyConf } from "./readOnlyConf";
import { ROLE_CONF_DROP_IN, PostgresRoleConfInput, renderPostgresRoleConf } from "./roleConf";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE } from "./roles";

/** Where the library records what it last made of a host's PostgreSQL (primary, replica, stood-down). */
export const ROLE_MARK = `${STATE_DIR}/postgres-role`;

export interface DbHostFiles {
    readonly platform: Platform;
    readonly port: number;
    readonly conf: PostgresConfInput;
    readonly hba: readonly HbaRule[];
}

/** The postgres user's .pgpass, which holds the replication role's password. */
export function replicationPassfile(platform: Platform): string {
    return `${platform.postgres.home}/.pgpass`;
}

/** Shell helpers shared by the PostgreSQL steps. */
export function helpers(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    return `PGDATA_DIR=${shellQuote(pg.dataDir)}
# Not every step (re)starts the service.
# shellcheck disable=SC2034
PG_SERVICE=${shellQuote(pg.service)}
zha_sql() { runuser -u postgres -- psql -X -q -t -A -v ON_ERROR_STOP=1 -p ${h.port} "$@"; }
zha_pg_running() { runuser -u postgres -- ${shellQuote(`${pg.binDir}/pg_ctl`)} status -D "$PGDATA_DIR" >/dev/null 2>&1; }
zha_mark() { cat ${ROLE_MARK} 2>/dev/null || echo none; }
# A new host's cluster holds only template0, template1 and postgres; anything more is someone's data.
zha_fresh_cluster() { [ "$(find "$PGDATA_DIR/base" -mindepth 1 -maxdepth 1 | wc -l)" -le 3 ]; }`;
}

/** Where a drop-in of PostgreSQL's conf.d lives on the host. */
export function confDropIn(h: DbHostFiles, file: string): string {
    return `${h.platform.postgres.configDir}/conf.d/${file}`;
}

/** Files shared by every DB host: the server settings and the hba rules. */
export function sharedFiles(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    const includeDir = `${pg.configDir}/postgresql.conf`;
    return [
        putFile(confDropIn(h, POSTGRES_CONF_DROP_IN), renderPostgresConf(h.conf), "0644", "postgres:postgres"),
        putFile(`${pg.configDir}/pg_hba.conf`, renderPgHba({ rules: h.hba }), "0640", "postgres:postgres"),
        // Debian's postgresql.conf reads conf.d already; RHEL's does not.
        `grep -q "^include_dir = 'conf.d'" ${shellQuote(includeDir)} || { echo "include_dir = 'conf.d'" >> ${shellQuote(includeDir)}; ZHA_CHANGED=1; }`,
    ].join("\n");
}

/** How a DB host of a replicated cluster asks its peers whether one of them superseded it. */
export interface FenceSettings extends Omit<
    FenceInput,
    "port" | "dataDir" | "binDir" | "service" | "roleMark" | "passfile" | "socketDir"
> {
    /** Shell variable holding the check role's password (read from stdin). */
    readonly passwordVariable: string;
}

/**
 * Base step of a DB host: a cluster exists, with the shared settings, and runs. On a pair that a
 * cluster manager runs, PostgreSQL is started by the manager, so the step only restarts a running one.
 * With `fence` (a replicated cluster whose failover an operator makes), the fence is installed
 * first, and PostgreSQL is started only where it cannot come up as a second writer: on the
 * configured primary, or as a standby.
 */
export function configStep(
    h: DbHostFiles,
    runBy: "systemd" | "cluster-manager" = "systemd",
    role: "primary" | "replica" = "primary",
    fence?: FenceSettings,
): string {
    const pg = h.platform.postgres;
    return [
        helpers(h),
        `install -d -m 0755 ${STATE_DIR}`,
        pg.initCommand ? `[ -f "$PGDATA_DIR/PG_VERSION" ] || ${pg.initCommand}` : "",
        sharedFiles(h),
        putSecretFile(
            replicationPassfile(h.platform),
            "REPLICATION_PASSWORD",
            "0600",
            "postgres:postgres",
            pgpassLine("*", "*", "replication", REPLICATION_ROLE, "$REPLICATION_PASSWORD"),
        ),
        fence ? fenceFiles(h, fence) : "",
        runBy === "systemd" && role === "replica" ? standbyCatchUp(h) : "",
        runBy === "cluster-manager"
            ? `if [ "$ZHA_CHANGED" = 1 ] && zha_pg_running; then systemctl restart "$PG_SERVICE"; fi`
            : `systemctl enable "$PG_SERVICE"
# listen_addresses needs a restart (a restart keeps the role: standby.signal, or its absence, stays).
if zha_pg_running; then
  if [ "$ZHA_CHANGED" = 1 ]; then systemctl restart "$PG_SERVICE"; fi
${
    role === "primary"
        ? `else
  systemctl start "$PG_SERVICE"`
        : `elif [ -f "$PGDATA_DIR/standby.signal" ]; then
  systemctl start "$PG_SERVICE"
else
  echo "not starting PostgreSQL: it would start as a primary, and db.primarySite is elsewhere (the follow step starts it as a replica)"`
}
fi`,
    ]
        .filter(Boolean)
        .join("\n");
}

/**
 * A standby never runs with fewer connections than its primary last declared: PostgreSQL refuses to
 * replay then, and the standby stays down. When max_connections goes down (a frontend fewer), the
 * primary's own config step lowers it there; this standby first runs with the value the primary last
 * declared (its control file keeps it) until it has replayed the primary's change, then lowers its own.
 */
function standbyCatchUp(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    // Read last (conf.d goes in file name order), so it overrides zabbix-ha.conf's value while it exists.
    const dropIn = confDropIn(h, "zz-zabbix-ha-catch-up.conf");
    const wanted = h.conf.maxConnections;
    return `zha_declared() { ${shellQuote(`${pg.binDir}/pg_controldata`)} -D "$PGDATA_DIR" 2>/dev/null | sed -n 's/^max_connections setting: *//p'; }
if [ -f "$PGDATA_DIR/standby.signal" ] && [ "$(zha_declared)" -gt ${wanted} ] 2>/dev/null; then
  echo "updated ${dropIn}: the primary last declared max_connections $(zha_declared), more than ${wanted}: following its change first"
  printf 'max_connections = %s\n' "$(zha_declared)" | zha_put_file ${shellQuote(dropIn)} 0644 postgres:postgres >/dev/null
  systemctl restart "$PG_SERVICE"
  zha_lowered() { [ "$(zha_declared)" -le ${wanted} ]; }
  if ! zha_retry 120 zha_lowered; then
    echo "the primary still declares max_connections $(zha_declared) after 2 minutes (its config step lowers it): this standby keeps that many until it does" >&2
    exit 1
  fi
  rm -f ${shellQuote(dropIn)}
  ZHA_CHANGED=1
fi`;
}

/** The fence's script, its look before every start, its watcher, and the check role's password for it. */
function fenceFiles(h: DbHostFiles, f: FenceSettings): string {
    const pg = h.platform.postgres;
    const script = renderFenceScript({
        ...f,
        port: h.port,
        dataDir: pg.dataDir,
        binDir: pg.binDir,
        service: pg.service,
        roleMark: ROLE_MARK,
        passfile: FENCE_PASSFILE,
        socketDir: POSTGRES_SOCKET_DIR,
    });
    return [
        putSecretFile(
            FENCE_PASSFILE,
            f.passwordVariable,
            "0600",
            "root:root",
            pgpassLine("*", "*", "postgres", f.checkUser, `$${f.passwordVariable}`),
        ),
        putFile(FENCE_SCRIPT, script, "0755", "root:root"),
        putFile(fenceDropInPath(pg.service), renderFenceDropIn(), "0644", "root:root"),
        putFile(`${SYSTEMD_UNIT_DIR}/${FENCE_UNIT}`, renderFenceUnit({ service: pg.service }), "0644", "root:root"),
        `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; systemctl enable ${FENCE_UNIT}; systemctl restart ${FENCE_UNIT}; fi`,
        `systemctl is-active --quiet ${FENCE_UNIT} || systemctl enable --now ${FENCE_UNIT}`,
    ].join("\n");
}

/** Undoes the base step on a host that no longer carries the db role: its PostgreSQL stops for good, its data stays. */
export function configStepDelete(h: DbHostFiles): string {
    const pg = h.platform.postgres;
    return [
        helpers(h),
        `echo "this host no longer carries the db role: stopping and disabling PostgreSQL (its data stays in $PGDATA_DIR)"`,
        `systemctl disable --now ${FENCE_UNIT} 2>/dev/null || true`,
        `rm -f ${FENCE_SCRIPT} ${FENCE_PASSFILE} ${SYSTEMD_UNIT_DIR}/${FENCE_UNIT} ${shellQuote(fenceDropInPath(pg.service))}`,
        `systemctl disable --now "$PG_SERVICE"`,
        "systemctl daemon-reload",
        `echo removed > ${ROLE_MARK}`,
    ].join("\n");
}

/** What the configured primary is to the others. */
export interface NewPrimary {
    readonly name: string;
    readonly address: string;
}

/**
 * Where a handing-over primary's last write ends: a WAL record written for the purpose (allowed while
 * every transaction is read-only), after every commit. Only a replica that streams now can replay it;
 * the walsender of a replica whose host died lingers for wal_sender_timeout with the position it last
 * reported, which may well be the current one when nothing was written since.
 */
export const HANDOVER_MARK_SQL = "select pg_logical_emit_message(false, 'zabbix-ha', 'handing over')";

/** Whether the replica named (its application_name) has replayed up to `target`, as the primary sees it. */
export function replayedUpToSql(name: string, target: string): string {
    return `select coalesce(bool_or(replay_lsn >= '${target}'), false) from pg_stat_replication where application_name = '${name}'`;
}

/**
 * On a DB host that is not db.primarySite's: a primary running here hands over without losing a
 * commit. It stops taking writes, waits until the new primary has replayed everything it wrote, and
 * stops cleanly (its shutdown checkpoint reaches the connected replicas); from then on it can only
 * start as a standby. A primary's data at rest (crashed, or stopped by hand) is kept a standby too.
 * On the configured primary the step does nothing.
 */
export function standDownStep(h: DbHostFiles, newPrimary: NewPrimary | "this host"): string {
    if (newPrimary === "this host") {
        return `echo "this host is db.primarySite's DB host: nothing to stand down"`;
    }
    const readOnly = confDropIn(h, READ_ONLY_DROP_IN);
    return [
        helpers(h),
        `if [ "$(zha_mark)" = none ] && zha_fresh_cluster; then
  # A new host: the package's own cluster runs writable, but zabbix-ha never made it a primary and it
  # holds no data; there is nothing to hand over, and the follow step copies ${newPrimary.name} over it.
  if zha_pg_running; then
    echo "a new cluster with no data runs here: stopping it, the follow step copies ${newPrimary.name}"
    systemctl stop "$PG_SERVICE"
  fi
elif zha_pg_running && [ "$(zha_sql -c 'select pg_is_in_recovery()')" = f ]; then
  echo "a primary runs here but db.primarySite is ${newPrimary.name}'s: handing over without losing a commit"
  # No new writes: every new transaction is read-only, and the sessions under way end (uncommitted).
  zha_put_file ${shellQuote(readOnly)} 0644 postgres:postgres <<'ZHA_EOF'
${renderReadOnlyConf(newPrimary.name)}ZHA_EOF
  zha_sql -c 'select pg_reload_conf()' >/dev/null
  zha_sql -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and usename <> 'postgres'" >/dev/null
  zha_target=$(zha_sql -c ${shellQuote(HANDOVER_MARK_SQL)})
  zha_caught_up() { [ "$(zha_sql -c "${replayedUpToSql(newPrimary.name, "$zha_target")}")" = t ]; }
  if ! zha_retry 120 zha_caught_up; then
    rm -f ${shellQuote(readOnly)}
    zha_sql -c 'select pg_reload_conf()' >/dev/null
    echo "${newPrimary.name} did not replay this primary's last commit ($zha_target) within 2 minutes (is it streaming from here?): not handing over, this host stays the writable primary" >&2
    exit 1
  fi
  echo "${newPrimary.name} has replayed up to $zha_target: stopping this primary cleanly"
  systemctl stop "$PG_SERVICE"
  runuser -u postgres -- touch "$PGDATA_DIR/standby.signal"
  echo stood-down > ${ROLE_MARK}
elif ! zha_pg_running && [ -f "$PGDATA_DIR/global/pg_control" ] && [ ! -f "$PGDATA_DIR/standby.signal" ]; then
  # A primary's data at rest may hold commits ${newPrimary.name} never received: never start it writable.
  echo "a primary's data rests here, and db.primarySite is ${newPrimary.name}'s: it will only start as a standby"
  runuser -u postgres -- touch "$PGDATA_DIR/standby.signal"
  echo superseded > ${ROLE_MARK}
fi`,
    ].join("\n");
}

/**
 * Whether a replica has replayed everything it received. A replica's received position is where its
 * WAL receiver started, rounded down to a segment, until it streams again: one restarted while its
 * primary is gone reports less than it replayed, so the test is "at least", never "equal".
 */
export const REPLAYED_ALL_RECEIVED_SQL = "select coalesce(pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn(), true)";

/** How long the promote step lets replay catch up before it promotes anyway. */
const REPLAY_WAIT_SECONDS = 30;

export interface PromoteStepInput extends DbHostFiles {
    /** Role settings for the primary (asynchronous until every replica follows). */
    readonly roleConf: Extract<PostgresRoleConfInput, { role: "primary" }>;
}

/**
 * On the primary site's DB host: promote it if it is a replica (after it has replayed all it
 * received), then create the admin and check roles that the load balancers and provider use. A host
 * the fence found superseded is not promoted: its history may hold writes no other host has, and
 * its later timeline would then supersede the real primary; it rejoins as a replica first.
 */
export function promoteStep(p: PromoteStepInput): string {
    return [
        helpers(p),
        `if [ "$(zha_mark)" = superseded ]; then
  echo "not promoting: this host was a primary superseded by a later one (see the fence's log), and its history may have diverged; make it follow the current primary first (db.primarySite there), then switch over" >&2
  exit 1
fi`,
        'zha_pg_running || systemctl start "$PG_SERVICE"',
        `zha_retry 30 zha_sql -c 'select 1' >/dev/null`,
        `if [ "$(zha_sql -c 'select pg_is_in_recovery()')" = t ]; then
  echo "promoting: waiting until everything received is replayed"
  zha_replayed() { [ "$(zha_sql -c ${shellQuote(REPLAYED_ALL_RECEIVED_SQL)})" = t ]; }
  if ! zha_retry ${REPLAY_WAIT_SECONDS} zha_replayed; then
    # The promotion itself replays every complete record in pg_wal first; what cannot be replayed is
    # an incomplete last record, cut off with the primary that was sending it.
    echo "replay stands at $(zha_sql -c 'select pg_last_wal_replay_lsn()') with $(zha_sql -c 'select pg_last_wal_receive_lsn()') received after ${REPLAY_WAIT_SECONDS} s: promoting with every complete record received"
  fi
  zha_sql -c 'select pg_promote(true, 60)' | grep -q t
fi`,
        // A former primary's hand-over left every new transaction read-only.
        `if [ -e ${shellQuote(confDropIn(p, READ_ONLY_DROP_IN))} ]; then rm -f ${shellQuote(confDropIn(p, READ_ONLY_DROP_IN))}; ZHA_CHANGED=1; fi`,
        putFile(confDropIn(p, ROLE_CONF_DROP_IN), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
        `if [ "$ZHA_CHANGED" = 1 ]; then zha_sql -c 'select pg_reload_conf()' >/dev/null; fi`,
        bootstrapRoles(),
        `echo primary > ${ROLE_MARK}`,
    ].join("\n");
}

/** The promote step of a host that is not db.primarySite's: it stays a replica. */
export function notPromotedStep(primary: string): string {
    return `echo "db.primarySite is ${primary}'s: nothing to promote here"`;
}

/**
 * On each node of a cluster-manager pair: where the DRBD filesystem is mounted and holds no cluster
 * yet, create it and let Pacemaker start PostgreSQL; then bootstrap the roles where it runs.
 */
export function pairBootstrapStep(
    p: PromoteStepInput & { readonly mountPoint: string; readonly dbResource: string },
): string {
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
        putFile(confDropIn(p, ROLE_CONF_DROP_IN), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
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

/** On the primary, once every replica streams: make commits wait for one of them. */
export function synchronousStep(p: PromoteStepInput): string {
    return [
        helpers(p),
        putFile(confDropIn(p, ROLE_CONF_DROP_IN), renderPostgresRoleConf(p.roleConf), "0644", "postgres:postgres"),
        `if [ "$ZHA_CHANGED" = 1 ]; then zha_sql -c 'select pg_reload_conf()' >/dev/null; fi`,
    ].join("\n");
}
