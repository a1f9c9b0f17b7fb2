/**
 * What a failure does to the values agents send through proxies: where they wait (the agent's
 * persistent buffer while it reaches no proxy that takes its host, the proxy's offline buffer while
 * it reaches no active server), for how long, and whether that outlasts the buffer's bound, after
 * which the oldest values are dropped. Zabbix 7.0 proxy groups: the server counts a proxy offline
 * once it is silent for the group's failover_delay and moves its hosts to the group's online
 * proxies, if at least min_online stay online; an agent lists the group's proxies and is redirected
 * to the one that monitors its host. Generic over the topology, like the rest of the model.
 */
import { proxyGroupFailoverSeconds } from "../components/proxy/failover";
import { DATA_SENDER_FREQUENCY_SECONDS } from "../components/proxy/zabbixProxyConf";
import type { OperatorCause } from "./causes";
import { SecondsRange, bothDone, formatSeconds, seconds } from "./recovery";
import { DataPathTopology, InstanceTopology, Placement, Topology } from "./topology";
import type { World } from "./world";

/** One installation once its mechanisms have acted, as the data path needs it. */
export interface ServerSide {
    /** The installation, whose name the proxies that report to it declare. */
    readonly instance: InstanceTopology;
    /** The node that holds the active role once the mechanisms have acted, if any. */
    readonly server?: Placement;
    /** Whether that node stores values again. */
    readonly monitoring: boolean;
    /** Until it does (no wait when nothing stopped); null when it waits for a repair. */
    readonly seconds: SecondsRange | null;
    /** Whether the node active before the failure may drop values it acknowledged from the proxies and had not written. */
    readonly dropsAcknowledged: boolean;
}

/** What the failure does to the data path. */
export interface DataPathOutcome {
    /** Whether some agent's values wait at all. */
    readonly interrupted: boolean;
    /** Until every agent's values flow again; null when some wait for a repair. */
    readonly seconds: SecondsRange | null;
    /** Proxy groups with agents whose values wait for a repair: their hosts are not monitored meanwhile. */
    readonly stoppedGroups: readonly string[];
    /** What may happen to values on the way, one sentence each: where they wait, for how long, what is lost. */
    readonly risks: readonly string[];
    /** Why an operator (or a repair) is needed, when one is. */
    readonly causes: readonly OperatorCause[];
    /**
     * Whether every value agents hand to the data path arrives (late, maybe): no proxy dies with values
     * in memory, and every wait ends within its buffer's bound (a repair, within it).
     */
    readonly valuesKept: boolean;
}

type Proxy = DataPathTopology["proxies"][number];
type Agent = DataPathTopology["agents"][number];

/** Where one agent's values wait, and until when (null: a repair). */
interface Wait {
    readonly at: "agent" | "proxy";
    readonly group: string;
    readonly seconds: SecondsRange | null;
    /** The buffer's bound, in seconds. */
    readonly boundSeconds: number;
}

/** The group's failover: the delay at the soonest; with the proxy's config sync and the agent's retry a minute after its failed request at the latest. */
export function proxyGroupFailover(failoverDelaySeconds: number): SecondsRange {
    return seconds(failoverDelaySeconds, proxyGroupFailoverSeconds(failoverDelaySeconds));
}

/**
 * A wait at a proxy for its servers: once they are back, the proxy sends what it kept within its
 * DataSenderFrequency (the lab saw values stored 1.2 s after the servers' own recovery).
 */
function afterProxySends(wait: SecondsRange | null): SecondsRange | null {
    return wait && wait.max > 0 ? { min: wait.min, max: wait.max + DATA_SENDER_FREQUENCY_SECONDS } : wait;
}

/** The installation a proxy reports to, as it declares it. */
function sideOf(proxy: Proxy, sides: readonly ServerSide[]): ServerSide | undefined {
    return sides.find(s => s.instance.name === proxy.installation);
}

/** Evaluates the data path after the servers' mechanisms; undefined when the topology has none. */
export function dataPathAfter(
    topology: Topology,
    world: World,
    sides: readonly ServerSide[],
): DataPathOutcome | undefined {
    const d = topology.dataPath;
    if (!d || d.proxies.length === 0) {
        return undefined;
    }
    const side = (p: Proxy) => sideOf(p, sides);
    // A proxy is online once it reaches the active node of a monitoring installation.
    const online = (p: Proxy) => {
        const s = side(p);
        return world.proxyUp(p) && !!s?.monitoring && !!s.server && world.linked(p, s.server);
    };
    const reaches = (a: Agent, p: Proxy) => world.proxyUp(p) && world.linked(a, p);
    const waits: Wait[] = [];
    const stopped = new Map<string, string[]>();
    // Proxies that keep taking values for hosts the server moves away from them: the server takes a
    // proxy's values only for the hosts it monitors when they arrive, so these are dropped at the heal.
    const discarded = new Map<string, string[]>();
    for (const agent of d.agents) {
        const group = d.proxyGroups.find(g => g.name === agent.group);
        const members = d.proxies.filter(p => p.group === agent.group);
        // Agents without a group report to the servers; a host that is down produces nothing.
        if (!group || members.length === 0 || !world.alive(agent)) {
            continue;
        }
        const targets = members.filter(online);
        const moves = targets.length > 0 && targets.length >= group.minOnline;
        // The server spreads the group's hosts over its proxies: the worst proxy this agent's host may be on.
        const perProxy = members.map((p): Wait => {
            if (reaches(agent, p) && !online(p) && moves) {
                discarded.set(p.host, [...(discarded.get(p.host) ?? []), agent.host]);
            }
            if (reaches(agent, p)) {
                const s = side(p);
                const wait = online(p) && s ? afterProxySends(s.seconds) : null;
                return { at: "proxy", group: group.name, seconds: wait, boundSeconds: p.offlineBufferHours * 3600 };
            }
            const failover = proxyGroupFailover(group.failoverDelaySeconds);
            const moved =
                !online(p) && moves && targets.every(q => reaches(agent, q))
                    ? targets.reduce<SecondsRange | null>((all, q) => {
                          const s = side(q)?.seconds ?? null;
                          return all && s ? bothDone(all, s) : null;
                      }, failover)
                    : null;
            return {
                at: "agent",
                group: group.name,
                seconds: moved,
                boundSeconds: agent.persistentBufferPeriodSeconds,
            };
        });
        waits.push(...perProxy);
        // Waits for the servers' own repair are the servers' outcome; these are the data path's.
        if (perProxy.some((w, i) => w.seconds === null && side(members[i])?.monitoring)) {
            stopped.set(group.name, [...(stopped.get(group.name) ?? []), agent.host]);
        }
    }
    // A dark site's proxy keeps running and taking its own site's agents' values, unseen: once its
    // group has moved their hosts to proxies still online, those values are dropped at the heal too.
    for (const p of d.proxies.filter(q => world.siteDark(q.site))) {
        const group = d.proxyGroups.find(g => g.name === p.group);
        const targets = d.proxies.filter(q => q.group === p.group && online(q));
        const siteAgents = d.agents.filter(a => a.group === p.group && a.site === p.site).map(a => a.host);
        if (group && targets.length > 0 && targets.length >= group.minOnline && siteAgents.length > 0) {
            discarded.set(p.host, [...(discarded.get(p.host) ?? []), ...siteAgents]);
        }
    }
    const late = waits.filter(w => w.seconds === null || w.seconds.max > 0);
    const lost = d.proxies.filter(p => world.proxyUp(p) === false && !world.siteDark(p.site));
    const dropping = sides.filter(s => s.dropsAcknowledged && d.proxies.some(p => side(p) === s));
    const risks = [
        ...lost.map(
            p =>
                `values proxy ${p.host} held in memory and had not sent (hybrid buffer, about DataSenderFrequency = ${DATA_SENDER_FREQUENCY_SECONDS} s)`,
        ),
        // A dark site's proxy keeps running and buffering its own site's agents' values, unseen.
        ...d.proxies
            .filter(p => world.siteDark(p.site))
            .map(
                p =>
                    `values proxy ${p.host} takes from its site's agents wait in its offline buffer until the site's network is back, which must come within ${bound(p.offlineBufferHours * 3600)} (ProxyOfflineBuffer) or the older values are lost`,
            ),
        ...dropping.map(
            s =>
                `values the active node of ${s.instance.name} had acknowledged from its proxies and not yet written: Zabbix acknowledges them once they are in its history cache, and a node that dies, or loses its database for its failover delay and switches to standby, drops them (about a second's worth; all it took in while its database was gone)`,
        ),
        ...[...discarded].map(
            ([proxy, agents]) =>
                `values proxy ${proxy} keeps taking from ${agents.join(", ")} once its group has moved them to another proxy (it is offline to the server for the group's failover delay but still reaches them): the server takes a proxy's values only for the hosts it monitors, so it drops these when the proxy is back`,
        ),
        ...waitRisks(late),
        ...[...stopped].map(
            ([group, agents]) =>
                `the hosts of proxy group ${group} (${agents.join(", ")}) are not monitored until the repair: no proxy of the group that their agents reach is online`,
        ),
    ];
    const seconds = late.some(w => w.seconds === null)
        ? null
        : late.reduce<SecondsRange>((all, w) => bothDone(all, w.seconds!), { min: 0, max: 0 });
    return {
        interrupted: late.length > 0,
        seconds,
        stoppedGroups: [...stopped.keys()],
        risks,
        causes: [...stopped].map(([group, agents]) => groupCause(group, agents)),
        valuesKept:
            lost.length === 0 &&
            dropping.length === 0 &&
            discarded.size === 0 &&
            late.every(w => w.seconds === null || w.seconds.max <= w.boundSeconds),
    };
}

const BUFFER = {
    agent: "the agents' persistent buffers (PersistentBufferPeriod",
    proxy: "the proxies' offline buffers (ProxyOfflineBuffer",
};

function bound(seconds: number): string {
    return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;
}

/** One sentence per group and buffer: how long values wait there, or the bound a repair must beat. */
function waitRisks(waits: readonly Wait[]): string[] {
    const keys = [...new Set(waits.map(w => `${w.at}\n${w.group}`))];
    return keys.flatMap(key => {
        const [at, group] = key.split("\n") as [Wait["at"], string];
        const same = waits.filter(w => w.at === at && w.group === group);
        const limit = Math.min(...same.map(w => w.boundSeconds));
        const where = `values through proxy group ${group} wait in ${BUFFER[at]} ${bound(limit)})`;
        if (same.some(w => w.seconds === null)) {
            return [`${where} until the repair, which must come within ${bound(limit)} or the older values are lost`];
        }
        const range = same.reduce<SecondsRange>((all, w) => bothDone(all, w.seconds!), { min: 0, max: 0 });
        return range.max > limit
            ? [`${where} for ${formatSeconds(range)}: values older than ${bound(limit)} are lost`]
            : [`${where} for ${formatSeconds(range)} and arrive late, none lost`];
    });
}

function groupCause(group: string, agents: readonly string[]): OperatorCause {
    const summary = `proxy group ${group} has no online proxy its agents reach`;
    return {
        id: "proxy-group-lost",
        summary,
        reason: `${summary}: its agents (${agents.join(", ")}) wait until a proxy of the group they reach talks to the active server again`,
        change: "another proxy in the group that its agents reach, in another site, with min_online no more than the proxies left",
    };
}
