/**
 * One drill, start to end: from a whole lab, values flowing and a configuration change committed,
 * the fault; the recovery measured and a second change committed on the recovered side; the fault
 * undone (always, in a finally block); the lab whole again; then what was stored and which of the
 * two changes survived, against what was sent and made.
 */
import { Failure, Topology as ModelTopology, SecondsRange, evaluateFailure, formatSeconds } from "../../../model";
import { LabHost, sleep } from "../machines";
import { DRILL_HOST, DRILL_KEY, Marker, ZabbixApi, createMarker, markerPresent, removeMarker } from "./api";
import { Drill, Situation } from "./catalog";
import { DrillLab, onHost } from "./context";
import { AgentSequences, AgentSourceFigures, assignedProxies } from "./agents";
import { acceptedLoss, drillValues, storedValues } from "./data";
import { startStoppedUnits, waitHealthy } from "./health";
import { UiGapWatch, awaitRecovery } from "./observe";
import { ValueStream } from "./sender";
import { SplitBrainReport, SplitBrainWatch } from "./splitbrain";
import { query, viaLoadBalancer } from "./sql";
import { recoveryTimeline } from "./timeline";

export interface DrillResult {
    readonly name: string;
    /** Which run of the drill this is (1 to `--repeat`). */
    readonly run: number;
    readonly pattern: string;
    readonly dbFailover: string;
    readonly fault: string;
    readonly activeBefore: string;
    readonly primaryBefore: string;
    /** Until the servers store values again and every monitored host outside the fault sends again (null: not within the bound). */
    readonly recoverySeconds: number | null;
    /** The servers' part alone: the direct sender's values stored again and a login page answering. */
    readonly serverRecoverySeconds: number | null;
    /** How long the drill waited for recovery before calling it not recovered. */
    readonly boundSeconds: number;
    /** The model's range for this run (from who was active and primary as it began); null: an operator's recovery. */
    readonly predictedSeconds: SecondsRange | null;
    readonly predictedRecovery: string;
    /** With proxies: whether the model promises every agent's value arrives in this failure (none may then be lost). */
    readonly agentValuesPromised?: boolean;
    readonly splitBrain: boolean;
    readonly splitBrainDetail: SplitBrainReport;
    /** Values produced and stored per source: the drill's sender straight to the servers, and the agents through the proxies. */
    readonly sources: {
        readonly direct: {
            /** Values the drill's sender sent to the servers. */
            readonly valuesProduced: number;
            /** Of those, the distinct ones the database holds at the end. */
            readonly valuesStored: number;
            /** Sent but never stored (acknowledged or not: `acceptedLost` counts the acknowledged ones). */
            readonly valuesLost: number;
        };
        readonly agents?: AgentSourceFigures;
    };
    readonly valuesSent: number;
    readonly valuesAccepted: number;
    readonly valuesStored: number;
    /** Values a node acknowledged that never reached the database. */
    readonly acceptedLost: number;
    readonly acceptedBy: Readonly<Record<string, number>>;
    /** Configuration changes missing at the end: the one committed before the fault, the one during it. */
    readonly configLost: number;
    /** Longest time without a login page, per surviving load balancer. */
    readonly uiGapSeconds: Readonly<Record<string, number>>;
    /** From undoing the fault to a whole lab. */
    readonly restoreSeconds: number;
    /** Units that had stopped in consequence of the fault and that the drill started to make the lab whole (a finding). */
    readonly repairs: readonly string[];
    readonly activeAfter?: string;
    readonly primaryAfter?: string;
    readonly notes: readonly string[];
}

/** The stack's topology with the database where it is now: the model must start from the lab's real state. */
function asItIs(model: ModelTopology, primary: LabHost, dbHosts: readonly LabHost[]): ModelTopology {
    const place = (h: LabHost) => ({ host: h.name, site: h.site });
    return {
        ...model,
        instances: model.instances.map(i => ({
            ...i,
            database: {
                ...i.database,
                primary: place(primary),
                standbys: dbHosts.filter(h => h !== primary).map(place),
            },
        })),
    };
}

function predict(
    lab: DrillLab,
    now: Situation,
    failure: Failure,
): { seconds: SecondsRange | null; recovery: string; agentValuesKept?: boolean } {
    const outcome = evaluateFailure(asItIs(lab.model, now.primary, lab.dbHosts), failure, lab.timings, undefined, [
        now.active.name,
    ]);
    return {
        seconds: outcome.recoverySeconds,
        recovery: outcome.recovery,
        ...(outcome.agentValuesKept !== undefined ? { agentValuesKept: outcome.agentValuesKept } : {}),
    };
}

/** Waits until values reach the database before the fault; reloads the active node's configuration cache once if they do not. */
async function valuesFlowing(lab: DrillLab, stream: ValueStream, itemid: string, active: LabHost): Promise<void> {
    for (let i = 0; i < 40; i++) {
        const rows = await query(
            viaLoadBalancer(lab, lab.loadBalancers[0]),
            `select count(*) from history_uint where itemid = ${Number(itemid)} and value >= ${stream.first}`,
        ).catch(() => [["0"]]);
        if (Number(rows[0][0]) >= 4) {
            return;
        }
        if (i === 6) {
            // The item is new to a server that has not re-read its configuration yet (CacheUpdateFrequency).
            await onHost(lab, active, "zabbix_server -R config_cache_reload");
        }
        await sleep(500);
    }
    throw new Error(
        `no value of ${DRILL_HOST}:${DRILL_KEY} is stored before the fault: is the item in the active server's configuration?`,
    );
}

/**
 * The drill's recovery: the servers' and that of every monitored host the fault leaves in service
 * (not down, not in a dark site): the latest of them, or null when any had not recovered.
 */
export function combinedRecovery(
    server: number | null,
    agents: AgentSourceFigures | undefined,
    failure: Failure,
    lab: DrillLab,
): number | null {
    if (server === null || !agents) {
        return server;
    }
    const inService = (name: string) => {
        const host = lab.topo.hosts.find(h => h.name === name);
        return !(failure.hostsDown ?? []).includes(name) && !(failure.sitesDark ?? []).includes(host?.site ?? "");
    };
    const resumed = Object.entries(agents.hosts)
        .filter(([name]) => inService(name))
        .map(([, h]) => h.resumedSeconds);
    return resumed.some(r => r === null) ? null : Math.max(server, ...(resumed as number[]));
}

/** Every fault is watched this long at least (Patroni's TTL and loop, Zabbix's failover delay and heartbeats fit in it). */
const OBSERVE_MS = 30_000;
/** Service must hold this long after a fault to count as recovered. */
const STABLE_MS = 15_000;

export async function runDrill(
    lab: DrillLab,
    drill: Drill,
    api: ZabbixApi,
    itemid: string,
    log: (line: string) => void,
    run = 1,
): Promise<DrillResult> {
    const before = await waitHealthy(lab, 300_000);
    const now: Situation = {
        active: before.active!,
        primary: before.primary!,
        proxyOf: await assignedProxies(lab, api),
    };
    const plan = drill.plan(lab, now);
    const prediction = predict(lab, now, plan.failure);
    const boundSeconds = prediction.seconds === null ? 60 : Math.max(60, Math.ceil(prediction.seconds.max * 3));
    log(
        `${drill.name}${run > 1 ? ` (run ${run})` : ""}: ${plan.fault.what} (active ${now.active.name}, primary ${now.primary.name}; ` +
            `predicted ${prediction.seconds === null ? "manual" : formatSeconds(prediction.seconds)})`,
    );

    const stream = drillValues(lab);
    let faultAt = Date.now();
    const watch = new SplitBrainWatch(lab, () => faultAt);
    const gaps = new UiGapWatch(lab, plan.surviving);
    const notes = [...(plan.notes ?? [])];
    let marker: Marker | undefined;
    let duringMarker: Marker | undefined;
    let recovery: number | null = null;
    let restoreSeconds = 0;
    let after: { active?: LabHost; primary?: LabHost } = {};
    let uiGaps: Record<string, number> = {};
    const repairs: string[] = [];
    let splitBrain: SplitBrainReport;
    let undoAt = 0;
    let agentFigures: AgentSourceFigures | undefined;
    let agentsFailure: Error | undefined;
    const agents = await AgentSequences.open(lab);
    agents?.start();
    stream.start();
    watch.start();
    gaps.start();
    try {
        await valuesFlowing(lab, stream, itemid, now.active);
        await agents?.flowing();
        marker = await createMarker(api, drill.name);
        await sleep(1000);
        faultAt = Date.now();
        try {
            await plan.fault.inject();
            notes.push(`injected in ${((Date.now() - faultAt) / 1000).toFixed(1)} s`);
            recovery = await awaitRecovery(lab, plan.surviving, stream, itemid, faultAt, {
                boundMs: boundSeconds * 1000,
                minObserveMs: OBSERVE_MS,
                stableMs: STABLE_MS,
            });
            if (recovery !== null) {
                // A change committed on the recovered side must survive the undo too: a former primary
                // that comes back and takes over again would roll it back.
                duringMarker = await createMarker(api, `${drill.name}-during`).catch(err => {
                    notes.push(
                        `no configuration change could be committed during the fault: ${(err as Error).message}`,
                    );
                    return undefined;
                });
            }
            const hold = (plan.holdSeconds ?? 0) * 1000 - (Date.now() - faultAt);
            if (hold > 0) {
                await sleep(hold);
            }
        } finally {
            undoAt = Date.now();
            notes.push(`fault held ${((undoAt - faultAt) / 1000).toFixed(1)} s`);
            await plan.fault.undo();
            let whole = await waitHealthy(lab, 90_000).catch(() => undefined);
            if (!whole) {
                repairs.push(...(await startStoppedUnits(lab)));
                notes.push(
                    `not whole 90 s after the undo; the drill started what had stopped: ${repairs.join(", ") || "nothing"}`,
                );
                whole = await waitHealthy(lab, 180_000);
            }
            restoreSeconds = (Date.now() - undoAt) / 1000;
            after = { active: whole.active, primary: whole.primary };
        }
    } finally {
        await stream.stop();
        uiGaps = await gaps.stop();
        splitBrain = await watch.stop();
        // Its failure must not hide the drill's own error (a throw in finally replaces it): kept, and
        // thrown below only when the drill itself went through.
        try {
            agentFigures = await agents?.stop(faultAt, undoAt || Date.now());
        } catch (err) {
            agentsFailure = err instanceof Error ? err : new Error(String(err));
        }
    }
    if (agentsFailure !== undefined) {
        throw agentsFailure;
    }
    const serverRecovery = recovery;
    recovery = combinedRecovery(serverRecovery, agentFigures, plan.failure, lab);
    notes.push(await recoveryTimeline(lab, faultAt));
    const stats = stream.stats();
    const stored = await storedValues(lab, itemid, stats.first, stats.last);
    const loss = acceptedLoss(stream, stored, faultAt);
    if (loss.count > 0) {
        notes.push(`acknowledged but not stored: ${loss.runs.join("; ")}`);
    }
    const markers = [marker!, ...(duringMarker ? [duringMarker] : [])];
    let configLost = 0;
    for (const m of markers) {
        if (await markerPresent(api, m)) {
            await removeMarker(api, m);
        } else {
            configLost++;
            notes.push(`configuration lost: item ${m.key}`);
        }
    }
    return {
        name: drill.name,
        run,
        pattern: lab.model.pattern.name,
        dbFailover: lab.failover,
        fault: plan.fault.what,
        activeBefore: now.active.name,
        primaryBefore: now.primary.name,
        recoverySeconds: recovery,
        serverRecoverySeconds: serverRecovery,
        boundSeconds,
        predictedSeconds: prediction.seconds,
        predictedRecovery: prediction.recovery,
        ...(prediction.agentValuesKept !== undefined ? { agentValuesPromised: prediction.agentValuesKept } : {}),
        splitBrain: splitBrain.maxWritable > 1 || splitBrain.maxActive > 1,
        splitBrainDetail: splitBrain,
        sources: {
            direct: { valuesProduced: stats.sent, valuesStored: stored.size, valuesLost: stats.sent - stored.size },
            ...(agentFigures ? { agents: agentFigures } : {}),
        },
        valuesSent: stats.sent,
        valuesAccepted: stats.accepted,
        valuesStored: stored.size,
        acceptedLost: loss.count,
        acceptedBy: stats.acceptedBy,
        configLost,
        uiGapSeconds: uiGaps,
        restoreSeconds,
        repairs,
        activeAfter: after.active?.name,
        primaryAfter: after.primary?.name,
        notes,
    };
}
