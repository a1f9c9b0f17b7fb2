/**
 * The lab's one probe of a running database: the questions `up`'s checks, `status` and the drills
 * ask (Zabbix's HA nodes, whether a database is in recovery, which replicas stream), each written and
 * read here once, and the two ways to ask them. From this machine with psql (a load balancer's DB
 * port or a DB host, as a role with a password, or from inside a host's network namespace), or on a
 * DB host itself over SSH as the postgres OS user, which needs no password.
 */
import { LabHost, PgConnection, PsqlOptions, psql, rowsOf, sshRun } from "../machines";

/** Asks one database one question: its rows of fields, or an error naming where it could not be asked. */
export type Ask = (sql: string) => Promise<string[][]>;

/** From this machine (or a host's network namespace, as the connection says) with psql. */
export function fromMachine(conn: PgConnection, options: PsqlOptions): Ask {
    return async sql => {
        const out = await psql(conn, sql, options);
        if (out.code !== 0) {
            throw new Error(
                `${conn.host}:${conn.port}: ${(out.stderr || out.stdout).trim().split("\n")[0] || `psql exited ${out.code}`}`,
            );
        }
        return rowsOf(out.stdout);
    };
}

/** On a DB host itself, over SSH as the postgres OS user (peer authentication: no password at hand). */
export function onHostAsPostgres(
    host: Pick<LabHost, "name" | "address" | "sshPort" | "sshUser">,
    key: string,
    port: number,
    options: { readonly database?: string; readonly connectTimeout?: number; readonly timeoutMs?: number } = {},
): Ask {
    return async sql => {
        const out = await sshRun({
            host: host.address,
            port: host.sshPort,
            user: host.sshUser,
            key,
            connectTimeout: options.connectTimeout,
            timeoutMs: options.timeoutMs,
            command: `runuser -u postgres -- psql -X -t -A -p ${port}${options.database ? ` -d ${options.database}` : ""} -c "${sql}"`,
        });
        if (out.code !== 0) {
            throw new Error(`${host.name}: ${(out.stdout + out.stderr).trim()}`);
        }
        return rowsOf(out.stdout);
    };
}

/** ha_node.status as Zabbix writes it. */
export const HA_STATUS: Readonly<Record<string, string>> = {
    0: "standby",
    1: "stopped",
    2: "unavailable",
    3: "active",
};

export interface HaNode {
    /** The node's HANodeName; empty for a standalone server. */
    readonly name: string;
    readonly status: string;
    /** Seconds since the node last wrote its heartbeat, by the database's clock (Zabbix writes it by that clock). */
    readonly age: number;
}

/** The Zabbix server nodes the database knows (the Zabbix database's ha_node), by name. */
export async function haNodes(ask: Ask): Promise<HaNode[]> {
    const rows = await ask(
        "select name, status, extract(epoch from now())::bigint - lastaccess from ha_node order by name",
    );
    return rows.map(([name, status, age]) => ({
        name,
        status: HA_STATUS[status] ?? `status ${status}`,
        age: Number(age),
    }));
}

/** An active node whose heartbeat is younger than the failover delay: the others would not take over from it. */
export function freshActive(nodes: readonly HaNode[], failoverDelaySeconds: number): string[] {
    return nodes.filter(n => n.status === "active" && n.age < failoverDelaySeconds).map(n => n.name);
}

/** Whether the database is a replica (in recovery) rather than a primary. */
export async function inRecovery(ask: Ask): Promise<boolean> {
    const [[recovery]] = await ask("select pg_is_in_recovery()");
    return recovery === "t";
}

/** The replicas a primary streams to (pg_stat_replication): each one's application_name and state. */
export async function replicationStates(ask: Ask): Promise<Map<string, string>> {
    return new Map(
        (await ask("select application_name, state from pg_stat_replication")).map(([application, state]) => [
            application,
            state,
        ]),
    );
}

/** What a replica's WAL receiver does (pg_stat_wal_receiver: "streaming" when it follows its primary). */
export async function walReceiverStatus(ask: Ask): Promise<string> {
    const [[status]] = await ask("select coalesce((select status from pg_stat_wal_receiver), 'no receiver')");
    return status;
}

export interface DbView {
    readonly writable: boolean;
    /** Active nodes with a fresh heartbeat in this database (asked only of a writable one). */
    readonly active: readonly string[];
}

/** Whether a database accepts writes, and which Zabbix nodes it holds to be active, in one question. */
export async function dbView(ask: Ask, failoverDelaySeconds: number): Promise<DbView> {
    const [[recovery, active]] =
        await ask(`select pg_is_in_recovery(), coalesce((select string_agg(name, ',') from ha_node
        where status = 3 and lastaccess > extract(epoch from now()) - ${failoverDelaySeconds}), '')`);
    return { writable: recovery === "f", active: recovery === "f" ? active.split(",").filter(Boolean) : [] };
}

/** Whether the database accepts writes now, and where its WAL is being written (a primary only). */
export async function walWriter(ask: Ask): Promise<{ readonly writable: boolean; readonly insertLsn?: string }> {
    const [[recovery, lsn]] = await ask(
        "select pg_is_in_recovery(), case when pg_is_in_recovery() then '' else pg_current_wal_insert_lsn()::text end",
    );
    return recovery === "f" ? { writable: true, insertLsn: lsn } : { writable: false };
}

/** The server that answers a session (through a load balancer, whichever it routed to), and whether it takes writes. */
export async function answeringServer(
    ask: Ask,
): Promise<{ readonly server: string; readonly writable: boolean } | undefined> {
    const [row] = await ask(
        "select host(inet_server_addr()), not pg_is_in_recovery() and current_setting('transaction_read_only') = 'off'",
    );
    return row && { server: row[0], writable: row[1] === "t" };
}

/** A role's client sessions on the database and whether each is encrypted (pg_stat_ssl). */
/**
 * Every session on a PostgreSQL server that came from another host (loopback left out), with its
 * user, backend type (a replica's walsender too) and whether it runs over TLS, and which version.
 */
export async function remoteSessionsOf(
    ask: Ask,
): Promise<{ readonly user: string; readonly client: string; readonly kind: string; readonly tls: string }[]> {
    const rows = await ask(
        "select a.usename, a.client_addr, a.backend_type, case when s.ssl then s.version else '' end from pg_stat_activity a join pg_stat_ssl s using (pid) where a.client_addr is not null and a.client_addr <> '127.0.0.1'",
    );
    return rows.map(([user, client, kind, tls]) => ({ user, client, kind, tls }));
}

export async function sessionsOf(
    ask: Ask,
    user: string,
): Promise<{ readonly client: string; readonly ssl: boolean }[]> {
    const rows = await ask(
        `select a.client_addr, s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid) where a.usename = '${user}' and a.client_addr is not null`,
    );
    return rows.map(([client, ssl]) => ({ client, ssl: ssl === "t" }));
}
