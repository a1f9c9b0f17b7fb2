/**
 * The data path once deployed: every proxy of an installation talks to its active node (7.0's
 * proxy_rtdata.lastaccess, renewed by each of its data and configuration exchanges), and every
 * monitored host's data path check (components/proxy/dataPathCheck.ts) reaches the database, fresh.
 */
import { DATA_PATH_ITEM_KEY } from "../../../components/proxy";
import { Ask } from "./probe";

/** How fresh a proxy's last contact and a host's last value must be: a few of their one-second exchanges. */
const FRESH_SECONDS = 30;

/** What the check found: each proxy's and each host's age in seconds (missing: never). */
export interface DataPathState {
    /** Seconds since each proxy's last exchange with the active node (proxy_rtdata.lastaccess), by proxy name. */
    readonly proxies: Readonly<Record<string, number>>;
    /** Seconds since each monitored host's data path check last stored a value (within 10 minutes), by host name. */
    readonly hosts: Readonly<Record<string, number>>;
}

export async function dataPathState(
    ask: Ask,
    proxies: readonly string[],
    agents: readonly string[],
): Promise<DataPathState> {
    const names = (list: readonly string[]) => list.map(n => `'${n.replace(/'/g, "''")}'`).join(", ");
    const proxyRows =
        proxies.length === 0
            ? []
            : await ask(
                  `select p.name, extract(epoch from now())::bigint - r.lastaccess from proxy p join proxy_rtdata r on r.proxyid = p.proxyid where p.name in (${names(proxies)})`,
              );
    const hostRows =
        agents.length === 0
            ? []
            : await ask(
                  `select h.host, extract(epoch from now())::bigint - max(v.clock) from hosts h join items i on i.hostid = h.hostid join history_uint v on v.itemid = i.itemid ` +
                      `where i.key_ = '${DATA_PATH_ITEM_KEY}' and h.host in (${names(agents)}) and v.clock > extract(epoch from now())::bigint - 600 group by h.host`,
              );
    return {
        proxies: Object.fromEntries(proxyRows.map(r => [r[0], Number(r[1])])),
        hosts: Object.fromEntries(hostRows.map(r => [r[0], Number(r[1])])),
    };
}

/** Whether every proxy and host is fresh, and what to say either way. */
export function judgeDataPath(
    state: DataPathState,
    proxies: readonly string[],
    agents: readonly string[],
): { ok: boolean; detail: string } {
    const age = (found: Readonly<Record<string, number>>, name: string) =>
        name in found ? `${name} ${found[name]} s ago` : `${name} never`;
    const stale = (found: Readonly<Record<string, number>>, list: readonly string[]) =>
        list.filter(n => !(n in found) || found[n] > FRESH_SECONDS);
    const bad = [...stale(state.proxies, proxies), ...stale(state.hosts, agents)];
    return {
        ok: bad.length === 0,
        detail:
            `proxies last seen: ${proxies.map(n => age(state.proxies, n)).join(", ")}; ` +
            `${DATA_PATH_ITEM_KEY} last stored: ${agents.map(n => age(state.hosts, n)).join(", ")}` +
            (bad.length > 0 ? `; not within ${FRESH_SECONDS} s: ${bad.join(", ")}` : ""),
    };
}
