/**
 * Step scripts of the Zabbix server nodes that are not a file's renderer. Pure: input in, text out.
 */
import { DbClientInput, zabbixSqlClient } from "../postgres/schema";
import { shellQuote } from "../shell";
import { TAKEOVER_SCRIPT, TAKEOVER_UNIT } from "./takeoverRender";

/** Stops and removes the prompt-takeover watcher where one was installed (a node that leaves, or is left alone). */
export function takeoverRemoval(): string {
    return `if [ -e /etc/systemd/system/${TAKEOVER_UNIT} ]; then
  systemctl disable --now ${TAKEOVER_UNIT} 2>/dev/null || true
  rm -f ${TAKEOVER_SCRIPT} /etc/systemd/system/${TAKEOVER_UNIT}
  systemctl daemon-reload
  echo "updated /etc/systemd/system/${TAKEOVER_UNIT}: removed, there is no other HA node to take over from"
fi`;
}

export interface NodeRemovalInput extends DbClientInput {
    /** The node's HANodeName. */
    readonly nodeName: string;
    readonly serverService: string;
    /** Files of the node that hold its password or its HA settings. */
    readonly files: readonly string[];
}

/**
 * Undoes a native-HA node (its host, or its zabbix-server role, left the stack): the server stops
 * and stays disabled, so it can never become active again, and its row leaves ha_node. The row goes
 * by SQL under the rule `zabbix_server -R ha_remove_node` applies (only a stopped or unavailable node):
 * that runtime command answers only on the active node, which this step, on the removed host, cannot
 * address.
 */
export function nodeRemovalStep(c: NodeRemovalInput): string {
    // ha_node.status: 0 standby, 1 stopped, 2 unavailable, 3 active.
    const row = `ha_node where name = '${c.nodeName.replace(/'/g, "''")}'`;
    return [
        zabbixSqlClient(c),
        `echo "this host no longer runs Zabbix HA node ${c.nodeName}: stopping it for good and removing it from ha_node"`,
        takeoverRemoval(),
        `systemctl disable --now ${c.serverService}`,
        `zha_stopped() { [ "$(zha_zabbix_sql -c "select count(*) from ${row} and status not in (1, 2)")" = 0 ]; }`,
        `zha_retry 30 zha_stopped`,
        `zha_zabbix_sql -c "delete from ${row} and status in (1, 2)" >/dev/null`,
        `rm -f ${c.files.map(shellQuote).join(" ")}`,
        "systemctl daemon-reload",
    ].join("\n");
}
