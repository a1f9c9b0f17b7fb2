/**
 * Never two writers with manual DB failover: the fence's script (pg-fence), a pure renderer, which
 * runs on every DB host of a replicated cluster from PostgreSQL's unit (fenceDropIn.ts) and from
 * its own watcher unit (fenceUnit.ts).
 *
 * Why: after the primary's site is lost, an operator promotes a replica elsewhere without reaching
 * the old primary (it may be down, or only cut off and still running). When that old primary comes
 * back, or its site's link heals, it must not take writes. A promotion always starts a new timeline,
 * so "another DB host accepts writes on a later timeline than mine" is proof that this one was
 * superseded, whatever any host's (possibly stale) configuration says. The fence acts on that proof:
 *  - `boot`, before PostgreSQL starts (an ExecStartPre of its unit): a data directory that would start
 *    as a primary starts as a standby instead;
 *  - `watch`, every second while it runs: a writable PostgreSQL here is stopped and kept a standby.
 * It marks the host `superseded`; the follow step rejoins it to the new primary when its history
 * allows, or holds it down with a message (a crashed or cut-off primary may hold commits the new one
 * never received). A peer it cannot reach proves nothing, so the fence then leaves things alone.
 */
import { CONFIG_DIR, LIBEXEC_DIR } from "../platform";
import { RENDERED_HEADER, shellQuote } from "../shell";
import { PgClientTls, clientExport } from "./tls";

/** Where the fence is installed. */
export const FENCE_SCRIPT = `${LIBEXEC_DIR}/pg-fence`;
export const FENCE_UNIT = "zabbix-ha-pg-fence.service";
/** The check role's password for asking the peers, readable by root only. */
export const FENCE_PASSFILE = `${CONFIG_DIR}/pg-fence.pgpass`;

/** What the fence asks, and about which PostgreSQL. */
export interface FenceInput {
    /** The other DB hosts of the cluster, as `address:port`. */
    readonly peers: readonly string[];
    /** Role that may ask any DB host `pg_is_in_recovery()` and its WAL position, nothing more. */
    readonly checkUser: string;
    readonly passfile: string;
    /** The CA the DB hosts' certificates must verify against (verify-full). */
    readonly tls: PgClientTls;
    /** This host's PostgreSQL: its port, data directory, binaries and unit. */
    readonly port: number;
    readonly dataDir: string;
    readonly binDir: string;
    readonly service: string;
    /** This host's PostgreSQL unix socket directory (where the local look goes). */
    readonly socketDir: string;
    /** Where the library records what it made of this host's PostgreSQL. */
    readonly roleMark: string;
    /** Seconds between two looks while PostgreSQL runs (a fraction: the window a healed cut leaves open). */
    readonly intervalSeconds?: number;
}

/**
 * The SQL every side asks: nothing on a standby, and on a primary the timeline it writes on (the
 * first 8 hex digits of its current WAL file's name; pg_walfile_name refuses to run in recovery).
 */
export const PRIMARY_TIMELINE_SQL =
    "select case when pg_is_in_recovery() then '' else substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) end";

/** The fence script: `pg-fence boot` before PostgreSQL starts, `pg-fence watch` while it runs. */
export function renderFenceScript(c: FenceInput): string {
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Fence of a manual-failover DB host: a PostgreSQL that would accept writes here starts as, or becomes,
# a standby as soon as another DB host accepts writes on a later timeline (promoted after this one).
# Usage: pg-fence boot   (before PostgreSQL starts)   |   pg-fence watch   (while it runs)
set -u
PGDATA_DIR=${shellQuote(c.dataDir)}
PEERS=${shellQuote(c.peers.join(" "))}
MARK=${shellQuote(c.roleMark)}
PGPASSFILE=${shellQuote(c.passfile)}
PGCONNECT_TIMEOUT=2
export PGPASSFILE PGCONNECT_TIMEOUT
${clientExport(c.tls)}
SQL=${shellQuote(PRIMARY_TIMELINE_SQL)}

log() { echo "pg-fence: $*"; }

# A peer that accepts writes on a timeline later than $1 (decimal): prints it, or fails. Every peer is
# asked at once, each for a second at most: one that cannot be reached proves nothing and must not
# delay the look at the others (the fence acts within a fraction of a second of a cut healing).
newer_primary() {
  zha_dir=$(mktemp -d)
  for peer in $PEERS; do
    timeout 1 psql -X -q -t -A -w -h "\${peer%:*}" -p "\${peer##*:}" -U ${shellQuote(c.checkUser)} -d postgres -c "$SQL" >"$zha_dir/$peer" 2>/dev/null &
  done
  wait
  zha_found=1
  for peer in $PEERS; do
    timeline=$(cat "$zha_dir/$peer" 2>/dev/null)
    case "$timeline" in
      [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F])
        if [ "$(printf '%d' "0x$timeline")" -gt "$1" ]; then echo "$peer (timeline $(printf '%d' "0x$timeline"))"; zha_found=0; break; fi ;;
    esac
  done
  rm -rf "$zha_dir"
  return $zha_found
}

# Kept a standby from now on; the follow step decides whether it can rejoin.
hold_as_standby() {
  runuser -u postgres -- touch "$PGDATA_DIR/standby.signal"
  mkdir -p "$(dirname "$MARK")"
  echo superseded > "$MARK"
}

case "\${1:-}" in
  boot)
    # A standby, or a directory with no cluster yet, cannot become a second writer.
    if [ -f "$PGDATA_DIR/standby.signal" ] || [ ! -f "$PGDATA_DIR/global/pg_control" ]; then exit 0; fi
    mine=$(${shellQuote(`${c.binDir}/pg_controldata`)} -D "$PGDATA_DIR" 2>/dev/null | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
    [ -n "$mine" ] || exit 0
    if newer=$(newer_primary "$mine"); then
      hold_as_standby
      log "not starting as a primary: $newer accepts writes on a later timeline than this one ($mine); starting as a standby, held for the follow step"
    fi
    exit 0
    ;;
  watch)
    while sleep ${c.intervalSeconds ?? 0.3}; do
      mine=$(runuser -u postgres -- psql -X -q -t -A -h ${shellQuote(c.socketDir)} -p ${c.port} -d postgres -c "$SQL" 2>/dev/null) || continue
      [ -n "$mine" ] || continue
      if newer=$(newer_primary "$(printf '%d' "0x$mine")"); then
        log "this primary was superseded: $newer accepts writes on a later timeline; stopping it and keeping it a standby"
        systemctl stop ${shellQuote(c.service)}
        hold_as_standby
      fi
    done
    ;;
  *)
    echo "usage: $0 boot|watch" >&2
    exit 2
    ;;
esac
`;
}
