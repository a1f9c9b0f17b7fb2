/**
 * A failure's world: which hosts are alive, linked and served, where the writable DB ends up once
 * its failover mechanism has acted (or why it does not), and who reaches it along the DB path.
 */
import { FailureView, OperatorCause, dbCauses, stalledCause } from "./causes";
import type { Failure, Timings } from "./evaluate";
import {
    EtcdLeader,
    NO_WAIT,
    SecondsRange,
    followedBy,
    patroniKeyExpiry,
    seconds,
    syncReplicaRelease,
} from "./recovery";
import { InstanceTopology, Placement, Topology } from "./topology";

/** What is down in one failure, and what can still reach what. */
export class World implements FailureView {
    private readonly down: Set<string>;
    private readonly dark: Set<string>;
    private readonly uplinks: Set<string>;

    constructor(readonly failure: Failure) {
        this.down = new Set(failure.hostsDown);
        this.dark = new Set(failure.sitesDark);
        this.uplinks = new Set(failure.uplinksDown);
    }

    alive(p: Placement): boolean {
        return !this.down.has(p.host) && !this.dark.has(p.site);
    }

    /** Two hosts can talk: both alive, and in one site or with the inter-site link up. */
    linked(a: Placement, b: Placement): boolean {
        return this.alive(a) && this.alive(b) && (a.site === b.site || !this.failure.interSiteCut);
    }

    /** Users and monitored devices reach the site. */
    served(site: string): boolean {
        return !this.dark.has(site) && !this.uplinks.has(site);
    }

    siteDark(site: string): boolean {
        return this.dark.has(site);
    }

    get interSiteCut(): boolean {
        return !!this.failure.interSiteCut;
    }

    serverUp(p: Placement): boolean {
        return (
            this.alive(p) &&
            !(this.failure.serversDown ?? []).includes(p.host) &&
            !(this.failure.serversStopped ?? []).includes(p.host)
        );
    }

    loadBalancerUp(p: Placement): boolean {
        return this.alive(p) && !(this.failure.loadBalancersDown ?? []).includes(p.host);
    }

    proxyUp(p: Placement): boolean {
        return this.alive(p) && !(this.failure.proxiesDown ?? []).includes(p.host);
    }

    dbProcessUp(p: Placement): boolean {
        return this.alive(p) && !(this.failure.dbDown ?? []).includes(p.host);
    }
}

/** Where the writable DB ends up, and how. */
export interface DbState {
    readonly writable?: Placement;
    /** Until the DB is writable where it ends up (its failover, the balancers' check and Zabbix's reconnect). */
    readonly seconds: SecondsRange;
    readonly moved: boolean;
    readonly manual: boolean;
    /** Commits wait for a synchronous replica that nothing reaches: the primary stays, writes stall. */
    readonly stalled?: boolean;
    /** When no writable DB appears by itself: why an operator is needed. */
    readonly causes?: readonly OperatorCause[];
}

/** Whether a node reaches a majority of the consensus members (itself included when it is one). */
function hasQuorum(db: InstanceTopology["database"], world: World, node: Placement): boolean {
    const members = db.quorum ?? [];
    return members.filter(m => world.linked(node, m)).length * 2 > members.length;
}

/** Whether etcd must elect a new leader for the members on `survivor`'s side of the fault (see patroniKeyExpiry). */
function etcdLeaderAfter(db: InstanceTopology["database"], world: World, survivor: Placement): EtcdLeader {
    if (!db.quorumLeader) {
        return "unknown";
    }
    return world.linked(survivor, db.quorumLeader) ? "kept" : "lost";
}

/** Where the writable DB ends up once its failover mechanism has acted, or why it needs an operator. */
export function databaseAfter(
    instance: InstanceTopology,
    topology: Topology,
    world: World,
    t: Timings,
    plannedSite?: string,
): DbState {
    const db = instance.database;
    const automatic = db.failover === "automatic";
    // Under Patroni a primary cut off from the majority demotes itself: it is no longer writable.
    const primaryOk =
        world.dbProcessUp(db.primary) &&
        db.primary.site !== plannedSite &&
        (!automatic || hasQuorum(db, world, db.primary));
    if (primaryOk) {
        const syncLost =
            db.replication === "sync" &&
            db.standbys.length > 0 &&
            !db.standbys.some(s => world.dbProcessUp(s) && world.linked(db.primary, s));
        if (syncLost) {
            // Patroni's synchronous mode drops the lost replica once its walsender gives up or its member key expires; fixed standby names wait for an operator.
            return automatic
                ? {
                      writable: db.primary,
                      seconds: syncReplicaRelease(t, etcdLeaderAfter(db, world, db.primary)),
                      moved: false,
                      manual: false,
                      stalled: true,
                  }
                : { seconds: NO_WAIT, moved: false, manual: true, stalled: true, causes: [stalledCause()] };
        }
        return { writable: db.primary, seconds: NO_WAIT, moved: false, manual: false };
    }
    // A fallback pair in the primary's site takes over first, once the failed node is fenced.
    const pair = db.pair;
    if (
        pair &&
        pair.fencing &&
        world.dbProcessUp(pair.peer) &&
        pair.peer.site !== plannedSite &&
        !world.siteDark(db.primary.site)
    ) {
        return {
            writable: pair.peer,
            seconds: seconds(t.clusterManagerFailoverSeconds),
            moved: true,
            manual: false,
        };
    }
    const candidates = db.standbys.filter(
        s => world.dbProcessUp(s) && s.site !== plannedSite && (!automatic || hasQuorum(db, world, s)),
    );
    // Planned work moves the primary first when the topology allows a switchover at all.
    if (plannedSite !== undefined && world.dbProcessUp(db.primary) && candidates.length > 0) {
        const switchover =
            db.failover === "managed"
                ? 0
                : db.failover === "cluster-manager"
                  ? t.clusterManagerFailoverSeconds
                  : db.failover === "automatic"
                    ? t.gracefulSwitchSeconds
                    : t.dbSwitchoverSeconds;
        return {
            writable: candidates[0],
            seconds: seconds(switchover + t.dbReconnectSeconds),
            moved: true,
            manual: db.failover === "manual",
        };
    }
    const stuck = (): DbState => ({
        seconds: NO_WAIT,
        moved: false,
        manual: true,
        causes: dbCauses(instance, topology, world, candidates, plannedSite),
    });
    switch (db.failover) {
        case "automatic":
        case "managed": {
            const promoted = candidates[0];
            if (!promoted) {
                return stuck();
            }
            // Patroni's replicas act on the dead leader's expired key; the provider's failover is one figure.
            const failover =
                db.failover === "automatic"
                    ? patroniKeyExpiry(t, etcdLeaderAfter(db, world, promoted))
                    : seconds(t.managedFailoverSeconds);
            return {
                writable: promoted,
                seconds: followedBy(failover, seconds(t.dbReconnectSeconds)),
                moved: true,
                manual: false,
            };
        }
        case "cluster-manager": {
            const cm = instance.clusterManager;
            // Pacemaker takes over only after fencing the failed node, whose fence device sits in its site.
            const peer = candidates.find(
                c =>
                    cm?.fencing &&
                    !world.siteDark(db.primary.site) &&
                    world.linked(c, { host: "fence-device", site: db.primary.site }),
            );
            return peer
                ? { writable: peer, seconds: seconds(t.clusterManagerFailoverSeconds), moved: true, manual: false }
                : stuck();
        }
        default:
            return stuck();
    }
}

/** Whether a client at `from` reaches the writable DB along the instance's DB path. */
export function reachesDb(instance: InstanceTopology, world: World, from: Placement, db: DbState): boolean {
    const writable = db.writable;
    if (!writable || !world.alive(from)) {
        return false;
    }
    switch (instance.dbAccess) {
        case "site-load-balancer": {
            const lb = instance.loadBalancers.find(l => l.site === from.site);
            return !!lb && world.loadBalancerUp(lb) && world.linked(from, lb) && world.linked(lb, writable);
        }
        case "vip":
            // The VIP lives on one site's L2 segment: it is up only while the group runs there.
            return writable.site === instance.clusterManager?.vipSite && world.linked(from, writable);
        case "managed-endpoint":
            return world.linked(from, writable);
    }
}
