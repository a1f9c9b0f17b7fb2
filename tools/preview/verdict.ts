/**
 * One line on why the configured pattern scores as it does on this environment, from its topology
 * and failure matrix: hosts that carry what should fail apart, what waits for an operator and why,
 * and how fast the rest recovers by itself.
 */
import { SCENARIO_TITLES, ScenarioResult, Topology } from "../../model";
import { causeCodes, Footnotes } from "./cells";
import { ComparisonReport } from "./compare";

function join(items: readonly string[]): string {
    return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Hosts whose loss takes the DB primary and a Zabbix server at once. */
function sharedFate(t: Topology): string | null {
    const serviceHosts = t.hosts.filter(h => h.roles.some(r => r !== "witness"));
    const roles = new Set(serviceHosts.flatMap(h => h.roles).filter(r => r !== "witness"));
    const sites = [...new Set(serviceHosts.map(h => h.site))];
    const onlyHost = (site: string) => {
        const here = serviceHosts.filter(h => h.site === site);
        return here.length === 1 ? here[0] : undefined;
    };
    if (sites.length > 1 && sites.every(s => [...roles].every(r => onlyHost(s)?.roles.includes(r)))) {
        return "each site has one host carrying every role, so losing it takes the DB primary and a server together";
    }
    const both = t.instances.flatMap(i =>
        i.servers.some(s => s.host === i.database.primary.host) ? [i.database.primary.host] : [],
    );
    return both.length === 0
        ? null
        : `${join(both)} ${both.length === 1 ? "carries" : "carry"} the DB primary and a Zabbix server, so losing one takes both together`;
}

/** Scenarios that wait for an operator, grouped by what makes them wait. */
function waits(scenarios: readonly ScenarioResult[], notes: Footnotes, installations: number): string[] {
    const groups = new Map<string, ScenarioResult[]>();
    for (const s of scenarios.filter(x => x.recovery === "manual" && x.monitoring !== "yes")) {
        const codes = causeCodes(s, notes);
        groups.set(codes, [...(groups.get(codes) ?? []), s]);
    }
    return [...groups].map(([codes, group]) => {
        const verb = group.length === 1 ? "waits" : "wait";
        // One installation degrades only where a proxy group's hosts wait (the data path).
        const partly = installations > 1 ? "one installation stopped" : "some hosts unmonitored";
        const stops = group.every(s => s.monitoring === "no") ? "" : ` (${partly})`;
        const why = group[0].operatorCauses.map(c => c.summary);
        return `${join(group.map(s => SCENARIO_TITLES[s.id]))} ${verb} for an operator${stops}${why.length ? ` because ${join(why)} (${codes})` : ""}`;
    });
}

/** The configured pattern's score in one line, or null when the environment configures none of the compared patterns. */
export function scoreLine(report: ComparisonReport, notes: Footnotes): string | null {
    const p = report.patterns.find(x => x.name === report.configuredPattern);
    if (!p?.topology) {
        return null;
    }
    const automatic = p.scenarios.filter(s => s.recovery === "automatic" && s.monitoring !== "no");
    const waiting = waits(p.scenarios, notes, p.topology.instances.length);
    const clauses = [
        sharedFate(p.topology),
        ...waiting,
        automatic.length === 0
            ? null
            : `${waiting.length > 0 ? "the other failures recover by themselves" : "every failure recovers by itself"} in at most ${Math.max(...automatic.map(s => s.recoverySeconds?.max ?? 0))} s`,
    ].filter((c): c is string => !!c);
    return `Why ${p.id} ${p.name} scores as it does on ${report.environment.split("/").pop()}: ${clauses.join("; ") || "nothing here fails"}.`;
}
