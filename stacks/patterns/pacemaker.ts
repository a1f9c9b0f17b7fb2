import { Role, allHosts } from "../../components/config";
import { uiUrl } from "../../components/loadbalancer";
import { platformFor, zabbixLayout } from "../../components/platform";
import { PostgresCluster, SELF_RUN_DB_TLS, createDbPasswords, hbaRules } from "../../components/postgres";
import { postgresMaxConnections, sizeServer } from "../../components/sizing";
import { Frontend, ZabbixServerCluster } from "../../components/zabbix";
import { PatternModule } from "./types";
import {
    buildDrbdPair,
    buildPki,
    buildSites,
    frontendSettings,
    serverSettings,
    stackDesign,
    withFirewalls,
} from "./common";
import { withDataPath } from "./dataPath";

/** What every node of the pair runs: Pacemaker starts DB, server and web on one node at a time. */
const PAIR_ROLES: readonly Role[] = ["db", "zabbix-server", "frontend"];
/** What any host may carry beside the pair: a proxy and agent 2 in front of the pair's server. */
const DATA_PATH_ROLES: readonly Role[] = ["proxy", "agent"];

/**
 * Pattern 3: the second seed's classic pair in ONE site. DRBD mirrors the DB disk; Pacemaker moves
 * a group (filesystem, VIP, PostgreSQL, Zabbix server, web) to the surviving node, with fencing.
 * A VIP cannot span L3 sites, so the other site gets nothing automatic.
 */
export const pacemaker: PatternModule = {
    id: 3,
    name: "pacemaker",
    summary: "DRBD + Pacemaker pair with a VIP in one site; the other site gets nothing automatic",
    requirements: { minSites: 1, requiredRoles: [], selfRunDatabase: false, sections: ["drbd"] },
    async deploy(config, secrets) {
        const drbd = config.drbd!;
        const pki = buildPki(config, secrets.pkiCaPrivateKey);
        const hosts = await buildSites(config, secrets.sshPrivateKey, pki, {
            // The pair's nodes run the whole Zabbix; other hosts only what fronts any server (proxies, agents).
            hosts: site =>
                site.hosts
                    .map(h => ({
                        ...h,
                        roles: drbd.nodes.includes(h.name)
                            ? [...PAIR_ROLES, ...h.roles.filter(r => r === "agent")]
                            : h.roles.filter(r => DATA_PATH_ROLES.includes(r)),
                    }))
                    .filter(h => h.roles.length > 0),
            extraPackages: Object.fromEntries(
                allHosts(config)
                    .filter(h => drbd.nodes.includes(h.name))
                    .map(h => [h.name, platformFor(h.os).packages.pair]),
            ),
        });
        const platform = platformFor(hosts.get(drbd.nodes[0])!.config.os);
        const layout = zabbixLayout(platform, config.zabbix.packageSource);
        const pair = buildDrbdPair(
            "zabbix-pair",
            config,
            hosts,
            { zabbixServer: layout.serverService, web: [platform.phpFpm.service, "nginx"] },
            secrets.fencePassword,
        );
        const [first, second] = pair.hosts;
        const passwords = createDbPasswords("zabbix-ha", config.db.passwordRotation);
        const nodes = [first, second].map(h => h.config.address);
        const sizing = sizeServer(config.load);
        const db = new PostgresCluster("zabbix-db", {
            primary: first,
            replicas: [],
            pairPeer: second,
            pairStorage: { mountPoint: pair.mountPoint, dbResource: pair.dbResource, vip: pair.vip },
            port: config.db.port,
            dbName: config.db.name,
            dbUser: config.db.user,
            replication: config.db.replication,
            // Clients are the pair's own nodes, connecting to the VIP from their address or the VIP itself.
            hbaRules: hbaRules({
                dbName: config.db.name,
                dbUser: config.db.user,
                dbHosts: nodes,
                adminNetwork: config.db.adminNetwork,
                clients: [
                    ...nodes.map(address => ({ address, kind: "pair-node" as const })),
                    { address: drbd.vip, kind: "pair-vip" },
                ],
            }),
            maxConnections: postgresMaxConnections(sizing, 2),
            adminEndpoint: { address: drbd.vip, port: config.db.port, readyAfter: [pair.ready] },
            passwords,
            schema: {
                host: first,
                dbHost: drbd.vip,
                dbPort: config.db.port,
                dbTls: SELF_RUN_DB_TLS,
                files: layout.schemaFiles,
                superAdminPasswordHash: secrets.superAdmin.bcryptHash,
                after: [pair.ready],
            },
            startAfter: [pair.ready],
        });
        const servers = new ZabbixServerCluster("zabbix-server", {
            ...serverSettings(config, passwords.zabbix),
            nodes: [first, second].map(host => ({
                host,
                dbHost: drbd.vip,
                dbPort: config.db.port,
                dbTls: SELF_RUN_DB_TLS,
            })),
            agentAddress: drbd.vip,
            after: [db.schemaLoaded],
            runBy: "cluster-manager",
        });
        const frontends = [first, second].map(
            host =>
                new Frontend(`${host.config.name}-frontend`, {
                    ...frontendSettings(config, passwords.zabbix),
                    host,
                    dbHost: drbd.vip,
                    dbPort: config.db.port,
                    dbTls: SELF_RUN_DB_TLS,
                    // Users reach the active node's UI at the VIP (no load balancer in this pattern).
                    servesAtPairVip: true,
                    after: Object.values(servers.nodes),
                    runBy: "cluster-manager",
                }),
        );
        const uiUrls = { [drbd.site]: uiUrl(drbd.vip, config.frontend.port) };
        return withFirewalls(config, hosts, {
            design: withDataPath(
                config,
                hosts,
                stackDesign(config, this, hosts, [
                    {
                        name: "zabbix",
                        servers: servers.facts,
                        database: { selfRun: db.facts },
                        frontends: frontends.map(f => f.facts),
                        loadBalancers: [],
                        pair: pair.facts,
                    },
                ]),
                [{ name: "zabbix", sites: [drbd.site], servers, frontends, uiUrls }],
                secrets.superAdmin.password,
            ),
            caCertificate: pki.caCertPem,
            uiUrls,
        });
    },
};
