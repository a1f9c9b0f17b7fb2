/**
 * What to verify, per Zabbix installation: read from the stack's own `topology` output (every
 * pattern exports one), so the checks follow what the stack built, not the pattern's name. A stack
 * without that output is taken as one installation over every host of the config.
 */
import { Role } from "../../../components/config";
import { RESOURCE_TYPES } from "../../../components/facts";
import { CapturedPlan } from "../../offline";
import { LabHost, ManagedEndpoint, Topology as LabTopology, managedEndpoints } from "../machines";

export interface Instance {
    readonly name: string;
    /** Zabbix server hosts; with native HA exactly one is active, the others stand by. */
    readonly servers: readonly string[];
    readonly nativeHa: boolean;
    /** The DB primary and the replicas that stream from it (by PostgreSQL replication). */
    readonly primary?: LabHost;
    readonly replicas: readonly string[];
    /** The lab host that plays the instance's managed PostgreSQL (pattern 4), reached directly. */
    readonly managed?: ManagedEndpoint;
    /** Load balancers users reach the UI and the DB through. */
    readonly entryPoints: readonly LabHost[];
    /** The zabbix role's password (a RandomPassword of the plan), when the plan generated one. */
    readonly zabbixPassword?: string;
}

interface Placement { readonly host: string; readonly site: string }
interface InstanceOutput {
    readonly name: string;
    readonly servers: readonly Placement[];
    readonly serverFailover: string;
    readonly database: { readonly primary: Placement; readonly standbys: readonly Placement[]; readonly replication: string };
    readonly entryPoints: readonly { readonly kind: string; readonly host?: string }[];
}

/** The zabbix password of an instance: `zabbix-ha-zabbix-password`, prefixed by the instance's name when there are several. */
function passwordOf(plan: CapturedPlan, instance: string, only: boolean): string | undefined {
    const names = only ? ["zabbix-ha-zabbix-password", `${instance}-zabbix-ha-zabbix-password`] : [`${instance}-zabbix-ha-zabbix-password`];
    const found = plan.resources.find(r => r.type === RESOURCE_TYPES.randomPassword && names.includes(r.name));
    return typeof found?.outputs.result === "string" ? found.outputs.result : undefined;
}

export function instancesOf(plan: CapturedPlan, lab: LabTopology): Instance[] {
    const host = (name: string) => lab.hosts.find(h => h.name === name);
    const output = (plan.outputs?.topology as { instances?: InstanceOutput[] } | undefined)?.instances;
    if (output && output.length > 0) {
        // Managed endpoints in the order the instances were built (one per managed instance).
        const managed = [...managedEndpoints(plan, lab)];
        return output.map(i => ({
            name: i.name,
            servers: i.servers.map(s => s.host),
            nativeHa: i.serverFailover === "native-ha",
            primary: host(i.database.primary.host),
            // Only streaming replicas are PostgreSQL's to report; a DRBD peer or a managed standby is not.
            replicas: ["async", "sync"].includes(i.database.replication) ? i.database.standbys.map(s => s.host).filter(h => host(h)) : [],
            managed: i.database.replication === "managed" ? managed.shift() : undefined,
            entryPoints: i.entryPoints.filter(e => e.kind === "load-balancer" && e.host && host(e.host)).map(e => host(e.host!)!),
            zabbixPassword: passwordOf(plan, i.name, output.length === 1),
        }));
    }
    const withRole = (role: Role) => lab.hosts.filter(h => h.roles.includes(role));
    const primary = withRole("db").find(h => h.site === lab.config.db.primarySite);
    return [{
        name: "zabbix",
        servers: withRole("zabbix-server").map(h => h.name),
        nativeHa: withRole("zabbix-server").length > 1,
        primary,
        replicas: withRole("db").filter(h => h !== primary).map(h => h.name),
        entryPoints: withRole("lb"),
        zabbixPassword: passwordOf(plan, "zabbix", true),
    }];
}
