/**
 * The drills' results as tables for people and as JSON for tools (`--json FILE`): every run, then
 * per drill the spread of its figures over the runs, whether the model's range held, and the
 * safety verdict over all of them.
 */
import { writeFileSync } from "fs";
import { SecondsRange } from "../../../model";
import type { ChangeDrillResult } from "./changes";
import { DrillResult } from "./runner";
import { ChangeDrillSummary, DrillSummary, FaultDrillSummary, Spread, summarize, withinModel } from "./summary";

const num = (v: number | null, digits = 1) => (v === null ? "-" : v.toFixed(digits));

/** The model's range in a cell: "6.0 to 21.0", one figure when both ends agree, "manual" for none. */
const modelRange = (p: SecondsRange | null) =>
    p === null ? "manual" : p.min === p.max ? num(p.min) : `${num(p.min)} to ${num(p.max)}`;

/** "6.2 / 11.8 / 16.1" (min / median / max), or the one figure when every run gave it. */
export function formatSpread(s: Spread | null, digits = 1): string {
    if (s === null) {
        return "-";
    }
    return s.min === s.max ? num(s.min, digits) : [s.min, s.median, s.max].map(v => num(v, digits)).join(" / ");
}

/** A Markdown-style table, each column as wide as its widest cell. */
function renderTable(header: readonly string[], rows: readonly string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
    const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map(w => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

const uiGaps = (gaps: Readonly<Record<string, string>>) =>
    Object.entries(gaps)
        .map(([lb, g]) => `${lb} ${g}`)
        .join(", ") || "-";

/** The agents' cells: produced, stored, lost through the proxies, and the stored values' delay (p95 / max). */
function agentCells(r: DrillResult): string[] {
    const a = r.sources.agents;
    if (!a) {
        return ["-", "-", "-", "-"];
    }
    return [
        String(a.valuesProduced),
        String(a.valuesStored),
        String(a.valuesLost),
        `${num(a.latencyP95Seconds)} / ${num(a.latencyMaxSeconds)}`,
    ];
}

/** Every run of the fault drills, one row each (a run column once a drill ran more than once). */
export function formatTable(results: readonly DrillResult[]): string {
    const repeated = results.some(r => r.run > 1);
    const withAgents = results.some(r => r.sources.agents);
    const header = [
        "drill",
        ...(repeated ? ["run"] : []),
        "db failover",
        "recovery s",
        "model s",
        "within the model",
        "split-brain",
        "sent",
        "stored",
        "gap",
        "acked lost",
        ...(withAgents ? ["via proxies: produced", "stored", "lost", "delay s p95 / max"] : []),
        "config lost",
        "UI gap s",
        "restore s",
    ];
    const rows = results.map(r => [
        r.name,
        ...(repeated ? [String(r.run)] : []),
        r.dbFailover,
        r.recoverySeconds === null ? `not in ${r.boundSeconds}` : num(r.recoverySeconds),
        modelRange(r.predictedSeconds),
        withinModel(r) ? "yes" : "NO",
        r.splitBrain ? "YES" : "no",
        String(r.valuesSent),
        String(r.valuesStored),
        String(r.valuesSent - r.valuesStored),
        String(r.acceptedLost),
        ...(withAgents ? agentCells(r) : []),
        String(r.configLost),
        uiGaps(Object.fromEntries(Object.entries(r.uiGapSeconds).map(([lb, g]) => [lb, g.toFixed(1)]))),
        `${num(r.restoreSeconds, 0)}${r.repairs.length > 0 ? " REPAIRED" : ""}`,
    ]);
    return renderTable(header, rows);
}

const splitBrainCell = (s: DrillSummary) => (s.splitBrain ? `YES (run ${s.splitBrainRuns.join(", ")})` : "no");

const recoveryCell = (s: DrillSummary) =>
    `${formatSpread(s.recoverySeconds)}${s.notRecovered > 0 ? ` (${s.notRecovered} not recovered)` : ""}`;

/** Per fault drill over its runs: each figure as min / median / max, the model's range and how many runs it held. */
export function formatSummaryTable(summaries: readonly FaultDrillSummary[]): string {
    const header = [
        "drill",
        "runs",
        "recovery s (min / median / max)",
        "model s",
        "within the model",
        "split-brain (any run)",
        "gap",
        "acked lost",
        "config lost",
        "UI gap s",
        "restore s",
    ];
    const rows = summaries.map(s => [
        s.name,
        String(s.runs),
        recoveryCell(s),
        modelRange(s.predictedSeconds),
        `${s.withinModel} of ${s.runs}`,
        splitBrainCell(s),
        formatSpread(s.valuesLost, 0),
        formatSpread(s.acceptedLost, 0),
        formatSpread(s.configLost, 0),
        uiGaps(Object.fromEntries(Object.entries(s.uiGapSeconds).map(([lb, g]) => [lb, formatSpread(g)]))),
        `${formatSpread(s.restoreSeconds, 0)}${s.repairedRuns > 0 ? ` REPAIRED in ${s.repairedRuns}` : ""}`,
    ]);
    return renderTable(header, rows);
}

function faultVerdict(s: FaultDrillSummary): string {
    const model =
        s.predictedSeconds === null
            ? "the model expects an operator"
            : `the model's range ${modelRange(s.predictedSeconds)} s`;
    const held =
        s.withinModel === s.runs
            ? `within the model in ${s.runs === 1 ? "the run" : `all ${s.runs} runs`}`
            : `within the model in ${s.withinModel} of ${s.runs} runs; OUTSIDE: ${s.outsideModel.join("; ")}`;
    return `${model}: ${held}`;
}

function changeVerdict(s: ChangeDrillSummary): string {
    return (
        `commits lost ${formatSpread(s.commitsLost, 0)}; ` +
        (s.failedChecks.length === 0 ? "every check held" : `FAILED: ${s.failedChecks.join("; ")}`)
    );
}

/** One line per drill: its runs' recovery spread, the model's verdict or the change's checks, and split brain over every run. */
export function formatVerdicts(summaries: readonly DrillSummary[]): string {
    return summaries
        .map(
            s =>
                `${s.name}: ${s.runs} run${s.runs === 1 ? "" : "s"}; recovery ${recoveryCell(s)} s; ` +
                `${s.kind === "fault" ? faultVerdict(s) : changeVerdict(s)}; ` +
                `split-brain ${s.splitBrain ? `in run ${s.splitBrainRuns.join(", ")}` : "in no run"}` +
                (s.kind === "fault" && s.violations.length > 0 ? `; VIOLATIONS ${s.violations.join("; ")}` : ""),
        )
        .join("\n");
}

/** Each monitored host's figures: "tyo-mon1 stored 120 of 120, resumed 74.0 s (stalled 70.1 s)". */
function agentHosts(a: NonNullable<DrillResult["sources"]["agents"]>): string {
    return Object.entries(a.hosts)
        .map(
            ([name, h]) =>
                `${name} stored ${h.stored} of ${h.produced}, resumed ${h.resumedSeconds === null ? "only after the undo" : `${num(h.resumedSeconds)} s`}` +
                (h.longestStallSeconds > 0 ? ` (stalled ${num(h.longestStallSeconds)} s)` : ""),
        )
        .join(", ");
}

/** One line per run of what happened around the figures: who was active and primary, before and after. */
export function formatNotes(results: readonly DrillResult[]): string {
    return results
        .map(
            r =>
                `${r.name}${r.run > 1 ? ` run ${r.run}` : ""}: ${r.fault}; active ${r.activeBefore} -> ${r.activeAfter ?? "?"}, primary ${r.primaryBefore} -> ${r.primaryAfter ?? "?"}; ` +
                `accepted by ${
                    Object.entries(r.acceptedBy)
                        .map(([n, c]) => `${n} ${c}`)
                        .join(", ") || "none"
                }; split-brain samples ${r.splitBrainDetail.samples}` +
                ` (max writable ${r.splitBrainDetail.maxWritable}, max active ${r.splitBrainDetail.maxActive}, ${r.splitBrainDetail.insideSamples} from inside a cut-off host, ${r.splitBrainDetail.blindSamples} with a DB host unreachable)` +
                `${r.splitBrainDetail.violations.length > 0 ? `; VIOLATIONS ${r.splitBrainDetail.violations.join("; ")}` : ""}` +
                `${r.sources.agents ? `; agents ${agentHosts(r.sources.agents)}` : ""}` +
                `${r.serverRecoverySeconds !== r.recoverySeconds ? `; servers recovered ${num(r.serverRecoverySeconds)} s` : ""}` +
                `${r.notes.length > 0 ? `; ${r.notes.join("; ")}` : ""}`,
        )
        .join("\n");
}

/** Every run, and the summary per drill over its runs. */
export function writeJson(
    file: string,
    results: readonly (DrillResult | ChangeDrillResult)[],
    command: string,
    repeat: number,
): void {
    const document = { command, at: new Date().toISOString(), repeat, drills: results, summary: summarize(results) };
    writeFileSync(file, JSON.stringify(document, null, 2) + "\n");
}
