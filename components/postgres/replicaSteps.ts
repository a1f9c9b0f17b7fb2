/**
 * Pure step scripts of a replica (PostgresCluster): it follows the primary through its own slot, and
 * leaves it (dropping the slot) when it goes. Safe to run again; a replica's data that zabbix-ha did
 * not make is never replaced.
 */
import { putFile, shellQuote } from "../shell";
import { ROLE_CONF_DROP_IN, PostgresRoleConfInput, renderPostgresRoleConf } from "./roleConf";
import { SLOT_PREFIX } from "./roles";
import { clientConninfo, clientEnv } from "./tls";
import { DbHostFiles, ROLE_MARK, confDropIn, helpers, sharedFiles } from "./steps";

/** A replica's WAL receiver as "status:timeline" (the timeline of what it last received), empty when none runs. */
export const RECEIVER_SQL = "select status || ':' || received_tli from pg_stat_wal_receiver";

export interface FollowStepInput extends DbHostFiles {
    readonly roleConf: Extract<PostgresRoleConfInput, { role: "replica" }>;
}

/** Runs a replication-protocol command (a slot's creation or removal) on the primary, as the replication role. */
function replicationClient(f: FollowStepInput): string {
    const r = f.roleConf;
    const conninfo = `host=${r.primaryAddress} port=${r.primaryPort} user=${r.replicationUser} dbname=replication replication=true connect_timeout=5 ${clientConninfo(r.tls)}`;
    return `zha_on_primary() { runuser -u postgres -- env PGPASSFILE=${shellQuote(r.passfile)} psql -X -q -t -A -w ${shellQuote(conninfo)} -c "$1"; }`;
}

/**
 * On a replica: copy the primary with pg_basebackup when the host is new, or keep the data of a
 * host that was a replica, stood down cleanly or was superseded; point it at the primary and wait
 * until it streams. Its replication slot lives on the primary, made here (the replica's own step
 * knows when it needs one); slots this host kept from a time it was primary are dropped, since
 * they would hold WAL here for replicas that now stream from elsewhere.
 */
export function followStep(f: FollowStepInput): string {
    const pg = f.platform.postgres;
    const r = f.roleConf;
    return [
        helpers(f),
        replicationClient(f),
        `zha_out=$(zha_on_primary "CREATE_REPLICATION_SLOT ${r.slotName} PHYSICAL RESERVE_WAL" 2>&1) || case "$zha_out" in
  *"already exists"*) ;;
  *) echo "cannot make this replica's slot ${r.slotName} on ${r.primaryAddress}: $zha_out" >&2; exit 1 ;;
esac`,
        `zha_copy_primary() {
  echo "copying the primary ${r.primaryAddress} with pg_basebackup"
  runuser -u postgres -- env PGPASSFILE=${shellQuote(r.passfile)} ${clientEnv(r.tls)} ${shellQuote(`${pg.binDir}/pg_basebackup`)} \\
    -h ${r.primaryAddress} -p ${r.primaryPort} -U ${r.replicationUser} -D "$PGDATA_DIR" \\
    -X stream -S ${r.slotName} -w --checkpoint=fast
}
case "$(zha_mark)" in
  replica|stood-down|superseded) echo "keeping the data here and following ${r.primaryAddress}" ;;
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
    if ! zha_fresh_cluster; then
      echo "refusing to replace $PGDATA_DIR: it holds databases zabbix-ha did not create (to rebuild it as a replica: echo rebuild > ${ROLE_MARK}, then pulumi up --replace this step)" >&2
      exit 1
    fi
    systemctl stop "$PG_SERVICE"
    find "$PGDATA_DIR" -mindepth 1 -delete
    zha_copy_primary
    ;;
esac`,
        sharedFiles(f),
        putFile(confDropIn(f, ROLE_CONF_DROP_IN), renderPostgresRoleConf(r), "0644", "postgres:postgres"),
        `[ -f "$PGDATA_DIR/standby.signal" ] || { runuser -u postgres -- touch "$PGDATA_DIR/standby.signal"; ZHA_CHANGED=1; }`,
        `if [ "$ZHA_CHANGED" = 1 ] || ! zha_pg_running; then systemctl restart "$PG_SERVICE"; fi`,
        // Streaming on the primary's own timeline: a former primary whose history diverged streams the old
        // timeline up to the fork for a moment, then stops there for good.
        `zha_primary_timeline=$(zha_on_primary IDENTIFY_SYSTEM | cut -d '|' -f 2)
zha_streaming() { [ "$(zha_sql -c ${shellQuote(RECEIVER_SQL)})" = "streaming:$zha_primary_timeline" ]; }
if ! zha_retry 60 zha_streaming; then
  case "$(zha_mark)" in
    superseded|stood-down) echo "this former primary does not stream from ${r.primaryAddress}: its history diverged (it took writes the new primary never received). It stays a read-only standby; to rebuild it from the primary: echo rebuild > ${ROLE_MARK}, then pulumi up --replace this step (the old data is kept aside)" >&2 ;;
    *) echo "this replica does not stream from ${r.primaryAddress}; if its history diverged, rebuild it: echo rebuild > ${ROLE_MARK}, then pulumi up --replace this step (the old data is kept aside)" >&2 ;;
  esac
  exit 1
fi`,
        `zha_sql -c "select count(pg_drop_replication_slot(slot_name)) from pg_replication_slots where left(slot_name, ${SLOT_PREFIX.length}) = '${SLOT_PREFIX}' and not active" >/dev/null`,
        `echo replica > ${ROLE_MARK}`,
    ].join("\n");
}

/** The follow step of db.primarySite's host: it is the primary, it follows nobody. */
export function notFollowingStep(): string {
    return `echo "this host is db.primarySite's DB host: it follows nobody"`;
}

/**
 * Undoes a replica's follow step (the host leaves the cluster, or the step is rebuilt): PostgreSQL
 * stops for good here (its data stays), then its slot on the primary is dropped, or it would hold
 * WAL there for ever.
 */
export function followStepDelete(f: FollowStepInput): string {
    const r = f.roleConf;
    return [
        helpers(f),
        replicationClient(f),
        `echo "this replica leaves the cluster: stopping PostgreSQL here (its data stays) and dropping its slot ${r.slotName} on ${r.primaryAddress}"`,
        `systemctl disable --now "$PG_SERVICE"`,
        `zha_drop_slot() {
  zha_out=$(zha_on_primary "DROP_REPLICATION_SLOT ${r.slotName} WAIT" 2>&1) && return 0
  case "$zha_out" in *"does not exist"*) return 0 ;; esac
  echo "$zha_out" >&2
  return 1
}
if ! zha_retry 30 zha_drop_slot; then
  echo "could not drop the slot ${r.slotName} on ${r.primaryAddress}; drop it there (select pg_drop_replication_slot('${r.slotName}')), or it keeps WAL for ever" >&2
  exit 1
fi`,
    ].join("\n");
}
