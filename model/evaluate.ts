/**
 * What one concrete failure does to a topology, after every automatic mechanism has acted:
 * which DB is writable and reachable from where, which server node is active, whether users
 * reach a UI, and how long the interruption lasts. Generic over the topology: nothing here
 * knows pattern names.
 */
import { ETCD_ELECTION_TIMEOUT_MS } from "../components/postgres/etcdEnvironment";
import { PATRONI_TIMING } from "../components/postgres/patroniYml";
import { REPLICATION_TIMEOUT_SECONDS } from "../components/postgres/postgresConf";
import { SERVER_RESTART_SECONDS } from "../components/zabbix/serverUnitDropIn";
import { dataPathAfter } from "./dataPath";
import { OperatorCause, plannedCause, serverCauses, uniqueCauses } from "./causes";
import {
    NO_WAIT,
    SecondsRange,
    bothDone,
    crashedServerBack,
    takeoverAfterDb,
    gracefulSwitch,
    heartbeatTakeover,
} from "./recovery";
import { InstanceTopology, Placement, Topology } from "./topology";
import { World, databaseAfter, reachesDb } from "./world";

/**
 * Seconds the mechanisms take; the README documents the defaults and config overrides them. The
 * recovery times are ranges built from these (recovery.ts); a default that restates a setting the
 * components render is read from that setting.
 */
export interface Timings {
    /**
     * Zabbix HA heartbeat: each node's HA manager polls ha_node (and renews its own row) once per
     * heartbeat (5 s, compiled in). A standby takes over once its polls have found the active
     * node's heartbeat unchanged for longer than the failover delay.
     */
    readonly heartbeatSeconds: number;
    /** systemd's delay before it starts a killed Zabbix server again (the server unit's drop-in, RestartSec). */
    readonly serverRestartSeconds: number;
    /** A Zabbix server node taking the active role, from its start (or a standby's switch) to values stored again. */
    readonly serverStartSeconds: number;
    /** A graceful stop of the active node at its quickest: its shutdown, then the takeover watcher's restart of a standby, which starts active. */
    readonly gracefulSwitchSeconds: number;
    /** Pacemaker: fence, promote DRBD, mount, start DB, server and web. */
    readonly clusterManagerFailoverSeconds: number;
    /** A cloud provider's managed database failover. */
    readonly managedFailoverSeconds: number;
    /** A planned DB switchover (`db.primarySite` and `pulumi up`): stop, replay, promote. */
    readonly dbSwitchoverSeconds: number;
    /** Patroni's ttl (patroni.yml): a leader or member key not renewed for this long expires. */
    readonly patroniTtlSeconds: number;
    /** Patroni's loop_wait (patroni.yml): each member renews its key, and acts, once a loop. */
    readonly patroniLoopWaitSeconds: number;
    /**
     * etcd's election timeout (/etc/default/etcd): members elect a new leader between one and two
     * of them after losing theirs, and the new leader starts every lease afresh, extended by one.
     */
    readonly etcdElectionSeconds: number;
    /** wal_sender_timeout (postgresConf.ts): a walsender to a replica that went silent ends after this. */
    readonly replicationTimeoutSeconds: number;
    /** The load balancer's check noticing a new primary (inter 1 s, fall 2) and Zabbix reconnecting. */
    readonly dbReconnectSeconds: number;
}

export const DEFAULT_TIMINGS: Timings = {
    heartbeatSeconds: 5,
    serverRestartSeconds: SERVER_RESTART_SECONDS,
    // Measured in the 6.0 lab: a killed node's accepted restart had values stored 6.2 and 6.4 s after the kill (restart delay 5 s).
    serverStartSeconds: 1,
    // Measured in the lab drills with the takeover watcher: 2.9 to 5.2 s until the new active node stores
    // values on 6.0, 1.7 to 4.0 s on 7.0; 7.4 to 7.9 s without it (the standby's own poll, a heartbeat later).
    gracefulSwitchSeconds: 1.5,
    clusterManagerFailoverSeconds: 90,
    managedFailoverSeconds: 120,
    dbSwitchoverSeconds: 15,
    // Measured: 16 to 17 s from the leader's death to a promoted replica (real daemons); 21 s to values stored (lab).
    patroniTtlSeconds: PATRONI_TIMING.ttl,
    patroniLoopWaitSeconds: PATRONI_TIMING.loopWait,
    etcdElectionSeconds: ETCD_ELECTION_TIMEOUT_MS / 1000,
    replicationTimeoutSeconds: REPLICATION_TIMEOUT_SECONDS,
    dbReconnectSeconds: 3,
};

/** A failure (or planned work) to evaluate. */
export interface Failure {
    /** Hosts that are down (crashed or powered off). */
    readonly hostsDown?: readonly string[];
    /** Sites whose network is down: their hosts reach nothing and nothing reaches them. */
    readonly sitesDark?: readonly string[];
    /** Sites whose service uplink is down: no users or monitored devices, inter-site link still up. */
    readonly uplinksDown?: readonly string[];
    /** The link between sites is cut; each site still reaches its own users. */
    readonly interSiteCut?: boolean;
    /** DB primaries whose PostgreSQL process died (the host stays up). */
    readonly dbDown?: readonly string[];
    /** Operators moved what they could off the affected site before it went (planned maintenance). */
    readonly planned?: boolean;
    /** Hosts whose Zabbix server died with all its processes (the host stays up). */
    readonly serversDown?: readonly string[];
    /** Hosts whose Zabbix server was stopped gracefully (it hands over at once). */
    readonly serversStopped?: readonly string[];
    /** Hosts whose load balancer process died. */
    readonly loadBalancersDown?: readonly string[];
    /** Hosts whose Zabbix proxy process died (the host stays up). */
    readonly proxiesDown?: readonly string[];
}

export type Monitoring = "yes" | "degraded" | "no";
export type Recovery = "automatic" | "manual" | "none";

/** The outcome of one failure for one choice of initially active nodes. */
export interface Outcome {
    readonly monitoring: Monitoring;
    readonly ui: boolean;
    readonly duplicateAlerts: boolean;
    readonly recovery: Recovery;
    /** Seconds until monitoring is back (automatic or planned), at the soonest and the latest; null when it waits for an operator or a repair. */
    readonly recoverySeconds: SecondsRange | null;
    /** What may be lost, joined into one sentence ("none" when nothing is). */
    readonly dataAtRisk: string;
    /** The same, one item each: what the report's footnotes cite. */
    readonly risks: readonly string[];
    /** When recovery is manual: what makes an operator necessary and what would change it (empty otherwise). */
    readonly operatorCauses: readonly OperatorCause[];
    /**
     * With proxies: whether every value an agent hands to them is promised to arrive, late maybe (a
     * repair within the buffers' bound); what the drills hold the agents' counts to. Absent without proxies.
     */
    readonly agentValuesKept?: boolean;
}

interface InstanceState {
    /** The node active once the mechanisms have acted, if any. */
    readonly server?: Placement;
    readonly monitoring: boolean;
    readonly ui: boolean;
    /** Whether monitoring stopped at all (even briefly). */
    readonly interrupted: boolean;
    readonly seconds: SecondsRange | null;
    /** Whether an operator acts (a planned switchover, or a repair). */
    readonly operator: boolean;
    readonly risks: readonly string[];
    /** Why the operator acts, when one does. */
    readonly causes: readonly OperatorCause[];
    /**
     * Whether the node active before the failure may end holding values it acknowledged and had not
     * written: it died, or lost its database (and so switches to standby after its failover delay).
     */
    readonly dropsAcknowledged: boolean;
}

function evaluateInstance(
    instance: InstanceTopology,
    topology: Topology,
    world: World,
    t: Timings,
    active: Placement,
    plannedSite?: string,
): InstanceState {
    const risks: string[] = [];
    const db = databaseAfter(instance, topology, world, t, plannedSite);
    // Stopped on purpose, a node writes what it holds before it goes (and a planned move stops it so).
    const graceful =
        (plannedSite !== undefined && world.alive(active)) ||
        (world.failure.serversStopped ?? []).includes(active.host);
    // A planned switchover stops the old primary cleanly first, so its last commits reach the replica.
    const toPairPeer = db.writable !== undefined && db.writable === instance.database.pair?.peer;
    if (db.moved && instance.database.replication === "async" && plannedSite === undefined && !toPairPeer) {
        risks.push("commits not yet streamed to the replica (async)");
    }

    // Which node is active once the mechanisms have acted.
    let server: Placement | undefined;
    let serverSeconds = NO_WAIT;
    if (instance.serverFailover === "cluster-manager") {
        // The group (DB, server, web) runs together on the writable node.
        server = db.writable && instance.servers.find(s => s.host === db.writable!.host);
    } else {
        const eligible = (s: Placement) =>
            world.serverUp(s) && reachesDb(instance, world, s, db) && s.site !== plannedSite;
        if (eligible(active)) {
            server = active;
        } else if (instance.serverFailover === "native-ha") {
            server = instance.servers.find(eligible);
            // A node stopped on purpose hands over at once; a crashed or cut-off one only after the failover
            // delay, unless a killed server on a live host that still reaches the DB comes back sooner by its own restart.
            const restarts =
                (world.failure.serversDown ?? []).includes(active.host) && reachesDb(instance, world, active, db);
            const delay = topology.failoverDelaySeconds;
            serverSeconds =
                server && server !== active
                    ? graceful
                        ? gracefulSwitch(t)
                        : restarts
                          ? crashedServerBack(t, delay)
                          : heartbeatTakeover(t, delay)
                    : NO_WAIT;
        }
        // An active node that still reaches its DB keeps the role even when it cannot reach devices.
        if (!server && world.serverUp(active) && reachesDb(instance, world, active, db)) {
            server = active;
        }
    }
    const monitoring = !!server && reachesDb(instance, world, server, db) && world.served(server.site);
    const interrupted =
        !monitoring || db.moved || !!db.stalled || (server !== undefined && server.host !== active.host);
    if (interrupted) {
        risks.push(
            monitoring
                ? "values collected during the switch (passive checks are lost; active agents buffer)"
                : "values while monitoring is stopped (passive checks are lost; active agents buffer for a while)",
        );
    }
    const planned = plannedSite !== undefined;
    // Planned work is done by operators but takes a known time; an unplanned manual step has no predictable time.
    // A standby can only take over once it writes to the DB again: when the DB moves or stalls too, one
    // follows the other (the lab measured 39 s for a site holding both, against 21 s for the DB and 18 s
    // for a server alone; and 40 s for the active node's site holding the only sync replica).
    const sequential = (db.moved || !!db.stalled) && serverSeconds.max > 0 && !planned;
    const seconds = !interrupted
        ? NO_WAIT
        : monitoring && (!db.manual || planned)
          ? sequential
              ? takeoverAfterDb(t, topology.failoverDelaySeconds, db.seconds)
              : bothDone(db.seconds, serverSeconds)
          : null;
    const operator = interrupted && (seconds === null || planned);
    const causes = !operator
        ? []
        : seconds !== null
          ? [plannedCause(instance.database, db.moved, server !== undefined && server.host !== active.host)]
          : !db.writable
            ? (db.causes ?? [])
            : serverCauses(instance, world, db.writable, server, {
                  reachesDb: from => reachesDb(instance, world, from, db),
                  plannedSite,
                  gracefulSwitch: gracefulSwitch(t),
              });

    const ui = instance.entryPoints.some(entry => {
        if (entry.kind === "vip") {
            const node = db.writable;
            return (
                !!node &&
                node.site === entry.site &&
                world.served(entry.site) &&
                world.alive(node) &&
                reachesDb(instance, world, node, db)
            );
        }
        const lb = { host: entry.host, site: entry.site };
        return (
            world.loadBalancerUp(lb) &&
            world.served(entry.site) &&
            instance.frontends.some(f => world.linked(lb, f) && reachesDb(instance, world, f, db))
        );
    });
    // Zabbix acknowledges a proxy's (or a sender's) values once they are in the node's history cache and
    // writes them within a second: a node that dies drops them, and so does one that loses its database,
    // which switches to standby after its failover delay without writing them (the lab saw both).
    const dropsAcknowledged =
        !graceful && (!world.serverUp(active) || db.moved || !!db.stalled || !reachesDb(instance, world, active, db));
    return { server, monitoring, ui, interrupted, seconds, operator, risks, causes, dropsAcknowledged };
}

/** Every choice of initially active node per instance that the worst case must consider (or the known ones). */
function activeChoices(instance: InstanceTopology, known?: readonly string[]): Placement[] {
    const pinned = instance.servers.filter(s => known?.includes(s.host));
    if (pinned.length > 0) {
        return pinned;
    }
    return instance.serverFailover === "native-ha" ? [...instance.servers] : instance.servers.slice(0, 1);
}

/**
 * Evaluates one failure, for each choice of initially active nodes, and returns the worst outcome.
 * `activeHosts` pins the nodes known to be active (a drill on a running lab knows them).
 */
export function evaluateFailure(
    topology: Topology,
    failure: Failure,
    timings: Timings = DEFAULT_TIMINGS,
    plannedSite?: string,
    activeHosts?: readonly string[],
): Outcome {
    const world = new World(failure);
    const choices = topology.instances.map(i => activeChoices(i, activeHosts));
    // Instances are independent: the worst outcome of each instance combines into the worst overall.
    const perInstance = topology.instances.map((instance, i) =>
        choices[i].map(active => evaluateInstance(instance, topology, world, timings, active, plannedSite)),
    );
    const worstOf = (states: InstanceState[]) => states.reduce((a, b) => (rankState(b) > rankState(a) ? b : a));
    const states = perInstance.map(worstOf);
    const working = states.filter(s => s.monitoring).length;
    const interrupted = states.filter(s => s.interrupted);
    const serverSeconds = interrupted.some(s => s.seconds === null)
        ? null
        : interrupted.reduce((all, s) => bothDone(all, s.seconds ?? NO_WAIT), NO_WAIT);
    const risks = [...new Set(states.flatMap(s => s.risks))];
    if (working > 0 && working < states.length) {
        risks.push("the stopped instance's history for the outage (the others keep their own)");
    }
    const sides = topology.instances.map((instance, i) => ({
        instance,
        server: states[i].server,
        monitoring: states[i].monitoring,
        seconds: states[i].interrupted ? states[i].seconds : NO_WAIT,
        dropsAcknowledged: states[i].dropsAcknowledged,
    }));
    // Without proxies this is undefined and the outcome is the servers' alone.
    const data = dataPathAfter(topology, world, sides);
    const stopped = (data?.stoppedGroups.length ?? 0) > 0;
    const monitoring: Monitoring = working === states.length && !stopped ? "yes" : working > 0 ? "degraded" : "no";
    const dataManual = !!data?.interrupted && data.seconds === null;
    const recovery: Recovery =
        interrupted.some(s => s.operator) || dataManual
            ? "manual"
            : interrupted.length > 0 || data?.interrupted
              ? "automatic"
              : "none";
    const seconds = serverSeconds === null || dataManual ? null : bothDone(serverSeconds, data?.seconds ?? NO_WAIT);
    risks.push(...(data?.risks ?? []));
    return {
        monitoring,
        ui: states.some(s => s.ui),
        duplicateAlerts: working > 1,
        recovery,
        recoverySeconds: seconds,
        dataAtRisk: risks.length > 0 ? risks.join("; ") : "none",
        risks,
        operatorCauses: uniqueCauses([
            ...states.filter(s => s.operator).flatMap(s => s.causes),
            ...(data?.causes ?? []),
        ]),
        ...(data ? { agentValuesKept: data.valuesKept } : {}),
    };
}

function rankState(s: InstanceState): number {
    return (
        (s.monitoring ? 0 : 1000) +
        (s.ui ? 0 : 100) +
        (s.seconds === null ? 50 : Math.min(49, s.seconds.max / 60)) +
        (s.interrupted ? 1 : 0)
    );
}

const MONITORING_RANK: Record<Monitoring, number> = { yes: 0, degraded: 1, no: 2 };
const RECOVERY_RANK: Record<Recovery, number> = { none: 0, automatic: 1, manual: 2 };

/** Orders outcomes from best to worst: monitoring first, then the UI, then recovery and its time. */
export function compareOutcomes(a: Outcome, b: Outcome): number {
    return (
        MONITORING_RANK[a.monitoring] - MONITORING_RANK[b.monitoring] ||
        Number(b.ui) - Number(a.ui) ||
        RECOVERY_RANK[a.recovery] - RECOVERY_RANK[b.recovery] ||
        (a.recoverySeconds?.max ?? Infinity) - (b.recoverySeconds?.max ?? Infinity) ||
        (a.recoverySeconds?.min ?? Infinity) - (b.recoverySeconds?.min ?? Infinity) ||
        Number(a.duplicateAlerts) - Number(b.duplicateAlerts)
    );
}
