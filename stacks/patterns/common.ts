/**
 * Building blocks the patterns share: the sites and hosts, the drbd section's pair, the settings
 * every pattern passes on as configured, and the stack's design for the model.
 */
import * as pulumi from "@pulumi/pulumi";
import { InstanceDesign, StackDesign } from "../../model";
import { CloudConfig, HostConfig, Role, SiteConfig, StackConfig } from "../../components/config";
import { posix } from "path";
import { DRBD_RESOURCE, DrbdPair, pacemakerIds } from "../../components/drbd";
import { PairFacts } from "../../components/facts";
import { ExtraRepository, Host, HostTlsArgs, Site } from "../../components/host";
import { StackPki, certificateNames } from "../../components/pki";
import { HostFirewall, hostFlows } from "../../components/firewall";
import { platformFor } from "../../components/platform";
import { sizeServer } from "../../components/sizing";
import { PatternOutputs } from "./types";

export interface SiteOptions {
    /** Which hosts of a site to deploy onto, with the roles they carry here (default: all, as configured). */
    readonly hosts?: (site: SiteConfig) => readonly HostConfig[];
    /** Packages a pattern adds per host name. */
    readonly extraPackages?: Readonly<Record<string, readonly string[]>>;
    /** apt repositories a pattern adds per host name. */
    readonly extraRepositories?: Readonly<Record<string, readonly ExtraRepository[]>>;
    /** A managed database's CA bundle (PEM): installed on every host that reaches the database (its clients' roles). */
    readonly databaseCaCertPem?: string;
}

/** The roles whose hosts open sessions to the Zabbix database: the server nodes (the schema loader too) and the frontends. */
const DB_CLIENT_ROLES: readonly Role[] = ["zabbix-server", "frontend"];

/**
 * Lets the SDK register the resources declared so far before the program declares more. The SDK
 * registers nothing until the program yields, and a resource waiting for its registration holds
 * about 100 kB of promises and closures: a 100-site plan declared in one go peaked at 300 MB of
 * them under the preview's mocks. The patterns yield once per site.
 */
export function registerDeclared(): Promise<void> {
    return new Promise(resolve => setImmediate(resolve));
}

/** The stack's PKI: its own CA, or the operator's (pki.caCertificate with the secret pkiCaPrivateKey). */
export function buildPki(config: StackConfig, caPrivateKey: pulumi.Input<string> | undefined): StackPki {
    const ca = config.pki.caCertificate;
    return new StackPki("zabbix-pki", {
        stack: pulumi.getStack(),
        rotation: config.pki.rotation,
        ...(ca && caPrivateKey !== undefined ? { ca: { certPem: ca, privateKeyPem: caPrivateKey } } : {}),
    });
}

/** Creates the Site components, one site at a time; returns every Host by name. */
export async function buildSites(
    config: StackConfig,
    sshPrivateKey: pulumi.Input<string>,
    pki: StackPki,
    options: SiteOptions = {},
): Promise<Map<string, Host>> {
    const hosts = new Map<string, Host>();
    for (const site of config.sites) {
        const chosen = options.hosts ? options.hosts(site) : site.hosts;
        if (chosen.length === 0) {
            continue;
        }
        const tls = Object.fromEntries(
            chosen.map((h): [string, HostTlsArgs] => [
                h.name,
                {
                    certificate: pki.hostCertificate(h.name, certificateNames(config, { ...h, site: site.name })),
                    etcdMember:
                        h.roles.includes("witness") || (h.roles.includes("db") && config.db.failover === "patroni"),
                    ...(options.databaseCaCertPem && h.roles.some(r => DB_CLIENT_ROLES.includes(r))
                        ? { databaseCaCertPem: options.databaseCaCertPem }
                        : {}),
                },
            ]),
        );
        const built = new Site(site.name, {
            site: { ...site, hosts: chosen },
            tls,
            sshPrivateKey,
            zabbix: config.zabbix,
            extraPackages: options.extraPackages,
            extraRepositories: options.extraRepositories,
            firewall: config.firewall.enabled,
        });
        Object.entries(built.hosts).forEach(([name, host]) => hosts.set(name, host));
        await registerDeclared();
    }
    return hosts;
}

/** Where an instance's database comes from. */
export type DatabaseChoice =
    | { readonly kind: "self-run"; readonly primarySite: string; readonly pair?: FallbackPair }
    | {
          readonly kind: "managed";
          readonly endpoint: CloudConfig["database"];
          readonly adminPassword: pulumi.Input<string>;
      };

/**
 * The drbd section's pair: DRBD under PostgreSQL's data, Pacemaker running the given services. The
 * DRBD filesystem mounts at the data directory's parent (a fresh filesystem's root has lost+found
 * and is root's, so the data directory is created inside it). The secret fencePassword, when set,
 * goes to both nodes' FENCE_PASSWORD_FILE, which the devices' password_script prints.
 */
export function buildDrbdPair(
    name: string,
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    services: { zabbixServer?: string; web: readonly string[] },
    fencePassword: pulumi.Input<string> | undefined,
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
        fencing: { ...drbd.fencing, ...(fencePassword !== undefined ? { password: fencePassword } : {}) },
    });
    return {
        nodes: drbd.nodes,
        vip: drbd.vip,
        mountPoint,
        dbResource: pacemakerIds({ drbdResource: DRBD_RESOURCE, services: all }).db,
        ready: component.configured,
        facts: component.facts,
        hosts: [first, second],
        component,
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
        zabbixVersion: config.zabbix.version,
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

/** What a pattern built, by its components' facts: the model derives the topology from it. */
export function stackDesign(
    config: StackConfig,
    pattern: { id: number; name: string },
    hosts: ReadonlyMap<string, Host>,
    instances: readonly InstanceDesign[],
    extra: Partial<Pick<StackDesign, "configSync" | "cloud">> = {},
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

/**
 * A pattern's outputs, once (with firewall.enabled) every deployed host loads a firewall that admits
 * what the design needs: its flows follow from the components' facts, never from the pattern.
 * `uiClients` are hosts of the stack that reach every load balancer's UI (pattern 2's config sync).
 */
export function withFirewalls(
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    outputs: PatternOutputs,
    uiClients: readonly string[] = [],
): PatternOutputs {
    if (config.firewall.enabled) {
        for (const flows of hostFlows({ design: outputs.design, config, uiClients })) {
            new HostFirewall(`${flows.host}-firewall`, { host: hosts.get(flows.host)!, flows });
        }
    }
    return outputs;
}
