/**
 * psql from this machine, the one client every SQL the lab sends goes through: the PostgreSQL
 * provider's statements (replay), the checks' questions and the drills'. The password travels in
 * PGPASSWORD and the SQL on stdin; neither appears on a command line.
 */
import { existsSync } from "fs";
import { RunResult, run } from "./run";

/** Where psql connects and as whom, in the PostgreSQL provider's terms (its inputs are strings). */
export interface PgConnection {
    readonly host: string;
    readonly port: string;
    readonly username: string;
    readonly password: string;
    readonly database: string;
    readonly sslmode: string;
    /** The CA file the server's certificate must verify against (the provider's sslrootcert), if any. */
    readonly sslrootcert?: string;
    /** Seconds to wait for the connection. */
    readonly connectTimeout: string;
    /** Run psql inside this network namespace (this machine's own when absent). */
    readonly netns?: string;
}

/** A PostgreSQL provider resource's inputs as a connection, with the provider's defaults, as the engine would hand them over. */
export function connectionOf(inputs: Record<string, unknown>): PgConnection {
    const text = (key: string, fallback?: string) => {
        const value = inputs[key] ?? fallback;
        if (value === undefined) {
            throw new Error(`postgresql provider: input ${key} is missing`);
        }
        return String(value);
    };
    return {
        host: text("host"),
        port: text("port", "5432"),
        username: text("username", "postgres"),
        password: text("password"),
        database: text("database", "postgres"),
        sslmode: text("sslmode", "prefer"),
        ...(typeof inputs.sslrootcert === "string" ? { sslrootcert: inputs.sslrootcert } : {}),
        connectTimeout: text("connectTimeout", "15"),
    };
}

const PSQL = ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"].find(existsSync) ?? "psql";

export interface PsqlOptions {
    /** Who is asking, as pg_stat_activity shows the session (application_name). */
    readonly application: string;
    /** Milliseconds before psql is killed. */
    readonly timeoutMs: number;
    /** Milliseconds after which the server cancels a statement (statement_timeout); none when absent. */
    readonly statementTimeoutMs?: number;
    /** Another database of the same server than the connection's. */
    readonly database?: string;
}

/** Runs SQL (on stdin) as one psql session, unaligned and tuples only, stopping at the first error. */
export function psql(conn: PgConnection, sql: string, options: PsqlOptions): Promise<RunResult> {
    const args = [
        "-X",
        "-q",
        "-t",
        "-A",
        "-w",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        conn.host,
        "-p",
        conn.port,
        "-U",
        conn.username,
        "-d",
        options.database ?? conn.database,
        "-f",
        "-",
    ];
    const [program, argv] = conn.netns ? ["ip", ["netns", "exec", conn.netns, PSQL, ...args]] : [PSQL, args];
    return run(program, argv, {
        input: sql,
        env: {
            PGPASSWORD: conn.password,
            PGSSLMODE: conn.sslmode,
            ...(conn.sslrootcert ? { PGSSLROOTCERT: conn.sslrootcert } : {}),
            PGCONNECT_TIMEOUT: conn.connectTimeout,
            PGAPPNAME: options.application,
            ...(options.statementTimeoutMs !== undefined
                ? { PGOPTIONS: `-c statement_timeout=${options.statementTimeoutMs}` }
                : {}),
        },
        timeoutMs: options.timeoutMs,
    });
}

/** psql's unaligned, tuples-only output as rows of `|`-separated fields. */
export function rowsOf(text: string): string[][] {
    return text
        .split("\n")
        .filter(Boolean)
        .map(line => line.split("|"));
}
