/**
 * The drills' second source, the way production sends: the data path check's sequence on agent 2 of
 * every monitored host (components/proxy/dataPathCheck.ts), through the proxy group to the active
 * node. What each agent produced is read off its sequence file at the start and at the end; what the
 * database stored, and when each value first appeared there, by polling it once a second through a
 * load balancer: a value's `clock` is when the agent collected it, so the two give its delay.
 */
import {
    AGENT_BUFFER_SEND_SECONDS,
    AGENT_RETRY_AFTER_FAILURE_SECONDS,
    AGENT_SEQUENCE_FILE,
    DATA_PATH_ITEM_KEY,
    PROXY_CONFIG_FREQUENCY_SECONDS,
} from "../../../components/proxy";
import { LabHost, sleep } from "../machines";
import { ZabbixApi } from "./api";
import { DrillLab, mustOnHost } from "./context";
import { viaAnyBalancer } from "./sql";

/** One monitored host's figures over a drill. */
export interface AgentHostFigures {
    /** Values its agent produced between the drill's start and its end. */
    readonly produced: number;
    /** Of those, the distinct ones the database holds once everything buffered has arrived. */
    readonly stored: number;
    /**
     * From the fault to the end of the last stall of its values (nothing new stored for STALL_MS)
     * that began after it: when its data path carried values again. 0 when they never stalled; null
     * when they were still stalled as the fault was undone.
     */
    readonly resumedSeconds: number | null;
    /** The longest time after the fault without a new value stored, in seconds. */
    readonly longestStallSeconds: number;
}

/** The agents' figures over a drill: produced, stored and lost in all, and the delay of the stored values. */
export interface AgentSourceFigures {
    /** Values every tracked agent produced between the drill's start and its end (read off their sequence files). */
    readonly valuesProduced: number;
    /** Of those, the distinct ones the database holds once everything buffered has arrived. */
    readonly valuesStored: number;
    /** Produced but never stored: what the data path lost. */
    readonly valuesLost: number;
    /** From collection to first seen stored (a second's resolution: the database is polled once a second). */
    readonly latencyMaxSeconds: number | null;
    /** The same delay's 95th percentile; null when nothing was stored. */
    readonly latencyP95Seconds: number | null;
    /** Each monitored host's own figures, by host name: what it produced and stored, and when its values flowed again. */
    readonly hosts: Readonly<Record<string, AgentHostFigures>>;
}

/**
 * Nothing new stored for this long is a stall of a host's data path: the agent sends a batch every
 * BufferSend seconds and the drill reads once a second, so two batches and a read may pass between
 * two sightings in normal operation.
 */
const STALL_MS = (2 * AGENT_BUFFER_SEND_SECONDS + 1) * 1000;

/**
 * How long the end of a drill waits without a new value before it counts the rest as lost: an agent
 * cut off at the undo asks again a minute after its failed request, and its proxy may need a sync.
 */
const QUIET_MS = (AGENT_RETRY_AFTER_FAILURE_SECONDS + PROXY_CONFIG_FREQUENCY_SECONDS) * 1000 + STALL_MS;

/** Reads the database through a load balancer that answers (a cut site's does not); undefined when none does. */
function fromAnyBalancer(lab: DrillLab, sql: string): Promise<string[][] | undefined> {
    return viaAnyBalancer(lab, sql).catch(() => undefined);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | null {
    return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Tracked {
    readonly host: LabHost;
    readonly itemid: number;
    /** The sequence number before the drill: it counts the values after it. */
    readonly from: number;
    to?: number;
    /** Each stored value, with its collection time and when the drill first saw it (ms). */
    readonly seen: Map<number, { clockMs: number; seenMs: number }>;
}

export class AgentSequences {
    private polling = false;
    private poller?: Promise<void>;

    private constructor(
        private readonly lab: DrillLab,
        private readonly tracked: readonly Tracked[],
        /**
         * No value the drill counts was collected before this (Unix seconds): the drill's start less a
         * minute of clock skew. It lets each read use history_uint's (itemid, clock) index rather than
         * scan the item's whole history.
         */
        private readonly sinceClock: number,
    ) {}

    /** The lab's monitored hosts (the stack's topology names them), or undefined when it has none. */
    static async open(lab: DrillLab): Promise<AgentSequences | undefined> {
        const agents = (lab.model.dataPath?.agents ?? []).map(a => {
            const host = lab.topo.hosts.find(h => h.name === a.host);
            if (!host) {
                throw new Error(`the stack's topology names agent host ${a.host}, which is not a lab host`);
            }
            return host;
        });
        if (agents.length === 0) {
            return undefined;
        }
        const names = agents.map(h => `'${h.name}'`).join(", ");
        const rows = await fromAnyBalancer(
            lab,
            `select h.host, i.itemid from items i join hosts h on h.hostid = i.hostid where i.key_ = '${DATA_PATH_ITEM_KEY}' and h.host in (${names})`,
        );
        const items = new Map((rows ?? []).map(r => [r[0], Number(r[1])]));
        const missing = agents.filter(h => !items.has(h.name)).map(h => h.name);
        if (missing.length > 0) {
            throw new Error(
                `no ${DATA_PATH_ITEM_KEY} item on ${missing.join(", ")}: did the objects step link the data path template?`,
            );
        }
        const tracked = await Promise.all(
            agents.map(async host => ({
                host,
                itemid: items.get(host.name)!,
                from: await sequenceNow(lab, host),
                seen: new Map(),
            })),
        );
        return new AgentSequences(lab, tracked, Math.floor(Date.now() / 1000) - 60);
    }

    /** Polls the database once a second until stop(). */
    start(): void {
        this.polling = true;
        this.poller = (async () => {
            while (this.polling) {
                await this.poll();
                await sleep(1000);
            }
        })();
    }

    /** Waits until every host's values are flowing (at least `count` stored since the start). */
    async flowing(count = 3, timeoutMs = 120_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            await this.poll();
            if (this.tracked.every(t => t.seen.size >= count)) {
                return;
            }
            await sleep(1000);
        }
        const slow = this.tracked.filter(t => t.seen.size < count).map(t => `${t.host.name} (${t.seen.size})`);
        throw new Error(`no values of ${DATA_PATH_ITEM_KEY} stored from ${slow.join(", ")} before the fault`);
    }

    /**
     * Ends the count (and the polling, whatever happens): reads each agent's sequence, then waits for what is buffered to arrive (every
     * value stored, or nothing new for `quietMs`, or `boundMs` in all), and gives the figures.
     */
    async stop(
        faultAt: number,
        undoAt: number,
        quietMs = QUIET_MS,
        boundMs = 3 * QUIET_MS,
    ): Promise<AgentSourceFigures> {
        this.polling = false;
        await this.poller;
        for (const t of this.tracked) {
            t.to = await sequenceNow(this.lab, t.host);
        }
        const started = Date.now();
        let lastGrowth = Date.now();
        let before = this.storedCount();
        while (this.storedCount() < this.producedCount() && Date.now() - lastGrowth < quietMs) {
            if (Date.now() - started > boundMs) {
                break;
            }
            await sleep(1000);
            await this.poll();
            const now = this.storedCount();
            if (now > before) {
                lastGrowth = Date.now();
                before = now;
            }
        }
        const latencies: number[] = [];
        const hosts: Record<string, AgentHostFigures> = {};
        for (const t of this.tracked) {
            const values = [...t.seen.entries()].filter(([v]) => v <= t.to!);
            for (const [, s] of values) {
                latencies.push(Math.max(0, s.seenMs - s.clockMs) / 1000);
            }
            const stall = lastStall(
                values.map(([, s]) => s.seenMs),
                faultAt,
                undoAt,
            );
            hosts[t.host.name] = {
                produced: t.to! - t.from,
                stored: values.length,
                resumedSeconds: stall === undefined ? 0 : stall.end > undoAt ? null : (stall.end - faultAt) / 1000,
                longestStallSeconds: stall?.longest ?? 0,
            };
        }
        latencies.sort((a, b) => a - b);
        const produced = this.producedCount();
        const stored = this.storedCount();
        return {
            valuesProduced: produced,
            valuesStored: stored,
            valuesLost: produced - stored,
            latencyMaxSeconds: latencies.length > 0 ? latencies[latencies.length - 1] : null,
            latencyP95Seconds: percentile(latencies, 95),
            hosts,
        };
    }

    private producedCount(): number {
        return this.tracked.reduce((n, t) => n + ((t.to ?? t.from) - t.from), 0);
    }

    private storedCount(): number {
        return this.tracked.reduce(
            (n, t) => n + [...t.seen.keys()].filter(v => t.to === undefined || v <= t.to).length,
            0,
        );
    }

    /** One read of every tracked item's values since the start; a value seen for the first time is timed now. */
    private async poll(): Promise<void> {
        const where = this.tracked
            .map(t => `(itemid = ${t.itemid} and clock >= ${this.sinceClock} and value > ${t.from})`)
            .join(" or ");
        const rows = await fromAnyBalancer(
            this.lab,
            `select itemid, value, clock, ns from history_uint where ${where}`,
        );
        const now = Date.now();
        for (const [itemid, value, clock, ns] of rows ?? []) {
            const t = this.tracked.find(x => x.itemid === Number(itemid))!;
            const v = Number(value);
            if (!t.seen.has(v)) {
                t.seen.set(v, { clockMs: Number(clock) * 1000 + Math.floor(Number(ns) / 1e6), seenMs: now });
            }
        }
    }
}

/**
 * The last stall after the fault in a host's first-seen times (ms): the end of the last gap longer
 * than STALL_MS that ends after the fault, and the longest such gap; undefined when there is none.
 * Values that stop coming before `undoAt` and stay away until it end their stall at Infinity.
 */
export function lastStall(
    seen: readonly number[],
    faultAt: number,
    undoAt: number,
): { readonly end: number; readonly longest: number } | undefined {
    const times = [...new Set(seen)].sort((a, b) => a - b);
    let found: { end: number; longest: number } | undefined;
    for (let i = 1; i < times.length; i++) {
        const from = Math.max(times[i - 1], faultAt);
        // A gap that opens after the undo is not the fault's (a proxy coming back rebalances hosts).
        const gap = times[i] - from;
        if (times[i] > faultAt && from < undoAt && gap > STALL_MS) {
            found = { end: times[i], longest: Math.max(found?.longest ?? 0, gap / 1000) };
        }
    }
    const last = Math.max(times[times.length - 1] ?? faultAt, faultAt);
    if (!times.some(t => t > undoAt) && undoAt - last > STALL_MS) {
        found = { end: Infinity, longest: Math.max(found?.longest ?? 0, (undoAt - last) / 1000) };
    }
    return found;
}

/** The agent's sequence now: the last number it handed out (0 before its first collection). */
async function sequenceNow(lab: DrillLab, host: LabHost): Promise<number> {
    const out = await mustOnHost(lab, host, `cat ${AGENT_SEQUENCE_FILE} 2>/dev/null || echo 0`);
    const n = Number(out.trim());
    if (!Number.isInteger(n)) {
        throw new Error(`${host.name}: ${AGENT_SEQUENCE_FILE} holds ${JSON.stringify(out.trim())}, not a number`);
    }
    return n;
}

/** Which proxy each monitored host is assigned to now (7.0's assigned_proxyid), by host name. */
export async function assignedProxies(lab: DrillLab, api: ZabbixApi): Promise<Record<string, string>> {
    const agents = (lab.model.dataPath?.agents ?? []).map(a => a.host);
    if (agents.length === 0 || (lab.model.dataPath?.proxies ?? []).length === 0) {
        return {};
    }
    const [hosts, proxies] = await Promise.all([
        api.call<{ host: string; assigned_proxyid?: string }[]>("host.get", {
            output: ["host", "assigned_proxyid"],
            filter: { host: agents },
        }),
        api.call<{ proxyid: string; name: string }[]>("proxy.get", { output: ["proxyid", "name"] }),
    ]);
    const names = new Map(proxies.map(p => [p.proxyid, p.name]));
    return Object.fromEntries(
        hosts.flatMap(h => {
            const proxy = names.get(h.assigned_proxyid ?? "0");
            return proxy ? [[h.host, proxy]] : [];
        }),
    );
}
