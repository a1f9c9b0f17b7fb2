/**
 * What every Zabbix database gets through the PostgreSQL provider, whoever runs the server: the
 * provider itself (connected through an endpoint that leads to the writable primary), the zabbix
 * role, the database and its grants; and a wait until that endpoint really reaches the primary.
 */
import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../host";
import { DbPasswords } from "./passwords";
import { HbaRule } from "./pgHba";
import { ADMIN_ROLE, CHECK_PASSFILE, CHECK_ROLE, ZabbixDbLogin } from "./roles";
import { schemaStep } from "./schema";
import { providerCaFile } from "./providerCa";
import { CLIENT_SSLMODE, DbClientTls, HOST_CLIENT_TLS, clientExport } from "./tls";

/** How the provider logs in. */
export interface AdminLogin {
    readonly address: string;
    readonly port: number;
    readonly user: string;
    readonly password: pulumi.Input<string>;
    /** Self-run clusters give the admin superuser; managed services do not. */
    readonly superuser: boolean;
    readonly sslmode: string;
    /** The CA file where `pulumi up` runs that the server's certificate must verify against (with verify-full). */
    readonly sslrootcert?: pulumi.Input<string>;
}

export interface ZabbixDatabaseObjects {
    readonly provider: postgresql.Provider;
    readonly zabbixRole: postgresql.Role;
    readonly database: postgresql.Database;
    readonly grants: readonly postgresql.Grant[];
}

/** Waits on a load balancer host until its DB port answers from a writable primary. */
export function primaryReachable(
    parent: pulumi.Resource,
    name: string,
    lb: Host,
    address: string,
    port: number,
    after: readonly pulumi.Resource[],
): command.remote.Command {
    return lb.step(
        `${name}-primary-reachable`,
        {
            script: [
                `PGPASSFILE=${CHECK_PASSFILE} PGCONNECT_TIMEOUT=2; export PGPASSFILE PGCONNECT_TIMEOUT`,
                clientExport(HOST_CLIENT_TLS),
                `zha_retry 60 sh -c "[ \\"\\$(psql -X -t -A -w -h ${address} -p ${port} -U ${CHECK_ROLE} -d postgres -c 'select pg_is_in_recovery()')\\" = f ]"`,
            ].join("\n"),
        },
        { parent, dependsOn: [...after] },
    );
}

export function zabbixDatabaseObjects(
    parent: pulumi.Resource,
    name: string,
    login: AdminLogin,
    zabbix: ZabbixDbLogin & { readonly password: pulumi.Input<string> },
    after: readonly pulumi.Resource[],
): ZabbixDatabaseObjects {
    const provider = new postgresql.Provider(
        `${name}-provider`,
        {
            host: login.address,
            port: login.port,
            username: login.user,
            password: pulumi.secret(login.password),
            database: "postgres",
            superuser: login.superuser,
            sslmode: login.sslmode,
            ...(login.sslrootcert !== undefined ? { sslrootcert: login.sslrootcert } : {}),
            connectTimeout: 15,
        },
        { parent, dependsOn: [...after] },
    );
    const viaProvider = { parent, provider, dependsOn: [...after] };
    const zabbixRole = new postgresql.Role(
        `${name}-zabbix-role`,
        {
            name: zabbix.dbUser,
            login: true,
            password: pulumi.secret(zabbix.password),
        },
        viaProvider,
    );
    // The order below is listed, not only implied by the name inputs, so tools that read the graph (the lab) see it.
    const database = new postgresql.Database(
        `${name}-database`,
        {
            name: zabbix.dbName,
            owner: zabbixRole.name,
            encoding: "UTF8",
            lcCollate: "C",
            lcCtype: "C",
            template: "template0",
        },
        { ...viaProvider, dependsOn: [...after, zabbixRole] },
    );
    const onDatabase = { ...viaProvider, dependsOn: [...after, database, zabbixRole] };
    const grants = [
        new postgresql.Grant(
            `${name}-zabbix-connect`,
            {
                database: database.name,
                role: zabbixRole.name,
                objectType: "database",
                privileges: ["CONNECT", "TEMPORARY"],
            },
            onDatabase,
        ),
        new postgresql.Grant(
            `${name}-zabbix-schema`,
            {
                database: database.name,
                role: zabbixRole.name,
                schema: "public",
                objectType: "schema",
                privileges: ["USAGE", "CREATE"],
            },
            onDatabase,
        ),
    ];
    return { provider, zabbixRole, database, grants };
}

/**
 * A self-run cluster's Zabbix role, database and grants through the provider, which logs in as the
 * admin role (a superuser) once the admin endpoint leads to the writable primary: checked first on
 * its load balancer, when it has one. Returns those objects and what marks the primary reachable.
 */
export function selfRunDatabaseObjects(
    parent: pulumi.Resource,
    name: string,
    endpoint: PrimaryEndpoint,
    primaryReady: pulumi.Resource,
    passwords: DbPasswords,
    zabbix: ZabbixDbLogin,
    caCertPem: pulumi.Input<string>,
): ZabbixDatabaseObjects & { readonly reachable: pulumi.Resource } {
    // The provider may connect only once the load balancer routes to the new primary.
    const reachable = endpoint.loadBalancer
        ? primaryReachable(parent, name, endpoint.loadBalancer, endpoint.address, endpoint.port, [
              primaryReady,
              ...endpoint.readyAfter,
          ])
        : primaryReady;
    // The admin session (CREATE ROLE ... PASSWORD) goes through a load balancer: TLS, verified as every client's.
    const objects = zabbixDatabaseObjects(
        parent,
        name,
        {
            address: endpoint.address,
            port: endpoint.port,
            user: ADMIN_ROLE,
            password: passwords.admin,
            superuser: true,
            sslmode: CLIENT_SSLMODE,
            sslrootcert: providerCaFile(caCertPem),
        },
        { ...zabbix, password: passwords.zabbix },
        [reachable, ...endpoint.readyAfter],
    );
    return { ...objects, reachable };
}

/** What every self-run Zabbix database takes, whoever moves its primary (an operator, a cluster manager, Patroni). */
export interface SelfRunDatabaseArgs extends ZabbixDbLogin {
    /**
     * db.primarySite's DB host: the primary, or under Patroni the leader it starts with and a planned
     * switchover brings the lead back to.
     */
    readonly primary: Host;
    /** DB hosts of the other sites, each streaming from the primary (under Patroni, each a failover candidate). */
    readonly replicas: readonly Host[];
    /** PostgreSQL's port on the DB hosts. */
    readonly port: number;
    /** Who may connect, rendered into every DB host's pg_hba. */
    readonly hbaRules: readonly HbaRule[];
    /** max_connections, sized for the Zabbix servers and frontends. */
    readonly maxConnections: number;
    /** Where the provider reaches the writable primary: the primary site's load balancer DB port, or a pair's VIP. */
    readonly adminEndpoint: PrimaryEndpoint;
    /** How the schema is loaded. */
    readonly schema: SchemaLoader;
}

/** An endpoint that leads to the read-write primary: a site load balancer's DB port, or a pair's VIP. */
export interface PrimaryEndpoint {
    readonly address: string;
    readonly port: number;
    /** The load balancer host behind the address, where the path to the primary is checked first. */
    readonly loadBalancer?: Host;
    /** Resources that must exist before the endpoint works (the load balancer's config step). */
    readonly readyAfter: readonly pulumi.Resource[];
}

/** Where and how the Zabbix schema is loaded. */
export interface SchemaLoader {
    /** A host with the schema files and psql (a Zabbix server host). */
    readonly host: Host;
    /** Its site's load balancer endpoint. */
    readonly dbHost: string;
    readonly dbPort: number;
    /** How its DB session is secured (SELF_RUN_DB_TLS: verify-full against the stack's CA). */
    readonly dbTls: DbClientTls;
    /** Schema files in load order. */
    readonly files: readonly string[];
    /** The bcrypt hash of the stack's Super Admin password (a Pulumi secret), set as the schema loads. */
    readonly superAdminPasswordHash: pulumi.Input<string>;
    /** Steps the loader host needs first (none beyond its packages, usually). */
    readonly after?: readonly pulumi.Resource[];
}

/**
 * The step that loads the Zabbix schema once, through the loader's DB path, as the zabbix role: after
 * the provider has made that role, its database and its grants. It sets the Super Admin's password
 * with the schema, and again on a schema loaded before (see schemaStep).
 */
export function loadSchema(
    parent: pulumi.Resource,
    name: string,
    loader: SchemaLoader,
    objects: ZabbixDatabaseObjects,
    login: ZabbixDbLogin & { readonly password: pulumi.Input<string> },
): command.remote.Command {
    const { dbName, dbUser, password } = login;
    const after = [objects.database, objects.zabbixRole, ...objects.grants];
    return loader.host.step(
        `${name}-schema`,
        {
            script: schemaStep({
                dbHost: loader.dbHost,
                dbPort: loader.dbPort,
                dbTls: loader.dbTls,
                dbName,
                dbUser,
                passwordVariable: "ZABBIX_DB_PASSWORD",
                schemaFiles: loader.files,
                superAdminHashVariable: "ZABBIX_ADMIN_PASSWORD_HASH",
            }),
            // The hash is a secret too: anyone holding it can test guesses offline.
            secrets: [
                { variable: "ZABBIX_DB_PASSWORD", value: password },
                { variable: "ZABBIX_ADMIN_PASSWORD_HASH", value: pulumi.secret(loader.superAdminPasswordHash) },
            ],
        },
        { parent, dependsOn: [...after, ...(loader.after ?? [])] },
    );
}
