import {
    AVAILABILITY_CLASSES,
    DEFAULT_PRICES,
    DEFAULT_RATES,
    DEFAULT_TIMINGS,
    InstanceTopology,
    Placement,
    Topology,
    availabilityClass,
    estimateAvailability,
    estimateCost,
    evaluateFailure,
    scenarioMatrix,
} from "../../model";

const at = (host: string, site: string): Placement => ({ host, site });

/** Hand-built topologies: the outcome must follow from where things sit and how they move. */
function nativeHa(serverSites: [string, string], dbFailover: "manual" | "managed" = "manual"): Topology {
    const instance: InstanceTopology = {
        name: "zabbix",
        servers: [at("zbx-1", serverSites[0]), at("zbx-2", serverSites[1])],
        serverFailover: "native-ha",
        database: { primary: at("db-a", "a"), standbys: [at("db-b", "b")], failover: dbFailover, replication: "async" },
        frontends: [at("web-a", "a"), at("web-b", "b")],
        entryPoints: [
            { kind: "load-balancer", host: "lb-a", site: "a" },
            { kind: "load-balancer", host: "lb-b", site: "b" },
        ],
        dbAccess: "site-load-balancer",
        loadBalancers: [at("lb-a", "a"), at("lb-b", "b")],
    };
    const hosts = [
        ...instance.servers,
        instance.database.primary,
        ...instance.database.standbys,
        ...instance.frontends,
        ...instance.loadBalancers,
    ];
    return {
        pattern: { id: 5, name: "hand-built" },
        sites: [
            { name: "a", l2Segment: false },
            { name: "b", l2Segment: false },
        ],
        hosts: hosts.map(h => ({ ...h, roles: [], cloud: false })),
        instances: [instance],
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

function pair(nodeSites: [string, string]): Topology {
    const nodes = [at("node-1", nodeSites[0]), at("node-2", nodeSites[1])];
    return {
        pattern: { id: 3, name: "hand-built pair" },
        sites: [
            { name: "a", l2Segment: true },
            { name: "b", l2Segment: false },
        ],
        hosts: nodes.map(h => ({ ...h, roles: [], cloud: false })),
        instances: [
            {
                name: "zabbix",
                servers: nodes,
                serverFailover: "cluster-manager",
                database: {
                    primary: nodes[0],
                    standbys: [nodes[1]],
                    failover: "cluster-manager",
                    replication: "block-sync",
                },
                frontends: nodes,
                entryPoints: [{ kind: "vip", site: "a" }],
                dbAccess: "vip",
                loadBalancers: [],
                clusterManager: { nodes, vipSite: "a", fencing: true },
            },
        ],
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

function standalonePair(): Topology {
    const site = (s: string): InstanceTopology => ({
        name: s,
        servers: [at(`zbx-${s}`, s)],
        serverFailover: "native-ha",
        database: { primary: at(`db-${s}`, s), standbys: [], failover: "manual", replication: "async" },
        frontends: [at(`web-${s}`, s)],
        entryPoints: [{ kind: "load-balancer", host: `lb-${s}`, site: s }],
        dbAccess: "site-load-balancer",
        loadBalancers: [at(`lb-${s}`, s)],
    });
    const instances = [site("a"), site("b")];
    return {
        pattern: { id: 1, name: "hand-built standalone" },
        sites: [
            { name: "a", l2Segment: false },
            { name: "b", l2Segment: false },
        ],
        hosts: instances
            .flatMap(i => [...i.servers, i.database.primary, ...i.frontends, ...i.loadBalancers])
            .map(h => ({ ...h, roles: [], cloud: false })),
        instances,
        managedDatabases: 0,
        failoverDelaySeconds: 10,
    };
}

describe("native HA across sites", () => {
    test("losing the site of one HA node: the other takes over after the failover delay plus heartbeats", () => {
        const outcome = evaluateFailure(nativeHa(["a", "b"]), { sitesDark: ["b"] });
        expect(outcome).toMatchObject({
            monitoring: "yes",
            ui: true,
            recovery: "automatic",
            recoverySeconds: 10 + DEFAULT_TIMINGS.heartbeatSeconds,
        });
    });

    test("both HA nodes in one site turn that site's network loss into an outage", () => {
        const outcome = evaluateFailure(nativeHa(["b", "b"]), { sitesDark: ["b"] });
        expect(outcome).toMatchObject({ monitoring: "no", recovery: "manual", recoverySeconds: null });
    });

    test("...and the matrix shows it once the DB fails over by itself", () => {
        const split = scenarioMatrix(nativeHa(["a", "b"], "managed")).find(s => s.id === "site-down")!;
        const together = scenarioMatrix(nativeHa(["b", "b"], "managed")).find(s => s.id === "site-down")!;
        expect(split.monitoring).toBe("yes");
        expect(together).toMatchObject({ monitoring: "no", worstCase: "b" });
    });

    test("a dead standby node changes nothing; a dead active node fails over", () => {
        const topology = nativeHa(["a", "b"]);
        expect(evaluateFailure(topology, { hostsDown: ["web-b"] })).toMatchObject({
            monitoring: "yes",
            recovery: "none",
            recoverySeconds: 0,
        });
        expect(evaluateFailure(topology, { hostsDown: ["zbx-2"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: 15,
        });
    });

    test("a crashed server process fails over after the delay; a graceful stop hands over at once", () => {
        const topology = nativeHa(["a", "b"]);
        expect(evaluateFailure(topology, { serversDown: ["zbx-1"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: 15,
        });
        expect(evaluateFailure(topology, { serversStopped: ["zbx-1"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: DEFAULT_TIMINGS.gracefulSwitchSeconds,
        });
    });

    test("a known active node narrows the worst case to what happens to it", () => {
        const topology = nativeHa(["a", "b"]);
        expect(
            evaluateFailure(topology, { serversDown: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-2"]),
        ).toMatchObject({ recovery: "none", recoverySeconds: 0 });
        expect(
            evaluateFailure(topology, { serversDown: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]),
        ).toMatchObject({ recovery: "automatic", recoverySeconds: 15 });
    });

    test("a dead load balancer: its site's servers lose the DB, users use the other site's", () => {
        const outcome = evaluateFailure(nativeHa(["a", "b"]), { loadBalancersDown: ["lb-a"] });
        expect(outcome).toMatchObject({ monitoring: "yes", ui: true, recovery: "automatic", recoverySeconds: 15 });
    });

    test("an uplink loss does not move the active node: it still reaches the DB, so monitoring stops until an operator acts", () => {
        expect(evaluateFailure(nativeHa(["a", "b"]), { uplinksDown: ["b"] })).toMatchObject({
            monitoring: "no",
            ui: true,
            recovery: "manual",
        });
    });

    test("planned upstream maintenance moves the active node gracefully and the primary by switchover", () => {
        const outcome = evaluateFailure(
            nativeHa(["a", "b"]),
            { uplinksDown: ["a"], planned: true },
            DEFAULT_TIMINGS,
            "a",
        );
        expect(outcome.monitoring).toBe("yes");
        expect(outcome.recovery).toBe("manual");
        expect(outcome.recoverySeconds).toBe(DEFAULT_TIMINGS.dbSwitchoverSeconds + DEFAULT_TIMINGS.dbReconnectSeconds);
        expect(outcome.dataAtRisk).not.toContain("async");
    });

    test("the inter-site cut: the node away from the primary demotes and the other takes over; users still reach a UI", () => {
        expect(evaluateFailure(nativeHa(["a", "b"]), { interSiteCut: true })).toMatchObject({
            monitoring: "yes",
            ui: true,
            recovery: "automatic",
            duplicateAlerts: false,
        });
    });

    test("sync replication: losing the only reachable replica stalls commits; Patroni releases it, fixed standby names wait for an operator", () => {
        const withDb = (failover: "automatic" | "manual", replication: "async" | "sync"): Topology => {
            const topology = nativeHa(["a", "b"]);
            const instance = topology.instances[0];
            return {
                ...topology,
                instances: [
                    {
                        ...instance,
                        database: {
                            ...instance.database,
                            failover,
                            replication,
                            quorum: [at("db-a", "a"), at("db-b", "b"), at("wit", "c")],
                        },
                    },
                ],
            };
        };
        // Site b holds the replica; with zbx-2 active there, its takeover can only follow the release.
        const t = DEFAULT_TIMINGS;
        const siteB = { sitesDark: ["b"] };
        const takeover = 10 + t.heartbeatSeconds;
        expect(evaluateFailure(withDb("automatic", "async"), siteB, t, undefined, ["zbx-2"]).recoverySeconds).toBe(
            takeover,
        );
        expect(evaluateFailure(withDb("automatic", "sync"), siteB, t, undefined, ["zbx-2"]).recoverySeconds).toBe(
            t.syncReleaseSeconds + takeover,
        );
        // An active node elsewhere keeps its role, but its commits wait too.
        expect(evaluateFailure(withDb("automatic", "sync"), siteB, t, undefined, ["zbx-1"])).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: t.syncReleaseSeconds,
        });
        expect(evaluateFailure(withDb("automatic", "async"), siteB, t, undefined, ["zbx-1"])).toMatchObject({
            recovery: "none",
            recoverySeconds: 0,
        });
        expect(evaluateFailure(withDb("manual", "sync"), siteB, t, undefined, ["zbx-1"])).toMatchObject({
            monitoring: "no",
            recovery: "manual",
        });
    });

    test("a lost primary with manual failover stops monitoring and the UI; unplanned async failover risks commits", () => {
        expect(evaluateFailure(nativeHa(["a", "b"]), { dbDown: ["db-a"] })).toMatchObject({
            monitoring: "no",
            ui: false,
            recovery: "manual",
        });
        const managed = evaluateFailure(nativeHa(["a", "b"], "managed"), { dbDown: ["db-a"] });
        expect(managed).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: DEFAULT_TIMINGS.managedFailoverSeconds + DEFAULT_TIMINGS.dbReconnectSeconds,
        });
        expect(managed.dataAtRisk).toContain("async");
    });
});

describe("a DRBD + Pacemaker pair", () => {
    test("in one site, a node crash fails over automatically behind the VIP", () => {
        expect(evaluateFailure(pair(["a", "a"]), { hostsDown: ["node-1"] })).toMatchObject({
            monitoring: "yes",
            ui: true,
            recovery: "automatic",
            recoverySeconds: DEFAULT_TIMINGS.clusterManagerFailoverSeconds,
        });
    });

    test("split across L3 sites, the VIP cannot follow: the peer's promotion leaves no reachable DB or UI", () => {
        expect(evaluateFailure(pair(["a", "b"]), { hostsDown: ["node-1"] })).toMatchObject({
            monitoring: "no",
            ui: false,
            recovery: "manual",
        });
    });

    test("split across sites, the dark site's node cannot be fenced, so nothing takes over", () => {
        expect(evaluateFailure(pair(["a", "b"]), { sitesDark: ["a"] })).toMatchObject({
            monitoring: "no",
            recovery: "manual",
        });
    });

    test("the whole pair's site is a single point of failure", () => {
        const matrix = scenarioMatrix(pair(["a", "a"]));
        expect(matrix.find(s => s.id === "site-down")).toMatchObject({ monitoring: "no", worstCase: "a" });
        expect(matrix.find(s => s.id === "inter-site-cut")).toMatchObject({ monitoring: "yes", recovery: "none" });
    });
});

describe("independent installations per site", () => {
    test("alert twice while both run, and degrade (not stop) when one site goes", () => {
        const topology = standalonePair();
        expect(evaluateFailure(topology, {})).toMatchObject({ monitoring: "yes", duplicateAlerts: true });
        const siteDown = evaluateFailure(topology, { sitesDark: ["a"] });
        expect(siteDown).toMatchObject({ monitoring: "degraded", duplicateAlerts: false, ui: true });
        expect(siteDown.dataAtRisk).toContain("stopped instance's history");
    });
});

/** A copy of a one-instance topology with its instance changed. */
function withInstance(topology: Topology, change: (i: InstanceTopology) => Partial<InstanceTopology>): Topology {
    return { ...topology, instances: [{ ...topology.instances[0], ...change(topology.instances[0]) }] };
}

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
        expect(uplink.operatorCauses[0].change).toContain(`about ${DEFAULT_TIMINGS.gracefulSwitchSeconds} s`);
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
        expect(doubled.downtimeMinutesPerYear).toBeCloseTo(base.downtimeMinutesPerYear * 2, 1);
        const slowerOperators = estimateAvailability(topology, { ...DEFAULT_RATES, manualResponseMinutes: 60 });
        expect(slowerOperators.downtimeMinutesPerYear).toBeGreaterThan(base.downtimeMinutesPerYear);
        // Automatic failover of the DB removes the manual outages the DB primary causes.
        expect(estimateAvailability(nativeHa(["a", "b"], "managed")).downtimeMinutesPerYear).toBeLessThan(
            base.downtimeMinutesPerYear,
        );
    });

    test("independent installations: no downtime while one still monitors, but their history gaps are counted apart", () => {
        const standalone = estimateAvailability(standalonePair());
        expect(standalone.downtimeMinutesPerYear).toBe(0);
        // Two sites' outages and each host's repairs leave one installation stopped for their whole length.
        expect(standalone.degradedMinutesPerYear).toBeGreaterThanOrEqual(
            2 * DEFAULT_RATES.siteOutagesPerYear * DEFAULT_RATES.siteOutageHours * 60,
        );
        const doubledRepair = estimateAvailability(standalonePair(), {
            ...DEFAULT_RATES,
            hostRepairHours: DEFAULT_RATES.hostRepairHours * 2,
        });
        expect(doubledRepair.degradedMinutesPerYear).toBeGreaterThan(standalone.degradedMinutesPerYear);
        // One installation is never "degraded": it works or it stops.
        expect(estimateAvailability(nativeHa(["a", "b"])).degradedMinutesPerYear).toBe(0);
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
