/**
 * The side-by-side comparison as text: a terminal table and Markdown (with a Mermaid diagram of
 * each pattern), readable as a pull-request comment.
 */
import { SCENARIO_IDS, SCENARIO_TITLES, ScenarioResult, Topology } from "../../components/analysis";
import { ComparisonReport, PatternReport } from "./compare";

/** One scenario in a few words: monitoring, recovery and its time, UI and duplicate flags. */
export function cell(s: ScenarioResult | undefined): string {
    if (!s) {
        return "-";
    }
    const recovery = s.recovery === "none" ? "" : s.recovery === "automatic" ? ` auto ${s.recoverySeconds}s` : ` manual${s.recoverySeconds !== null ? ` ${s.recoverySeconds}s` : ""}`;
    return `${s.monitoring}${recovery}${s.ui ? "" : ", no UI"}${s.duplicateAlerts ? ", dup" : ""}`;
}

function money(report: PatternReport): string {
    return report.cost ? `${report.cost.totalYearly.toLocaleString("en-US")} ${report.cost.currency}/y` : "-";
}

/** Rows of the comparison: a label and one cell per pattern. */
export function comparisonRows(report: ComparisonReport): string[][] {
    const p = report.patterns;
    const rows: string[][] = [
        ["", ...p.map(x => `${x.id} ${x.name}`)],
        ["hosts / resources", ...p.map(x => (x.errors.length ? "cannot form" : `${x.hosts} / ${x.resources}`))],
    ];
    for (const id of SCENARIO_IDS) {
        rows.push([SCENARIO_TITLES[id], ...p.map(x => (x.errors.length ? "-" : cell(x.scenarios.find(s => s.id === id))))]);
    }
    rows.push(
        ["config planes to manage", ...p.map(x => (x.configurationPlanes === null ? "-" : String(x.configurationPlanes)))],
        ["VIP / L2 across sites", ...p.map(x => (x.vipNeeded === null ? "-" : `${x.vipNeeded ? "VIP" : "no VIP"} / ${x.l2AcrossSites ? "L2 across sites" : "no"}`))],
        ["downtime per year", ...p.map(x => (x.availability ? `${x.availability.downtimeMinutesPerYear} min (${x.availability.class})` : "-"))],
        ["rough cost", ...p.map(money)],
        ["policy violations", ...p.map(x => (x.errors.length ? "-" : String(x.violations.length)))],
    );
    return rows;
}

export function terminalTable(report: ComparisonReport): string {
    const rows = comparisonRows(report);
    const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
    const lines = rows.map(r => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
    lines.splice(1, 0, widths.map(w => "-".repeat(w)).join("  "));
    const errors = report.patterns.filter(x => x.errors.length > 0)
        .map(x => `pattern ${x.id} ${x.name} cannot be formed from this config:\n${x.errors.map(e => `  - ${e}`).join("\n")}`);
    const violations = report.patterns.filter(x => x.violations.length > 0).map(x => `pattern ${x.id} ${x.name} breaks design rules:\n`
        + x.violations.map(v => `  - [${v.level}] ${v.policy}: ${v.message}`).join("\n"));
    const legend = "cells: monitoring continues (yes/degraded/no), recovery (auto or manual, with the expected seconds), "
        + "\"no UI\" when users reach no UI, \"dup\" when alerts are duplicated";
    return [lines.join("\n"), "", legend, ...errors.map(e => `\n${e}`), ...violations.map(v => `\n${v}`)].join("\n");
}

function mdEscape(text: string): string {
    return text.replace(/\|/g, "\\|");
}

function mermaidId(text: string): string {
    return text.replace(/[^A-Za-z0-9_]/g, "_");
}

/** A Mermaid flowchart of a pattern's sites, hosts and links. */
export function mermaidDiagram(topology: Topology): string {
    const lines = ["flowchart LR", "  users((users))"];
    const edges = new Set<string>();
    const labels = new Map<string, string[]>();
    const tag = (host: string, what: string) => labels.set(host, [...(labels.get(host) ?? []), what]);
    for (const instance of topology.instances) {
        instance.servers.forEach(s => tag(s.host, instance.serverFailover === "native-ha" ? "HA node" : "Zabbix server"));
        tag(instance.database.primary.host, "DB primary");
        instance.database.standbys.forEach(s => tag(s.host, instance.database.failover === "cluster-manager" ? "DRBD peer" : "DB standby"));
        instance.frontends.forEach(f => tag(f.host, "frontend"));
        instance.loadBalancers.forEach(l => tag(l.host, "load balancer"));
    }
    const placed = new Map<string, string>(topology.hosts.map(h => [h.host, h.site]));
    topology.hosts.filter(h => h.roles.includes("witness")).forEach(h => tag(h.host, "witness"));
    for (const i of topology.instances) {
        for (const p of [...i.servers, i.database.primary, ...i.database.standbys, ...i.frontends, ...i.loadBalancers]) {
            placed.set(p.host, p.site);
        }
    }
    for (const site of topology.sites) {
        lines.push(`  subgraph ${mermaidId(`site_${site.name}`)}["site ${site.name}${site.l2Segment ? " (L2)" : ""}"]`);
        for (const [host, hostSite] of placed) {
            if (hostSite === site.name) {
                lines.push(`    ${mermaidId(host)}["${host}<br/>${[...new Set(labels.get(host))].join(", ")}"]`);
            }
        }
        for (const instance of topology.instances) {
            for (const entry of instance.entryPoints) {
                if (entry.kind === "vip" && entry.site === site.name) {
                    lines.push(`    ${mermaidId(`vip_${site.name}`)}{{VIP}}`);
                }
            }
        }
        lines.push("  end");
    }
    for (const instance of topology.instances) {
        for (const entry of instance.entryPoints) {
            edges.add(`  users --> ${mermaidId(entry.kind === "vip" ? `vip_${entry.site}` : entry.host)}`);
        }
        for (const s of instance.database.standbys) {
            edges.add(`  ${mermaidId(s.host)} -. ${instance.database.failover === "cluster-manager" ? "DRBD" : "streams from"} .-> ${mermaidId(instance.database.primary.host)}`);
        }
        for (const server of instance.servers) {
            const lb = instance.loadBalancers.find(l => l.site === server.site);
            if (instance.dbAccess === "site-load-balancer" && lb) {
                edges.add(`  ${mermaidId(server.host)} -- DB --> ${mermaidId(lb.host)}`);
            }
        }
        if (instance.dbAccess === "site-load-balancer") {
            for (const lb of instance.loadBalancers) {
                edges.add(`  ${mermaidId(lb.host)} -- primary only --> ${mermaidId(instance.database.primary.host)}`);
            }
        }
    }
    if (topology.configSync) {
        for (const target of topology.configSync.targets) {
            edges.add(`  ${mermaidId(`site_${topology.configSync.source}`)} == config sync ==> ${mermaidId(`site_${target}`)}`);
        }
    }
    return [...lines, ...edges].join("\n");
}

export function markdownReport(report: ComparisonReport): string {
    const rows = comparisonRows(report);
    const table = [
        `| ${rows[0].map(mdEscape).join(" | ")} |`,
        `|${rows[0].map(() => " --- ").join("|")}|`,
        ...rows.slice(1).map(r => `| ${r.map(mdEscape).join(" | ")} |`),
    ];
    const sections = report.patterns.map(p => {
        if (p.errors.length > 0) {
            return `### ${p.id} ${p.name}\n\n${p.summary}\n\nThis configuration cannot form the pattern:\n\n${p.errors.map(e => `- \`${e}\``).join("\n")}\n`;
        }
        const violations = p.violations.length === 0 ? ["No design rule broken.", ""] : [
            "| policy | level | message |", "| --- | --- | --- |",
            ...p.violations.map(v => `| ${v.policy} | ${v.level} | ${mdEscape(v.message)} |`), "",
        ];
        const scenarioRows = p.scenarios.map(s => `| ${SCENARIO_TITLES[s.id]} (worst: ${mdEscape(s.worstCase)}) | ${s.monitoring} | ${s.ui ? "yes" : "no"} | ${s.duplicateAlerts ? "yes" : "no"} | ${s.recovery} | ${s.recoverySeconds ?? "-"} | ${mdEscape(s.dataAtRisk)} |`);
        return [
            `### ${p.id} ${p.name}`, "", p.summary, "",
            "| scenario | monitoring | UI | duplicate alerts | recovery | seconds | data at risk |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            ...scenarioRows, "",
            ...violations,
            "```mermaid", mermaidDiagram(p.topology!), "```", "",
        ].join("\n");
    });
    return [
        `## Zabbix HA design comparison (${report.environment.split("/").pop()})`, "",
        ...table, "",
        "Cells: monitoring continues (yes / degraded / no), recovery (auto or manual, with the expected seconds), \"no UI\" when users reach no UI, \"dup\" when alerts are duplicated. Worst case over every host and site.", "",
        ...sections,
    ].join("\n");
}
