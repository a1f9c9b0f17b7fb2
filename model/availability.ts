/**
 * Expected yearly monitoring downtime from failure rates and repair times, and the availability
 * class of the second seed's table. Every rate is a default the stack config can override.
 */
import { DEFAULT_TIMINGS, Outcome, Timings } from "./evaluate";
import { Bounds } from "./recovery";
import { EvaluatedFailure, ScenarioId, evaluateAll } from "./scenarios";
import { Topology } from "./topology";

/** How often each kind of failure happens and how long it lasts: the rates the yearly downtime is figured from. */
export interface FailureRates {
    /** Failures per host per year needing a repair (hardware or OS). */
    readonly hostFailuresPerYear: number;
    /** Hours until a failed host is repaired. */
    readonly hostRepairHours: number;
    /** PostgreSQL crashes per primary per year. */
    readonly dbCrashesPerYear: number;
    /** Minutes until a crashed PostgreSQL is restarted by hand. */
    readonly dbRestartMinutes: number;
    /** Site network outages per site per year. */
    readonly siteOutagesPerYear: number;
    /** Hours a site's network outage lasts. */
    readonly siteOutageHours: number;
    /** Service uplink outages per site per year. */
    readonly uplinkOutagesPerYear: number;
    /** Hours an uplink outage lasts. */
    readonly uplinkOutageHours: number;
    /** Cuts of the inter-site link per year. */
    readonly interSiteCutsPerYear: number;
    /** Hours a cut of the inter-site link lasts. */
    readonly interSiteCutHours: number;
    /** Planned upstream maintenance windows per site per year. */
    readonly maintenanceWindowsPerSitePerYear: number;
    /** Hours a maintenance window lasts. */
    readonly maintenanceHours: number;
    /** Zabbix proxy crashes per proxy per year. */
    readonly proxyCrashesPerYear: number;
    /** Minutes until a crashed proxy runs again (an operator's restart): how long the proxy-down cause lasts. */
    readonly proxyRestartMinutes: number;
    /** How long until an operator acts on a failure that needs one. */
    readonly manualResponseMinutes: number;
}

export const DEFAULT_RATES: FailureRates = {
    hostFailuresPerYear: 0.5,
    hostRepairHours: 8,
    dbCrashesPerYear: 0.2,
    dbRestartMinutes: 10,
    siteOutagesPerYear: 0.5,
    siteOutageHours: 2,
    uplinkOutagesPerYear: 1,
    uplinkOutageHours: 1,
    interSiteCutsPerYear: 1,
    interSiteCutHours: 0.5,
    maintenanceWindowsPerSitePerYear: 4,
    maintenanceHours: 2,
    proxyCrashesPerYear: 0.5,
    proxyRestartMinutes: 10,
    manualResponseMinutes: 30,
};

/** The second seed's table: availability and the yearly downtime it allows. */
export const AVAILABILITY_CLASSES: readonly { readonly class: string; readonly maxMinutesPerYear: number }[] = [
    { class: "99.9999%", maxMinutesPerYear: 32 / 60 },
    { class: "99.999%", maxMinutesPerYear: 5 + 15 / 60 },
    { class: "99.99%", maxMinutesPerYear: 52 + 34 / 60 },
    { class: "99.9%", maxMinutesPerYear: 8 * 60 + 46 },
    { class: "99%", maxMinutesPerYear: (3 * 24 + 15) * 60 + 36 },
];

export function availabilityClass(downtimeMinutesPerYear: number): string {
    return AVAILABILITY_CLASSES.find(c => downtimeMinutesPerYear <= c.maxMinutesPerYear)?.class ?? "<99%";
}

/** How often a scenario happens per place, and how long the cause lasts (minutes). */
function exposure(scenario: ScenarioId, rates: FailureRates): { perYear: number; minutes: number } {
    switch (scenario) {
        case "server-down":
            return { perYear: rates.hostFailuresPerYear, minutes: rates.hostRepairHours * 60 };
        case "db-primary-down":
            return { perYear: rates.dbCrashesPerYear, minutes: rates.dbRestartMinutes };
        case "site-down":
            return { perYear: rates.siteOutagesPerYear, minutes: rates.siteOutageHours * 60 };
        case "uplink-down":
            return { perYear: rates.uplinkOutagesPerYear, minutes: rates.uplinkOutageHours * 60 };
        case "inter-site-cut":
            return { perYear: rates.interSiteCutsPerYear, minutes: rates.interSiteCutHours * 60 };
        case "site-maintenance":
            return { perYear: rates.maintenanceWindowsPerSitePerYear, minutes: rates.maintenanceHours * 60 };
        case "proxy-down":
            return { perYear: rates.proxyCrashesPerYear, minutes: rates.proxyRestartMinutes };
    }
}

/** Which end of each recovery's range an estimate takes. */
type Bound = keyof Bounds;

/** Minutes without monitoring for one event: the automatic gap, or until an operator acts or the cause ends. */
function downtimeMinutes(outcome: Outcome, causeMinutes: number, rates: FailureRates, bound: Bound): number {
    const recovery = outcome.recoverySeconds;
    if (outcome.monitoring !== "no") {
        return recovery === null ? 0 : recovery[bound] / 60;
    }
    return recovery !== null
        ? Math.min(recovery[bound] / 60, causeMinutes)
        : Math.min(rates.manualResponseMinutes, causeMinutes);
}

export interface AvailabilityEstimate {
    /** Yearly downtime with every automatic recovery at its soonest (min) and at its latest (max). */
    readonly downtimeMinutesPerYear: Bounds;
    /** The class the latest case still fits: what the design can promise. */
    readonly class: string;
    /**
     * Minutes a year with an installation stopped while another keeps monitoring: not downtime, but
     * a gap in that installation's own history (independent installations keep separate histories).
     */
    readonly degradedMinutesPerYear: Bounds;
}

/** Minutes one installation stays stopped while the others monitor: until it recovers, or the cause ends. */
function degradedMinutes(outcome: Outcome, causeMinutes: number, bound: Bound): number {
    if (outcome.monitoring !== "degraded") {
        return 0;
    }
    const recovery = outcome.recoverySeconds;
    return recovery === null ? causeMinutes : Math.min(recovery[bound] / 60, causeMinutes);
}

const hundredths = (minutes: number) => Math.round(minutes * 100) / 100;

/** Yearly downtime over every concrete failure; `evaluated` is `evaluateAll`'s answer when the caller has it. */
export function estimateAvailability(
    topology: Topology,
    rates: FailureRates = DEFAULT_RATES,
    timings: Timings = DEFAULT_TIMINGS,
    evaluated: readonly EvaluatedFailure[] = evaluateAll(topology, timings),
): AvailabilityEstimate {
    const yearly = (minutes: (outcome: Outcome, cause: number) => number): number =>
        hundredths(
            evaluated.reduce((sum, { failure, outcome }) => {
                const { perYear, minutes: cause } = exposure(failure.scenario, rates);
                return sum + perYear * minutes(outcome, cause);
            }, 0),
        );
    const over = (minutes: (outcome: Outcome, cause: number, bound: Bound) => number): Bounds => ({
        min: yearly((o, c) => minutes(o, c, "min")),
        max: yearly((o, c) => minutes(o, c, "max")),
    });
    const down = over((o, c, bound) => downtimeMinutes(o, c, rates, bound));
    return {
        downtimeMinutesPerYear: down,
        class: availabilityClass(down.max),
        degradedMinutesPerYear: over(degradedMinutes),
    };
}
