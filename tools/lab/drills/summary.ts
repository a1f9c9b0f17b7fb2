/**
 * A drill run several times (`--repeat N`): the spread of each figure over its runs (min, median,
 * max), how many runs the model's range held, and the safety verdict over every run (a split brain
 * in any run is a split brain). Pure: the report prints it and `--json` keeps it beside the runs.
 */
import { SecondsRange, formatSeconds, within } from "../../../model";
import type { ChangeDrillResult } from "./changes";
import type { DrillResult } from "./runner";

/** One figure over a drill's runs. */
export interface Spread {
    readonly min: number;
    readonly median: number;
    readonly max: number;
}

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values: readonly number[]): number {
    if (values.length === 0) {
        throw new Error("no values to take the median of");
    }
    const sorted = [...values].sort((a, b) => a - b);
    const half = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

/** Min, median and max of the values; null when there are none. */
export function spread(values: readonly number[]): Spread | null {
    return values.length === 0 ? null : { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

/**
 * Whether a run's recovery is within the model: inside the range it predicted, or not recovered by
 * itself where the model expects an operator (no range).
 */
export function withinModel(r: Pick<DrillResult, "recoverySeconds" | "predictedSeconds">): boolean {
    if (r.recoverySeconds === null || r.predictedSeconds === null) {
        return r.recoverySeconds === null && r.predictedSeconds === null;
    }
    return within(r.recoverySeconds, r.predictedSeconds);
}

/** Agents' values lost in a run where the model promised every one would arrive (0 otherwise). */
export function promisedLost(r: Pick<DrillResult, "agentValuesPromised" | "sources">): number {
    return r.agentValuesPromised ? (r.sources.agents?.valuesLost ?? 0) : 0;
}

/** What every drill's summary holds, fault or change. */
interface RunsSummary {
    readonly name: string;
    readonly runs: number;
    /** Over the runs that recovered; null when none did. */
    readonly recoverySeconds: Spread | null;
    /** Runs with no recovery within their bound. */
    readonly notRecovered: number;
    /** Whether any run saw two writers or two active nodes. */
    readonly splitBrain: boolean;
    /** The runs (1-based) that did. */
    readonly splitBrainRuns: readonly number[];
    /** Values sent and never stored, per run. */
    readonly valuesLost: Spread;
}

export interface FaultDrillSummary extends RunsSummary {
    readonly kind: "fault";
    /** The model's range, spanning every run's (each follows who was active and primary when that run began); null: manual. */
    readonly predictedSeconds: SecondsRange | null;
    /** Runs whose recovery was within the range the model gave for that run. */
    readonly withinModel: number;
    /** The others: "run N: measured against the model's range". */
    readonly outsideModel: readonly string[];
    /** Every run's split-brain violations, "run N: ...". */
    readonly violations: readonly string[];
    readonly acceptedLost: Spread;
    readonly configLost: Spread;
    readonly restoreSeconds: Spread;
    /** Longest time without a login page, per surviving load balancer. */
    readonly uiGapSeconds: Readonly<Record<string, Spread>>;
    /** Runs after which the drill had to start units that had stopped. */
    readonly repairedRuns: number;
}

export interface ChangeDrillSummary extends RunsSummary {
    readonly kind: "change";
    readonly commitsLost: Spread;
    /** Every run's failed checks, "run N: name: detail". */
    readonly failedChecks: readonly string[];
}

export type DrillSummary = FaultDrillSummary | ChangeDrillSummary;

/** A figure over runs that all have it. */
const over = <T>(runs: readonly T[], figure: (r: T) => number): Spread => spread(runs.map(figure))!;

function common<T extends DrillResult | ChangeDrillResult>(runs: readonly T[]): RunsSummary {
    const recovered = runs.flatMap(r => (r.recoverySeconds === null ? [] : [r.recoverySeconds]));
    const splitBrainRuns = runs.filter(r => r.splitBrain).map(r => r.run);
    return {
        name: runs[0].name,
        runs: runs.length,
        recoverySeconds: spread(recovered),
        notRecovered: runs.length - recovered.length,
        splitBrain: splitBrainRuns.length > 0,
        splitBrainRuns,
        valuesLost: over(runs, r => r.valuesSent - r.valuesStored),
    };
}

/** The range that spans every run's prediction; null when the model expected an operator in each. */
function predictionSpan(runs: readonly DrillResult[]): SecondsRange | null {
    const predicted = runs.flatMap(r => (r.predictedSeconds ? [r.predictedSeconds] : []));
    return predicted.length === 0
        ? null
        : {
              min: Math.min(...predicted.map(p => p.min)),
              max: Math.max(...predicted.map(p => p.max)),
          };
}

function faultSummary(runs: readonly DrillResult[]): FaultDrillSummary {
    const balancers = [...new Set(runs.flatMap(r => Object.keys(r.uiGapSeconds)))];
    return {
        kind: "fault",
        ...common(runs),
        predictedSeconds: predictionSpan(runs),
        withinModel: runs.filter(withinModel).length,
        outsideModel: runs
            .filter(r => !withinModel(r))
            .map(
                r =>
                    `run ${r.run}: ${r.recoverySeconds === null ? "not recovered" : `${r.recoverySeconds.toFixed(1)} s`} against ` +
                    `${r.predictedSeconds === null ? "an operator's recovery" : formatSeconds(r.predictedSeconds)}`,
            ),
        violations: runs.flatMap(r => {
            const lost = promisedLost(r);
            return [
                ...r.splitBrainDetail.violations.map(v => `run ${r.run}: ${v}`),
                ...(lost > 0
                    ? [`run ${r.run}: ${lost} agent value(s) lost through the proxies, where the model promises none`]
                    : []),
            ];
        }),
        acceptedLost: over(runs, r => r.acceptedLost),
        configLost: over(runs, r => r.configLost),
        restoreSeconds: over(runs, r => r.restoreSeconds),
        uiGapSeconds: Object.fromEntries(
            balancers.flatMap(lb => {
                const gaps = spread(runs.flatMap(r => (lb in r.uiGapSeconds ? [r.uiGapSeconds[lb]] : [])));
                return gaps ? [[lb, gaps]] : [];
            }),
        ),
        repairedRuns: runs.filter(r => r.repairs.length > 0).length,
    };
}

function changeSummary(runs: readonly ChangeDrillResult[]): ChangeDrillSummary {
    return {
        kind: "change",
        ...common(runs),
        commitsLost: over(runs, r => r.commitsLost),
        failedChecks: runs.flatMap(r => r.checks.filter(c => !c.ok).map(c => `run ${r.run}: ${c.name}: ${c.detail}`)),
    };
}

const isChange = (r: DrillResult | ChangeDrillResult): r is ChangeDrillResult => "kind" in r && r.kind === "change";

/** One summary per drill, in the order the drills first ran, over every run of it. */
export function summarize(results: readonly (DrillResult | ChangeDrillResult)[]): DrillSummary[] {
    const names = [...new Set(results.map(r => r.name))];
    return names.map(name => {
        const runs = results.filter(r => r.name === name);
        const changes = runs.filter(isChange);
        return changes.length > 0
            ? changeSummary(changes)
            : faultSummary(runs.filter((r): r is DrillResult => !isChange(r)));
    });
}
