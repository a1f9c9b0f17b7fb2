/**
 * The data path's end-to-end check: a sequence number each monitored host's agent 2 counts up by one
 * at every collection, an active check of the template ZabbixObjects links to every agent host. A gap
 * in the stored sequence is a value lost on the way (agent, proxy, server, database); a value stored
 * late shows how long it waited in a buffer. The lab's drills count it exactly.
 */
import { formatZabbixDuration } from "../config/duration";
import { shellQuote } from "../shell";

/** The template every agent host is linked to, holding the sequence item. */
export const DATA_PATH_TEMPLATE = "Zabbix-HA data path";

/** The template group it is in: "Templates", which both series ship (a host group on 6.0). */
export const DATA_PATH_TEMPLATE_GROUP = "Templates";

/** The item key of the sequence (a UserParameter of agent 2), numeric unsigned: history_uint holds it. */
export const DATA_PATH_ITEM_KEY = "zabbix-ha.sequence";

/** How the sequence item looks in the template; `delay` comes from zabbix.dataPathCheckInterval. */
export const DATA_PATH_ITEM = {
    name: "Data path sequence",
    key_: DATA_PATH_ITEM_KEY,
    /** Zabbix agent (active): through ServerActive, buffered by the agent and the proxy. */
    type: "7",
    /** Numeric unsigned. */
    value_type: "3",
    history: "7d",
    /** Trends of a counter say nothing. */
    trends: "0",
} as const;

/**
 * The UserParameter line: the next number of the sequence kept in `file` (agent 2 runs one check of
 * an item at a time, so the read and the write never race). Written to a new file and renamed, so a
 * crash leaves the old number, never a torn one. Only a missing file starts the sequence at 1: a file
 * that holds no number (emptied, overwritten) fails the check, which makes the item unsupported and
 * visible, rather than restart the count silently and hide values from the drill that reads it.
 */
export function sequenceUserParameter(file: string): string {
    if (!file.startsWith("/")) {
        throw new Error(`the sequence file must be an absolute path, not ${JSON.stringify(file)}`);
    }
    const f = shellQuote(file);
    return [
        `UserParameter=${DATA_PATH_ITEM_KEY},if [ -e ${f} ]; then n=$(cat ${f}); else n=0; fi`,
        `case "$n" in ""|*[!0-9]*) echo ${shellQuote(`${file} holds no sequence number`)} >&2; exit 1;; esac`,
        `n=$((n + 1)); echo "$n" >${f}.new && mv ${f}.new ${f} && echo "$n"`,
    ].join("; ");
}

/** The template every agent host is linked to, as the objects step makes it. */
export interface CheckTemplateObject {
    /** The template's technical name. */
    readonly name: string;
    /** The template group it is in (a host group on 6.0). */
    readonly group: string;
    /** Its one item, as item.create takes it (delay included). */
    readonly item: Readonly<Record<string, string>>;
}

/** The template as the objects step makes it: its name, its group and its item every `intervalSeconds`. */
export function dataPathTemplate(intervalSeconds: number): CheckTemplateObject {
    return {
        name: DATA_PATH_TEMPLATE,
        group: DATA_PATH_TEMPLATE_GROUP,
        item: { ...DATA_PATH_ITEM, delay: formatZabbixDuration(intervalSeconds) },
    };
}
