/**
 * The PostgreSQL provider's resources, applied as the provider would: SQL over the network from
 * the machine (db.adminNetwork) through the primary site's load balancer, idempotently. The
 * password travels in PGPASSWORD and SQL on stdin; neither appears on a command line.
 */
import { existsSync } from "fs";
import { RunResult, run } from "./run";

export interface PgConnection {
    readonly host: string;
    readonly port: string;
    readonly username: string;
    readonly password: string;
    readonly database: string;
    readonly sslmode: string;
    readonly connectTimeout: string;
}

/** The provider resource's inputs, as the engine would hand them to the provider (strings). */
export function connectionOf(inputs: Record<string, unknown>): PgConnection {
    const text = (key: string, fallback?: string) => {
        const value = inputs[key] ?? fallback;
        if (value === undefined) {
            throw new Error(`postgresql provider: input ${key} is missing`);
        }
        return String(value);
    };
    return {
        host: text("host"), port: text("port", "5432"), username: text("username", "postgres"), password: text("password"),
        database: text("database", "postgres"), sslmode: text("sslmode", "prefer"), connectTimeout: text("connectTimeout", "15"),
    };
}

const PSQL = ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"].find(existsSync) ?? "psql";

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Runs SQL (on stdin) against a database of the provider's server. */
export function psql(conn: PgConnection, sql: string, database = conn.database): Promise<RunResult> {
    return run(PSQL, ["-X", "-q", "-t", "-A", "-w", "-v", "ON_ERROR_STOP=1", "-h", conn.host, "-p", conn.port, "-U", conn.username, "-d", database, "-f", "-"], {
        input: sql,
        env: { PGPASSWORD: conn.password, PGSSLMODE: conn.sslmode, PGCONNECT_TIMEOUT: conn.connectTimeout, PGAPPNAME: "zabbix-ha-lab" },
        timeoutMs: 120_000,
    });
}

const str = (inputs: Record<string, unknown>, key: string) => {
    const value = inputs[key];
    if (typeof value !== "string" || value === "") {
        throw new Error(`input ${key} is ${JSON.stringify(value)}, expected a resolved string`);
    }
    return value;
};

function roleSql(inputs: Record<string, unknown>): string {
    const name = str(inputs, "name");
    const attrs = [inputs.login ? "LOGIN" : "NOLOGIN", inputs.replication ? "REPLICATION" : "NOREPLICATION"];
    const password = typeof inputs.password === "string" ? ` PASSWORD ${literal(inputs.password)}` : "";
    return `DO $zha$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}) THEN CREATE ROLE ${ident(name)}; END IF;
END $zha$;
ALTER ROLE ${ident(name)} WITH ${attrs.join(" ")}${password};
`;
}

async function database(conn: PgConnection, inputs: Record<string, unknown>): Promise<RunResult> {
    const name = str(inputs, "name");
    const exists = await psql(conn, `SELECT 1 FROM pg_database WHERE datname = ${literal(name)};\n`);
    if (exists.code !== 0) {
        return exists;
    }
    const owner = typeof inputs.owner === "string" ? inputs.owner : undefined;
    if (exists.stdout.trim() === "1") {
        return psql(conn, owner ? `ALTER DATABASE ${ident(name)} OWNER TO ${ident(owner)};\n` : "SELECT 1;\n");
    }
    // CREATE DATABASE cannot run inside a transaction block: its own statement.
    const options = [
        owner ? `OWNER ${ident(owner)}` : "",
        typeof inputs.template === "string" ? `TEMPLATE ${ident(inputs.template)}` : "",
        typeof inputs.encoding === "string" ? `ENCODING ${literal(inputs.encoding)}` : "",
        typeof inputs.lcCollate === "string" ? `LC_COLLATE ${literal(inputs.lcCollate)}` : "",
        typeof inputs.lcCtype === "string" ? `LC_CTYPE ${literal(inputs.lcCtype)}` : "",
    ].filter(Boolean).join(" ");
    return psql(conn, `CREATE DATABASE ${ident(name)} ${options};\n`);
}

/** Grants are authoritative in the provider: revoke everything, grant exactly the listed privileges. */
function grant(conn: PgConnection, inputs: Record<string, unknown>): Promise<RunResult> {
    const db = str(inputs, "database");
    const role = str(inputs, "role");
    const privileges = (inputs.privileges as string[] | undefined ?? []).map(p => p.toUpperCase());
    const list = privileges.length > 0 ? privileges.join(", ") : undefined;
    switch (inputs.objectType) {
        case "database":
            return psql(conn, `BEGIN;
REVOKE ALL PRIVILEGES ON DATABASE ${ident(db)} FROM ${ident(role)};
${list ? `GRANT ${list} ON DATABASE ${ident(db)} TO ${ident(role)};` : ""}
COMMIT;
`);
        case "schema": {
            const schema = str(inputs, "schema");
            return psql(conn, `BEGIN;
REVOKE ALL PRIVILEGES ON SCHEMA ${ident(schema)} FROM ${ident(role)};
${list ? `GRANT ${list} ON SCHEMA ${ident(schema)} TO ${ident(role)};` : ""}
COMMIT;
`, db);
        }
        default:
            throw new Error(`Grant objectType ${JSON.stringify(inputs.objectType)} is not one the lab applies (database, schema); add it to tools/lab/pg.ts`);
    }
}

function slot(conn: PgConnection, inputs: Record<string, unknown>): Promise<RunResult> {
    const name = str(inputs, "name");
    return psql(conn, `SELECT pg_create_physical_replication_slot(${literal(name)})
WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = ${literal(name)});
`);
}

export const POSTGRES_TYPES = [
    "postgresql:index/role:Role",
    "postgresql:index/database:Database",
    "postgresql:index/grant:Grant",
    "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot",
] as const;

/** Applies one PostgreSQL resource; the result carries psql's output for the failure report. */
export function applyPostgresResource(type: string, inputs: Record<string, unknown>, conn: PgConnection): Promise<RunResult> {
    switch (type) {
        case "postgresql:index/role:Role": return psql(conn, roleSql(inputs));
        case "postgresql:index/database:Database": return database(conn, inputs);
        case "postgresql:index/grant:Grant": return grant(conn, inputs);
        case "postgresql:index/physicalReplicationSlot:PhysicalReplicationSlot": return slot(conn, inputs);
        default: throw new Error(`the lab does not know how to apply ${type}; add it to tools/lab/pg.ts`);
    }
}
