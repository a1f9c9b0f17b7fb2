/**
 * Step scripts of the Zabbix server nodes that are not a file's renderer. Pure: input in, text out.
 */
import { shellQuote } from "../shell";
import { TAKEOVER_SCRIPT, TAKEOVER_UNIT } from "./takeoverRender";

/** Stops and removes the HA watcher where one was installed (a node that leaves the cluster). */
export function takeoverRemoval(): string {
    return `if [ -e /etc/systemd/system/${TAKEOVER_UNIT} ]; then
  systemctl disable --now ${TAKEOVER_UNIT} 2>/dev/null || true
  rm -f ${TAKEOVER_SCRIPT} /etc/systemd/system/${TAKEOVER_UNIT}
  systemctl daemon-reload
fi`;
}

export interface NodeRemovalInput {
    /** The node's HANodeName. */
    readonly nodeName: string;
    readonly serverService: string;
    /** Files of the node that hold its password or its HA settings. */
    readonly files: readonly string[];
}

/**
 * Undoes a native-HA node (its host, or its zabbix-server role, left the stack): the server stops
 * and stays disabled, so it can never become active again. Its row in ha_node is removed by the
 * active node's watcher (`zabbix_server -R ha_remove_node`) once it shows stopped or unavailable:
 * this delete runs after every other host's update, when this host may no longer reach the database.
 */
export function nodeRemovalStep(c: NodeRemovalInput): string {
    return [
        `echo "this host no longer runs Zabbix HA node ${c.nodeName}: stopping it for good (the active node's watcher removes it from ha_node)"`,
        takeoverRemoval(),
        `systemctl disable --now ${c.serverService}`,
        `rm -f ${c.files.map(shellQuote).join(" ")}`,
        "systemctl daemon-reload",
    ].join("\n");
}
