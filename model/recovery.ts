/**
 * How long each recovery mechanism takes, as the bounds its own workings allow: the phase of a
 * periodic check (Zabbix's HA poll, Patroni's loop) against the moment of the fault, and which of
 * two paths wins where there are two (a killed server's own restart, or a standby's takeover).
 * Every bound is a formula over the timings; a mechanism the model knows by one figure only (a
 * cluster manager, a provider's failover) is a range of that one point.
 */
import { TAKEOVER_POLL_SECONDS } from "../components/zabbix/takeoverWatch";
import type { Timings } from "./evaluate";

/** A figure the model gives as the soonest and the latest the mechanisms allow. */
export interface Bounds {
    readonly min: number;
    readonly max: number;
}

/** Seconds until something is back. */
export type SecondsRange = Bounds;

/** A range of the given bounds; one number is a range of one point. */
export const seconds = (min: number, max: number = min): SecondsRange => ({ min, max });

export const NO_WAIT: SecondsRange = seconds(0);

/** One mechanism after the other (a standby can write only once the DB it reaches is writable). */
export const followedBy = (a: SecondsRange, b: SecondsRange): SecondsRange => seconds(a.min + b.min, a.max + b.max);

/** Both must have acted: done when the slower one is. */
export const bothDone = (a: SecondsRange, b: SecondsRange): SecondsRange =>
    seconds(Math.max(a.min, b.min), Math.max(a.max, b.max));

/** Two paths to the same end: done when the faster one is. */
export const eitherDone = (a: SecondsRange, b: SecondsRange): SecondsRange =>
    seconds(Math.min(a.min, b.min), Math.min(a.max, b.max));

/** Whether a measured figure is inside the range. */
export const within = (measured: number, range: SecondsRange): boolean =>
    measured >= range.min && measured <= range.max;

/** "11 to 21 s", or "15 s" for a range of one point. */
export function formatSeconds(range: SecondsRange): string {
    const round = (v: number) => String(Math.round(v * 10) / 10);
    return range.min === range.max ? `${round(range.min)} s` : `${round(range.min)} to ${round(range.max)} s`;
}

/**
 * A standby taking the active role from a node that stopped heart-beating (crashed, cut off, its DB
 * path lost). A standby's HA manager polls every heartbeat and counts the polls that find the active
 * node's `lastaccess` unchanged; it takes over on the poll that makes them more than
 * delay / heartbeat (whole polls). The node's last heartbeat came up to one heartbeat before the
 * fault, and the poll that read it up to one heartbeat after that: the takeover comes between
 * floor(delay / heartbeat) and floor(delay / heartbeat) + 2 heartbeats after the fault, then the
 * node starts its active processes.
 */
export function standbyPollTakeover(t: Timings, failoverDelaySeconds: number): SecondsRange {
    const beat = t.heartbeatSeconds;
    const polled = beat > 0 ? Math.floor(failoverDelaySeconds / beat) * beat : failoverDelaySeconds;
    return seconds(polled + t.serverStartSeconds, polled + 2 * beat + t.serverStartSeconds);
}

/**
 * The takeover watcher beside each node (components/zabbix/takeoverWatch.ts) marks the active row
 * unavailable once its last heartbeat is older than the delay (Zabbix's own test), which comes
 * between delay - heartbeat and delay after the fault, within its half-second poll; a standby's next
 * poll, up to a heartbeat later, finds no active node and takes the role.
 */
export function watcherTakeover(t: Timings, failoverDelaySeconds: number): SecondsRange {
    const marked = seconds(
        Math.max(0, failoverDelaySeconds - t.heartbeatSeconds),
        failoverDelaySeconds + TAKEOVER_POLL_SECONDS,
    );
    return followedBy(marked, seconds(t.serverStartSeconds, t.heartbeatSeconds + t.serverStartSeconds));
}

/** A standby taking the role from a node that stopped heart-beating: the watcher's mark or the standby's own count, whichever is first. */
export function heartbeatTakeover(t: Timings, failoverDelaySeconds: number): SecondsRange {
    return eitherDone(watcherTakeover(t, failoverDelaySeconds), standbyPollTakeover(t, failoverDelaySeconds));
}

/**
 * A takeover that needs the database back first (the DB failed over, or its commits stalled): the
 * active row must be stale by the delay (counted from the fault, as above), and the database must
 * answer again; then the watcher marks the row at once and a standby's next poll, up to a heartbeat
 * later, takes the role. Zabbix's standby alone would count its polls only from the database's
 * return (the lab measured 16 s after Patroni's promotion with 6.0, before the watcher did this).
 */
export function takeoverAfterDb(t: Timings, failoverDelaySeconds: number, db: SecondsRange): SecondsRange {
    const afterReturn = followedBy(db, seconds(t.serverStartSeconds, t.heartbeatSeconds + t.serverStartSeconds));
    return bothDone(afterReturn, heartbeatTakeover(t, failoverDelaySeconds));
}

/**
 * A killed server's own restart (the unit's Restart=always, after its restart delay). Zabbix
 * refuses a node whose own row still looks alive ("found active duplicate node": its last heartbeat
 * younger than the delay, which happens up to one heartbeat sooner than the delay after the kill),
 * so the first accepted restart comes at the restart delay or the delay less a heartbeat, whichever
 * is later; at the latest one restart delay after the delay. It then takes the role itself, or
 * stands by and frees it, and a standby takes it at its next poll.
 */
export function ownRestart(t: Timings, failoverDelaySeconds: number): SecondsRange {
    const earliest = Math.max(t.serverRestartSeconds, failoverDelaySeconds - t.heartbeatSeconds);
    const latest = failoverDelaySeconds + t.serverRestartSeconds + t.heartbeatSeconds;
    return seconds(earliest + t.serverStartSeconds, latest + t.serverStartSeconds);
}

/** A server process killed on a host that stays up: its own restart or a standby's takeover, whichever is first. */
export function crashedServerBack(t: Timings, failoverDelaySeconds: number): SecondsRange {
    return eitherDone(ownRestart(t, failoverDelaySeconds), heartbeatTakeover(t, failoverDelaySeconds));
}

/**
 * A graceful stop of the active node: at the soonest its shutdown and the takeover watcher's prompt
 * restart of a standby (`gracefulSwitchSeconds`); at the latest the standby's own poll, one
 * heartbeat later, which takes the role whether the watcher acted or not.
 */
export function gracefulSwitch(t: Timings): SecondsRange {
    return seconds(t.gracefulSwitchSeconds, t.gracefulSwitchSeconds + t.heartbeatSeconds);
}

/**
 * Commits stalled on a synchronous replica that nothing reaches any more, released by Patroni's
 * leader. It drops the replica from the synchronous set at its next loop once the replica is gone
 * from pg_stat_replication, which happens when the walsender gives up on the silent link
 * (wal_sender_timeout after the replica's last reply, which under Zabbix's steady WAL came moments
 * before the fault), or once the replica's member key expires, whichever comes first.
 */
export function syncReplicaRelease(t: Timings, etcdLeader: EtcdLeader = "kept"): SecondsRange {
    const walsenderGone = seconds(t.replicationTimeoutSeconds, t.replicationTimeoutSeconds + t.patroniLoopWaitSeconds);
    return eitherDone(patroniKeyExpiry(t, etcdLeader), walsenderGone);
}

/**
 * Whether etcd must elect a new leader before a Patroni key can expire: its leader alone counts
 * lease TTLs down. "kept": the leader is kept on a member the fault leaves in the majority (the
 * witness's keeper), so no election; "lost": the fault cut the leader off; "unknown": nothing keeps
 * it anywhere, so it may be in the lost site or not.
 */
export type EtcdLeader = "kept" | "lost" | "unknown";

/**
 * A Patroni key that is no longer renewed expiring, and a member acting on it: the leader's key
 * for a failover (a replica promotes itself), a lost sync replica's member key for the release of
 * stalled commits (the leader drops it). Each member renews its key once a loop, so the last
 * renewal came up to one loop_wait before the fault and the key expires between ttl - loop_wait and
 * ttl after it; the member that acts does so within a loop of the expiry at the latest.
 *
 * When the fault also took etcd's leader, the members elect another between one and two election
 * timeouts after it, and the new leader restarts every lease at its full ttl plus an election
 * timeout (etcd's lessor Promote): the key expires between ttl + 2 and ttl + 3 election timeouts
 * after the fault, whenever it was last renewed.
 */
export function patroniKeyExpiry(t: Timings, etcdLeader: EtcdLeader = "kept"): SecondsRange {
    const kept = seconds(
        Math.max(0, t.patroniTtlSeconds - t.patroniLoopWaitSeconds),
        t.patroniTtlSeconds + t.patroniLoopWaitSeconds,
    );
    const election = t.etcdElectionSeconds;
    const lost = seconds(
        t.patroniTtlSeconds + 2 * election,
        t.patroniTtlSeconds + 3 * election + t.patroniLoopWaitSeconds,
    );
    return etcdLeader === "kept" ? kept : etcdLeader === "lost" ? lost : seconds(kept.min, lost.max);
}
