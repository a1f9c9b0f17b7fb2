/**
 * The drills' results as a table for people and as JSON for tools (`--json FILE`).
 */
import { writeFileSync } from "fs";
import { SecondsRange, within } from "../../../model";
import type { ChangeDrillResult } from "./changes";
import { DrillResult } from "./runner";

const num = (v: number | null, digits = 1) => (v === null ? "-" : v.toFixed(digits));

/** The model's range in a cell: "6.0 to 21.0", one figure when both ends agree, "manual" for none. */
const modelRange = (p: SecondsRange | null) =>
    p === null ? "manual" : p.min === p.max ? num(p.min) : `${num(p.min)} to ${num(p.max)}`;

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

export function formatTable(results: readonly DrillResult[]): string {
    const header = [
        "drill",
        "db failover",
        "recovery s",
        "model s",
        "within the model",
        "split-brain",
        "sent",
        "stored",
        "gap",
        "acked lost",
        "config lost",
        "UI gap s",
        "restore s",
    ];
    const rows = results.map(r => [
        r.name,
        r.dbFailover,
        r.recoverySeconds === null ? `not in ${r.boundSeconds}` : num(r.recoverySeconds),
        modelRange(r.predictedSeconds),
        withinModel(r) ? "yes" : "NO",
        r.splitBrain ? "YES" : "no",
        String(r.valuesSent),
        String(r.valuesStored),
        String(r.valuesSent - r.valuesStored),
        String(r.acceptedLost),
        String(r.configLost),
        Object.entries(r.uiGapSeconds)
            .map(([lb, g]) => `${lb} ${g.toFixed(1)}`)
            .join(", ") || "-",
        `${num(r.restoreSeconds, 0)}${r.repairs.length > 0 ? " REPAIRED" : ""}`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map(w => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** One line per drill of what happened around the figures: who was active and primary, before and after. */
export function formatNotes(results: readonly DrillResult[]): string {
    return results
        .map(
            r =>
                `${r.name}: ${r.fault}; active ${r.activeBefore} -> ${r.activeAfter ?? "?"}, primary ${r.primaryBefore} -> ${r.primaryAfter ?? "?"}; ` +
                `accepted by ${
                    Object.entries(r.acceptedBy)
                        .map(([n, c]) => `${n} ${c}`)
                        .join(", ") || "none"
                }; split-brain samples ${r.splitBrainDetail.samples}` +
                ` (max writable ${r.splitBrainDetail.maxWritable}, max active ${r.splitBrainDetail.maxActive}, ${r.splitBrainDetail.insideSamples} from inside a cut-off host, ${r.splitBrainDetail.blindSamples} with a DB host unreachable)` +
                `${r.splitBrainDetail.violations.length > 0 ? `; VIOLATIONS ${r.splitBrainDetail.violations.join("; ")}` : ""}` +
                `${r.notes.length > 0 ? `; ${r.notes.join("; ")}` : ""}`,
        )
        .join("\n");
}

export function writeJson(file: string, results: readonly (DrillResult | ChangeDrillResult)[], command: string): void {
    writeFileSync(file, JSON.stringify({ command, at: new Date().toISOString(), drills: results }, null, 2) + "\n");
}
