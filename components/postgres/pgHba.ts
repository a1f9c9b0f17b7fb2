/**
 * pg_hba, rendered once from one list of rules: pg_hba.conf for a DB host PostgreSQL runs itself
 * (aligned columns), and the same entries as Patroni's `pg_hba` list for a host Patroni runs. Every
 * rendering starts with local peer access for postgres; every host rule authenticates by SCRAM.
 */
import { compareAddresses, hostCidr } from "../config/network";
import { RENDERED_HEADER } from "../shell";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE, ZabbixDbLogin } from "./roles";

/** A host rule: this role may reach this database from this address or network, by SCRAM. */
export interface HbaRule {
    readonly database: string;
    readonly user: string;
    /** CIDR, or a bare IPv4 address (written as /32). */
    readonly source: string;
}

/** One line of pg_hba, whichever file it goes to. */
interface HbaEntry {
    readonly type: "local" | "hostssl";
    readonly database: string;
    readonly user: string;
    /** Empty for a local (unix socket) entry. */
    readonly address: string;
    readonly method: "peer" | "scram-sha-256";
}

/** The entries of a DB host's pg_hba: postgres by peer over the socket, then the rules by SCRAM. */
function hbaEntries(rules: readonly HbaRule[]): HbaEntry[] {
    return [
        { type: "local", database: "all", user: "postgres", address: "", method: "peer" },
        ...rules.map(r => ({
            type: "hostssl" as const,
            database: r.database,
            user: r.user,
            address: hostCidr(r.source),
            method: "scram-sha-256" as const,
        })),
    ];
}

export interface PgHbaInput {
    /** The host rules, after local peer access for postgres. */
    readonly rules: readonly HbaRule[];
}

/** pg_hba.conf: local peer access for postgres, then only the cluster's own hosts, by password (SCRAM). */
export function renderPgHba(c: PgHbaInput): string {
    const lines = hbaEntries(c.rules).map(
        e => `${e.type.padEnd(7)} ${e.database.padEnd(12)} ${e.user.padEnd(22)} ${e.address.padEnd(18)} ${e.method}`,
    );
    return `# ${RENDERED_HEADER}
# TYPE  DATABASE     USER                   ADDRESS            METHOD
${lines.join("\n")}
`;
}

/** The same entries as Patroni's `pg_hba` list takes them: one line each, fields one space apart. */
export function patroniHbaLines(rules: readonly HbaRule[]): string[] {
    return hbaEntries(rules).map(e =>
        [e.type, e.database, e.user, ...(e.address ? [e.address] : []), e.method].join(" "),
    );
}

/** Who a DB host's Zabbix, admin and check sessions come from, besides its DB peers and the admin network. */
export interface HbaClient {
    readonly address: string;
    /**
     * What sits there: a site's load balancer (it proxies its site's Zabbix servers' and frontends'
     * sessions, and runs the DB checks); or, in a pair a cluster manager runs, one of the pair's nodes
     * (its own Zabbix server and frontend connect to the VIP) or the VIP itself (the source address of
     * the node that holds it).
     */
    readonly kind: "load-balancer" | "pair-node" | "pair-vip";
}

/** Load balancers as the clients of a database: the common case. */
export function loadBalancerClients(addresses: readonly string[]): HbaClient[] {
    return addresses.map(address => ({ address, kind: "load-balancer" }));
}

/** Who connects to a DB host, from where; Zabbix's servers and frontends log in as `dbUser`. */
export interface HbaPlan extends ZabbixDbLogin {
    /** Addresses of every DB host: replicas connect to the primary for streaming, the fence asks its peers. */
    readonly dbHosts: readonly string[];
    /** Where the Zabbix role's, the admin's and the checks' sessions arrive from. */
    readonly clients: readonly HbaClient[];
    /** The network `pulumi up` runs from. */
    readonly adminNetwork: string;
}

/**
 * Who may connect: Zabbix and the admin from the clients (load balancers, or a pair's nodes and
 * VIP), replicas among DB hosts, and the check role from the clients and the DB hosts (the fence
 * asks its peers). Sorted, so that the same design in any config order renders the same file.
 */
export function hbaRules(p: HbaPlan): HbaRule[] {
    const sorted = (sources: readonly string[]) => [...new Set(sources)].sort(compareAddresses);
    const clients = p.clients.map(c => c.address);
    const fromClients = sorted(clients);
    return [
        ...fromClients.map(source => ({ database: p.dbName, user: p.dbUser, source })),
        ...sorted([...clients, ...p.dbHosts]).map(source => ({ database: "postgres", user: CHECK_ROLE, source })),
        ...fromClients.map(source => ({ database: "all", user: ADMIN_ROLE, source })),
        { database: "all", user: ADMIN_ROLE, source: p.adminNetwork },
        ...sorted(p.dbHosts).map(source => ({ database: "replication", user: REPLICATION_ROLE, source })),
    ];
}
