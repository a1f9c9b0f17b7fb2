/**
 * Why an operator is needed (each cause the model names, and the change that removes it), and what
 * a design costs: downtime per year, its availability class, and servers, instances and licences.
 */
import {
    AVAILABILITY_CLASSES,
    DEFAULT_PRICES,
    DEFAULT_RATES,
    DEFAULT_TIMINGS,
    Topology,
    availabilityClass,
    estimateAvailability,
    estimateCost,
    evaluateFailure,
} from "../../model";
import { at, nativeHa, pair, standalonePair, withInstance } from "./analysis-topologies";

/** nativeHa with the roles the cause texts count (DB hosts, and a witness in a third site when `witness`). */
function nativeHaWithRoles(failover: "manual" | "automatic", witness: boolean): Topology {
    const base = nativeHa(["a", "b"]);
    const members = [at("db-a", "a"), at("db-b", "b"), ...(witness ? [at("wit", "c")] : [])];
    const topology = withInstance(base, i => ({
        database: { ...i.database, failover, quorum: failover === "automatic" ? members : undefined },
    }));
    return {
        ...topology,
        sites: [...base.sites, ...(witness ? [{ name: "c", l2Segment: false }] : [])],
        hosts: [
            ...base.hosts.map(h => ({ ...h, roles: h.host.startsWith("db-") ? ["db"] : [] })),
            ...(witness ? [{ host: "wit", site: "c", roles: ["witness"], cloud: false }] : []),
        ],
    };
}

const causeIds = (o: { operatorCauses: readonly { id: string }[] }) => o.operatorCauses.map(c => c.id);

describe("why an operator is needed", () => {
    test("a manual DB failover is the cause; the fix it names follows the sites etcd could use, and Patroni removes the cause", () => {
        const twoSites = evaluateFailure(nativeHaWithRoles("manual", false), { dbDown: ["db-a"] });
        expect(twoSites).toMatchObject({ monitoring: "no", recovery: "manual" });
        expect(causeIds(twoSites)).toEqual(["db-failover-manual"]);
        expect(twoSites.operatorCauses[0].change).toMatch(
            /db\.failover: patroni.*this config has 2: add a witness site/,
        );
        const withWitness = evaluateFailure(nativeHaWithRoles("manual", true), { dbDown: ["db-a"] });
        expect(withWitness.operatorCauses[0].change).toContain("already in three sites");
        const patroni = evaluateFailure(nativeHaWithRoles("automatic", true), { dbDown: ["db-a"] });
        expect(patroni).toMatchObject({ monitoring: "yes", recovery: "automatic", operatorCauses: [] });
    });

    test("etcd in two sites: the survivor has no majority, and the fix is a third site", () => {
        const outcome = evaluateFailure(nativeHaWithRoles("automatic", false), { sitesDark: ["a"] });
        expect(outcome).toMatchObject({ monitoring: "no", recovery: "manual" });
        expect(causeIds(outcome)).toEqual(["db-no-quorum"]);
        expect(outcome.operatorCauses[0]).toMatchObject({
            summary: "no DB node reaches a majority of the 2 etcd members",
            change: expect.stringContaining("three sites"),
        });
    });

    test("sync replication with manual failover: the stalled commits are the cause", () => {
        const sync = withInstance(nativeHaWithRoles("manual", false), i => ({
            database: { ...i.database, replication: "sync" },
        }));
        expect(causeIds(evaluateFailure(sync, { sitesDark: ["b"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]))).toEqual([
            "db-sync-stalled",
        ]);
    });

    test("a server cluster with one node: its loss waits for a repair, whatever the DB does", () => {
        const oneNode = withInstance(nativeHa(["a", "b"], "managed"), () => ({ servers: [at("zbx-1", "a")] }));
        const outcome = evaluateFailure(oneNode, { hostsDown: ["zbx-1"] });
        expect(outcome).toMatchObject({ monitoring: "no", recovery: "manual" });
        expect(causeIds(outcome)).toEqual(["one-server-node"]);
        // With a second node in another site the same loss recovers by itself.
        expect(evaluateFailure(nativeHa(["a", "b"], "managed"), { hostsDown: ["zbx-1"] }).operatorCauses).toEqual([]);
    });

    test("every server node in the lost site, or an active node behind a lost uplink", () => {
        expect(causeIds(evaluateFailure(nativeHa(["b", "b"], "managed"), { sitesDark: ["b"] }))).toEqual([
            "servers-lost",
        ]);
        const uplink = evaluateFailure(nativeHa(["a", "b"]), { uplinksDown: ["b"] }, DEFAULT_TIMINGS, undefined, [
            "zbx-2",
        ]);
        expect(causeIds(uplink)).toEqual(["active-node-stays"]);
        const g = DEFAULT_TIMINGS.gracefulSwitchSeconds;
        expect(uplink.operatorCauses[0].change).toContain(
            `takes over in ${g} to ${g + DEFAULT_TIMINGS.heartbeatSeconds} s`,
        );
    });

    test("a VIP that cannot leave its site, and a fallback pair without fencing", () => {
        const vip = evaluateFailure(pair(["a", "b"]), { hostsDown: ["node-1"] });
        expect(causeIds(vip)).toEqual(["vip-bound-to-site"]);
        expect(vip.operatorCauses[0].summary).toBe("the VIP cannot leave a");
        const fallback = (fencing: boolean) =>
            withInstance(nativeHa(["a", "b"]), i => ({
                database: { ...i.database, pair: { peer: at("db-a2", "a"), fencing } },
            }));
        expect(causeIds(evaluateFailure(fallback(false), { dbDown: ["db-a"] }))).toEqual([
            "pair-no-fencing",
            "db-failover-manual",
        ]);
        expect(evaluateFailure(fallback(true), { dbDown: ["db-a"] })).toMatchObject({
            recovery: "automatic",
            operatorCauses: [],
        });
    });

    test("an installation without a standby DB, and planned work whose step is the plan", () => {
        expect(causeIds(evaluateFailure(standalonePair(), { sitesDark: ["a"] }))).toEqual(["db-no-standby"]);
        const planned = evaluateFailure(
            nativeHa(["a", "b"]),
            { uplinksDown: ["a"], planned: true },
            DEFAULT_TIMINGS,
            "a",
        );
        expect(planned.operatorCauses).toEqual([expect.objectContaining({ id: "planned-work", change: "" })]);
        expect(planned.operatorCauses[0].reason).toContain("db.primarySite");
    });
});

describe("availability and cost", () => {
    test("the seed's table: downtime per year to availability class", () => {
        expect(availabilityClass(0.5)).toBe("99.9999%");
        expect(availabilityClass(5)).toBe("99.999%");
        expect(availabilityClass(52)).toBe("99.99%");
        expect(availabilityClass(8 * 60 + 46)).toBe("99.9%");
        expect(availabilityClass(3 * 24 * 60)).toBe("99%");
        expect(availabilityClass(6000)).toBe("<99%");
        expect(AVAILABILITY_CLASSES.map(c => c.class)).toEqual(["99.9999%", "99.999%", "99.99%", "99.9%", "99%"]);
    });

    test("downtime follows the rates: doubling them doubles it; manual outages wait for the operator", () => {
        const topology = nativeHa(["a", "b"]);
        const base = estimateAvailability(topology);
        const doubled = estimateAvailability(
            topology,
            Object.fromEntries(
                Object.entries(DEFAULT_RATES).map(([k, v]) => [k, k.endsWith("PerYear") ? v * 2 : v]),
            ) as typeof DEFAULT_RATES,
        );
        for (const bound of ["min", "max"] as const) {
            expect(doubled.downtimeMinutesPerYear[bound]).toBeCloseTo(base.downtimeMinutesPerYear[bound] * 2, 1);
            const slowerOperators = estimateAvailability(topology, { ...DEFAULT_RATES, manualResponseMinutes: 60 });
            expect(slowerOperators.downtimeMinutesPerYear[bound]).toBeGreaterThan(base.downtimeMinutesPerYear[bound]);
            // Automatic failover of the DB removes the manual outages the DB primary causes.
            expect(estimateAvailability(nativeHa(["a", "b"], "managed")).downtimeMinutesPerYear[bound]).toBeLessThan(
                base.downtimeMinutesPerYear[bound],
            );
        }
    });

    test("downtime spans the recoveries' ranges: a longer failover delay moves both ends, and the class is the latest end's", () => {
        // The DB fails over by itself here, so the automatic recoveries are most of the downtime.
        const topology = nativeHa(["a", "b"], "managed");
        const base = estimateAvailability(topology);
        expect(base.downtimeMinutesPerYear.min).toBeLessThan(base.downtimeMinutesPerYear.max);
        expect(base.class).toBe(availabilityClass(base.downtimeMinutesPerYear.max));
        const longer = estimateAvailability({ ...topology, failoverDelaySeconds: topology.failoverDelaySeconds + 60 });
        expect(longer.downtimeMinutesPerYear.min).toBeGreaterThan(base.downtimeMinutesPerYear.min);
        expect(longer.downtimeMinutesPerYear.max).toBeGreaterThan(base.downtimeMinutesPerYear.max);
        // The heartbeat widens the takeover's range: the latest end moves further than the soonest.
        const slowBeat = estimateAvailability(topology, DEFAULT_RATES, {
            ...DEFAULT_TIMINGS,
            heartbeatSeconds: DEFAULT_TIMINGS.heartbeatSeconds * 2,
        });
        const widened = (a: typeof base) => a.downtimeMinutesPerYear.max - a.downtimeMinutesPerYear.min;
        expect(widened(slowBeat)).toBeGreaterThan(widened(base));
    });

    test("independent installations: no downtime while one still monitors, but their history gaps are counted apart", () => {
        const standalone = estimateAvailability(standalonePair());
        expect(standalone.downtimeMinutesPerYear).toEqual({ min: 0, max: 0 });
        // Two sites' outages and each host's repairs leave one installation stopped for their whole length.
        expect(standalone.degradedMinutesPerYear.min).toBeGreaterThanOrEqual(
            2 * DEFAULT_RATES.siteOutagesPerYear * DEFAULT_RATES.siteOutageHours * 60,
        );
        const doubledRepair = estimateAvailability(standalonePair(), {
            ...DEFAULT_RATES,
            hostRepairHours: DEFAULT_RATES.hostRepairHours * 2,
        });
        expect(doubledRepair.degradedMinutesPerYear.min).toBeGreaterThan(standalone.degradedMinutesPerYear.min);
        expect(doubledRepair.degradedMinutesPerYear.max).toBeGreaterThan(standalone.degradedMinutesPerYear.max);
        // One installation is never "degraded": it works or it stops.
        expect(estimateAvailability(nativeHa(["a", "b"])).degradedMinutesPerYear).toEqual({ min: 0, max: 0 });
    });

    test("cost counts owned servers, rented instances, managed databases and sync licences", () => {
        const owned = estimateCost(nativeHa(["a", "b"]));
        expect(owned).toMatchObject({
            ownedServers: 8,
            cloudInstances: 0,
            totalYearly: 8 * DEFAULT_PRICES.serverYearly,
        });
        const rented = { ...nativeHa(["a", "b"]), managedDatabases: 1 };
        const cloud = estimateCost({ ...rented, hosts: rented.hosts.map(h => ({ ...h, cloud: true })) });
        expect(cloud.cloudYearly).toBe(
            Math.round((8 * DEFAULT_PRICES.cloudInstanceHourly + DEFAULT_PRICES.managedDatabaseHourly) * 8760),
        );
        const synced = estimateCost({
            ...standalonePair(),
            configSync: { source: "a", targets: ["b"], intervalSeconds: 600 },
        });
        expect(synced.licencesYearly).toBe(2 * DEFAULT_PRICES.syncLicencePerSiteYearly);
    });
});
