/**
 * Building blocks the patterns share: the sites and hosts, and one complete Zabbix installation
 * (load balancers, database, server nodes, frontends) over a set of sites.
 */
import * as pulumi from "@pulumi/pulumi";
import { InstanceDesign, StackDesign } from "../../model";
import { CloudConfig, HostConfig, PlacedHost, SiteConfig, StackConfig, hostsWithRole } from "../../components/config";
import { posix } from "path";
import { DRBD_RESOURCE, DrbdPair, pacemakerIds } from "../../components/drbd";
import { PairFacts } from "../../components/facts";
import { ExtraRepository, Host, Site } from "../../components/host";
import { Backend, SiteLoadBalancer } from "../../components/loadbalancer";
import { platformFor, zabbixLayout } from "../../components/platform";
import { ManagedDatabase, PatroniCluster, PostgresCluster, createDbPasswords, hbaRules, loadBalancerClients, randomPassword } from "../../components/postgres";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import { Frontend, ZabbixServerCluster } from "../../components/zabbix";

export interface SiteOptions {
    /** Which hosts of a site to deploy onto, with the roles they carry here (default: all, as configured). */
    readonly hosts?: (site: SiteConfig) => readonly HostConfig[];
    /** Packages a pattern adds per host name. */
    readonly extraPackages?: Readonly<Record<string, readonly string[]>>;
    /** apt repositories a pattern adds per host name. */
    readonly extraRepositories?: Readonly<Record<string, readonly ExtraRepository[]>>;
}

/**
 * Lets the SDK register the resources declared so far before the program declares more. The SDK
 * registers nothing until the program yields, and a resource waiting for its registration holds
 * about 100 kB of promises and closures: a 100-site plan declared in one go peaked at 300 MB of
 * them under the preview's mocks. The patterns yield once per site.
 */
export function registerDeclared(): Promise<void> {
    return new Promise(resolve => setImmediate(resolve));
}

/** Creates the Site components, one site at a time; returns every Host by name. */
export async function buildSites(config: StackConfig, sshPrivateKey: pulumi.Input<string>, options: SiteOptions = {}): Promise<Map<string, Host>> {
    const hosts = new Map<string, Host>();
    for (const site of config.sites) {
        const chosen = options.hosts ? options.hosts(site) : site.hosts;
        if (chosen.length === 0) {
            continue;
        }
        const built = new Site(site.name, { site: { ...site, hosts: chosen }, sshPrivateKey, zabbix: config.zabbix,
            extraPackages: options.extraPackages, extraRepositories: options.extraRepositories });
        Object.entries(built.hosts).forEach(([name, host]) => hosts.set(name, host));
        await registerDeclared();
    }
    return hosts;
}

/** Where an instance's database comes from. */
export type DatabaseChoice =
    | { readonly kind: "self-run"; readonly primarySite: string; readonly pair?: FallbackPair }
    | { readonly kind: "managed"; readonly endpoint: CloudConfig["database"]; readonly adminPassword: pulumi.Input<string> };

/**
 * The drbd section's pair: DRBD under PostgreSQL's data, Pacemaker running the given services. The
 * DRBD filesystem mounts at the data directory's parent (a fresh filesystem's root has lost+found
 * and is root's, so the data directory is created inside it).
 */
export function buildDrbdPair(
    name: string, config: StackConfig, hosts: ReadonlyMap<string, Host>, services: { zabbixServer?: string; web: readonly string[] },
): FallbackPair & { readonly hosts: readonly [Host, Host]; readonly component: DrbdPair } {
    const drbd = config.drbd!;
    const [first, second] = drbd.nodes.map(n => hosts.get(n)!);
    const postgres = platformFor(first.config.os).postgres;
    const all = { postgres: postgres.service, ...services };
    const mountPoint = posix.dirname(postgres.dataDir);
    const component = new DrbdPair(name, {
        nodes: [first, second],
        preferredNode: first.config.name,
        vip: { address: drbd.vip, cidrNetmask: drbd.vipPrefixLength, site: drbd.site },
        disk: drbd.disk,
        metaDisk: drbd.metaDisk,
        port: drbd.port,
        mountPoint,
        services: all,
        fencing: drbd.fencing,
    });
    return {
        nodes: drbd.nodes, vip: drbd.vip, mountPoint, dbResource: pacemakerIds({ drbdResource: DRBD_RESOURCE, services: all }).db,
        ready: component.configured, facts: component.facts, hosts: [first, second], component,
    };
}

/** Pattern 5's optional DRBD pair that holds the primary inside its site, behind a VIP. */
export interface FallbackPair {
    /** The pair's nodes, the first preferred (and planned as the primary). */
    readonly nodes: readonly [string, string];
    readonly vip: string;
    readonly mountPoint: string;
    readonly dbResource: string;
    /** The pair's CIB step: PostgreSQL runs on the pair only after it. */
    readonly ready: pulumi.Resource;
    /** What the pair declares, for the model. */
    readonly facts: PairFacts;
}

export interface InstanceScope {
    /** Prefix of the instance-wide components' names ("" for a stack's only instance). */
    readonly prefix: string;
    /** Instance name in the topology. */
    readonly name: string;
    /** Sites the instance spans. */
    readonly sites: readonly string[];
    readonly database: DatabaseChoice;
}

export interface BuiltInstance {
    /** Its components' facts, for the model. */
    readonly design: InstanceDesign;
    readonly loadBalancers: ReadonlyMap<string, SiteLoadBalancer>;
    readonly frontends: readonly Frontend[];
    readonly servers: ZabbixServerCluster;
    readonly uiUrls: Record<string, string>;
}

/** The settings of the server nodes that every pattern takes from the config as they are. */
export function serverSettings(config: StackConfig, dbPassword: pulumi.Input<string>) {
    return {
        listenPort: config.zabbix.listenPort,
        dbName: config.db.name,
        dbUser: config.db.user,
        dbPassword,
        failoverDelaySeconds: config.failoverDelaySeconds,
        sizing: sizeServer(config.load),
        load: config.load,
        packageSource: config.zabbix.packageSource,
    };
}

/** The settings of the frontends that every pattern takes from the config as they are. */
export function frontendSettings(config: StackConfig, dbPassword: pulumi.Input<string>) {
    return {
        dbName: config.db.name,
        dbUser: config.db.user,
        dbPassword,
        port: config.frontend.port,
        timezone: config.frontend.timezone,
        packageSource: config.zabbix.packageSource,
    };
}

/**
 * One complete Zabbix over the given sites: a load balancer per site (the UI, and the DB port that
 * follows the primary), the database, one server node per zabbix-server host, the frontends.
 */
export function buildInstance(config: StackConfig, hosts: ReadonlyMap<string, Host>, scope: InstanceScope): BuiltInstance {
    const inScope = (h: PlacedHost) => scope.sites.includes(h.site);
    // The scope's sites only: each of a per-site pattern's instances would otherwise walk every host.
    const scoped = { sites: config.sites.filter(s => scope.sites.includes(s.name)) };
    const host = (name: string) => hosts.get(name)!;
    const backend = (port: number) => (h: PlacedHost): Backend => ({ name: h.name, address: h.address, port });
    const selfRun = scope.database.kind === "self-run";
    const pair = scope.database.kind === "self-run" ? scope.database.pair : undefined;
    const dbHosts = selfRun ? hostsWithRole(scoped, "db") : [];
    // Patroni moves a primary between DB hosts; an installation of one site (patterns 1 and 2) has one.
    const patroni = selfRun && config.db.failover === "patroni" && dbHosts.length > 1;
    // The load balancers reach a fallback pair through its VIP, the other DB hosts directly; the
    // configured primary first (`balance first` prefers it), the others in name order.
    const configuredPrimary = scope.database.kind === "self-run" ? scope.database.primarySite : undefined;
    const dbBackends = [
        ...(pair ? [{ name: "db-pair-vip", address: pair.vip, port: config.db.port }] : []),
        ...dbHosts.filter(h => !pair?.nodes.includes(h.name))
            .sort((a, b) => Number(b.site === configuredPrimary) - Number(a.site === configuredPrimary) || a.name.localeCompare(b.name))
            .map(backend(config.db.port)),
    ];
    const frontends = hostsWithRole(scoped, "frontend");
    const servers = hostsWithRole(scoped, "zabbix-server");
    const lbHosts = hostsWithRole(scoped, "lb");
    const dbClients = [...hosts.values()].map(h => h.config).filter(inScope).map(h => h.address);
    const passwords = createDbPasswords(`${scope.prefix}zabbix-ha`, config.db.passwordRotation);

    const loadBalancers = new Map<string, SiteLoadBalancer>();
    for (const lb of lbHosts) {
        loadBalancers.set(lb.site, new SiteLoadBalancer(`${lb.site}-lb`, {
            host: host(lb.name),
            httpPort: config.loadBalancer.httpPort,
            localFrontends: frontends.filter(f => f.site === lb.site).map(backend(config.frontend.port)),
            remoteFrontends: frontends.filter(f => f.site !== lb.site).map(backend(config.frontend.port)),
            dbPort: config.loadBalancer.dbPort,
            dbServers: dbBackends,
            dbAllowedSources: [...dbClients, config.db.adminNetwork],
            checkPassword: selfRun ? passwords.check : undefined,
            dbCheck: patroni ? "patroni" : "query",
        }));
    }
    const siteLb = (site: string) => loadBalancers.get(site)!;
    // How a client in a site reaches the DB: its own load balancer, or the managed endpoint.
    // A managed endpoint's sslmode holds for every client, not only the provider's admin session.
    const dbPath = (site: string) => scope.database.kind === "managed"
        ? { dbHost: scope.database.endpoint.host, dbPort: scope.database.endpoint.port, dbTlsRequired: scope.database.endpoint.sslmode !== "disable" }
        : { dbHost: siteLb(site).address, dbPort: config.loadBalancer.dbPort };

    const sizing = sizeServer(config.load);
    // The schema loads from a server host, preferably in the primary's site (shortest path); the
    // first by name, so the same design in any config order loads it from the same host.
    const primarySite = scope.database.kind === "self-run" ? scope.database.primarySite : undefined;
    const serversByName = [...servers].sort((a, b) => a.name.localeCompare(b.name));
    const loader = serversByName.find(s => s.site === primarySite) ?? serversByName[0];
    const schema = {
        host: host(loader.name),
        ...dbPath(loader.site),
        files: zabbixLayout(platformFor(loader.os), config.zabbix.packageSource).schemaFiles,
        after: selfRun ? [siteLb(loader.site).configured] : [],
    };
    let database: PostgresCluster | PatroniCluster | ManagedDatabase;
    const hba = hbaRules({
        dbName: config.db.name,
        dbUser: config.db.user,
        dbHosts: dbHosts.map(h => h.address),
        clients: loadBalancerClients(lbHosts.map(h => h.address)),
        adminNetwork: config.db.adminNetwork,
    });
    if (patroni) {
        const primary = primaryHost(config, dbHosts, primarySite!);
        const adminLb = loadBalancers.get(primary.site) ?? firstLoadBalancer(loadBalancers);
        database = new PatroniCluster(`${scope.prefix}zabbix-db`, {
            primary: host(primary.name),
            replicas: dbHosts.filter(h => h !== primary).map(h => host(h.name)),
            witnesses: hostsWithRole(scoped, "witness").map(h => host(h.name)),
            port: config.db.port,
            dbName: config.db.name,
            dbUser: config.db.user,
            synchronous: config.db.replication === "sync",
            hbaRules: hba,
            maxConnections: postgresMaxConnections(sizing, frontends.length),
            adminEndpoint: { address: adminLb.address, port: adminLb.dbPort, loadBalancer: adminLb.host, readyAfter: [adminLb.configured] },
            passwords: { ...passwords, superuser: randomPassword(`${scope.prefix}zabbix-ha`, "superuser", config.db.passwordRotation.superuser) },
            schema,
        });
    } else if (scope.database.kind === "self-run") {
        const primary = pair ? dbHosts.find(h => h.name === pair.nodes[0])! : primaryHost(config, dbHosts, primarySite!);
        const adminLb = loadBalancers.get(primary.site) ?? firstLoadBalancer(loadBalancers);
        database = new PostgresCluster(`${scope.prefix}zabbix-db`, {
            primary: host(primary.name),
            replicas: dbHosts.filter(h => h !== primary && !pair?.nodes.includes(h.name)).map(h => host(h.name)),
            ...(pair ? {
                pairPeer: host(pair.nodes[1]),
                pairStorage: { mountPoint: pair.mountPoint, dbResource: pair.dbResource, vip: pair.vip },
                startAfter: [pair.ready],
            } : {}),
            port: config.db.port,
            dbName: config.db.name,
            dbUser: config.db.user,
            replication: config.db.replication,
            hbaRules: hba,
            maxConnections: postgresMaxConnections(sizing, frontends.length),
            adminEndpoint: { address: adminLb.address, port: adminLb.dbPort, loadBalancer: adminLb.host, readyAfter: [adminLb.configured] },
            passwords,
            schema,
        });
    } else {
        database = new ManagedDatabase(`${scope.prefix}zabbix-db`, {
            ...scope.database.endpoint,
            adminPassword: scope.database.adminPassword,
            dbName: config.db.name,
            dbUser: config.db.user,
            dbPassword: passwords.zabbix,
            zones: scope.sites,
            schema,
        });
    }

    const cluster = new ZabbixServerCluster(`${scope.prefix}zabbix-server`, {
        ...serverSettings(config, passwords.zabbix),
        // A node (and the failover delay, set from one) reaches the DB only once its site's balancer is configured.
        nodes: servers.map(s => ({ host: host(s.name), ...dbPath(s.site), dbReadyAfter: selfRun ? [siteLb(s.site).configured] : [] })),
        after: [database.schemaLoaded],
    });
    const builtFrontends = frontends.map(f => new Frontend(`${f.name}-frontend`, {
        ...frontendSettings(config, passwords.zabbix),
        host: host(f.name),
        ...dbPath(f.site),
        after: [...Object.values(cluster.nodes), siteLb(f.site).configured],
    }));

    return {
        design: {
            name: scope.name,
            servers: cluster.facts,
            database: database instanceof ManagedDatabase ? { managed: database.facts } : { selfRun: database.facts },
            frontends: builtFrontends.map(f => f.facts),
            loadBalancers: [...loadBalancers.values()].map(lb => lb.facts),
            ...(pair ? { pair: pair.facts } : {}),
        },
        loadBalancers,
        frontends: builtFrontends,
        servers: cluster,
        uiUrls: Object.fromEntries([...loadBalancers].map(([site, lb]) => [site, `http://${lb.address}:${lb.httpPort}/`])),
    };
}

/**
 * The primary site's DB host. A site holds two only as the drbd section's pair: its preferred node
 * (drbd.nodes is a preference), else the first by name, whatever the config order.
 */
function primaryHost(config: StackConfig, dbHosts: readonly PlacedHost[], site: string): PlacedHost {
    const preference = (h: PlacedHost) => { const i = config.drbd?.nodes.indexOf(h.name) ?? -1; return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
    return dbHosts.filter(h => h.site === site).sort((a, b) => preference(a) - preference(b) || a.name.localeCompare(b.name))[0];
}

/** Where the provider goes when the primary's site has no load balancer: the first site's by name, whatever the config order. */
function firstLoadBalancer(loadBalancers: ReadonlyMap<string, SiteLoadBalancer>): SiteLoadBalancer {
    return [...loadBalancers].sort(([a], [b]) => a.localeCompare(b))[0][1];
}

/** What a pattern built, by its components' facts: the model derives the topology from it. */
export function stackDesign(
    config: StackConfig, pattern: { id: number; name: string }, hosts: ReadonlyMap<string, Host>,
    instances: readonly InstanceDesign[], extra: Partial<Pick<StackDesign, "configSync" | "cloud">> = {},
): StackDesign {
    return {
        pattern: { id: pattern.id, name: pattern.name },
        sites: config.sites.map(s => ({ site: s.name, l2Segment: s.l2Segment })),
        hosts: [...hosts.values()].map(h => h.facts),
        cloud: extra.cloud ?? false,
        instances,
        configSync: extra.configSync,
    };
}
