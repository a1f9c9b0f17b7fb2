/**
 * The data check: the values a drill sends to the server nodes, which of them the database holds
 * once the history syncers have written what they keep, and, for a value a node acknowledged but the
 * database does not hold, when it was sent and which node took it: that says where data is lost.
 */
import { sleep } from "../machines";
import { DRILL_HOST, DRILL_KEY } from "./api";
import { DrillLab } from "./context";
import { ValueStream } from "./sender";
import { viaAnyBalancer } from "./sql";

/** A stream of sequence numbers to the drill item, sent to every server node's trapper (zabbix.listenPort), starting now. */
export function drillValues(lab: DrillLab): ValueStream {
    const port = lab.topo.config.zabbix.listenPort;
    return new ValueStream(
        lab.servers.map(s => ({ name: s.name, address: s.address, port })),
        DRILL_HOST,
        DRILL_KEY,
        Date.now() * 1000,
    );
}

/** Distinct sequence numbers stored, read again until two reads agree (the syncers flush every second). */
export async function storedValues(lab: DrillLab, itemid: string, first: number, last: number): Promise<Set<number>> {
    let previous: Set<number> | undefined;
    for (let i = 0; i < 10; i++) {
        const current = await viaAnyBalancer(
            lab,
            `select distinct value from history_uint where itemid = ${Number(itemid)} and value between ${first} and ${last}`,
            10_000,
        ).then(
            rows => new Set(rows.map(r => Number(r[0]))),
            () => undefined,
        );
        if (current && previous && current.size === previous.size) {
            return current;
        }
        previous = current ?? previous;
        await sleep(2000);
    }
    if (!previous) {
        throw new Error("no load balancer answered the data check");
    }
    return previous;
}

export interface AcceptedLoss {
    readonly count: number;
    /** Runs of lost values, as send times relative to the fault and the node that acknowledged them. */
    readonly runs: readonly string[];
}

export function acceptedLoss(stream: ValueStream, stored: ReadonlySet<number>, faultAt: number): AcceptedLoss {
    const lost = [...stream.acceptedValues()].filter(([v]) => !stored.has(v)).sort((a, b) => a[0] - b[0]);
    const runs: { from: number; to: number; node: string; count: number }[] = [];
    for (const [value, node] of lost) {
        const run = runs[runs.length - 1];
        const at = stream.sentTime(value) - faultAt;
        if (run && run.node === node && at - run.to < 2000) {
            run.to = at;
            run.count++;
        } else {
            runs.push({ from: at, to: at, node, count: 1 });
        }
    }
    const t = (ms: number) => `${ms >= 0 ? "+" : ""}${(ms / 1000).toFixed(1)}`;
    return {
        count: lost.length,
        runs: runs.map(r => `${r.count} acked by ${r.node}, sent t=${t(r.from)}..${t(r.to)} s`),
    };
}
