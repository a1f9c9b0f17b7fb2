/**
 * The comparison for a terminal, fitted to its width: a table while every pattern's column can
 * hold a few words (cells wrap), each design as a block of rows when the terminal is narrower.
 */
import { CELL_LEGEND, Footnotes, comparisonRows, markerLines } from "./cells";
import { ComparisonReport } from "./compare";
import { scoreLine } from "./verdict";

const GAP = 2;
/** Narrower pattern columns than this break too many words: the designs become blocks of rows. */
const MIN_COLUMN = 12;

/** The terminal's width, or 100 when the output is not a terminal. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
    return stream.isTTY && stream.columns ? stream.columns : 100;
}

/**
 * `text` in lines of at most `width` columns, broken between words; continuation lines are indented
 * by `indent`, and a word too long for a line is cut. A text that fits is returned as it is.
 */
export function wrapText(text: string, width: number, indent = 0): string[] {
    if (text.length <= width) {
        // A line that fits keeps its own spacing (aligned columns).
        return [text.trimEnd()];
    }
    const lead = /^ */.exec(text)![0];
    const pad = " ".repeat(indent < width ? indent : 0);
    const lines: string[] = [];
    let line = lead;
    let empty = true;
    for (let word of text.trim().split(/\s+/).filter(Boolean)) {
        if (!empty && line.length + 1 + word.length <= width) {
            line += ` ${word}`;
            continue;
        }
        if (!empty) {
            lines.push(line);
            line = pad;
        }
        while (line.length + word.length > width) {
            const room = Math.max(1, width - line.length);
            lines.push(line + word.slice(0, room));
            word = word.slice(room);
            line = pad;
        }
        line += word;
        empty = false;
    }
    lines.push(line);
    return lines.map(l => l.trimEnd());
}

/** Widths for columns whose natural widths are `natural`, within `room`: narrow ones keep theirs, the rest share. */
function shareWidths(natural: readonly number[], room: number): number[] {
    const widths = [...natural];
    let open = natural.map((_, i) => i);
    let left = room;
    for (;;) {
        const share = Math.floor(left / open.length);
        const fits = open.filter(i => natural[i] <= share);
        if (fits.length === 0) {
            open.forEach((i, k) => (widths[i] = share + (k < left - share * open.length ? 1 : 0)));
            return widths;
        }
        fits.forEach(i => (left -= natural[i]));
        open = open.filter(i => !fits.includes(i));
        if (open.length === 0) {
            return widths;
        }
    }
}

function renderRow(row: readonly string[], widths: readonly number[]): string[] {
    const cells = row.map((c, i) => wrapText(c, widths[i]));
    const height = Math.max(...cells.map(c => c.length));
    return Array.from({ length: height }, (_, line) =>
        cells
            .map((c, i) => (c[line] ?? "").padEnd(widths[i]))
            .join(" ".repeat(GAP))
            .trimEnd(),
    );
}

/** The rows as a table within `width`, or null when the pattern columns would be too narrow. */
export function fitTable(rows: readonly (readonly string[])[], width: number): string[] | null {
    const natural = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
    const total = natural.reduce((a, b) => a + b, 0) + GAP * (natural.length - 1);
    const wraps = total > width;
    let widths = natural;
    if (wraps) {
        const label = Math.min(natural[0], Math.max(14, Math.floor(width * 0.18)));
        const pattern = shareWidths(natural.slice(1), width - label - GAP * (natural.length - 1));
        // A column narrow by nature is fine; one squeezed below the minimum is not.
        if (pattern.some((w, i) => w < Math.min(MIN_COLUMN, natural[i + 1]))) {
            return null;
        }
        widths = [label, ...pattern];
    }
    const [header, ...body] = rows;
    // Rows that wrap are told apart by a blank line between them.
    return [
        ...renderRow(header, widths),
        widths.map(w => "-".repeat(w)).join(" ".repeat(GAP)),
        ...body.flatMap((r, i) => [...(wraps && i > 0 ? [""] : []), ...renderRow(r, widths)]),
    ];
}

/** Each design as a block: its name, then one wrapped line per row. */
function stackedRows(rows: readonly (readonly string[])[], width: number): string[] {
    const [header, ...body] = rows;
    return header.slice(1).flatMap((name, i) => [
        ...(i > 0 ? [""] : []),
        ...wrapText(name, width, 2),
        // A pattern the config cannot form has "-" in every row but the first: leave those out.
        ...body.filter(r => r[i + 1] !== "-").flatMap(r => wrapText(`  ${r[0]}: ${r[i + 1]}`, width, 4)),
    ]);
}

export function terminalTable(report: ComparisonReport, width = terminalWidth()): string {
    const notes = new Footnotes();
    const rows = comparisonRows(report, notes);
    const table = fitTable(rows, width) ?? stackedRows(rows, width);
    const verdict = scoreLine(report, notes);
    const wrapped = (lines: readonly string[], indent: number) => lines.flatMap(l => wrapText(l, width, indent));
    const problems = report.patterns.flatMap(x => [
        ...(x.errors.length === 0
            ? []
            : ["", `pattern ${x.id} ${x.name} cannot be formed from this config:`, ...x.errors.map(e => `  - ${e}`)]),
        ...(x.violations.length === 0
            ? []
            : [
                  "",
                  `pattern ${x.id} ${x.name} breaks design rules:`,
                  ...x.violations.map(v => `  - [${v.level}] ${v.policy}: ${v.message}`),
              ]),
    ]);
    return [
        ...wrapped(markerLines(report), 2),
        "",
        ...table,
        ...(verdict ? ["", ...wrapped([verdict], 2)] : []),
        "",
        ...wrapped([CELL_LEGEND], 2),
        ...notes.list().flatMap(f => wrapText(`${f.code} ${f.text}`, width, f.code.length + 1)),
        ...wrapped(problems, 4),
    ].join("\n");
}
