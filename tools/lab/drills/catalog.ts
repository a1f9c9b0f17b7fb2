/**
 * The drills: for each, the fault to inject given who is active and who is primary right now, the
 * failure the model evaluates for it (model), and the load balancers whose users keep
 * being served (through which recovery is judged).
 */
import { platformFor, zabbixLayout } from "../../../components/platform";
import { proxyGroupFailoverSeconds } from "../../../components/proxy";
import { Failure } from "../../../model";
import { LabHost, LabSite } from "../machines";
import { ChangeDrill } from "./changes";
import { DrillLab, postgresUnit, serverUnit } from "./context";
import { DAY_TWO_DRILLS } from "./dayTwo";
import { Fault, cutBetweenSites, isolateSite, killUnit, killUnitAndHoldDown, powerOff, stopUnit } from "./faults";
import { SWITCHOVER_DRILLS } from "./switchovers";
import { hostKeyChanged } from "./hostKey";

/** Who holds the roles when a drill starts. */
export interface Situation {
    readonly active: LabHost;
    readonly primary: LabHost;
    /** The proxy each monitored host is assigned to, by host name (empty without proxies). */
    readonly proxyOf: Readonly<Record<string, string>>;
}

export interface DrillPlan {
    readonly fault: Fault;
    readonly failure: Failure;
    /** Load balancers outside the fault: their users must be served again. */
    readonly surviving: readonly LabHost[];
    /** Seconds the fault lasts at least, even once the lab has recovered around it. */
    readonly holdSeconds?: number;
    readonly notes?: readonly string[];
}

export interface Drill {
    readonly name: string;
    readonly summary: string;
    plan(lab: DrillLab, now: Situation): DrillPlan;
    /** Why the drill does not apply to a lab (it has no proxies, say); undefined when it does. */
    notFor?(lab: DrillLab): string | undefined;
}

function siteOf(lab: DrillLab, host: LabHost): LabSite {
    return lab.topo.sites.find(s => s.name === host.site)!;
}

const outside = (lab: DrillLab, excluded: (lb: LabHost) => boolean) => lab.loadBalancers.filter(lb => !excluded(lb));

function isolation(which: "active" | "db"): Drill {
    return {
        name: `site-isolation:${which}`,
        summary: `every link of the ${which === "active" ? "active Zabbix node's" : "DB primary's"} site cut`,
        plan: (lab, now) => {
            const site = siteOf(lab, which === "active" ? now.active : now.primary);
            return {
                fault: isolateSite(lab, site),
                failure: { sitesDark: [site.name] },
                surviving: outside(lab, lb => lb.site === site.name),
                notes: [`site ${site.name} (active ${now.active.name}, primary ${now.primary.name})`],
            };
        },
    };
}

/** A fault to one unit of the host in a role now (the active node, the primary); every balancer's users stay served. */
function unitFault(
    name: string,
    summary: string,
    target: (now: Situation) => LabHost,
    unit: (lab: DrillLab, host: LabHost) => string,
    fault: (lab: DrillLab, host: LabHost, unit: string) => Fault,
    failure: (host: string) => Failure,
    notes: (lab: DrillLab) => string[] = () => [],
): Drill {
    return {
        name,
        summary,
        plan: (lab, now) => {
            const host = target(now);
            return {
                fault: fault(lab, host, unit(lab, host)),
                failure: failure(host.name),
                surviving: lab.loadBalancers,
                notes: notes(lab),
            };
        },
    };
}

/** A proxy host of the lab by name. */
function proxyHost(lab: DrillLab, name: string): LabHost {
    const host = lab.topo.hosts.find(h => h.name === name);
    if (!host) {
        throw new Error(`proxy ${name} is not a lab host`);
    }
    return host;
}

/** The lab's proxies by how many monitored hosts each has now, most first (then by name). */
function busiestProxies(lab: DrillLab, now: Situation): LabHost[] {
    const proxies = (lab.model.dataPath?.proxies ?? []).map(p => p.host);
    if (proxies.length === 0) {
        throw new Error("this lab has no proxies (no host with the proxy role)");
    }
    const load = (name: string) => Object.values(now.proxyOf).filter(p => p === name).length;
    return [...proxies].sort((a, b) => load(b) - load(a) || a.localeCompare(b)).map(n => proxyHost(lab, n));
}

/** How long a proxy drill holds its fault: past the group's failover, so that the group moves the hosts. */
function groupFailoverHold(lab: DrillLab, proxy: LabHost): number {
    const placed = lab.model.dataPath!.proxies.find(p => p.host === proxy.name)!;
    const group = lab.model.dataPath!.proxyGroups.find(g => g.name === placed.group)!;
    return proxyGroupFailoverSeconds(group.failoverDelaySeconds) + 30;
}

/** The proxy drills need proxies, in more than one site for a group to move hosts between them. */
function withoutProxies(lab: DrillLab): string | undefined {
    const sites = new Set((lab.model.dataPath?.proxies ?? []).map(p => p.site));
    return sites.size === 0 ? "it has no proxies" : sites.size < 2 ? "its proxies are all in one site" : undefined;
}

const PROXY_DRILLS: readonly Drill[] = [
    {
        name: "proxy-crash",
        summary: "the proxy with the most monitored hosts killed and held down past its group's failover",
        notFor: withoutProxies,
        plan: (lab, now) => {
            const proxy = busiestProxies(lab, now)[0];
            const unit = zabbixLayout(platformFor(proxy.os), lab.topo.config.zabbix.packageSource).proxy.service;
            const moved = Object.keys(now.proxyOf).filter(h => now.proxyOf[h] === proxy.name);
            return {
                fault: killUnitAndHoldDown(lab, proxy, unit),
                failure: { proxiesDown: [proxy.name] },
                surviving: lab.loadBalancers,
                holdSeconds: groupFailoverHold(lab, proxy),
                notes: [`${proxy.name} monitored ${moved.join(", ") || "no host"}`],
            };
        },
    },
    {
        name: "proxy-site-isolation",
        summary: "every link of a proxy's site cut, where neither the active node nor the primary is",
        notFor: withoutProxies,
        plan: (lab, now) => {
            const proxies = busiestProxies(lab, now);
            const proxy =
                proxies.find(p => p.site !== now.active.site && p.site !== now.primary.site) ??
                proxies.find(p => p.site !== now.active.site) ??
                proxies[0];
            const site = siteOf(lab, proxy);
            return {
                fault: isolateSite(lab, site),
                failure: { sitesDark: [site.name] },
                surviving: outside(lab, lb => lb.site === site.name),
                holdSeconds: groupFailoverHold(lab, proxy),
                notes: [
                    `site ${site.name} (proxy ${proxy.name}; active ${now.active.name}, primary ${now.primary.name})`,
                ],
            };
        },
    },
];

const active = (now: Situation) => now.active;
const primary = (now: Situation) => now.primary;

export const DRILLS: readonly Drill[] = [
    unitFault("server-crash", "the active Zabbix server's whole unit killed", active, serverUnit, killUnit, host => ({
        serversDown: [host],
    })),
    unitFault("server-switchover", "graceful stop of the active node", active, serverUnit, stopUnit, host => ({
        serversStopped: [host],
    })),
    isolation("active"),
    isolation("db"),
    {
        name: "inter-site-cut",
        summary: "the sites cannot reach each other; each still reaches its users",
        plan: lab => ({
            fault: cutBetweenSites(lab),
            failure: { interSiteCut: true },
            surviving: lab.loadBalancers,
        }),
    },
    unitFault(
        "db-primary-crash",
        "PostgreSQL on the primary killed (with Patroni: Patroni and PostgreSQL)",
        primary,
        postgresUnit,
        killUnit,
        host => ({ dbDown: [host] }),
        lab =>
            lab.failover === "manual"
                ? ["manual failover: the primary comes back only when the drill restarts it"]
                : [],
    ),
    {
        name: "lb-crash",
        summary: "the HAProxy of the active node's site killed and held down; the other site's users watched",
        plan: (lab, now) => {
            const lb = lab.loadBalancers.find(l => l.site === now.active.site) ?? lab.loadBalancers[0];
            return {
                fault: killUnitAndHoldDown(lab, lb, "haproxy"),
                failure: { loadBalancersDown: [lb.name] },
                surviving: outside(lab, l => l === lb),
                // Long enough for the active node, cut from its DB by its own site's balancer, to be replaced.
                holdSeconds: 30,
                notes: [
                    `${lb.name}'s balancer (Debian's unit has Restart=always; the drill holds it down as the model assumes)`,
                ],
            };
        },
    },
    {
        name: "host-poweroff",
        summary: "the active node's whole host killed without shutdown, then booted again",
        plan: (lab, now) => ({
            fault: powerOff(lab, now.active),
            failure: { hostsDown: [now.active.name] },
            surviving: outside(lab, lb => lb.name === now.active.name),
            notes: [`${now.active.name}${now.active === now.primary ? " (also the DB primary)" : ""}`],
        }),
    },
    ...PROXY_DRILLS,
];

/** The drills that change the configuration: the primary moved first, then the day-2 changes. */
export const CHANGE_DRILLS: readonly ChangeDrill[] = [...SWITCHOVER_DRILLS, ...DAY_TWO_DRILLS, hostKeyChanged];

/** The drills a --only list names: a full name, or the part before ":" (site-isolation names both). */
export function selectDrills(only: readonly string[] | undefined, alsoKnown: readonly string[] = []): Drill[] {
    if (!only || only.length === 0) {
        return [...DRILLS];
    }
    const unknown = only.filter(
        n => !alsoKnown.includes(n) && !DRILLS.some(d => d.name === n || d.name.split(":")[0] === n),
    );
    if (unknown.length > 0) {
        throw new Error(
            `unknown drill(s) ${unknown.join(", ")}; the drills are ${[...DRILLS.map(d => d.name), ...alsoKnown].join(", ")}`,
        );
    }
    return DRILLS.filter(d => only.some(n => d.name === n || d.name.split(":")[0] === n));
}
