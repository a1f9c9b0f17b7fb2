/**
 * Scratch PostgreSQL 15 clusters of the real-tool checks: initdb or pg_basebackup into a temp dir,
 * start and stop as the postgres user, SQL over the unix socket, and clients over TCP.
 */
import { randomInt } from "crypto";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { DbClientTls, PgClientTls, clientConninfo } from "../../../components/postgres/tls";
import { RunResult, groupAlive, killGroup, ok, run, waitFor } from "./processes";
import { Scratch, putFile } from "./scratch";

/**
 * One scratch cluster in a temp dir, run as the postgres user. The unix socket lives in the dir
 * and scratch-only settings (fsync off) are passed on pg_ctl's command line, so the cluster's
 * configuration files hold exactly what the test writes there.
 */
export class PgServer {
    constructor(
        private readonly scratch: Scratch,
        public readonly name: string,
        /** Temp dir: data/, the server log and the unix socket. */
        public readonly dir: string,
        /** Port from the test's settings; the socket file name carries it. */
        public port: number,
    ) {}

    get data(): string {
        return path.join(this.dir, "data");
    }

    get logFile(): string {
        return path.join(this.dir, "server.log");
    }

    /** Writes a file into the data dir, owned by postgres. */
    async writeDataFile(name: string, content: string, mode = 0o600): Promise<string> {
        return putFile(path.join(this.data, name), content, mode, "postgres");
    }

    /** `pg_ctl -w start`; the result says whether it came up (a negative test wants it not to). */
    async tryStart(): Promise<RunResult> {
        const result = await run(
            "pg_ctl",
            [
                "-w",
                "-t",
                "60",
                "-D",
                this.data,
                "-l",
                this.logFile,
                "-o",
                `-k ${this.dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off`,
                "start",
            ],
            { user: "postgres", cwd: this.dir, timeoutMs: 90_000 },
        );
        if (result.code === 0) {
            this.scratch.defer(`stop PostgreSQL ${this.name}`, () => this.stop("immediate"));
        }
        return result;
    }

    async start(): Promise<void> {
        const result = await this.tryStart();
        if (result.code !== 0) {
            throw new Error(`PostgreSQL ${this.name} did not start:\n${result.output}\n--- server log:\n${this.log()}`);
        }
    }

    /** Stops the cluster; a no-op when it is not running. */
    async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
        const pidFile = path.join(this.data, "postmaster.pid");
        if (!existsSync(pidFile)) {
            return;
        }
        const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
        const result = await run("pg_ctl", ["-w", "-t", "30", "-D", this.data, "-m", mode, "stop"], {
            user: "postgres",
            cwd: this.dir,
        });
        // The postmaster leads its own process group (pg_ctl starts it with setsid): make sure it is gone.
        if (result.code !== 0 && pid > 0 && groupAlive(pid)) {
            killGroup(pid, "SIGKILL");
            await waitFor(`PostgreSQL ${this.name} to die`, () => !groupAlive(pid), { timeoutMs: 10_000 });
        }
    }

    log(): string {
        return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "(no server log)";
    }

    /** Runs SQL as the postgres superuser over the unix socket (peer auth); throws on any error. */
    async sql(sql: string, db = "postgres"): Promise<string> {
        const result = await run(
            "psql",
            [
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                this.dir,
                "-p",
                String(this.port),
                "-d",
                db,
                "-c",
                sql,
            ],
            { user: "postgres", cwd: this.dir },
        );
        return ok(result).stdout.trim();
    }
}

/** A cluster in a temp dir owned by postgres, its data dir made by `tool` run as postgres with `args(data dir)`. */
async function makeCluster(
    scratch: Scratch,
    name: string,
    port: number,
    tool: string,
    args: (data: string) => string[],
    env?: Record<string, string>,
): Promise<PgServer> {
    const dir = await scratch.dir(`pg-${name}`, "postgres");
    const pg = new PgServer(scratch, name, dir, port);
    ok(await run(tool, args(pg.data), { user: "postgres", cwd: dir, env }));
    return pg;
}

/** `initdb` a fresh cluster (UTF8, C locale, local peer auth) in a temp dir owned by postgres. */
export function initPostgres(scratch: Scratch, name: string, port: number): Promise<PgServer> {
    return makeCluster(scratch, name, port, "initdb", data => [
        "-D",
        data,
        "-U",
        "postgres",
        "-A",
        "peer",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    ]);
}

/** A copy of a running primary made with pg_basebackup, in a temp dir owned by postgres; not started. */
export function basebackup(
    scratch: Scratch,
    name: string,
    port: number,
    from: {
        host: string;
        port: number;
        user: string;
        passfile: string;
        /** The CA the primary's certificate must verify against (verify-full, as the follow step). */
        tls: PgClientTls;
        slot?: string;
        writeRecoveryConf?: boolean;
    },
): Promise<PgServer> {
    return makeCluster(
        scratch,
        name,
        port,
        "pg_basebackup",
        data => [
            "-d",
            `host=${from.host} port=${from.port} user=${from.user} ${clientConninfo(from.tls)}`,
            "-w",
            "-D",
            data,
            "-X",
            "stream",
            "--checkpoint=fast",
            ...(from.slot ? ["-S", from.slot] : []),
            ...(from.writeRecoveryConf ? ["-R"] : []),
        ],
        { PGPASSFILE: from.passfile },
    );
}

/** Appends `include` lines for files in the data dir to the cluster's postgresql.conf. */
export async function includeInPostgresConf(pg: PgServer, files: readonly string[]): Promise<void> {
    const conf = path.join(pg.data, "postgresql.conf");
    const current = readFileSync(conf, "utf8");
    const lines = files.map(f => `include '${f}'`).filter(l => !current.includes(l));
    if (lines.length > 0) {
        await putFile(conf, `${current}\n# zabbix-ha real-tool test\n${lines.join("\n")}\n`, 0o600, "postgres");
    }
}

/** psql for a script: no psqlrc, quiet, unaligned tuples only, never a password prompt. */
export const PSQL_BATCH = ["-X", "-q", "-t", "-A", "-w"];

/**
 * A client connection with psql as root, so by password (or refused): over TCP, or a socket dir as
 * host (libpq never uses TLS on a socket). `tls` is the session's sslmode and CA, as a Zabbix
 * server's: verify-full against the test CA to get in at all (the hba rules are hostssl).
 */
export function psqlTcp(
    conn: {
        host: string;
        port: number;
        user: string;
        db: string;
        tls: DbClientTls;
        password?: string;
        passfile?: string;
    },
    sql: string,
): Promise<RunResult> {
    const env: Record<string, string> = { PGCONNECT_TIMEOUT: "5", PGSSLMODE: conn.tls.sslmode };
    if (conn.tls.caFile !== undefined) {
        env.PGSSLROOTCERT = conn.tls.caFile;
    }
    if (conn.password !== undefined) {
        env.PGPASSWORD = conn.password;
    }
    if (conn.passfile !== undefined) {
        env.PGPASSFILE = conn.passfile;
    }
    return run(
        "psql",
        [
            ...PSQL_BATCH,
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            conn.host,
            "-p",
            String(conn.port),
            "-U",
            conn.user,
            "-d",
            conn.db,
            "-c",
            sql,
        ],
        { env, timeoutMs: 20_000 },
    );
}

/** A letters-and-digits password, like the stack's RandomPassword (special: false). */
export function password(length = 32): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}
