/**
 * Prompt takeover: the pure renderer of a small watcher that runs beside each native-HA node.
 *
 * Why, after a graceful stop: a standby's HA manager reads ha_node every 5 s (compiled in), and the
 * stopping node marks itself stopped only at the very end of its shutdown, so a planned switchover
 * waits 0 to 5 s on top of the stop. A node that starts while no node is active registers as active
 * at once. The watcher therefore restarts its own standby node when the cluster has no active node
 * and one stopped gracefully moments ago; Zabbix's own registration, under its row lock, still
 * decides who becomes active, so it cannot make a second active node.
 *
 * Why, after a crash or a cut: a crash or a cut leaves the active row in place. Zabbix's standby
 * takes over only once it has seen that row's heartbeat (lastaccess) unchanged for more than
 * failover_delay / 5 of its own 5 s polls, and it counts none while its database is unreachable: after
 * the loss of the site holding both the active node and the primary, it started counting only when
 * the promoted replica answered, and took 15 s more. Once the heartbeat is older than the failover
 * delay by the database's clock (Zabbix's own test of a node that can act, `ha_is_available`), the
 * watcher does the standby's step itself: under the same row lock it marks that row unavailable, and
 * the next poll of a standby, finding no active node, takes over. A crashed node restarting meanwhile
 * finds a standby that can act and registers as standby; an active node cut off from its database
 * has stood itself down by then (its server stops at failover_delay - 5 s without its HA manager's
 * heartbeat).
 *
 * It also removes departed nodes: a node whose host or role left the stack is stopped by its step's
 * delete, which the engine runs last, after every other host's update, so the removed node can no
 * longer reach the database (its balancer left the hba rules first) and cannot remove its own row.
 * The watcher of the active node removes the row of every node not in the cluster's list once it is
 * stopped or unavailable, with `zabbix_server -R ha_remove_node` (answered by the active node only).
 *
 * And it ends a second active node, which Zabbix itself never resolves: after a manual failover
 * away from a site that was only cut off, that site's node stayed active on its own (superseded)
 * database; when the link heals and its load balancer leads it to the new primary, it keeps
 * heart-beating as active beside the node already active there (seen in the lab for minutes, until
 * stopped). Of two fresh active nodes the one whose name sorts later restarts; registering again, it
 * finds the other active and stands by. Both watchers see the same rows, so exactly one acts.
 */
import { LIBEXEC_DIR } from "../platform";
import { dbClientExport } from "../postgres/tls";
import { RENDERED_HEADER, shellQuote } from "../shell";
import { ZabbixServerConfInput } from "./zabbixServerConf";

/** How often the watcher reads ha_node: the poll is most of what a planned switchover waits for. */
export const TAKEOVER_POLL_SECONDS = 0.5;

/** Where the watcher is installed. */
export const TAKEOVER_SCRIPT = `${LIBEXEC_DIR}/takeover-watch`;

/** The node's own DB path and password include, exactly as its zabbix_server.conf has them. */
export interface TakeoverWatchInput extends Pick<
    ZabbixServerConfInput,
    "dbHost" | "dbPort" | "dbName" | "dbUser" | "dbTls" | "passwordInclude"
> {
    /** This node's HANodeName. */
    readonly nodeName: string;
    /** The server's systemd unit, which the watcher restarts. */
    readonly serverService: string;
    /** Seconds a stop counts as "moments ago": longer than a heartbeat, shorter than any failover delay. */
    readonly recentStopSeconds?: number;
    /** The cluster's failover delay: an active node heart-beating within it is alive. */
    readonly failoverDelaySeconds: number;
    /** Every node of the cluster (HANodeName): a row of any other is a departed node's. */
    readonly clusterNodes: readonly string[];
    /** The server's configuration file, for its runtime control (`zabbix_server -R`). */
    readonly serverConfig: string;
}

function sqlString(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** The watcher script: twice a second it reads ha_node through the node's own DB path and acts. */
export function renderTakeoverScript(c: TakeoverWatchInput): string {
    const recent = c.recentStopSeconds ?? 15;
    // ha_node.status: 0 standby, 1 stopped, 2 unavailable, 3 active; lastaccess is the DB's clock.
    // "Fresh" is Zabbix's own test of a node that can still act (lastaccess + failover delay > now).
    const now = "extract(epoch from now())::int";
    const fresh = `lastaccess > ${now} - ${c.failoverDelaySeconds}`;
    const me = sqlString(c.nodeName);
    const query =
        // This node's status, or -2 while its own heartbeat is not fresh (its HA manager cannot act either).
        `select coalesce((select case when status = 0 and not (${fresh}) then -2 else status end from ha_node where name = ${me}), -1),` +
        " (select count(*) from ha_node where status = 3)," +
        ` (select count(*) from ha_node where status = 1 and lastaccess >= ${now} - ${recent}),` +
        ` (select count(*) from ha_node where status = 3 and name < ${me} and lastaccess >= ${now} - ${c.failoverDelaySeconds}),` +
        ` (select count(*) from ha_node where status = 3 and ${fresh})`;
    // What Zabbix's standby does once it has counted the active node's heartbeat missing for the failover
    // delay, under the same row lock in the same order (ha_db_lock_nodes), with its own test.
    const markUnavailable =
        "begin; select null from ha_node order by ha_nodeid for update;" +
        ` update ha_node set status = 2 where status = 3 and lastaccess + ${c.failoverDelaySeconds} <= ${now}; commit;`;
    // ha_node.status: 1 stopped, 2 unavailable; names are labels (lower-case letters, digits, "-").
    const departedQuery = `select name from ha_node where status in (1, 2) and name not in (${c.clusterNodes.map(sqlString).join(", ")})`;
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Prompt takeover: restarts this standby node when the active node has stopped gracefully and no
# node is active, so it registers as active at once instead of at its next 5 s poll; marks an active
# node whose heartbeat is older than the failover delay unavailable, as Zabbix's standby would after
# counting its polls, so the next poll of a standby takes over.
set -u
PGPASSWORD=$(sed -n 's/^DBPassword=//p' ${c.passwordInclude})
PGCONNECT_TIMEOUT=2
export PGPASSWORD PGCONNECT_TIMEOUT
${dbClientExport(c.dbTls)}
# Twice a second: the poll is most of what a planned switchover waits for (coreutils sleep takes fractions).
while sleep ${TAKEOVER_POLL_SECONDS}; do
  # Unreachable database: nothing to decide; the server's own HA logic handles that.
  state=$(psql -X -q -t -A -w -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} -c ${shellQuote(query)} 2>/dev/null) || continue
  # This node's status (-1: no row, -2: a standby whose own heartbeat is stale), active rows, recent
  # graceful stops, fresh active rows that sort before this node, fresh active rows.
  IFS='|' read -r own active stopped earlier fresh_active <<ZHA_STATE
$state
ZHA_STATE
  if [ "$own" = 0 ] && [ "$active" = 0 ] && [ "$stopped" -gt 0 ]; then
    echo "no active node and one stopped gracefully: restarting this standby node so it takes over now"
    systemctl --no-block restart ${c.serverService}
    # Registration takes a moment; do not act on the same stop twice.
    sleep 10
  elif [ "$own" = 0 ] && [ "$active" -gt 0 ] && [ "$fresh_active" = 0 ]; then
    # Zabbix's own test says that node cannot act, and an active node without its database has stood
    # itself down by then (its HA manager stops heart-beating to the server). Zabbix's standby would
    # still count failover_delay / 5 more of its 5 s polls, from the database's return after a DB
    # failover: marked unavailable, the node is gone at the next poll of any standby.
    echo "the active node's heartbeat is older than the failover delay: marking it unavailable so a standby takes over at its next poll"
    psql -X -q -t -A -w -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} -c ${shellQuote(markUnavailable)} >/dev/null 2>&1 || true
    sleep 5
  elif [ "$own" = 3 ] && [ "$earlier" -gt 0 ]; then
    echo "another node is active too, with a fresh heartbeat, and sorts first: restarting this node so it stands by"
    systemctl --no-block restart ${c.serverService}
    sleep 10
  elif [ "$own" = 3 ]; then
    # The active node: rows of departed nodes, once they stopped or were found unavailable, go.
    departed=$(psql -X -q -t -A -w -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} -c ${shellQuote(departedQuery)} 2>/dev/null) || continue
    for node in $departed; do
      echo "removing departed node $node from ha_node"
      zabbix_server -c ${shellQuote(c.serverConfig)} -R "ha_remove_node=$node" || true
    done
  fi
done
`;
}
