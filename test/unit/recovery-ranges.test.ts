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
    syncReplicaRelease,
    standbyPollTakeover,
    takeoverAfterDb,
    watcherTakeover,
    within,
} from "../../model";
import { TAKEOVER_POLL_SECONDS } from "../../components/zabbix/takeoverWatch";
import { stackPatroniInput } from "../support/patroni";
import { at, nativeHa, withInstance } from "./analysis-topologies";

const t = DEFAULT_TIMINGS;
const tuned = (over: Partial<Timings>): Timings => ({ ...t, ...over });

describe("the defaults restate what the components render", () => {
    test("the restart delay is the server unit's RestartSec", () => {
        expect(renderServerUnitDropIn()).toContain(`RestartSec=${t.serverRestartSeconds}\n`);
    });

    test("ttl and loop_wait are patroni.yml's", () => {
        const yml = renderPatroniConfig(stackPatroniInput());
        expect(yml).toContain(`    ttl: ${t.patroniTtlSeconds}\n`);
        expect(yml).toContain(`    loop_wait: ${t.patroniLoopWaitSeconds}\n`);
    });
});

describe("Zabbix's standby counting its own polls (no watcher)", () => {
    test("between the delay (whole heartbeats) and two heartbeats more, then the node's start", () => {
        expect(standbyPollTakeover(t, 10)).toEqual({
            min: 10 + t.serverStartSeconds,
            max: 10 + 2 * t.heartbeatSeconds + t.serverStartSeconds,
        });
    });

    test("the polls count whole heartbeats: a delay between two multiples takes over as the lower one", () => {
        expect(standbyPollTakeover(t, 12)).toEqual(standbyPollTakeover(t, 10));
        expect(standbyPollTakeover(t, 15).min).toBe(15 + t.serverStartSeconds);
    });

    test("a longer heartbeat widens the range; no heartbeat at all is the delay itself, not a division by zero", () => {
        const slow = standbyPollTakeover(tuned({ heartbeatSeconds: 10 }), 30);
        expect(slow).toEqual({ min: 30 + t.serverStartSeconds, max: 50 + t.serverStartSeconds });
        expect(standbyPollTakeover(tuned({ heartbeatSeconds: 0 }), 10)).toEqual({
            min: 10 + t.serverStartSeconds,
            max: 10 + t.serverStartSeconds,
        });
    });
});

describe("a standby's takeover from a node that stopped heart-beating, with the takeover watcher", () => {
    test("the watcher marks the row once it is older than the delay (a heartbeat before it at the soonest), a standby's next poll takes over", () => {
        expect(watcherTakeover(t, 10)).toEqual({
            min: 10 - t.heartbeatSeconds + t.serverStartSeconds,
            max: 10 + TAKEOVER_POLL_SECONDS + t.heartbeatSeconds + t.serverStartSeconds,
        });
    });

    test("the sooner of the watcher's and the standby's own count, which the watcher always is", () => {
        for (const delay of [10, 12, 30, 60]) {
            expect(heartbeatTakeover(t, delay)).toEqual(watcherTakeover(t, delay));
            expect(heartbeatTakeover(t, delay).max).toBeLessThanOrEqual(standbyPollTakeover(t, delay).max);
        }
    });

    test("a longer failover delay moves both bounds by as much; the node's start shifts both", () => {
        const base = heartbeatTakeover(t, 10);
        const longer = heartbeatTakeover(t, 30);
        expect([longer.min - base.min, longer.max - base.max]).toEqual([20, 20]);
        const slowStart = heartbeatTakeover(tuned({ serverStartSeconds: t.serverStartSeconds + 2 }), 10);
        expect([slowStart.min - base.min, slowStart.max - base.max]).toEqual([2, 2]);
    });

    test("after the database's return: at once when the row is stale by then, never sooner than the delay", () => {
        // A DB failover longer than the delay: a standby's next poll after the return.
        const longOutage = takeoverAfterDb(t, 10, { min: 20, max: 30 });
        expect(longOutage).toEqual({
            min: 20 + t.serverStartSeconds,
            max: 30 + t.heartbeatSeconds + t.serverStartSeconds,
        });
        // A short one: the delay still governs.
        expect(takeoverAfterDb(t, 30, { min: 2, max: 4 })).toEqual(heartbeatTakeover(t, 30));
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

    test("each bound is the earlier of the two paths'", () => {
        const crash = crashedServerBack(t, 10);
        expect(crash.min).toBe(Math.min(ownRestart(t, 10).min, heartbeatTakeover(t, 10).min));
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

    test("stalled commits are released by the walsender's timeout or the replica's key expiry, whichever is first", () => {
        const byWalsender = {
            min: t.replicationTimeoutSeconds,
            max: t.replicationTimeoutSeconds + t.patroniLoopWaitSeconds,
        };
        expect(syncReplicaRelease(tuned({ replicationTimeoutSeconds: 5 }))).toEqual({
            min: 5,
            max: 5 + t.patroniLoopWaitSeconds,
        });
        expect(syncReplicaRelease(t)).toEqual(byWalsender);
        // PostgreSQL's default minute: the key expiry comes first.
        expect(syncReplicaRelease(tuned({ replicationTimeoutSeconds: 60 }))).toEqual(patroniKeyExpiry(t));
    });

    test("a fault that takes etcd's leader adds its election, and the new leader's fresh ttl, whenever the key was renewed", () => {
        const e = t.etcdElectionSeconds;
        expect(patroniKeyExpiry(t, "lost")).toEqual({
            min: t.patroniTtlSeconds + 2 * e,
            max: t.patroniTtlSeconds + 3 * e + t.patroniLoopWaitSeconds,
        });
        // A longer election timeout moves the soonest by two of it and the latest by three.
        const slower = patroniKeyExpiry(tuned({ etcdElectionSeconds: e + 1 }), "lost");
        expect([slower.min, slower.max]).toEqual([
            patroniKeyExpiry(t, "lost").min + 2,
            patroniKeyExpiry(t, "lost").max + 3,
        ]);
        // With no leader kept anywhere, either can happen.
        expect(patroniKeyExpiry(t, "unknown")).toEqual({
            min: patroniKeyExpiry(t).min,
            max: patroniKeyExpiry(t, "lost").max,
        });
    });
});

describe("evaluated failures carry their mechanism's range", () => {
    /** Native HA over a Patroni cluster with etcd in three sites. */
    const patroni = withInstance(nativeHa(["a", "b"]), i => ({
        database: {
            ...i.database,
            failover: "automatic",
            quorum: [at("db-a", "a"), at("db-b", "b"), at("wit", "c")],
            quorumLeader: at("wit", "c"),
        },
    }));
    /** The same cluster with etcd's leader wherever its last election put it. */
    const patroniLeaderAnywhere = withInstance(patroni, i => ({
        database: { ...i.database, quorumLeader: undefined },
    }));

    test("the failover delay moves a site loss's range; the restart delay moves no crash's", () => {
        const siteLoss = (delay: number, timings = t) =>
            evaluateFailure({ ...nativeHa(["a", "b"]), failoverDelaySeconds: delay }, { sitesDark: ["b"] }, timings)
                .recoverySeconds!;
        expect(siteLoss(20).min - siteLoss(10).min).toBe(10);
        expect(siteLoss(20).max - siteLoss(10).max).toBe(10);
        expect(siteLoss(10, tuned({ serverRestartSeconds: 1 }))).toEqual(siteLoss(10));
        const crash = (timings: Timings) =>
            evaluateFailure(nativeHa(["a", "b"]), { serversDown: ["zbx-1"] }, timings, undefined, ["zbx-1"])
                .recoverySeconds!;
        // Zabbix accepts the restart no sooner than the watcher marks the row: the restart delay moves nothing.
        expect(crash(tuned({ serverRestartSeconds: 7 }))).toEqual(crash(t));
        expect(crash(tuned({ serverRestartSeconds: 1 }))).toEqual(crash(t));
        expect(crash(t)).toEqual(heartbeatTakeover(t, 10));
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

    test("etcd's leader kept on the witness: losing the primary's site elects none; left anywhere, it may", () => {
        // zbx-2 active in site b: the Zabbix side waits for nothing but the DB's return.
        const siteA = (topology: typeof patroni) =>
            evaluateFailure(topology, { sitesDark: ["a"] }, t, undefined, ["zbx-2"]).recoverySeconds!;
        const plusReconnect = (r: { min: number; max: number }) => ({
            min: r.min + t.dbReconnectSeconds,
            max: r.max + t.dbReconnectSeconds,
        });
        expect(siteA(patroni)).toEqual(plusReconnect(patroniKeyExpiry(t, "kept")));
        expect(siteA(patroniLeaderAnywhere)).toEqual(plusReconnect(patroniKeyExpiry(t, "unknown")));
        // Kept in the lost site (not what the stack builds): the election always comes first.
        const leaderInA = withInstance(patroni, i => ({ database: { ...i.database, quorumLeader: at("db-a", "a") } }));
        expect(siteA(leaderInA)).toEqual(plusReconnect(patroniKeyExpiry(t, "lost")));
    });

    test("a site holding the primary and the active node: the takeover follows the failover's return", () => {
        // db-a and zbx-1 share site a.
        const outcome = evaluateFailure(patroni, { sitesDark: ["a"] }, t, undefined, ["zbx-1"]);
        const db = patroniKeyExpiry(t);
        expect(outcome.recoverySeconds).toEqual(
            takeoverAfterDb(t, patroni.failoverDelaySeconds, {
                min: db.min + t.dbReconnectSeconds,
                max: db.max + t.dbReconnectSeconds,
            }),
        );
        // Longer than the failover alone, by at most a poll and the node's start.
        expect(outcome.recoverySeconds!.max).toBeLessThanOrEqual(
            db.max + t.dbReconnectSeconds + t.heartbeatSeconds + t.serverStartSeconds,
        );
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
