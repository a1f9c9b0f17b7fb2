/**
 * A rough yearly cost from what the stack builds: owned servers, rented instances, managed
 * databases and the vendor's per-site configuration-sync licences. Every price is overridable.
 */
import { Topology } from "./topology";

export interface Prices {
    readonly currency: string;
    /** An owned server per year: hardware amortised, rack, power. */
    readonly serverYearly: number;
    /** A rented cloud instance per hour. */
    readonly cloudInstanceHourly: number;
    /** A managed PostgreSQL (multi-zone) per hour. */
    readonly managedDatabaseHourly: number;
    /** The vendor's configuration-sync tool, per site per year. */
    readonly syncLicencePerSiteYearly: number;
}

export const DEFAULT_PRICES: Prices = {
    currency: "USD",
    serverYearly: 2500,
    cloudInstanceHourly: 0.2,
    managedDatabaseHourly: 0.6,
    syncLicencePerSiteYearly: 4000,
};

export interface CostEstimate {
    readonly currency: string;
    readonly ownedServers: number;
    readonly cloudInstances: number;
    readonly managedDatabases: number;
    readonly licensedSites: number;
    readonly hardwareYearly: number;
    readonly cloudYearly: number;
    readonly licencesYearly: number;
    readonly totalYearly: number;
}

const HOURS_PER_YEAR = 24 * 365;

export function estimateCost(topology: Topology, prices: Prices = DEFAULT_PRICES): CostEstimate {
    const cloudInstances = topology.hosts.filter(h => h.cloud).length;
    const ownedServers = topology.hosts.length - cloudInstances;
    const licensedSites = topology.configSync ? 1 + topology.configSync.targets.length : 0;
    const hardwareYearly = ownedServers * prices.serverYearly;
    const cloudYearly = Math.round(
        (cloudInstances * prices.cloudInstanceHourly + topology.managedDatabases * prices.managedDatabaseHourly) *
            HOURS_PER_YEAR,
    );
    const licencesYearly = licensedSites * prices.syncLicencePerSiteYearly;
    return {
        currency: prices.currency,
        ownedServers,
        cloudInstances,
        managedDatabases: topology.managedDatabases,
        licensedSites,
        hardwareYearly,
        cloudYearly,
        licencesYearly,
        totalYearly: hardwareYearly + cloudYearly + licencesYearly,
    };
}
