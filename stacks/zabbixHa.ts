import * as pulumi from "@pulumi/pulumi";
import { StackConfig, allHosts, hostsWithRole, primaryDbHost, replicaDbHosts } from "../components/config";
import { Host, Site } from "../components/host";
import { Backend, SiteLoadBalancer } from "../components/loadbalancer";
import { platformFor, zabbixLayout } from "../components/platform";
import { PostgresCluster, createDbPasswords, hbaRules } from "../components/postgres";
import { postgresMaxConnections, sizeServer } from "../components/sizing";
import { Frontend, ZabbixServerCluster } from "../components/zabbix";

/** What the pattern-5 stack exports. */
export interface ZabbixHaOutputs {
    /** The Zabbix UI through each site's load balancer. */
    readonly uiUrls: Record<string, string>;
    readonly dbPrimary: string;
    readonly dbReplicas: string[];
    readonly haNodes: string[];
    readonly failoverDelaySeconds: number;
}

/**
 * Pattern 5 of the design study: Zabbix native HA nodes across L3 sites with no VIP, a PostgreSQL
 * primary with streaming replicas in other sites, and frontends behind each site's own load balancer.
 */
export function deployZabbixHa(config: StackConfig, sshPrivateKey: pulumi.Input<string>): ZabbixHaOutputs {
    const sites = config.sites.map(site => new Site(site.name, { site, sshPrivateKey, zabbix: config.zabbix }));
    const hosts = new Map<string, Host>(sites.flatMap(site => Object.entries(site.hosts)));
    const host = (name: string) => hosts.get(name)!;
    const passwords = createDbPasswords("zabbix-ha");

    const backend = (port: number) => (h: { name: string; address: string }): Backend => ({ name: h.name, address: h.address, port });
    const dbHosts = hostsWithRole(config, "db");
    const frontends = hostsWithRole(config, "frontend");
    const loadBalancers = new Map<string, SiteLoadBalancer>();
    for (const lb of hostsWithRole(config, "lb")) {
        loadBalancers.set(lb.site, new SiteLoadBalancer(`${lb.site}-lb`, {
            host: host(lb.name),
            httpPort: config.loadBalancer.httpPort,
            localFrontends: frontends.filter(f => f.site === lb.site).map(backend(config.frontend.port)),
            remoteFrontends: frontends.filter(f => f.site !== lb.site).map(backend(config.frontend.port)),
            dbPort: config.loadBalancer.dbPort,
            dbServers: dbHosts.map(backend(config.db.port)),
            dbAllowedSources: [...allHosts(config).map(h => h.address), config.db.adminNetwork],
            checkPassword: passwords.check,
        }));
    }
    // Clients of a site reach the DB and UI through that site's own load balancer.
    const siteLb = (site: string) => loadBalancers.get(site)!;

    const primary = primaryDbHost(config);
    const servers = hostsWithRole(config, "zabbix-server");
    // The schema loads from a server host, preferably in the primary's site (shortest path).
    const loader = servers.find(s => s.site === primary.site) ?? servers[0];
    const adminLb = loadBalancers.get(primary.site) ?? [...loadBalancers.values()][0];
    const sizing = sizeServer(config.load);
    const db = new PostgresCluster("zabbix-db", {
        primary: host(primary.name),
        replicas: replicaDbHosts(config).map(h => host(h.name)),
        port: config.db.port,
        dbName: config.db.name,
        dbUser: config.db.user,
        replication: config.db.replication,
        hbaRules: hbaRules({
            dbName: config.db.name,
            dbUser: config.db.user,
            dbHosts: dbHosts.map(h => h.address),
            loadBalancers: hostsWithRole(config, "lb").map(h => h.address),
            adminNetwork: config.db.adminNetwork,
        }),
        maxConnections: postgresMaxConnections(sizing, frontends.length),
        adminEndpoint: { host: adminLb.host, port: adminLb.dbPort, readyAfter: [adminLb.configured] },
        passwords,
        schema: {
            host: host(loader.name),
            dbHost: siteLb(loader.site).address,
            dbPort: config.loadBalancer.dbPort,
            files: zabbixLayout(platformFor(loader.os), config.zabbix.packageSource).schemaFiles,
            after: [siteLb(loader.site).configured],
        },
    });

    const cluster = new ZabbixServerCluster("zabbix-server", {
        nodes: servers.map(s => ({ host: host(s.name), dbHost: siteLb(s.site).address, dbPort: config.loadBalancer.dbPort })),
        listenPort: config.zabbix.listenPort,
        dbName: config.db.name,
        dbUser: config.db.user,
        dbPassword: passwords.zabbix,
        failoverDelaySeconds: config.failoverDelaySeconds,
        sizing,
        packageSource: config.zabbix.packageSource,
        after: [db.schemaLoaded],
    });

    for (const f of frontends) {
        new Frontend(`${f.name}-frontend`, {
            host: host(f.name),
            dbHost: siteLb(f.site).address,
            dbPort: config.loadBalancer.dbPort,
            dbName: config.db.name,
            dbUser: config.db.user,
            dbPassword: passwords.zabbix,
            port: config.frontend.port,
            timezone: config.frontend.timezone,
            packageSource: config.zabbix.packageSource,
            after: [...Object.values(cluster.nodes), siteLb(f.site).configured],
        });
    }

    return {
        uiUrls: Object.fromEntries([...loadBalancers].map(([site, lb]) => [site, `http://${lb.address}:${lb.httpPort}/`])),
        dbPrimary: primary.name,
        dbReplicas: replicaDbHosts(config).map(h => h.name),
        haNodes: servers.map(s => s.name),
        failoverDelaySeconds: config.failoverDelaySeconds,
    };
}
