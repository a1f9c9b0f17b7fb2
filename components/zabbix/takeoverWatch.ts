/**
 * Prompt takeover after a graceful stop: the pure renderer of a small watcher that runs beside each
 * native-HA node.
 *
 * Why: a standby's HA manager reads ha_node every 5 s (compiled in), and the stopping node marks
 * itself stopped only at the very end of its shutdown, so a planned switchover waits 0 to 5 s on
 * top of the stop. A node that starts while no node is active registers as active at once. The
 * watcher therefore restarts its own standby node when, and only when, the cluster has no active
 * node and one stopped gracefully moments ago. It never acts on a crash or a cut (those leave the
 * active row in place; the failover delay governs them), and Zabbix's own registration, under its
 * row lock, still decides who becomes active, so it cannot make a second active node.
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
import { RENDERED_HEADER, shellQuote } from "../shell";
import { ZabbixServerConfInput } from "./zabbixServerConf";

/** Where the watcher is installed. */
export const TAKEOVER_SCRIPT = `${LIBEXEC_DIR}/takeover-watch`;

/** The node's own DB path and password include, exactly as its zabbix_server.conf has them. */
export interface TakeoverWatchInput extends Pick<
    ZabbixServerConfInput,
    "dbHost" | "dbPort" | "dbName" | "dbUser" | "dbTlsRequired" | "passwordInclude"
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
    const query =
        "select (select status from ha_node where name = " +
        sqlString(c.nodeName) +
        ")," +
        " (select count(*) from ha_node where status = 3)," +
        ` (select count(*) from ha_node where status = 1 and lastaccess >= extract(epoch from now())::int - ${recent}),` +
        ` (select count(*) from ha_node where status = 3 and name < ${sqlString(c.nodeName)} and lastaccess >= extract(epoch from now())::int - ${c.failoverDelaySeconds})`;
    // ha_node.status: 1 stopped, 2 unavailable; names are labels (lower-case letters, digits, "-").
    const departedQuery = `select name from ha_node where status in (1, 2) and name not in (${c.clusterNodes.map(sqlString).join(", ")})`;
    return `#!/bin/sh
# ${RENDERED_HEADER}
# Prompt takeover: restarts this standby node when the active node has stopped gracefully and no
# node is active, so it registers as active at once instead of at its next 5 s poll.
set -u
PGPASSWORD=$(sed -n 's/^DBPassword=//p' ${c.passwordInclude})
PGCONNECT_TIMEOUT=2
export PGPASSWORD PGCONNECT_TIMEOUT${c.dbTlsRequired ? "\nPGSSLMODE=require\nexport PGSSLMODE" : ""}
# Twice a second: the poll is most of what a planned switchover waits for (coreutils sleep takes fractions).
while sleep 0.5; do
  # Unreachable database: nothing to decide; the server's own HA logic handles that.
  state=$(psql -X -q -t -A -w -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} -c ${shellQuote(query)} 2>/dev/null) || continue
  case "$state" in
    "0|0|"[1-9]*)
      echo "no active node and one stopped gracefully: restarting this standby node so it takes over now"
      systemctl --no-block restart ${c.serverService}
      # Registration takes a moment; do not act on the same stop twice.
      sleep 10
      ;;
    "3|"*"|"*"|"[1-9]*)
      echo "another node is active too, with a fresh heartbeat, and sorts first: restarting this node so it stands by"
      systemctl --no-block restart ${c.serverService}
      sleep 10
      ;;
    "3|"*)
      # The active node: rows of departed nodes, once they stopped or were found unavailable, go.
      departed=$(psql -X -q -t -A -w -h ${c.dbHost} -p ${c.dbPort} -U ${c.dbUser} -d ${c.dbName} -c ${shellQuote(departedQuery)} 2>/dev/null) || continue
      for node in $departed; do
        echo "removing departed node $node from ha_node"
        zabbix_server -c ${shellQuote(c.serverConfig)} -R "ha_remove_node=$node" || true
      done
      ;;
  esac
done
`;
}
