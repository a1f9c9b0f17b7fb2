/**
 * The model's recovery times are ranges from the mechanisms: each bound follows from the timing it
 * comes from (move the timing and that bound moves), the defaults restate what the components
 * render, and the failures the lab drills get the range of the mechanism that recovers them.
 */
import { renderPatroniConfig } from "../../components/postgres/patroniYml";
import { renderServerUnitDropIn } from "../../components/zabbix/serverUnitDropIn";
import {
    DEFAULT_TIMINGS,
    Outcome,
    Timings,
    compareOutcomes,
    crashedServerBack,
    evaluateFailure,
    formatSeconds,
    gracefulSwitch,
    heartbeatTakeover,
    ownRestart,
    patroniKeyExpiry,
    within,
} from "../../model";
import { at, nativeHa, withInstance } from "./analysis-topologies";

const t = DEFAULT_TIMINGS;
const tuned = (over: Partial<Timings>): Timings => ({ ...t, ...over });

describe("the defaults restate what the components render", () => {
    test("the restart delay is the server unit's RestartSec", () => {
        expect(renderServerUnitDropIn()).toContain(`RestartSec=${t.serverRestartSeconds}\n`);
    });

    test("ttl and loop_wait are patroni.yml's", () => {
        const yml = renderPatroniConfig({
            scope: "zabbix",
            name: "tyo-db1",
            address: "198.18.1.10",
            port: 5432,
            etcdHosts: ["198.18.1.10"],
            dataDir: "/var/lib/patroni",
            binDir: "/usr/lib/postgresql/17/bin",
            pgpass: "/var/lib/postgresql/.pgpass.patroni",
            synchronous: false,
            maxConnections: 100,
            hba: [],
            rewindSources: [],
            superuserPasswordVariable: "SUPERUSER_PASSWORD",
            replicationPasswordVariable: "REPLICATION_PASSWORD",
        });
        expect(yml).toContain(`    ttl: ${t.patroniTtlSeconds}\n`);
        expect(yml).toContain(`    loop_wait: ${t.patroniLoopWaitSeconds}\n`);
    });
});

describe("a standby's takeover from a node that stopped heart-beating", () => {
    test("between the delay (whole heartbeats) and two heartbeats more, then the node's start", () => {
        expect(heartbeatTakeover(t, 10)).toEqual({
            min: 10 + t.serverStartSeconds,
            max: 10 + 2 * t.heartbeatSeconds + t.serverStartSeconds,
        });
    });

    test("a longer failover delay moves both bounds by as much", () => {
        const base = heartbeatTakeover(t, 10);
        const longer = heartbeatTakeover(t, 30);
        expect(longer.min - base.min).toBe(20);
        expect(longer.max - base.max).toBe(20);
    });

    test("the polls count whole heartbeats: a delay between two multiples takes over as the lower one", () => {
        expect(heartbeatTakeover(t, 12)).toEqual(heartbeatTakeover(t, 10));
        expect(heartbeatTakeover(t, 15).min).toBe(15 + t.serverStartSeconds);
    });

    test("a longer heartbeat widens the range; the node's start shifts both bounds", () => {
        const slow = heartbeatTakeover(tuned({ heartbeatSeconds: 10 }), 30);
        expect(slow).toEqual({ min: 30 + t.serverStartSeconds, max: 50 + t.serverStartSeconds });
        const slowStart = heartbeatTakeover(tuned({ serverStartSeconds: t.serverStartSeconds + 2 }), 10);
        expect(slowStart.min - heartbeatTakeover(t, 10).min).toBe(2);
        expect(slowStart.max - heartbeatTakeover(t, 10).max).toBe(2);
    });

    test("no heartbeat at all (a degenerate setting) is the delay itself, not a division by zero", () => {
        expect(heartbeatTakeover(tuned({ heartbeatSeconds: 0 }), 10)).toEqual({
            min: 10 + t.serverStartSeconds,
            max: 10 + t.serverStartSeconds,
        });
    });
});

describe("a killed server on a live host: its own restart or the takeover, whichever comes first", () => {
    test("its restart is accepted at the restart delay, or a heartbeat short of the failover delay, whichever is later", () => {
        // The lab's 10 s delay: both are 5 s, so the soonest recovery is one restart delay and a start.
        expect(ownRestart(t, 10).min).toBe(t.serverRestartSeconds + t.serverStartSeconds);
        // A longer restart delay moves the soonest bound with it.
        expect(ownRestart(tuned({ serverRestartSeconds: 8 }), 10).min).toBe(8 + t.serverStartSeconds);
        // A longer failover delay keeps refusing the restart until the node's heartbeat is nearly that old.
        expect(ownRestart(t, 30).min).toBe(30 - t.heartbeatSeconds + t.serverStartSeconds);
        expect(ownRestart(t, 30).max).toBe(30 + t.serverRestartSeconds + t.heartbeatSeconds + t.serverStartSeconds);
    });

    test("the soonest is the restart's, the latest the earlier of the two paths' latest", () => {
        const crash = crashedServerBack(t, 10);
        expect(crash.min).toBe(ownRestart(t, 10).min);
        expect(crash.max).toBe(Math.min(ownRestart(t, 10).max, heartbeatTakeover(t, 10).max));
        // A restart delay longer than the takeover's latest leaves the takeover to bound it.
        const slowRestart = crashedServerBack(tuned({ serverRestartSeconds: 60 }), 10);
        expect(slowRestart).toEqual(heartbeatTakeover(t, 10));
    });

    test("the issue's measured runs on the 6.0 lab (delay 10 s) all fall inside the range", () => {
        for (const seconds of [6.2, 6.4, 11.8, 14.5, 16.1]) {
            expect(within(seconds, crashedServerBack(t, 10))).toBe(true);
        }
    });
});

describe("a graceful stop, and Patroni's keys", () => {
    test("a graceful stop: the watcher's prompt takeover at the soonest, the standby's own poll a heartbeat later at the latest", () => {
        expect(gracefulSwitch(t)).toEqual({
            min: t.gracefulSwitchSeconds,
            max: t.gracefulSwitchSeconds + t.heartbeatSeconds,
        });
        expect(gracefulSwitch(tuned({ heartbeatSeconds: 8 })).max).toBe(t.gracefulSwitchSeconds + 8);
    });

    test("a key expires between ttl less a loop and ttl plus a loop: ttl moves both, loop_wait widens both sides", () => {
        expect(patroniKeyExpiry(t)).toEqual({
            min: t.patroniTtlSeconds - t.patroniLoopWaitSeconds,
            max: t.patroniTtlSeconds + t.patroniLoopWaitSeconds,
        });
        const longerTtl = patroniKeyExpiry(tuned({ patroniTtlSeconds: t.patroniTtlSeconds + 10 }));
        expect([longerTtl.min - patroniKeyExpiry(t).min, longerTtl.max - patroniKeyExpiry(t).max]).toEqual([10, 10]);
        const longerLoop = patroniKeyExpiry(tuned({ patroniLoopWaitSeconds: t.patroniLoopWaitSeconds + 2 }));
        expect(longerLoop.min).toBe(patroniKeyExpiry(t).min - 2);
        expect(longerLoop.max).toBe(patroniKeyExpiry(t).max + 2);
        // A loop longer than the ttl cannot make the key expire before the fault.
        expect(patroniKeyExpiry(tuned({ patroniLoopWaitSeconds: t.patroniTtlSeconds + 5 })).min).toBe(0);
    });
});

describe("evaluated failures carry their mechanism's range", () => {
    /** Native HA over a Patroni cluster with etcd in three sites. */
    const patroni = withInstance(nativeHa(["a", "b"]), i => ({
        database: { ...i.database, failover: "automatic", quorum: [at("db-a", "a"), at("db-b", "b"), at("wit", "c")] },
    }));

    test("the failover delay moves a site loss's range, and the restart delay only a crash's soonest bound", () => {
        const siteLoss = (delay: number, timings = t) =>
            evaluateFailure({ ...nativeHa(["a", "b"]), failoverDelaySeconds: delay }, { sitesDark: ["b"] }, timings)
                .recoverySeconds!;
        expect(siteLoss(20).min - siteLoss(10).min).toBe(10);
        expect(siteLoss(20).max - siteLoss(10).max).toBe(10);
        expect(siteLoss(10, tuned({ serverRestartSeconds: 1 }))).toEqual(siteLoss(10));
        const crash = (timings: Timings) =>
            evaluateFailure(nativeHa(["a", "b"]), { serversDown: ["zbx-1"] }, timings, undefined, ["zbx-1"])
                .recoverySeconds!;
        expect(crash(tuned({ serverRestartSeconds: 7 })).min - crash(t).min).toBe(2);
        expect(crash(tuned({ serverRestartSeconds: 7 })).max).toBe(crash(t).max);
    });

    test("a Patroni failover is the key's expiry and the reconnect; loop_wait widens it", () => {
        const lost = (timings: Timings) => evaluateFailure(patroni, { dbDown: ["db-a"] }, timings).recoverySeconds!;
        expect(lost(t)).toEqual({
            min: t.patroniTtlSeconds - t.patroniLoopWaitSeconds + t.dbReconnectSeconds,
            max: t.patroniTtlSeconds + t.patroniLoopWaitSeconds + t.dbReconnectSeconds,
        });
        const wider = lost(tuned({ patroniLoopWaitSeconds: t.patroniLoopWaitSeconds + 3 }));
        expect([wider.min, wider.max]).toEqual([lost(t).min - 3, lost(t).max + 3]);
    });

    test("a site holding the primary and the active node: the takeover follows the failover, bound by bound", () => {
        // db-a and zbx-1 share site a.
        const outcome = evaluateFailure(patroni, { sitesDark: ["a"] }, t, undefined, ["zbx-1"]);
        const db = patroniKeyExpiry(t);
        const server = heartbeatTakeover(t, patroni.failoverDelaySeconds);
        expect(outcome.recoverySeconds).toEqual({
            min: db.min + t.dbReconnectSeconds + server.min,
            max: db.max + t.dbReconnectSeconds + server.max,
        });
    });

    test("the worst case is the one with the latest bound, then the latest soonest", () => {
        const outcome = (min: number, max: number): Outcome => ({
            monitoring: "yes",
            ui: true,
            duplicateAlerts: false,
            recovery: "automatic",
            recoverySeconds: { min, max },
            dataAtRisk: "none",
            risks: [],
            operatorCauses: [],
        });
        expect(compareOutcomes(outcome(6, 21), outcome(11, 21))).toBeLessThan(0);
        expect(compareOutcomes(outcome(11, 21), outcome(1, 30))).toBeLessThan(0);
        expect(compareOutcomes(outcome(6, 21), outcome(6, 21))).toBe(0);
    });

    test("a range reads as its two bounds, or one figure when they agree", () => {
        expect(formatSeconds({ min: 6, max: 21 })).toBe("6 to 21 s");
        expect(formatSeconds({ min: 2.5, max: 7.5 })).toBe("2.5 to 7.5 s");
        expect(formatSeconds({ min: 123, max: 123 })).toBe("123 s");
    });
});
