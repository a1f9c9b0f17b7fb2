/**
 * What a failure does to each design: which losses the model says leave monitoring, the UI and the
 * data intact, for native HA across sites, a DRBD + Pacemaker pair and independent installations.
 */
import { TAKEOVER_POLL_SECONDS } from "../../components/zabbix/takeoverWatch";
import { DEFAULT_TIMINGS, Topology, evaluateFailure, scenarioMatrix } from "../../model";
import { at, nativeHa, pair, standalonePair } from "./analysis-topologies";

const t = DEFAULT_TIMINGS;
/** The hand-built topologies' failover delay (a whole number of heartbeats). */
const DELAY = 10;
/**
 * A standby's takeover from a node that stopped heart-beating: the watcher marks its row once the
 * last heartbeat (up to one before the fault) is a delay old, within its poll; a standby's next poll
 * takes over, then the node starts.
 */
const takeover = {
    min: DELAY - t.heartbeatSeconds + t.serverStartSeconds,
    max: DELAY + TAKEOVER_POLL_SECONDS + t.heartbeatSeconds + t.serverStartSeconds,
};
/** A killed server on a live host: its own restart, accepted once its heartbeat is a delay old, or the takeover. */
const crash = {
    min: Math.min(Math.max(t.serverRestartSeconds, DELAY - t.heartbeatSeconds) + t.serverStartSeconds, takeover.min),
    max: Math.min(DELAY + t.serverRestartSeconds + t.heartbeatSeconds + t.serverStartSeconds, takeover.max),
};
const point = (v: number) => ({ min: v, max: v });

describe("native HA across sites", () => {
    test("losing the site of one HA node: the other takes over after the failover delay plus heartbeats", () => {
        const outcome = evaluateFailure(nativeHa(["a", "b"]), { sitesDark: ["b"] });
        expect(outcome).toMatchObject({
            monitoring: "yes",
            ui: true,
            recovery: "automatic",
            recoverySeconds: takeover,
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
            recoverySeconds: point(0),
        });
        // A host that is gone does not restart its server: only the standby's takeover brings it back.
        expect(evaluateFailure(topology, { hostsDown: ["zbx-2"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: takeover,
        });
    });

    test("a crashed server process comes back by its own restart or the delay's takeover; a graceful stop hands over at once", () => {
        const topology = nativeHa(["a", "b"]);
        expect(evaluateFailure(topology, { serversDown: ["zbx-1"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: crash,
        });
        // Zabbix accepts the restart only once the heartbeat is a delay old, when the watcher has marked the row: the takeover's range.
        expect(crash).toEqual(takeover);
        expect(evaluateFailure(topology, { serversStopped: ["zbx-1"] })).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: { min: t.gracefulSwitchSeconds, max: t.gracefulSwitchSeconds + t.heartbeatSeconds },
        });
    });

    test("a known active node narrows the worst case to what happens to it", () => {
        const topology = nativeHa(["a", "b"]);
        expect(
            evaluateFailure(topology, { serversDown: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-2"]),
        ).toMatchObject({ recovery: "none", recoverySeconds: point(0) });
        expect(
            evaluateFailure(topology, { serversDown: ["zbx-1"] }, DEFAULT_TIMINGS, undefined, ["zbx-1"]),
        ).toMatchObject({ recovery: "automatic", recoverySeconds: crash });
    });

    test("a dead load balancer: its site's servers lose the DB, users use the other site's", () => {
        const outcome = evaluateFailure(nativeHa(["a", "b"]), { loadBalancersDown: ["lb-a"] });
        expect(outcome).toMatchObject({
            monitoring: "yes",
            ui: true,
            recovery: "automatic",
            recoverySeconds: takeover,
        });
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
        expect(outcome.recoverySeconds).toEqual(point(t.dbSwitchoverSeconds + t.dbReconnectSeconds));
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
                            // As the stack builds it: etcd's leader kept on the witness.
                            quorumLeader: at("wit", "c"),
                        },
                    },
                ],
            };
        };
        // Site b holds the replica; with zbx-2 active there, its takeover can only follow the release.
        const siteB = { sitesDark: ["b"] };
        // The leader drops the lost replica at its next loop once the walsender has given up on the
        // silent link, or once the replica's member key has expired: here the walsender, sooner.
        const release = {
            min: t.replicationTimeoutSeconds,
            max: t.replicationTimeoutSeconds + t.patroniLoopWaitSeconds,
        };
        expect(release.max).toBeLessThan(t.patroniTtlSeconds + t.patroniLoopWaitSeconds);
        expect(evaluateFailure(withDb("automatic", "async"), siteB, t, undefined, ["zbx-2"]).recoverySeconds).toEqual(
            takeover,
        );
        // The takeover needs the commits released: a standby's next poll after that, never sooner than the delay's.
        expect(evaluateFailure(withDb("automatic", "sync"), siteB, t, undefined, ["zbx-2"]).recoverySeconds).toEqual({
            min: Math.max(release.min + t.serverStartSeconds, takeover.min),
            max: Math.max(release.max + t.heartbeatSeconds + t.serverStartSeconds, takeover.max),
        });
        // An active node elsewhere keeps its role, but its commits wait too.
        expect(evaluateFailure(withDb("automatic", "sync"), siteB, t, undefined, ["zbx-1"])).toMatchObject({
            monitoring: "yes",
            recovery: "automatic",
            recoverySeconds: release,
        });
        expect(evaluateFailure(withDb("automatic", "async"), siteB, t, undefined, ["zbx-1"])).toMatchObject({
            recovery: "none",
            recoverySeconds: point(0),
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
            recoverySeconds: point(t.managedFailoverSeconds + t.dbReconnectSeconds),
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
            recoverySeconds: point(t.clusterManagerFailoverSeconds),
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
