/**
 * The stack configuration after validation: every default filled in, every value checked.
 * Components take these types; the raw Pulumi config never reaches them.
 */

/** What a host does. A host may carry several roles (a small site puts all of them on one host). */

/** The pattern a stack builds when `zabbix-ha:pattern` is not set: the study's choice. */
export const DEFAULT_PATTERN = "zabbix-ha";

/**
 * `proxy`: a Zabbix proxy (active, SQLite) that the site's monitored hosts report through;
 * `agent`: a monitored host the stack logs into and runs Zabbix agent 2 on (components/proxy).
 */
export type Role = "db" | "zabbix-server" | "frontend" | "lb" | "witness" | "proxy" | "agent";
export const ROLES: readonly Role[] = ["db", "zabbix-server", "frontend", "lb", "witness", "proxy", "agent"];

/** The roles whose packages come from the Zabbix package source (the vendor's repository, or the distribution). */
export const ZABBIX_PACKAGE_ROLES: readonly Role[] = ["zabbix-server", "frontend", "proxy", "agent"];

/** Operating systems whose package steps the library knows. */
export type OsFamily = "debian12" | "debian13" | "ubuntu22.04" | "ubuntu24.04" | "rhel9";
export const OS_FAMILIES: readonly OsFamily[] = ["debian12", "debian13", "ubuntu22.04", "ubuntu24.04", "rhel9"];

export type ZabbixVersion = "6.0" | "7.0";
export const ZABBIX_VERSIONS: readonly ZabbixVersion[] = ["6.0", "7.0"];

/** Where Zabbix packages come from: the vendor's repository, or the distribution's own archive. */
export type PackageSource = "vendor" | "distribution";

export type ReplicationMode = "async" | "sync";

/** The DB roles whose passwords the stack generates (Patroni's superuser only with Patroni). */
export type PasswordRole = "admin" | "check" | "replication" | "zabbix" | "superuser";
export const PASSWORD_ROLES: readonly PasswordRole[] = ["admin", "check", "replication", "zabbix", "superuser"];

export interface HostConfig {
    /** Host name; unique across all sites, used for HA node names and replication slot names. */
    readonly name: string;
    /** IPv4 address inside the site's network; SSH, Zabbix and PostgreSQL all use it. */
    readonly address: string;
    readonly roles: readonly Role[];
    /** User that SSH logs in as; non-root users run the steps through `sudo -n`. */
    readonly sshUser: string;
    readonly sshPort: number;
    /**
     * The host's SSH public key, pinned ("<type> <base64>", sshHostKey.ts): every step's connection
     * verifies it before sending anything. Optional here; the policy pack's `ssh-host-key-pinned` requires it.
     */
    readonly sshHostKey?: string;
    readonly os: OsFamily;
    /** CPU cores and memory, when known: checked against Zabbix's hardware table for the load. */
    readonly cpus?: number;
    readonly memoryGiB?: number;
}

export interface SiteConfig {
    /** Site (data centre) name, a DNS label. */
    readonly name: string;
    /** The site's L3 network in CIDR form; sites are joined by routing only. */
    readonly network: string;
    /** Whether the site offers an L2 segment where a VIP could live (only DRBD fallbacks use it). */
    readonly l2Segment: boolean;
    /**
     * The site is lost (down, or cut off from where `pulumi up` runs): nothing is changed on its hosts,
     * so a failover away from it never waits for it. Cleared once it is back, when the next
     * `pulumi up` brings its hosts up to date (a former primary there rejoins as a replica).
     */
    readonly lost: boolean;
    readonly hosts: readonly HostConfig[];
}

export interface ZabbixConfig {
    readonly version: ZabbixVersion;
    readonly packageSource: PackageSource;
    /** Base URL of the vendor's package repository or of your mirror of it (vendor source only). */
    readonly repositoryUrl?: string;
    /**
     * SHA-256 (lower-case hex) of the vendor's zabbix-release package per OS family of the hosts
     * that install Zabbix (vendor source only), checked before the package step installs it.
     */
    readonly releasePackageSha256?: Readonly<Partial<Record<OsFamily, string>>>;
    /** Port the Zabbix server nodes listen on (agents' active checks, the frontend); proxies listen on it too. */
    readonly listenPort: number;
    /**
     * zabbix.dataPathCheckInterval, in seconds: how often each agent host sends the data path check's
     * sequence number (components/proxy/dataPathCheck.ts), whose gaps show lost values.
     */
    readonly dataPathCheckSeconds: number;
    /**
     * The proxy groups (7.0): every `proxy` host is in exactly one. Without the section, one group
     * of every site's proxies (one per site where each site runs its own installation); none
     * without proxy hosts.
     */
    readonly proxyGroups: readonly ProxyGroupConfig[];
}

/** One Zabbix proxy group: the proxies that share its hosts, and when the server moves them. */
export interface ProxyGroupConfig {
    /** The group's name in Zabbix. */
    readonly name: string;
    /** Host names of its proxies (hosts with the proxy role), sorted. */
    readonly proxies: readonly string[];
    /** Seconds a proxy may stay silent before the server counts it offline and moves its hosts (10 s to 15 min). */
    readonly failoverDelaySeconds: number;
    /** How many proxies must be online for the group to count as online (1 to the group's size). */
    readonly minOnline: number;
}

export interface DbConfig {
    /** Site whose DB host is the PostgreSQL primary; changing it and running `pulumi up` is a switchover. */
    readonly primarySite: string;
    readonly replication: ReplicationMode;
    /** PostgreSQL's own port on the DB hosts. */
    readonly port: number;
    /** Zabbix database and its owner role. */
    readonly name: string;
    readonly user: string;
    /**
     * Pattern 5: the primary site's DB is a DRBD + Pacemaker pair (the `drbd` section) behind a VIP on
     * its L2 segment, so a DB host's crash fails over inside the site; other sites still replicate.
     */
    readonly fallbackPair: boolean;
    /**
     * How a new primary appears: `manual` (change db.primarySite and run `pulumi up`), or `patroni`
     * (Patroni on every DB host, etcd members on DB and witness hosts in three or more sites).
     */
    readonly failover: "manual" | "patroni";
    /**
     * An apt repository that offers Patroni 3.0.3 or newer (the PostgreSQL project's, or your mirror
     * of it), added on the DB hosts before their packages install. Required with patroni where the
     * distribution's own Patroni is older (Debian 12, Ubuntu 22.04).
     */
    readonly patroniRepository?: AptRepository;
    /**
     * How many times each generated DB password was rotated (`admin`, `check`, `replication`,
     * `zabbix`, `superuser`; 0 by default): raising a count makes a new password, which `pulumi up`
     * sets on the role and on every host that uses it.
     */
    readonly passwordRotation: Readonly<Partial<Record<PasswordRole, number>>>;
    /**
     * The network `pulumi up` runs from. The PostgreSQL provider connects from there, through the
     * primary site's load balancer, to create roles and the database; the load balancer and hba admit it.
     */
    readonly adminNetwork: string;
}

/** One extra apt source: `deb [signed-by=...] url suite components`. */
export interface AptRepository {
    /** Base URL (http, https, or file: for a local repository). */
    readonly url: string;
    /** Suite (`bookworm-pgdg`), or `./` for a flat repository. */
    readonly suite: string;
    readonly components: readonly string[];
    /** URL of the repository's ASCII-armoured signing key, fetched to the host's apt keyrings. */
    readonly keyUrl?: string;
    /** An unsigned local (file:) repository you built yourself; never one reached over a network. */
    readonly trusted: boolean;
}

export interface LoadBalancerConfig {
    /** HTTP port of the Zabbix UI on each site's load balancer. */
    readonly httpPort: number;
    /** Port on each load balancer that forwards to the current read-write PostgreSQL primary. */
    readonly dbPort: number;
}

export interface FrontendConfig {
    /** Port nginx serves the Zabbix UI on, behind the load balancers. */
    readonly port: number;
    /** PHP time zone for the frontend. */
    readonly timezone: string;
}

/** Expected monitoring load, for sizing caches and process counts. */
export interface LoadConfig {
    readonly monitoredHosts: number;
    readonly items: number;
    /** Average item update interval in seconds. */
    readonly updateIntervalSeconds: number;
}

/** The DRBD + Pacemaker pair of pattern 3: two hosts of one site with an L2 segment, and a VIP. */
export interface DrbdConfig {
    readonly site: string;
    /** The pair's host names; the first is preferred. */
    readonly nodes: readonly [string, string];
    /** The VIP on the site's L2 segment, and its prefix length (the site network's). */
    readonly vip: string;
    readonly vipPrefixLength: number;
    /** Backing partition and dedicated meta-disk partition, same names on both nodes. */
    readonly disk: string;
    readonly metaDisk: string;
    readonly port: number;
    readonly fencing: FencingConfig;
}

export interface FencingConfig {
    /** Fence agent, e.g. fence_ipmilan. */
    readonly agent: string;
    /** One fence device per node, with the agent's parameters (no secrets: password_script, a command that prints the password). */
    readonly devices: readonly { readonly node: string; readonly params: Readonly<Record<string, string>> }[];
}

/** Pattern 2: configuration copied from one site's Zabbix to the others through the Zabbix API. */
export interface ConfigSyncConfig {
    readonly sourceSite: string;
    readonly intervalMinutes: number;
    /**
     * Zabbix user the sync logs in as on every site: Admin (the default) with the stack's generated
     * Super Admin password, another user with the secret zabbixApiPassword.
     */
    readonly apiUser: string;
}

/** Pattern 4: the managed PostgreSQL endpoint that the cloud provider runs. */
export interface CloudConfig {
    readonly database: {
        readonly host: string;
        readonly port: number;
        /** Admin user the provider creates; its password is the secret cloudDbAdminPassword. */
        readonly adminUser: string;
        /** libpq's mode for every client of the endpoint: verify-full unless the operator chose less. */
        readonly sslmode: "require" | "verify-full" | "disable";
        /** The provider's CA bundle (PEM) the endpoint's certificate verifies against; set with verify-full. */
        readonly caCertificate?: string;
    };
}

/** The stack's PKI: the CA that signs every host's certificate. */
export interface PkiConfig {
    /**
     * How many times the keys were rotated (0 by default): raising it makes a new key and
     * certificate for every host (and a new CA when it is the stack's own), which `pulumi up` installs.
     */
    readonly rotation: number;
    /** Your CA's certificate (PEM), with its key in the secret pkiCaPrivateKey; without it the stack makes its own CA. */
    readonly caCertificate?: string;
}

/**
 * Sources a host firewall admits: IPv4 networks in CIDR form (an address is a /32), or every
 * source ("any", IPv6 included).
 */
export type FirewallSources = readonly string[] | "any";

/**
 * The optional host firewall: an nftables table of its own on every host, rendered from what the
 * pattern built, that drops whatever its roles do not need. Host-to-host flows follow from the
 * topology; the networks outside the stack are named here.
 */
export interface FirewallConfig {
    /** Whether every host loads the table (off unless set: hosts you already run may serve flows the stack does not know). */
    readonly enabled: boolean;
    /** Who may reach each load balancer's UI ports (HTTP and HTTPS), or a frontend that no load balancer fronts. */
    readonly usersNetwork: FirewallSources;
    /** Where SSH comes from besides db.adminNetwork: the machine `pulumi up` runs on, a jump host. */
    readonly sshFrom: readonly string[];
    /**
     * The monitored hosts' networks: their agents' active checks and zabbix_sender reach the server
     * nodes' listenPort from there (issue 17's proxies too). None by default: with none, only the
     * stack's own frontends reach it.
     */
    readonly monitoredNetwork: FirewallSources;
}

export interface StackConfig {
    readonly pattern: string;
    readonly sites: readonly SiteConfig[];
    readonly zabbix: ZabbixConfig;
    /** Zabbix HA failover delay in seconds (Zabbix allows 10 s to 15 min). */
    readonly failoverDelaySeconds: number;
    readonly db: DbConfig;
    readonly loadBalancer: LoadBalancerConfig;
    readonly frontend: FrontendConfig;
    readonly load: LoadConfig;
    readonly drbd?: DrbdConfig;
    readonly configSync?: ConfigSyncConfig;
    readonly cloud?: CloudConfig;
    readonly pki: PkiConfig;
    readonly firewall: FirewallConfig;
}

/** A host together with the site it sits in, the shape most components iterate over. */
export interface PlacedHost extends HostConfig {
    readonly site: string;
}

export function allHosts(config: Pick<StackConfig, "sites">): PlacedHost[] {
    return config.sites.flatMap(site => site.hosts.map(host => ({ ...host, site: site.name })));
}

export function hostsWithRole(config: Pick<StackConfig, "sites">, role: Role): PlacedHost[] {
    return allHosts(config).filter(host => host.roles.includes(role));
}

/** The DB host of the primary site: validation guarantees exactly one for self-run databases. */
export function primaryDbHost(config: StackConfig): PlacedHost {
    const host = hostsWithRole(config, "db").find(h => h.site === config.db.primarySite);
    if (!host) {
        throw new Error(`db.primarySite "${config.db.primarySite}" has no db host`);
    }
    return host;
}

export function replicaDbHosts(config: StackConfig): PlacedHost[] {
    return hostsWithRole(config, "db").filter(h => h.site !== config.db.primarySite);
}

/** A site whose hosts are all witnesses only breaks ties; it runs no Zabbix service. */
export function isWitnessSite(site: SiteConfig): boolean {
    return site.hosts.every(host => host.roles.every(role => role === "witness"));
}

/** Sites that run Zabbix services (every site but witness sites). */
export function serviceSites(config: Pick<StackConfig, "sites">): SiteConfig[] {
    return config.sites.filter(site => !isWitnessSite(site));
}

/** The load balancer host of a site, if it has one. */
export function siteLoadBalancer(config: StackConfig, site: string): PlacedHost | undefined {
    return hostsWithRole(config, "lb").find(h => h.site === site);
}
