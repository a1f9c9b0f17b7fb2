/**
 * What to verify, per Zabbix installation: read from the stack's own `topology` output (every
 * pattern exports one), so the checks follow what the stack built, not the pattern's name. A stack
 * without that output is taken as one installation over every host of the config.
 */
import { Role } from "../../../components/config";
import { LabHost, ManagedEndpoint, PgConnection, Topology as LabTopology } from "../machines";
import { ResourceState, instanceDatabases, stackOutputs } from "../replay";

/** One Zabbix installation, as the checks verify it. */
export interface Instance {
    /** Its name in the topology, which its proxies and agents declare as theirs. */
    readonly name: string;
    /** Zabbix server hosts; with native HA exactly one is active, the others stand by. */
    readonly servers: readonly string[];
    /** Whether its servers fail over by Zabbix's native HA, so that exactly one is active. */
    readonly nativeHa: boolean;
    /** The DB primary's lab host (none for a managed database, which `managed` plays). */
    readonly primary?: LabHost;
    /** The streaming replicas, by host name (a DRBD peer or a managed standby is not one). */
    readonly replicas: readonly string[];
    /** The lab host that plays the instance's managed PostgreSQL (pattern 4), reached directly. */
    readonly managed?: ManagedEndpoint;
    /** Load balancers users reach the UI and the DB through. */
    readonly entryPoints: readonly LabHost[];
    /** The zabbix role's password (a RandomPassword of the plan), when the plan generated one. */
    readonly zabbixPassword?: string;
    /** How the stack's own provider secures its session (sslmode, and the CA file it verifies against): the checks connect alike. */
    readonly dbTls?: Pick<PgConnection, "sslmode" | "sslrootcert">;
    /** The stack's CA (PEM, its `caCertificate` output): the UI's certificate must verify against it. */
    readonly uiCa?: string;
    /** Its data path (the stack's `topology.dataPath`): the proxies that report to it, by host name. */
    readonly proxies: readonly string[];
    /** The monitored hosts (agent 2) that report to it, through its proxies or straight: their values must reach its database. */
    readonly agents: readonly string[];
}

/** A connection's TLS settings, to connect as it does. */
export function tlsOf(c: PgConnection): Pick<PgConnection, "sslmode" | "sslrootcert"> {
    return { sslmode: c.sslmode, ...(c.sslrootcert ? { sslrootcert: c.sslrootcert } : {}) };
}

/**
 * The installations of an applied plan: its resources (as goals or as recorded) and its outputs;
 * `managed` are the endpoints the lab plays (`managedEndpoints`), found again by the provider's host.
 */
export function instancesOf(
    resources: readonly ResourceState[],
    outputs: Record<string, unknown> | undefined,
    lab: LabTopology,
    managed: readonly ManagedEndpoint[],
): Instance[] {
    const host = (name: string) => lab.hosts.find(h => h.name === name);
    const stack = stackOutputs(outputs);
    const databases = instanceDatabases(resources, stack, lab.config.db.user);
    const topology = stack.topology?.instances;
    const ca: unknown = outputs?.caCertificate;
    const uiCa = typeof ca === "string" ? { uiCa: ca } : {};
    if (topology && topology.length > 0) {
        const dataPath = stack.topology?.dataPath;
        return topology.map(i => {
            const database = databases.get(i.name);
            // Each proxy and agent declares the installation it reports to.
            const ours = (p: { installation: string }) => p.installation === i.name;
            return {
                name: i.name,
                proxies: (dataPath?.proxies ?? []).filter(ours).map(p => p.host),
                agents: (dataPath?.agents ?? []).filter(ours).map(a => a.host),
                servers: i.servers.map(s => s.host),
                nativeHa: i.serverFailover === "native-ha",
                primary: host(i.database.primary.host),
                // Only streaming replicas are PostgreSQL's to report; a DRBD peer or a managed standby is not.
                replicas: ["async", "sync"].includes(i.database.replication)
                    ? i.database.standbys.map(s => s.host).filter(h => host(h))
                    : [],
                managed:
                    i.database.replication === "managed"
                        ? managed.find(e => e.host.address === database?.provider?.host)
                        : undefined,
                entryPoints: i.entryPoints.flatMap(e =>
                    e.kind === "load-balancer" && host(e.host) ? [host(e.host)!] : [],
                ),
                zabbixPassword: database?.zabbix?.password,
                ...(database?.provider ? { dbTls: tlsOf(database.provider) } : {}),
                ...uiCa,
            };
        });
    }
    const withRole = (role: Role) => lab.hosts.filter(h => h.roles.includes(role));
    const primary = withRole("db").find(h => h.site === lab.config.db.primarySite);
    return [
        {
            name: "zabbix",
            servers: withRole("zabbix-server").map(h => h.name),
            nativeHa: withRole("zabbix-server").length > 1,
            primary,
            replicas: withRole("db")
                .filter(h => h !== primary)
                .map(h => h.name),
            // Without the stack's design the lab cannot tell whose role a login is: the checks ask the primary over SSH.
            entryPoints: withRole("lb"),
            proxies: withRole("proxy").map(h => h.name),
            agents: withRole("agent").map(h => h.name),
            ...uiCa,
        },
    ];
}
