/**
 * The drills: for each, the fault to inject given who is active and who is primary right now, the
 * failure the model evaluates for it (model), and the load balancers whose users keep
 * being served (through which recovery is judged).
 */
import { Failure } from "../../../model";
import { LabHost, LabSite } from "../machines";
import { DrillLab, postgresUnit } from "./context";
import { Fault, cutBetweenSites, isolateSite, killUnit, killUnitAndHoldDown, powerOff, stopUnit } from "./faults";

/** Who holds the roles when a drill starts. */
export interface Situation {
    readonly active: LabHost;
    readonly primary: LabHost;
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

export const DRILLS: readonly Drill[] = [
    {
        name: "server-crash",
        summary: "the active Zabbix server's whole unit killed",
        plan: (lab, now) => ({
            fault: killUnit(lab, now.active, "zabbix-server"),
            failure: { serversDown: [now.active.name] },
            surviving: lab.loadBalancers,
        }),
    },
    {
        name: "server-switchover",
        summary: "graceful stop of the active node",
        plan: (lab, now) => ({
            fault: stopUnit(lab, now.active, "zabbix-server"),
            failure: { serversStopped: [now.active.name] },
            surviving: lab.loadBalancers,
        }),
    },
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
    {
        name: "db-primary-crash",
        summary: "PostgreSQL on the primary killed (with Patroni: Patroni and PostgreSQL)",
        plan: (lab, now) => ({
            fault: killUnit(lab, now.primary, postgresUnit(lab, now.primary)),
            failure: { dbDown: [now.primary.name] },
            surviving: lab.loadBalancers,
            notes: lab.failover === "manual" ? ["manual failover: the primary comes back only when the drill restarts it"] : [],
        }),
    },
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
                notes: [`${lb.name}'s balancer (Debian's unit has Restart=always; the drill holds it down as the model assumes)`],
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
];

/** The drills a --only list names: a full name, or the part before ":" (site-isolation names both). */
export function selectDrills(only: readonly string[] | undefined, alsoKnown: readonly string[] = []): Drill[] {
    if (!only || only.length === 0) {
        return [...DRILLS];
    }
    const unknown = only.filter(n => !alsoKnown.includes(n) && !DRILLS.some(d => d.name === n || d.name.split(":")[0] === n));
    if (unknown.length > 0) {
        throw new Error(`unknown drill(s) ${unknown.join(", ")}; the drills are ${[...DRILLS.map(d => d.name), ...alsoKnown].join(", ")}`);
    }
    return DRILLS.filter(d => only.some(n => d.name === n || d.name.split(":")[0] === n));
}
