/**
 * The comparison's rows and cells, shared by the terminal and Markdown renderers, and the one
 * footnote list their codes point into: why an operator is needed (m), what data is at risk (d),
 * and what a figure leaves out (n).
 */
import { Bounds, OperatorCause, SCENARIO_IDS, SCENARIO_TITLES, ScenarioResult } from "../../model";
import { ComparisonReport, PatternReport } from "./compare";

/** m: why an operator is needed; d: data at risk; n: what a figure leaves out. */
export type FootnoteKind = "m" | "d" | "n";
const KIND_ORDER: readonly FootnoteKind[] = ["m", "d", "n"];

/** One footnote: its code (kind and number) and what it says. */
export interface Footnote {
    readonly code: string;
    readonly text: string;
}

/** Footnotes of one rendering: each text gets one code, defined once, on first use. */
export class Footnotes {
    private readonly byText = new Map<string, Footnote>();

    code(kind: FootnoteKind, text: string): string {
        const key = `${kind}\n${text}`;
        let note = this.byText.get(key);
        if (!note) {
            const n = [...this.byText.values()].filter(f => f.code.startsWith(kind)).length + 1;
            note = { code: `${kind}${n}`, text };
            this.byText.set(key, note);
        }
        return note.code;
    }

    /** Every note used, grouped by kind in order of first use. */
    list(): Footnote[] {
        return KIND_ORDER.flatMap(kind => [...this.byText.values()].filter(f => f.code.startsWith(kind)));
    }
}

/** A cause as its footnote reads: what makes it manual, then what would change it. */
export function causeText(c: OperatorCause): string {
    return c.change
        ? `${c.reason}. Fix: ${c.change}.`
        : `${c.reason}; the operator's step is the plan, its time known.`;
}

/** The footnote codes of a scenario's operator causes, joined by "+". */
export function causeCodes(s: ScenarioResult, notes: Footnotes): string {
    return s.operatorCauses.map(c => notes.code("m", causeText(c))).join("+");
}

/** The footnote codes of a scenario's data at risk, or "none". */
export function riskCodes(s: ScenarioResult, notes: Footnotes): string {
    return s.risks.length === 0 ? "none" : s.risks.map(r => notes.code("d", r)).join(" ");
}

/** A range as a cell shows it: "11-21", or "15" when both ends agree. */
export function span(b: Bounds, round: (v: number) => number | string = v => v): string {
    const [min, max] = [round(b.min), round(b.max)];
    return min === max ? String(min) : `${min}-${max}`;
}

/** One scenario in a few words: monitoring, recovery and its time (manual with its causes' codes), UI and duplicate flags. */
export function cell(s: ScenarioResult | undefined, notes: Footnotes): string {
    if (!s) {
        return "-";
    }
    const codes = causeCodes(s, notes);
    const recovery =
        s.recovery === "none"
            ? ""
            : s.recovery === "automatic"
              ? ` auto${s.recoverySeconds ? ` ${span(s.recoverySeconds)}s` : ""}`
              : ` manual${s.recoverySeconds !== null ? ` ${span(s.recoverySeconds)}s` : ""}${codes ? ` ${codes}` : ""}`;
    return `${s.monitoring}${recovery}${s.ui ? "" : ", no UI"}${s.duplicateAlerts ? ", dup" : ""}`;
}

/** Markers after a pattern's name: configured in this environment, chosen by the study. */
export const CONFIGURED_MARK = "*";
export const STUDY_MARK = "+";

/** A pattern's column heading: its number and name, and its markers. */
export function patternLabel(report: ComparisonReport, p: PatternReport): string {
    const marks = [
        p.name === report.configuredPattern ? CONFIGURED_MARK : "",
        p.name === report.studyChoice?.name ? STUDY_MARK : "",
    ].join("");
    return `${p.id} ${p.name}${marks ? ` ${marks}` : ""}`;
}

/** What the markers mean, one line each: the configured pattern and the study's choice with its why. */
export function markerLines(report: ComparisonReport): string[] {
    const file = report.environment.split("/").pop();
    const configured = report.patterns.find(p => p.name === report.configuredPattern);
    const study = report.studyChoice;
    return [
        configured
            ? `${CONFIGURED_MARK} configured in ${file}: pattern ${configured.id} ${configured.name}`
            : `${file} configures no known pattern`,
        ...(study ? [`${STUDY_MARK} the study's choice: pattern ${study.id} ${study.name}. Why: ${study.why}`] : []),
    ];
}

/**
 * Independent installations count no downtime while one of them still monitors: the note says what
 * that figure leaves out, from the topology (installations, configuration planes, sync, history gaps).
 */
export function installationsNote(p: PatternReport): string | null {
    const topology = p.topology;
    const n = topology?.instances.length ?? 0;
    if (!topology || n < 2 || !p.availability) {
        return null;
    }
    const planes = p.configurationPlanes ?? n;
    const sync = topology.configSync;
    const synced = sync ? ` (the others copy ${sync.source}'s every ${Math.round(sync.intervalSeconds / 60)} min)` : "";
    return (
        `${n} independent installations: no minute counts as downtime while another keeps monitoring, but each monitors every device, ` +
        `so every alert arrives ${n === 2 ? "twice" : `${n} times`}; ${planes} configuration${planes === 1 ? "" : "s"} to edit${synced}; ` +
        `and each keeps its own history, with about ${span(p.availability.degradedMinutesPerYear, v => Math.round(v).toLocaleString("en-US"))} min of gaps a year between them`
    );
}

function downtime(p: PatternReport, notes: Footnotes): string {
    if (!p.availability) {
        return "-";
    }
    const note = installationsNote(p);
    return `${span(p.availability.downtimeMinutesPerYear)} min (${p.availability.class})${note ? ` ${notes.code("n", note)}` : ""}`;
}

function money(report: PatternReport): string {
    return report.cost ? `${report.cost.totalYearly.toLocaleString("en-US")} ${report.cost.currency}/y` : "-";
}

/** Rows of the comparison: a label and one cell per pattern. */
export function comparisonRows(report: ComparisonReport, notes: Footnotes): string[][] {
    const p = report.patterns;
    const rows: string[][] = [
        ["", ...p.map(x => patternLabel(report, x))],
        ["hosts / resources", ...p.map(x => (x.errors.length ? "cannot form" : `${x.hosts} / ${x.resources}`))],
    ];
    // A scenario no pattern can have here (one proxy down, without proxies) gets no row.
    for (const id of SCENARIO_IDS.filter(id => p.some(x => x.scenarios.some(s => s.id === id)))) {
        rows.push([
            SCENARIO_TITLES[id],
            ...p.map(x =>
                x.errors.length
                    ? "-"
                    : cell(
                          x.scenarios.find(s => s.id === id),
                          notes,
                      ),
            ),
        ]);
    }
    rows.push(
        [
            "config planes to manage",
            ...p.map(x => (x.configurationPlanes === null ? "-" : String(x.configurationPlanes))),
        ],
        [
            "VIP / L2 across sites",
            ...p.map(x =>
                x.vipNeeded === null
                    ? "-"
                    : `${x.vipNeeded ? "VIP" : "no VIP"} / ${x.l2AcrossSites ? "L2 across sites" : "no"}`,
            ),
        ],
        ["downtime per year", ...p.map(x => downtime(x, notes))],
        ["rough cost", ...p.map(money)],
        ["policy violations", ...p.map(x => (x.errors.length ? "-" : String(x.violations.length)))],
    );
    return rows;
}

/** How to read a cell. */
export const CELL_LEGEND =
    "cells: monitoring continues (yes / degraded / no), then recovery: auto or manual with its seconds (soonest-latest the mechanisms allow), " +
    'and for manual the codes of what makes it manual (m); "no UI" when users reach no UI, "dup" when alerts arrive twice; ' +
    "worst case over every host and site";
