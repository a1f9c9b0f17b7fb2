/**
 * The design study's failure scenarios, each tried in every place it can happen (every host,
 * every site), with the worst outcome reported.
 */
import { DEFAULT_TIMINGS, Failure, Outcome, Timings, compareOutcomes, evaluateFailure } from "./evaluate";
import { Topology } from "./topology";

export const SCENARIO_IDS = [
    "server-down",
    "site-down",
    "uplink-down",
    "inter-site-cut",
    "db-primary-down",
    "site-maintenance",
    "proxy-down",
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
    "server-down": "one server down",
    "site-down": "one site's network down",
    "uplink-down": "a site's service uplink down",
    "inter-site-cut": "link between sites cut",
    "db-primary-down": "DB primary lost",
    "site-maintenance": "planned maintenance of a site's upstream",
    "proxy-down": "one proxy down",
};

/** One concrete failure of a scenario, such as "host tyo-db1 down". */
export interface ConcreteFailure {
    readonly scenario: ScenarioId;
    /** Where it happens, for the reader: a host, a site or the link. */
    readonly where: string;
    readonly failure: Failure;
    /** For planned work: the site operators empty first. */
    readonly plannedSite?: string;
}

export function concreteFailures(topology: Topology): ConcreteFailure[] {
    const sites = topology.sites.map(s => s.name);
    const primaries = [...new Set(topology.instances.map(i => i.database.primary.host))];
    return [
        ...topology.hosts.map(h => ({
            scenario: "server-down" as const,
            where: h.host,
            failure: { hostsDown: [h.host] },
        })),
        ...sites.map(site => ({ scenario: "site-down" as const, where: site, failure: { sitesDark: [site] } })),
        ...sites.map(site => ({ scenario: "uplink-down" as const, where: site, failure: { uplinksDown: [site] } })),
        ...(sites.length > 1
            ? [{ scenario: "inter-site-cut" as const, where: "between sites", failure: { interSiteCut: true } }]
            : []),
        ...primaries.map(host => ({ scenario: "db-primary-down" as const, where: host, failure: { dbDown: [host] } })),
        ...sites.map(site => ({
            scenario: "site-maintenance" as const,
            where: site,
            failure: { uplinksDown: [site], planned: true },
            plannedSite: site,
        })),
        // The proxy process dies on a host that stays up; only a stack with a data path has proxies.
        ...(topology.dataPath?.proxies ?? []).map(p => ({
            scenario: "proxy-down" as const,
            where: p.host,
            failure: { proxiesDown: [p.host] },
        })),
    ];
}

export interface ScenarioResult extends Outcome {
    readonly id: ScenarioId;
    /** Where the worst case happens. */
    readonly worstCase: string;
}

/** A concrete failure with its outcome. */
export interface EvaluatedFailure {
    readonly failure: ConcreteFailure;
    readonly outcome: Outcome;
}

/** Outcome of each concrete failure. */
export function evaluateAll(topology: Topology, timings: Timings = DEFAULT_TIMINGS): EvaluatedFailure[] {
    return concreteFailures(topology).map(failure => ({
        failure,
        outcome: evaluateFailure(topology, failure.failure, timings, failure.plannedSite),
    }));
}

/**
 * The failure matrix: the worst outcome of each scenario. `all` is `evaluateAll`'s answer, for a
 * caller that also estimates the availability from it (it is most of the analysis' time).
 */
export function scenarioMatrix(
    topology: Topology,
    timings: Timings = DEFAULT_TIMINGS,
    all: readonly EvaluatedFailure[] = evaluateAll(topology, timings),
): ScenarioResult[] {
    return SCENARIO_IDS.flatMap(id => {
        const cases = all.filter(c => c.failure.scenario === id);
        if (cases.length === 0) {
            return [];
        }
        const worst = cases.reduce((a, b) => (compareOutcomes(b.outcome, a.outcome) > 0 ? b : a));
        return [{ id, worstCase: worst.failure.where, ...worst.outcome }];
    });
}
