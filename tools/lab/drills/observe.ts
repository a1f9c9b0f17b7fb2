/**
 * What a drill watches while a fault lasts: when service is back (recovery), and the longest time
 * the users of each surviving load balancer went without a login page (the gap).
 */
import { freshActive, haNodes } from "../checks";
import { LabHost, sleep } from "../machines";
import { loginPageAnswers } from "./api";
import { DrillLab } from "./context";
import { ValueStream } from "./sender";
import { ask, query, viaLoadBalancer } from "./sql";

/** A stored value is fresh when it was sent less than this long before the probe (history syncers write every second). */
const FRESH_MS = 2500;
const PROBE_MS = 500;

/** The highest sequence number stored, and whether a node is active, through the first surviving balancer that answers. */
async function throughDb(
    lab: DrillLab,
    surviving: readonly LabHost[],
    itemid: string,
    first: number,
): Promise<{ stored: number; active: boolean } | undefined> {
    for (const lb of surviving) {
        try {
            const target = viaLoadBalancer(lab, lb);
            const [nodes, rows] = await Promise.all([
                haNodes(ask(target)),
                query(
                    target,
                    `select coalesce(max(value), 0) from history_uint where itemid = ${Number(itemid)} and value >= ${first}`,
                    3000,
                ),
            ]);
            return {
                stored: Number(rows[0][0]),
                active: freshActive(nodes, lab.model.failoverDelaySeconds).length > 0,
            };
        } catch {
            // this balancer cannot reach a database now: the next one
        }
    }
    return undefined;
}

export interface RecoveryWindow {
    /** Give up after this long: not recovered. */
    readonly boundMs: number;
    /** Watch at least this long: some effects come late (Patroni demotes a primary cut from etcd after its retry timeout). */
    readonly minObserveMs: number;
    /** Service must hold this long to count as back. */
    readonly stableMs: number;
}

/** Served: the UI answers through a surviving balancer, a node is active, and values sent moments ago are stored. */
async function served(
    lab: DrillLab,
    surviving: readonly LabHost[],
    stream: ValueStream,
    itemid: string,
    probeAt: number,
): Promise<boolean> {
    const [ui, db] = await Promise.all([
        Promise.all(surviving.map(lb => loginPageAnswers(lb, lab.uiCa))).then(a => a.some(Boolean)),
        throughDb(lab, surviving, itemid, stream.first),
    ]);
    return ui && !!db?.active && db.stored >= stream.sequenceAt(probeAt - FRESH_MS);
}

/**
 * Seconds from the fault to the start of the service's last unbroken run (0 when it never broke),
 * once that run has lasted `stableMs`; null when no such run comes within the bound. A stored value
 * counts only when it is fresh, so an outage shows within FRESH_MS and a recovery about a second
 * late (the history syncers' flush): the figures carry that resolution.
 */
export async function awaitRecovery(
    lab: DrillLab,
    surviving: readonly LabHost[],
    stream: ValueStream,
    itemid: string,
    faultAt: number,
    window: RecoveryWindow,
): Promise<number | null> {
    let runStart: number | undefined;
    let broke = false;
    for (;;) {
        const probeAt = Date.now();
        if (await served(lab, surviving, stream, itemid, probeAt)) {
            runStart ??= probeAt;
        } else {
            runStart = undefined;
            broke = true;
        }
        const elapsed = probeAt - faultAt;
        const held = runStart === undefined ? 0 : probeAt - runStart;
        if ((elapsed >= window.minObserveMs && held >= window.stableMs) || elapsed >= window.boundMs) {
            // At the bound, a run under way counts if it has lasted a few seconds.
            return runStart !== undefined && held >= Math.min(window.stableMs, 5000)
                ? broke
                    ? (runStart - faultAt) / 1000
                    : 0
                : null;
        }
        await sleep(Math.max(0, PROBE_MS - (Date.now() - probeAt)));
    }
}

/** Polls each balancer's login page four times a second and keeps the longest run without one. */
export class UiGapWatch {
    private running = false;
    private loops: Promise<void>[] = [];
    private readonly lastOk = new Map<string, number>();
    private readonly longest = new Map<string, number>();

    constructor(
        private readonly lab: DrillLab,
        private readonly lbs: readonly LabHost[],
    ) {}

    start(): void {
        this.running = true;
        const now = Date.now();
        this.loops = this.lbs.map(async lb => {
            this.lastOk.set(lb.name, now);
            this.longest.set(lb.name, 0);
            while (this.running) {
                const started = Date.now();
                if (await loginPageAnswers(lb, this.lab.uiCa)) {
                    this.note(lb.name, Date.now());
                }
                await sleep(Math.max(0, 250 - (Date.now() - started)));
            }
        });
    }

    private note(name: string, at: number): void {
        this.longest.set(name, Math.max(this.longest.get(name)!, at - this.lastOk.get(name)!));
        this.lastOk.set(name, at);
    }

    /** The longest gap per balancer in seconds, counting a gap still open when the watch stops. */
    async stop(): Promise<Record<string, number>> {
        this.running = false;
        await Promise.all(this.loops);
        const end = Date.now();
        const gaps: Record<string, number> = {};
        for (const lb of this.lbs) {
            gaps[lb.name] = Math.max(this.longest.get(lb.name)!, end - this.lastOk.get(lb.name)!) / 1000;
        }
        return gaps;
    }
}
