/**
 * The comparison as Markdown, readable as a pull-request comment: the table with footnote codes and
 * one footnote list, then each pattern's scenarios, design rules and diagram folded in a
 * `<details>` block so the comparison fits a screen.
 */
import { SCENARIO_TITLES } from "../../model";
import { CELL_LEGEND, Footnotes, cell, comparisonRows, markerLines, patternLabel, riskCodes } from "./cells";
import { ComparisonReport, PatternReport } from "./compare";
import { DIAGRAM_LEGEND, mermaidDiagram, sitesWithoutHosts } from "./diagram";
import { scoreLine } from "./verdict";

/** Text safe in a table cell or a line: pipes, emphasis marks and tags escaped. */
function mdEscape(text: string): string {
    return text.replace(/[|*_]/g, m => `\\${m}`).replace(/</g, "&lt;");
}

function htmlEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function tableLines(rows: readonly (readonly string[])[]): string[] {
    const line = (r: readonly string[]) => `| ${r.map(mdEscape).join(" | ")} |`;
    return [line(rows[0]), `|${rows[0].map(() => " --- ").join("|")}|`, ...rows.slice(1).map(line)];
}

/** One pattern's details: scenarios with their worst case and data at risk, design rules, diagram. */
function details(report: ComparisonReport, p: PatternReport, notes: Footnotes): string {
    // An HTML block: Markdown escapes would show as they are.
    const summary = `<summary><b>${htmlEscape(patternLabel(report, p))}</b>: ${htmlEscape(p.summary)}</summary>`;
    if (p.errors.length > 0) {
        return [
            `<details>${summary}`,
            "",
            "This configuration cannot form the pattern:",
            "",
            ...p.errors.map(e => `- \`${e}\``),
            "",
            "</details>",
        ].join("\n");
    }
    const violations =
        p.violations.length === 0
            ? ["No design rule broken."]
            : [
                  "Design rules broken:",
                  "",
                  ...tableLines([
                      ["policy", "level", "message"],
                      ...p.violations.map(v => [v.policy, v.level, v.message]),
                  ]),
              ];
    const topology = p.topology!;
    const empty = sitesWithoutHosts(topology);
    return [
        `<details>${summary}`,
        "",
        ...tableLines([
            ["scenario", "worst case", "outcome", "data at risk"],
            ...p.scenarios.map(s => [SCENARIO_TITLES[s.id], s.worstCase, cell(s, notes), riskCodes(s, notes)]),
        ]),
        "",
        ...violations,
        "",
        "```mermaid",
        mermaidDiagram(topology),
        "```",
        "",
        ...(empty.length > 0 ? [`No hosts in ${empty.join(", ")} for this pattern.`, ""] : []),
        "</details>",
    ].join("\n");
}

export function markdownReport(report: ComparisonReport): string {
    const notes = new Footnotes();
    const table = tableLines(comparisonRows(report, notes));
    const verdict = scoreLine(report, notes);
    // The details are rendered before the footnote list so their codes are in it.
    const sections = report.patterns.map(p => details(report, p, notes));
    return [
        `## Zabbix HA design comparison (${report.environment.split("/").pop()})`,
        "",
        // Each marker line starts with its marker: shown as code, so Markdown does not take it for a list item.
        ...markerLines(report).map(l =>
            l.replace(/^([*+])? ?(.*)$/, (_, mark, rest) => `${mark ? `\`${mark}\` ` : ""}${mdEscape(rest)}  `),
        ),
        "",
        ...table,
        "",
        ...(verdict ? [`**${mdEscape(verdict)}**`, ""] : []),
        `${mdEscape(CELL_LEGEND.replace(/^cells/, "Cells"))}.`,
        "",
        ...notes.list().map(f => `- **${f.code}** ${mdEscape(f.text)}`),
        "",
        DIAGRAM_LEGEND,
        "",
        ...sections.flatMap(s => [s, ""]),
    ].join("\n");
}
