import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_DATABASE, ManagedDatabaseFacts } from "../facts";
import { SchemaLoader, loadSchema, zabbixDatabaseObjects } from "./database";
import { providerCaFile } from "./providerCa";
import { ZabbixDbLogin } from "./roles";
import { DbClientTls } from "./tls";

/**
 * ManagedDatabaseArgs describe a PostgreSQL endpoint that a cloud provider runs across zones.
 */
export interface ManagedDatabaseArgs extends ZabbixDbLogin {
    /** The endpoint's host name and port; the provider moves it to a standby on failure. */
    readonly host: string;
    readonly port: number;
    /** The provider-created admin user and its password (a Pulumi secret). */
    readonly adminUser: string;
    readonly adminPassword: pulumi.Input<string>;
    /** TLS mode towards the endpoint, for the provider's session as for every other client's. */
    readonly sslmode: DbClientTls["sslmode"];
    /**
     * The provider's CA bundle (PEM) the endpoint's certificate must verify against (with
     * verify-full): the PostgreSQL provider reads it from a file where `pulumi up` runs.
     */
    readonly caCertificate?: string;
    /** The Zabbix owner role's password (a Pulumi secret). */
    readonly dbPassword: pulumi.Input<string>;
    /** Zones (sites) the provider spreads the primary and its standby over; the first holds the primary. */
    readonly zones: readonly string[];
    /** How the schema is loaded (from a Zabbix server host, straight to the endpoint). */
    readonly schema: SchemaLoader;
}

/**
 * ManagedDatabase configures a managed PostgreSQL only through the PostgreSQL provider (role,
 * database, grants) and loads the Zabbix schema once; nothing logs into the database's hosts.
 */
export class ManagedDatabase extends pulumi.ComponentResource {
    public readonly schemaLoaded: command.remote.Command;
    /** What it declares: the endpoint, the zones and that the provider fails over. */
    public readonly facts: ManagedDatabaseFacts;

    constructor(name: string, args: ManagedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        // Which zone the provider keeps the primary in is its own affair: by name, the same in any config order.
        const zones = [...args.zones].sort();
        const facts: ManagedDatabaseFacts = {
            endpoint: `${args.host}:${args.port}`,
            zones,
            failover: "managed",
            replication: "managed",
        };
        super(MANAGED_DATABASE.token, name, facts, opts);
        this.facts = facts;
        // Managed services do not hand out superuser.
        const objects = zabbixDatabaseObjects(
            this,
            name,
            {
                address: args.host,
                port: args.port,
                user: args.adminUser,
                password: args.adminPassword,
                superuser: false,
                sslmode: args.sslmode,
                ...(args.caCertificate ? { sslrootcert: providerCaFile(args.caCertificate) } : {}),
            },
            { dbName: args.dbName, dbUser: args.dbUser, password: args.dbPassword },
            [],
        );
        this.schemaLoaded = loadSchema(this, name, args.schema, objects, { ...args, password: args.dbPassword });
        this.registerOutputs({ endpoint: `${args.host}:${args.port}` });
    }
}
