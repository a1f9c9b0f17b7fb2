/**
 * The PostgreSQL provider's resources, applied as the provider would: SQL over the network from
 * the machine (db.adminNetwork) through the primary site's load balancer. Creates are idempotent
 * (`up` replays them); updates and deletes are the provider's own statements (tools/lab/README.md,
 * E5 and E6): a delete never looks first, so a missing object fails it, as it fails the provider.
 */
import { RESOURCE_TYPES } from "../../../components/facts";
import { PgConnection, RunResult, psql as runPsql } from "../machines";

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Runs SQL against a database of the provider's server, as the provider's session. */
function psql(conn: PgConnection, sql: string, database = conn.database): Promise<RunResult> {
    return runPsql(conn, sql, { database, application: "zabbix-ha-lab", timeoutMs: 120_000 });
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
    ]
        .filter(Boolean)
        .join(" ");
    return psql(conn, `CREATE DATABASE ${ident(name)} ${options};\n`);
}

/** The object a grant is on, as SQL (`DATABASE "zabbix"`), and the database its statements run in. */
function grantTarget(inputs: Record<string, unknown>): { on: string; database?: string } {
    switch (inputs.objectType) {
        case "database":
            return { on: `DATABASE ${ident(str(inputs, "database"))}` };
        case "schema":
            return { on: `SCHEMA ${ident(str(inputs, "schema"))}`, database: str(inputs, "database") };
        default:
            throw new Error(
                `Grant objectType ${JSON.stringify(inputs.objectType)} is not one the lab applies (database, schema); add it to tools/lab/replay/pg.ts`,
            );
    }
}

/**
 * Grants are authoritative in the provider: one transaction revokes what the role had on the object
 * and grants exactly the listed privileges (create and update alike: only privileges can change).
 */
function grant(conn: PgConnection, inputs: Record<string, unknown>): Promise<RunResult> {
    const role = str(inputs, "role");
    const privileges = ((inputs.privileges as string[] | undefined) ?? []).map(p => p.toUpperCase());
    const { on, database } = grantTarget(inputs);
    return psql(
        conn,
        `BEGIN;
REVOKE ALL PRIVILEGES ON ${on} FROM ${ident(role)};
${privileges.length > 0 ? `GRANT ${privileges.join(", ")} ON ${on} TO ${ident(role)};` : ""}
COMMIT;
`,
        database,
    );
}

function slot(conn: PgConnection, inputs: Record<string, unknown>): Promise<RunResult> {
    const name = str(inputs, "name");
    return psql(
        conn,
        `SELECT pg_create_physical_replication_slot(${literal(name)})
WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = ${literal(name)});
`,
    );
}

/** The PostgreSQL provider's objects, which the lab applies as SQL. */
const POSTGRES_OBJECTS: readonly string[] = [
    RESOURCE_TYPES.postgresqlRole,
    RESOURCE_TYPES.postgresqlDatabase,
    RESOURCE_TYPES.postgresqlGrant,
    RESOURCE_TYPES.postgresqlReplicationSlot,
];

/** Whether a resource is one of the PostgreSQL provider's objects (a role, database, grant or slot). */
export function isPostgresObject(type: string): boolean {
    return POSTGRES_OBJECTS.includes(type);
}

/** Role attributes the provider sets per input (its default when the input is unset). */
const ROLE_FLAGS: readonly { input: string; flag: string; default: boolean }[] = [
    { input: "login", flag: "LOGIN", default: false },
    { input: "replication", flag: "REPLICATION", default: false },
    { input: "superuser", flag: "SUPERUSER", default: false },
    { input: "createDatabase", flag: "CREATEDB", default: false },
    { input: "createRole", flag: "CREATEROLE", default: false },
    { input: "inherit", flag: "INHERIT", default: true },
    { input: "bypassRowLevelSecurity", flag: "BYPASSRLS", default: false },
];

const flagOf = (inputs: Record<string, unknown>, f: (typeof ROLE_FLAGS)[number]) =>
    typeof inputs[f.input] === "boolean" ? (inputs[f.input] as boolean) : f.default;
const listOf = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);

/** One transaction: the rename, the password (when it or the name changed), each changed attribute, the memberships. */
function roleUpdateSql(old: Record<string, unknown>, next: Record<string, unknown>): string {
    const from = str(old, "name");
    const name = str(next, "name");
    const lines = ["BEGIN;"];
    if (from !== name) {
        lines.push(`ALTER ROLE ${ident(from)} RENAME TO ${ident(name)};`);
    }
    if (old.password !== next.password || from !== name) {
        lines.push(
            `ALTER ROLE ${ident(name)} PASSWORD ${typeof next.password === "string" ? literal(next.password) : "NULL"};`,
        );
    }
    for (const f of ROLE_FLAGS.filter(f => flagOf(old, f) !== flagOf(next, f))) {
        lines.push(`ALTER ROLE ${ident(name)} WITH ${flagOf(next, f) ? "" : "NO"}${f.flag};`);
    }
    if (JSON.stringify(listOf(old.roles)) !== JSON.stringify(listOf(next.roles))) {
        lines.push(
            ...listOf(old.roles).map(r => `REVOKE ${ident(r)} FROM ${ident(name)};`),
            ...listOf(next.roles).map(r => `GRANT ${ident(r)} TO ${ident(name)};`),
        );
    }
    return [...lines, "COMMIT;", ""].join("\n");
}

/** A database's updatable settings: name, owner, connection limit, whether it takes connections, whether it is a template. */
function databaseUpdateSql(old: Record<string, unknown>, next: Record<string, unknown>): string {
    const from = str(old, "name");
    const name = str(next, "name");
    const changed = (key: string) => next[key] !== undefined && JSON.stringify(old[key]) !== JSON.stringify(next[key]);
    return (
        [
            from !== name ? `ALTER DATABASE ${ident(from)} RENAME TO ${ident(name)};` : "",
            changed("owner") ? `ALTER DATABASE ${ident(name)} OWNER TO ${ident(String(next.owner))};` : "",
            changed("connectionLimit")
                ? `ALTER DATABASE ${ident(name)} CONNECTION LIMIT ${Number(next.connectionLimit)};`
                : "",
            changed("allowConnections")
                ? `ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS ${next.allowConnections ? "true" : "false"};`
                : "",
            changed("isTemplate")
                ? `ALTER DATABASE ${ident(name)} IS_TEMPLATE ${next.isTemplate ? "true" : "false"};`
                : "",
            // Something to send when only an input the provider does not apply changed.
            "SELECT 1;",
        ]
            .filter(Boolean)
            .join("\n") + "\n"
    );
}

/** Changes one PostgreSQL resource in place to its new inputs, with the provider's statements. */
export function updatePostgresResource(
    type: string,
    old: Record<string, unknown>,
    next: Record<string, unknown>,
    conn: PgConnection,
): Promise<RunResult> {
    switch (type) {
        case RESOURCE_TYPES.postgresqlRole:
            return psql(conn, roleUpdateSql(old, next));
        case RESOURCE_TYPES.postgresqlDatabase:
            return psql(conn, databaseUpdateSql(old, next));
        case RESOURCE_TYPES.postgresqlGrant:
            return grant(conn, next);
        default:
            throw new Error(`the provider cannot update a ${type} in place (every change replaces it)`);
    }
}

/** Removes one PostgreSQL resource as recorded, with the provider's statements (no existence check first). */
export function deletePostgresResource(
    type: string,
    old: Record<string, unknown>,
    conn: PgConnection,
): Promise<RunResult> {
    switch (type) {
        case RESOURCE_TYPES.postgresqlRole: {
            const name = ident(str(old, "name"));
            return psql(
                conn,
                `REASSIGN OWNED BY ${name} TO ${ident(conn.username)};\nDROP OWNED BY ${name};\nDROP ROLE ${name};\n`,
            );
        }
        case RESOURCE_TYPES.postgresqlDatabase: {
            const name = str(old, "name");
            // DROP DATABASE runs outside a transaction: psql sends each statement on its own.
            return psql(
                conn,
                `ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS false;
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${literal(name)} AND pid <> pg_backend_pid();
DROP DATABASE ${ident(name)} WITH (FORCE);
`,
            );
        }
        case RESOURCE_TYPES.postgresqlGrant: {
            const { on, database } = grantTarget(old);
            return psql(conn, `REVOKE ALL PRIVILEGES ON ${on} FROM ${ident(str(old, "role"))};\n`, database);
        }
        case RESOURCE_TYPES.postgresqlReplicationSlot:
            return psql(conn, `SELECT pg_drop_replication_slot(${literal(str(old, "name"))});\n`);
        default:
            throw new Error(`the lab does not know how to delete ${type}; add it to tools/lab/replay/pg.ts`);
    }
}

/** Applies one PostgreSQL resource; the result carries psql's output for the failure report. */
export function applyPostgresResource(
    type: string,
    inputs: Record<string, unknown>,
    conn: PgConnection,
): Promise<RunResult> {
    switch (type) {
        case RESOURCE_TYPES.postgresqlRole:
            return psql(conn, roleSql(inputs));
        case RESOURCE_TYPES.postgresqlDatabase:
            return database(conn, inputs);
        case RESOURCE_TYPES.postgresqlGrant:
            return grant(conn, inputs);
        case RESOURCE_TYPES.postgresqlReplicationSlot:
            return slot(conn, inputs);
        default:
            throw new Error(`the lab does not know how to apply ${type}; add it to tools/lab/replay/pg.ts`);
    }
}
