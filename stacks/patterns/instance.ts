/**
 * One complete Zabbix installation over a set of sites: a load balancer per site (the UI, and the DB
 * port that follows the primary), the database (self-run by hand, by Patroni, or managed), one server
 * node per zabbix-server host and the frontends. Built in that order, each part from the last.
 */
import * as pulumi from "@pulumi/pulumi";
import { InstanceDesign } from "../../model";
import { PlacedHost, StackConfig, hostsWithRole } from "../../components/config";
import { Host } from "../../components/host";
import { Backend, SiteLoadBalancer, UI_HTTPS_PORT, uiUrl } from "../../components/loadbalancer";
import { platformFor, zabbixLayout } from "../../components/platform";
import {
    DbClientTls,
    DbPasswords,
    HbaRule,
    ManagedDatabase,
    PatroniCluster,
    PostgresCluster,
    SELF_RUN_DB_TLS,
    SchemaLoader,
    createDbPasswords,
    hbaRules,
    loadBalancerClients,
    managedDbTls,
    randomPassword,
} from "../../components/postgres";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import { Frontend, ZabbixServerCluster } from "../../components/zabbix";
import { DatabaseChoice, frontendSettings, serverSettings } from "./common";

export interface InstanceScope {
    /** Prefix of the instance-wide components' names ("" for a stack's only instance). */
    readonly prefix: string;
    /** Instance name in the topology. */
    readonly name: string;
    /** Sites the instance spans. */
    readonly sites: readonly string[];
    readonly database: DatabaseChoice;
    /** The bcrypt hash of the stack's Super Admin password, which its schema step sets (a secret). */
    readonly superAdminPasswordHash: pulumi.Input<string>;
}

export interface BuiltInstance {
    /** Its name in the topology. */
    readonly name: string;
    /** The sites it serves (its proxies and agents report to it). */
    readonly sites: readonly string[];
    /** Its components' facts, for the model. */
    readonly design: InstanceDesign;
    readonly loadBalancers: ReadonlyMap<string, SiteLoadBalancer>;
    readonly frontends: readonly Frontend[];
    readonly servers: ZabbixServerCluster;
    readonly uiUrls: Record<string, string>;
}

/** What every part of an instance is built from: the config, the scope and its hosts by role. */
interface Instance {
    readonly config: StackConfig;
    readonly scope: InstanceScope;
    readonly host: (name: string) => Host;
    readonly dbHosts: readonly PlacedHost[];
    readonly frontends: readonly PlacedHost[];
    readonly servers: readonly PlacedHost[];
    readonly lbHosts: readonly PlacedHost[];
    readonly witnesses: readonly PlacedHost[];
    /** Every host of the scope's sites: what may reach the DB port of a load balancer. */
    readonly dbClients: readonly string[];
    readonly passwords: DbPasswords;
    /** Patroni moves a primary between DB hosts; an installation of one site (patterns 1 and 2) has one. */
    readonly patroni: boolean;
}

/** How a client in a site reaches the DB. */
interface DbPath {
    readonly dbHost: string;
    readonly dbPort: number;
    readonly dbTls: DbClientTls;
}

const selfRun = (scope: InstanceScope) => (scope.database.kind === "self-run" ? scope.database : undefined);
const backend =
    (port: number) =>
    (h: PlacedHost): Backend => ({ name: h.name, address: h.address, port });

function instanceOf(config: StackConfig, hosts: ReadonlyMap<string, Host>, scope: InstanceScope): Instance {
    // The scope's sites only: each of a per-site pattern's instances would otherwise walk every host.
    const scoped = { sites: config.sites.filter(s => scope.sites.includes(s.name)) };
    const dbHosts = selfRun(scope) ? hostsWithRole(scoped, "db") : [];
    return {
        config,
        scope,
        dbHosts,
        host: name => hosts.get(name)!,
        frontends: hostsWithRole(scoped, "frontend"),
        servers: hostsWithRole(scoped, "zabbix-server"),
        lbHosts: hostsWithRole(scoped, "lb"),
        witnesses: hostsWithRole(scoped, "witness"),
        dbClients: [...hosts.values()]
            .map(h => h.config)
            .filter(h => scope.sites.includes(h.site))
            .map(h => h.address),
        passwords: createDbPasswords(`${scope.prefix}zabbix-ha`, config.db.passwordRotation),
        patroni: selfRun(scope) !== undefined && config.db.failover === "patroni" && dbHosts.length > 1,
    };
}

/**
 * The DB servers behind every load balancer's DB port: a fallback pair through its VIP, the other DB
 * hosts directly; the configured primary first (`balance first` prefers it), the others in name order.
 */
function dbBackends(i: Instance): Backend[] {
    const db = selfRun(i.scope);
    const pair = db?.pair;
    const port = i.config.db.port;
    return [
        ...(pair ? [{ name: "db-pair-vip", address: pair.vip, port }] : []),
        ...i.dbHosts
            .filter(h => !pair?.nodes.includes(h.name))
            .sort(
                (a, b) =>
                    Number(b.site === db?.primarySite) - Number(a.site === db?.primarySite) ||
                    a.name.localeCompare(b.name),
            )
            .map(backend(port)),
    ];
}

/** One load balancer per lb host, by site: the UI to the frontends, the DB port to the DB servers. */
function buildLoadBalancers(i: Instance): Map<string, SiteLoadBalancer> {
    const { config, frontends } = i;
    const dbServers = dbBackends(i);
    const loadBalancers = new Map<string, SiteLoadBalancer>();
    for (const lb of i.lbHosts) {
        loadBalancers.set(
            lb.site,
            new SiteLoadBalancer(`${lb.site}-lb`, {
                host: i.host(lb.name),
                httpPort: config.loadBalancer.httpPort,
                httpsPort: UI_HTTPS_PORT,
                localFrontends: frontends.filter(f => f.site === lb.site).map(backend(config.frontend.port)),
                remoteFrontends: frontends.filter(f => f.site !== lb.site).map(backend(config.frontend.port)),
                dbPort: config.loadBalancer.dbPort,
                dbServers,
                dbAllowedSources: [...i.dbClients, config.db.adminNetwork],
                checkPassword: selfRun(i.scope) ? i.passwords.check : undefined,
                dbCheck: i.patroni ? "patroni" : "query",
            }),
        );
    }
    return loadBalancers;
}

/**
 * How a client in a site reaches the DB: its own load balancer, or the managed endpoint. A managed
 * endpoint's sslmode (and its provider's CA) holds for every client, not only the provider's admin session.
 */
function dbPathIn(i: Instance, loadBalancers: ReadonlyMap<string, SiteLoadBalancer>): (site: string) => DbPath {
    const database = i.scope.database;
    if (database.kind === "managed") {
        const e = database.endpoint;
        return () => ({ dbHost: e.host, dbPort: e.port, dbTls: managedDbTls(e.sslmode) });
    }
    return site => ({
        dbHost: loadBalancers.get(site)!.address,
        dbPort: i.config.loadBalancer.dbPort,
        dbTls: SELF_RUN_DB_TLS,
    });
}

/** The steps that may reach the DB through a site's balancer run only once it is configured. */
function balancerReady(
    i: Instance,
    loadBalancers: ReadonlyMap<string, SiteLoadBalancer>,
    site: string,
): pulumi.Resource[] {
    return selfRun(i.scope) ? [loadBalancers.get(site)!.configured] : [];
}

/**
 * The schema loads from a server host, preferably in the primary's site (shortest path); the first
 * by name, so the same design in any config order loads it from the same host.
 */
function schemaLoad(
    i: Instance,
    loadBalancers: ReadonlyMap<string, SiteLoadBalancer>,
    dbPath: (site: string) => DbPath,
): SchemaLoader {
    const serversByName = [...i.servers].sort((a, b) => a.name.localeCompare(b.name));
    const loader = serversByName.find(s => s.site === selfRun(i.scope)?.primarySite) ?? serversByName[0];
    return {
        host: i.host(loader.name),
        ...dbPath(loader.site),
        files: zabbixLayout(platformFor(loader.os), i.config.zabbix.packageSource).schemaFiles,
        superAdminPasswordHash: i.scope.superAdminPasswordHash,
        after: balancerReady(i, loadBalancers, loader.site),
    };
}

/** What the self-run clusters share: the DB's settings, who may connect, and the provider's way in. */
function selfRunSettings(
    i: Instance,
    loadBalancers: ReadonlyMap<string, SiteLoadBalancer>,
    primary: PlacedHost,
    hba: HbaRule[],
) {
    const { config } = i;
    const adminLb = loadBalancers.get(primary.site) ?? firstLoadBalancer(loadBalancers);
    return {
        port: config.db.port,
        dbName: config.db.name,
        dbUser: config.db.user,
        hbaRules: hba,
        maxConnections: postgresMaxConnections(sizeServer(config.load), i.frontends.length),
        adminEndpoint: {
            address: adminLb.address,
            port: adminLb.dbPort,
            loadBalancer: adminLb.host,
            readyAfter: [adminLb.configured],
        },
    };
}

function buildDatabase(
    i: Instance,
    loadBalancers: ReadonlyMap<string, SiteLoadBalancer>,
    schema: SchemaLoader,
): PostgresCluster | PatroniCluster | ManagedDatabase {
    const { config, scope, passwords } = i;
    const name = `${scope.prefix}zabbix-db`;
    const db = scope.database;
    if (db.kind === "managed") {
        return new ManagedDatabase(name, {
            ...db.endpoint,
            adminPassword: db.adminPassword,
            dbName: config.db.name,
            dbUser: config.db.user,
            dbPassword: passwords.zabbix,
            zones: scope.sites,
            schema,
        });
    }
    const hba = hbaRules({
        dbName: config.db.name,
        dbUser: config.db.user,
        dbHosts: i.dbHosts.map(h => h.address),
        clients: loadBalancerClients(i.lbHosts.map(h => h.address)),
        adminNetwork: config.db.adminNetwork,
    });
    if (i.patroni) {
        const primary = primaryHost(config, i.dbHosts, db.primarySite);
        return new PatroniCluster(name, {
            ...selfRunSettings(i, loadBalancers, primary, hba),
            primary: i.host(primary.name),
            replicas: i.dbHosts.filter(h => h !== primary).map(h => i.host(h.name)),
            witnesses: i.witnesses.map(h => i.host(h.name)),
            synchronous: config.db.replication === "sync",
            passwords: {
                ...passwords,
                superuser: randomPassword(
                    `${scope.prefix}zabbix-ha`,
                    "superuser",
                    config.db.passwordRotation.superuser,
                ),
                restApi: randomPassword(`${scope.prefix}zabbix-ha`, "patroni-rest"),
            },
            restApiClients: { loadBalancers: i.lbHosts.map(h => h.address), adminNetwork: config.db.adminNetwork },
            schema,
        });
    }
    const pair = db.pair;
    const primary = pair
        ? i.dbHosts.find(h => h.name === pair.nodes[0])!
        : primaryHost(config, i.dbHosts, db.primarySite);
    return new PostgresCluster(name, {
        ...selfRunSettings(i, loadBalancers, primary, hba),
        primary: i.host(primary.name),
        replicas: i.dbHosts.filter(h => h !== primary && !pair?.nodes.includes(h.name)).map(h => i.host(h.name)),
        ...(pair
            ? {
                  pairPeer: i.host(pair.nodes[1]),
                  pairStorage: { mountPoint: pair.mountPoint, dbResource: pair.dbResource, vip: pair.vip },
                  startAfter: [pair.ready],
              }
            : {}),
        replication: config.db.replication,
        passwords,
        schema,
    });
}

/**
 * One complete Zabbix over the given sites: a load balancer per site (the UI, and the DB port that
 * follows the primary), the database, one server node per zabbix-server host, the frontends.
 */
export function buildInstance(
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    scope: InstanceScope,
): BuiltInstance {
    const i = instanceOf(config, hosts, scope);
    const loadBalancers = buildLoadBalancers(i);
    const dbPath = dbPathIn(i, loadBalancers);
    const database = buildDatabase(i, loadBalancers, schemaLoad(i, loadBalancers, dbPath));
    const cluster = new ZabbixServerCluster(`${scope.prefix}zabbix-server`, {
        ...serverSettings(config, i.passwords.zabbix),
        // A node (and the failover delay, set from one) reaches the DB only once its site's balancer is configured.
        nodes: i.servers.map(s => ({
            host: i.host(s.name),
            ...dbPath(s.site),
            dbReadyAfter: balancerReady(i, loadBalancers, s.site),
        })),
        after: [database.schemaLoaded],
    });
    const frontends = i.frontends.map(
        f =>
            new Frontend(`${f.name}-frontend`, {
                ...frontendSettings(config, i.passwords.zabbix),
                host: i.host(f.name),
                ...dbPath(f.site),
                after: [...Object.values(cluster.nodes), loadBalancers.get(f.site)!.configured],
            }),
    );
    const pair = selfRun(scope)?.pair;
    return {
        name: scope.name,
        sites: scope.sites,
        design: {
            name: scope.name,
            servers: cluster.facts,
            database: database instanceof ManagedDatabase ? { managed: database.facts } : { selfRun: database.facts },
            frontends: frontends.map(f => f.facts),
            loadBalancers: [...loadBalancers.values()].map(lb => lb.facts),
            ...(pair ? { pair: pair.facts } : {}),
        },
        loadBalancers,
        frontends,
        servers: cluster,
        uiUrls: Object.fromEntries([...loadBalancers].map(([site, lb]) => [site, uiUrl(lb.address, lb.httpsPort)])),
    };
}

/**
 * The primary site's DB host. A site holds two only as the drbd section's pair: its preferred node
 * (drbd.nodes is a preference), else the first by name, whatever the config order.
 */
function primaryHost(config: StackConfig, dbHosts: readonly PlacedHost[], site: string): PlacedHost {
    const preference = (h: PlacedHost) => {
        const i = config.drbd?.nodes.indexOf(h.name) ?? -1;
        return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return dbHosts
        .filter(h => h.site === site)
        .sort((a, b) => preference(a) - preference(b) || a.name.localeCompare(b.name))[0];
}

/** Where the provider goes when the primary's site has no load balancer: the first site's by name, whatever the config order. */
function firstLoadBalancer(loadBalancers: ReadonlyMap<string, SiteLoadBalancer>): SiteLoadBalancer {
    return [...loadBalancers].sort(([a], [b]) => a.localeCompare(b))[0][1];
}
