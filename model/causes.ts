/**
 * Why an outcome waits for an operator: each cause names what in the topology keeps the automatic
 * mechanisms from acting, and the setting (or design change) that would let them. Derived from
 * where things sit and how they move, like the outcome itself; nothing here knows pattern names.
 */
import { SecondsRange, formatSeconds } from "./recovery";
import { DbFailover, InstanceTopology, Placement, Topology } from "./topology";

/** The kinds of cause, stable for tools that read the JSON report. */
export type OperatorCauseId =
    | "db-failover-manual"
    | "db-no-standby"
    | "db-standbys-lost"
    | "db-no-quorum"
    | "db-sync-stalled"
    | "pair-no-fencing"
    | "cluster-no-fencing"
    | "fence-device-lost"
    | "vip-bound-to-site"
    | "one-server-node"
    | "servers-lost"
    | "no-db-path"
    | "active-node-stays"
    | "planned-work"
    | "proxy-group-lost";

export interface OperatorCause {
    readonly id: OperatorCauseId;
    /** A few words: what keeps the mechanisms from acting. */
    readonly summary: string;
    /** The summary and how it follows from the topology, in one sentence. */
    readonly reason: string;
    /** The setting or design change that would let the mechanisms recover by themselves; "" when the step is the plan. */
    readonly change: string;
}

/** What the cause derivation needs to know about the failure, without the evaluation's internals. */
export interface FailureView {
    dbProcessUp(p: Placement): boolean;
    serverUp(p: Placement): boolean;
    /** Whether the site's network is down (not just its uplink). */
    siteDark(site: string): boolean;
    /** Whether every site is cut off from every other. */
    readonly interSiteCut: boolean;
}

function cause(id: OperatorCauseId, summary: string, detail: string, change: string): OperatorCause {
    return { id, summary, reason: detail ? `${summary}: ${detail}` : summary, change };
}

const ANOTHER_SITE_SERVER = "the zabbix-server role on a host in another site (native HA)";
const FENCING = "fencing in the drbd section: a fence device per node";
const ONE_NODE = cause(
    "one-server-node",
    "the Zabbix server has one node",
    "no standby takes over",
    ANOTHER_SITE_SERVER,
);

/** Sites holding hosts that could run etcd members: DB hosts and witnesses. */
function consensusSites(topology: Topology): number {
    return new Set(topology.hosts.filter(h => h.roles.includes("db") || h.roles.includes("witness")).map(h => h.site))
        .size;
}

function patroniChange(topology: Topology): string {
    const sites = consensusSites(topology);
    return sites >= 3
        ? "db.failover: patroni (etcd members on the DB and witness hosts, already in three sites)"
        : `db.failover: patroni, with etcd members in three sites (DB or witness hosts; this config has ${sites}: add a witness site)`;
}

/** No standby can become the primary: none exists, none survived, or none may lead. */
function noCandidate(db: InstanceTopology["database"], view: FailureView, plannedSite?: string): OperatorCause {
    if (db.standbys.length === 0) {
        return cause(
            "db-no-standby",
            "the installation's only DB has no standby",
            "it is back once repaired",
            "one installation across the sites, with a DB replica in another site",
        );
    }
    const survivors = db.standbys.filter(s => view.dbProcessUp(s) && s.site !== plannedSite);
    if (db.failover === "automatic" && survivors.length > 0) {
        const memberSites = new Set(db.quorum?.map(m => m.site)).size;
        return cause(
            "db-no-quorum",
            `no DB node reaches a majority of the ${db.quorum?.length ?? 0} etcd members`,
            "none may lead (no split brain)",
            memberSites < 3
                ? "etcd members in three sites (a witness host in a third site)"
                : view.interSiteCut
                  ? "none: with every site cut off, stopped writes are what prevents two primaries; Patroni resumes when the link returns"
                  : "more etcd members in the surviving sites",
        );
    }
    return cause(
        "db-standbys-lost",
        "no standby DB survives",
        plannedSite !== undefined
            ? "every one is in the site under maintenance"
            : "every one is lost along with the primary",
        "a DB host in another site",
    );
}

/**
 * Why no writable DB appears by itself. `candidates` are the standbys the mechanism could promote
 * (alive, outside the site under maintenance, with quorum where it needs one).
 */
export function dbCauses(
    instance: InstanceTopology,
    topology: Topology,
    view: FailureView,
    candidates: readonly Placement[],
    plannedSite?: string,
): OperatorCause[] {
    const db = instance.database;
    const causes: OperatorCause[] = [];
    // A fallback pair that would have taken over but for its missing fencing.
    if (db.pair && !db.pair.fencing && view.dbProcessUp(db.pair.peer) && !view.siteDark(db.primary.site)) {
        causes.push(
            cause("pair-no-fencing", "the DB's fallback pair has no fencing", "Pacemaker must not take over", FENCING),
        );
    }
    switch (db.standbys.length > 0 ? db.failover : "none") {
        case "manual":
            causes.push(
                cause(
                    "db-failover-manual",
                    "the DB's failover is manual",
                    "an operator promotes a replica (db.primarySite, then pulumi up)",
                    patroniChange(topology),
                ),
            );
            if (candidates.length === 0) {
                causes.push(noCandidate(db, view, plannedSite));
            }
            break;
        case "cluster-manager":
            if (!instance.clusterManager?.fencing) {
                causes.push(
                    cause("cluster-no-fencing", "the cluster has no fencing", "Pacemaker must not take over", FENCING),
                );
            } else if (candidates.length === 0) {
                causes.push(noCandidate(db, view, plannedSite));
            } else {
                causes.push(
                    cause(
                        "fence-device-lost",
                        "the failed node cannot be fenced",
                        "its fence device is in its lost site, so Pacemaker does not take over",
                        "none within one pair: a VIP cannot follow the DB to another site",
                    ),
                );
            }
            break;
        default:
            causes.push(noCandidate(db, view, plannedSite));
    }
    return causes;
}

/** Synchronous replication lost its only reachable replica and nothing releases it. */
export function stalledCause(): OperatorCause {
    return cause(
        "db-sync-stalled",
        "commits wait for the lost sync replica",
        "with manual failover only an operator releases it",
        "db.failover: patroni (it drops the lost replica once its member key expires), or db.replication: async",
    );
}

/** The DB is writable but no Zabbix server node monitors with it; `server` is the node that ended up active, if any. */
export function serverCauses(
    instance: InstanceTopology,
    view: FailureView,
    writable: Placement,
    server: Placement | undefined,
    {
        reachesDb,
        plannedSite,
        gracefulSwitch,
    }: { reachesDb: (from: Placement) => boolean; plannedSite?: string; gracefulSwitch: SecondsRange },
): OperatorCause[] {
    if (server && reachesDb(server)) {
        // It runs and writes, but its site's devices do not reach it.
        const elsewhere = instance.servers.some(s => s.site !== server.site);
        if (instance.servers.length === 1) {
            return [ONE_NODE];
        }
        return [
            instance.serverFailover === "cluster-manager"
                ? cause(
                      "active-node-stays",
                      "Pacemaker keeps the group where it is",
                      "it watches the nodes, not the site's uplink",
                      elsewhere
                          ? "none: a VIP cannot follow the group to another site"
                          : "none: the peer sits behind the same uplink",
                  )
                : cause(
                      "active-node-stays",
                      "the active node keeps its role",
                      "it still reaches the DB, and native HA moves a node only once it stops, not when its site's uplink is down",
                      elsewhere
                          ? `none in config: stop zabbix-server on it and a node in another site takes over in ${formatSeconds(gracefulSwitch)}`
                          : ANOTHER_SITE_SERVER,
                  ),
        ];
    }
    const vipSite = instance.clusterManager?.vipSite;
    if (instance.dbAccess === "vip" && writable.site !== vipSite) {
        return [
            cause(
                "vip-bound-to-site",
                `the VIP cannot leave ${vipSite}`,
                "it lives on that site's L2 segment, so with the DB elsewhere nothing reaches it",
                "none with a VIP, which cannot span L3 sites: reach the DB through each site's load balancer instead",
            ),
        ];
    }
    if (!instance.servers.some(s => view.serverUp(s) && s.site !== plannedSite)) {
        return [
            instance.servers.length === 1
                ? ONE_NODE
                : cause("servers-lost", "every Zabbix server node is lost", "", ANOTHER_SITE_SERVER),
        ];
    }
    return [
        cause(
            "no-db-path",
            "no surviving server node reaches the writable DB",
            "not through its site's load balancer",
            "a load balancer in every site that has a Zabbix server node",
        ),
    ];
}

const SWITCHOVER: Record<DbFailover, string> = {
    manual: "db.primarySite, then pulumi up",
    automatic: "db.primarySite, then pulumi up",
    managed: "the provider's switchover",
    "cluster-manager": "a Pacemaker move",
};

/** Planned work: the operator's step is the plan, and its time is known. */
export function plannedCause(db: InstanceTopology["database"], dbMoved: boolean, serverMoved: boolean): OperatorCause {
    const what = [
        dbMoved ? `the DB primary (${SWITCHOVER[db.failover]})` : "",
        serverMoved ? "the active Zabbix server (a graceful stop)" : "",
    ]
        .filter(Boolean)
        .join(" and ");
    return cause(
        "planned-work",
        "planned work",
        `operators move ${what || "the site's services"} off the site first`,
        "",
    );
}

/** Causes of several instances or active choices, each once. */
export function uniqueCauses(causes: readonly OperatorCause[]): OperatorCause[] {
    const seen = new Map<string, OperatorCause>();
    causes.forEach(c => seen.set(`${c.id}\n${c.reason}\n${c.change}`, c));
    return [...seen.values()];
}
