/**
 * Helpers for the real-tool checks: every artifact the library renders is handed to the Debian 12
 * program that will read it in production. No mocks: a missing program is a failure that names
 * its package, scratch servers live in temp dirs on loopback, and everything started is stopped.
 *
 * Adding a check for a new artifact (a Pacemaker CIB, a DRBD resource file) takes a few lines:
 *   1. name the program's package in TOOL_PACKAGES (and in .ci/debian-packages);
 *   2. describe the check as a FileCheck (how to call the program, what it prints when it accepts);
 *   3. in a test, `expectAccepted(await checkFile(CHECK, rendered))` and
 *      `expectRejected(await checkFile(CHECK, broken), /what it says/)`.
 * For example, crm_verify exits 0 on recoverable problems, so its FileCheck would be
 *   { tool: "crm_verify", fileName: "cib.xml", args: f => ["--xml-file", f, "-V"], accepted: out => out.trim() === "" }
 */
import { ChildProcess, spawn } from "child_process";
import { randomInt } from "crypto";
import { existsSync, readFileSync, readdirSync } from "fs";
import { chmod, chown, copyFile, mkdtemp, rm, writeFile } from "fs/promises";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { Readable } from "stream";

/** Directory of PostgreSQL 15's server and client programs on Debian 12. */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

/**
 * The Debian 12 package of every program the checks run. A check that cannot find its program
 * fails with `apt-get install` of the package named here; .ci/debian-packages must list each one
 * (packages.test.ts holds the two lists together).
 */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
    haproxy: "haproxy",
    nginx: "nginx",
    php: "php-cli",
    "php-fpm8.2": "php-fpm",
    shellcheck: "shellcheck",
    zabbix_server: "zabbix-server-pgsql",
    initdb: "postgresql-15",
    pg_ctl: "postgresql-15",
    psql: "postgresql-client-15",
    pg_basebackup: "postgresql-client-15",
    etcd: "etcd-server",
    etcdctl: "etcd-client",
    patroni: "patroni",
    patronictl: "patroni",
    pg_dump: "postgresql-client-15",
    pg_restore: "postgresql-client-15",
    // Pattern 2's configuration sync script, its units, and the frontends it talks to.
    jq: "jq",
    curl: "curl",
    "systemd-analyze": "systemd",
    unshare: "util-linux",
    mount: "mount",
    // Essential on Debian, so always there; listed so a check can require it like any other.
    sh: "dash",
};

/** Files (not programs) the checks read, with the package that ships them. */
export const FILE_PACKAGES: Readonly<Record<string, string>> = {
    "/etc/nginx/fastcgi_params": "nginx",
    "/usr/share/zabbix/include/classes/core/CConfigFile.php": "zabbix-frontend-php",
    "/usr/share/zabbix-server-pgsql/schema.sql.gz": "zabbix-server-pgsql",
    "/usr/share/zabbix-server-pgsql/images.sql.gz": "zabbix-server-pgsql",
    "/usr/share/zabbix-server-pgsql/data.sql.gz": "zabbix-server-pgsql",
    // Patroni's etcd3 client is built on python-etcd; patroni depends on it or any other DCS client library.
    "/usr/lib/python3/dist-packages/etcd/__init__.py": "python3-etcd",
};

/** PHP extensions the checks need, with their package. */
export const PHP_EXTENSION_PACKAGES: Readonly<Record<string, string>> = {
    pgsql: "php-pgsql",
};

function installHint(what: string, pkg: string | undefined): string {
    return `${what} not found: apt-get install --no-install-recommends ${pkg ?? "(no package known: add it to TOOL_PACKAGES in test/real/support.ts)"}`;
}

/** Absolute path of a program; throws naming the Debian package when it is missing. */
export function requireTool(name: string): string {
    const dirs = [PG_BIN, ...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    // PostgreSQL's programs come from PG_BIN only: /usr/bin/psql is a wrapper that picks a version.
    const search = name in TOOL_PACKAGES && TOOL_PACKAGES[name].startsWith("postgresql-") ? [PG_BIN] : dirs;
    for (const dir of search.filter(Boolean)) {
        const candidate = path.join(dir, name);
        if (existsSync(candidate)) {
            return candidate;
        }
    }
    throw new Error(installHint(name, TOOL_PACKAGES[name]));
}

/** Throws naming the Debian package when a file the checks read is missing. */
export function requireFile(file: string): string {
    if (!existsSync(file)) {
        throw new Error(installHint(file, FILE_PACKAGES[file]));
    }
    return file;
}

/** Throws naming the Debian package when PHP lacks an extension (the Zabbix frontend needs pgsql). */
export async function requirePhpExtension(name: string): Promise<void> {
    const result = await run("php", ["-r", `exit(extension_loaded(${JSON.stringify(name)}) ? 0 : 3);`]);
    if (result.code !== 0) {
        throw new Error(
            installHint(`PHP extension ${name}`, PHP_EXTENSION_PACKAGES[name]) +
                (result.code === 3 ? "" : `\n${result.output}`),
        );
    }
}

/** uid, gid and home of a local user (postgres, zabbix, www-data). */
export function userInfo(name: string): { uid: number; gid: number; home: string } {
    const line = readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find(l => l.startsWith(`${name}:`));
    if (!line) {
        throw new Error(
            `user ${name} does not exist; its package creates it (see TOOL_PACKAGES in test/real/support.ts)`,
        );
    }
    const [, , uid, gid, , home] = line.split(":");
    return { uid: Number(uid), gid: Number(gid), home };
}

export interface RunOptions {
    /** Run as this local user (the test runs as root; postgres and zabbix_server refuse root). */
    readonly user?: string;
    readonly cwd?: string;
    /** Added to the environment. */
    readonly env?: Record<string, string>;
    /** Written to stdin, then stdin is closed. */
    readonly input?: string | Readable;
    /** The run fails after this long rather than hang the suite. */
    readonly timeoutMs?: number;
}

export interface RunResult {
    readonly command: string;
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    /** stdout and stderr interleaved as they arrived: what a person would have read. */
    readonly output: string;
}

function spawnOptions(opts: RunOptions, detached: boolean) {
    const user = opts.user ? userInfo(opts.user) : undefined;
    const env: Record<string, string | undefined> = { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...opts.env };
    if (user) {
        Object.assign(env, { HOME: user.home, USER: opts.user, LOGNAME: opts.user });
    }
    // Node drops root's supplementary groups when it switches uid, as runuser would.
    return { cwd: opts.cwd ?? tmpdir(), env, uid: user?.uid, gid: user?.gid, detached, stdio: "pipe" as const };
}

function describeCommand(tool: string, args: readonly string[], opts: RunOptions): string {
    return `${opts.user ? `[as ${opts.user}] ` : ""}${[tool, ...args].join(" ")}`;
}

/** Runs a program to completion and captures what it printed; a non-zero exit is a result, not an error. */
export function run(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const file = tool.includes("/") ? tool : requireTool(tool);
    const command = describeCommand(file, args, opts);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
        // Detached: its own process group, so a timeout can end the program and anything it started.
        const child = spawn(file, args, spawnOptions(opts, true));
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const both: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => {
            out.push(b);
            both.push(b);
        });
        child.stderr.on("data", (b: Buffer) => {
            err.push(b);
            both.push(b);
        });
        const timer = setTimeout(() => {
            killGroup(child.pid, "SIGKILL");
            reject(
                new Error(
                    `${command} did not finish within ${timeoutMs / 1000} s; output so far:\n${Buffer.concat(both).toString()}`,
                ),
            );
        }, timeoutMs);
        child.on("error", e => {
            clearTimeout(timer);
            reject(new Error(`${command}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                command,
                code,
                signal,
                stdout: Buffer.concat(out).toString(),
                stderr: Buffer.concat(err).toString(),
                output: Buffer.concat(both).toString(),
            });
        });
        child.stdin.on("error", () => undefined); // a program may exit without reading its input
        if (typeof opts.input === "string") {
            child.stdin.end(opts.input);
        } else if (opts.input) {
            opts.input.pipe(child.stdin);
        } else {
            child.stdin.end();
        }
    });
}

/** Throws with the command and everything it printed unless it exited 0. */
export function ok(result: RunResult): RunResult {
    if (result.code !== 0) {
        throw new Error(`${result.command} exited ${result.code ?? result.signal}:\n${result.output}`);
    }
    return result;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
    if (pid) {
        try {
            process.kill(-pid, signal);
        } catch {
            // ESRCH: nothing left in the group
        }
    }
}

/**
 * Whether any live process is left in the process group. Read from /proc rather than kill(0):
 * orphans that exited stay zombies until init reaps them, and they need no stopping.
 */
export function groupAlive(pgid: number): boolean {
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        let stat: string;
        try {
            stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
            continue; // gone meanwhile
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(pgrp) === pgid && state !== "Z" && state !== "X") {
            return true;
        }
    }
    return false;
}

/** Polls until `probe` returns a value other than undefined/false; bounded, with a clear failure. */
export async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    opts: {
        timeoutMs?: number;
        intervalMs?: number;
        /** More to print on failure (a server log). */
        detail?: () => string | Promise<string>;
        /** Servers the wait is for: if one exits, waiting longer is pointless. */
        watch?: readonly Daemon[];
        /** A reason to stop waiting now (a server logged that it cannot work), or undefined. */
        abort?: () => string | undefined;
    } = {},
): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    for (;;) {
        const dead = (opts.watch ?? []).find(d => !d.running);
        if (dead) {
            const detail = opts.detail ? await opts.detail() : "";
            throw new Error(
                `${dead.name} exited while waiting for ${what}; it printed:\n${dead.output()}${detail ? `\n${detail}` : ""}`,
            );
        }
        const reason = opts.abort?.();
        if (reason) {
            throw new Error(`stopped waiting for ${what}: ${reason}`);
        }
        try {
            const value = await probe();
            if (value !== undefined && value !== false) {
                return value;
            }
            lastError = "";
        } catch (e) {
            lastError = (e as Error).message;
        }
        if (Date.now() > deadline) {
            const detail = [
                opts.detail ? await opts.detail() : "",
                ...(opts.watch ?? []).map(d => `${d.name} printed:\n${d.output()}`),
            ]
                .filter(Boolean)
                .join("\n");
            throw new Error(
                `gave up after ${timeoutMs / 1000} s waiting for ${what}` +
                    (lastError ? `; last error: ${lastError}` : "") +
                    (detail ? `\n${detail}` : ""),
            );
        }
        await sleep(opts.intervalMs ?? 250);
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * A TCP port nothing listens on right now (on any address), for a scratch server. Drawn from
 * 20000-32767: below Linux's ephemeral range (so outgoing connections do not take it meanwhile)
 * and within what zabbix_server accepts for ListenPort (1024-32767).
 */
export async function freePort(): Promise<number> {
    for (let attempt = 0; attempt < 100; attempt++) {
        const port = 20000 + Math.floor(Math.random() * (32767 - 20000));
        const free = await new Promise<boolean>(resolve => {
            const server = net.createServer();
            server.unref();
            server.once("error", () => resolve(false));
            server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
        });
        if (free) {
            return port;
        }
    }
    throw new Error("no free TCP port found in 20000-32767");
}

/**
 * A TCP relay on 127.0.0.1 whose connections onward to `target` leave from `source` (another
 * loopback address). psql cannot pick its source address, and Linux sends loopback traffic from
 * 127.0.0.1 whichever 127.x address it goes to; through the relay the server sees `source`.
 */
export async function relayFrom(
    scratch: Scratch,
    source: string,
    target: { host: string; port: number },
): Promise<number> {
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => s.destroy());
    };
    const server = net.createServer(client => {
        const upstream = net.createConnection({ host: target.host, port: target.port, localAddress: source });
        track(client);
        track(upstream);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    scratch.defer(
        `close the relay from ${source}`,
        () =>
            new Promise<void>(resolve => {
                sockets.forEach(s => s.destroy());
                server.close(() => resolve());
            }),
    );
    return (server.address() as net.AddressInfo).port;
}

/** A program running in the background in its own process group. */
export class Daemon {
    private readonly chunks: Buffer[] = [];
    /** Resolves when the program's main process exits. */
    public readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    private done = false;

    constructor(
        public readonly name: string,
        private readonly child: ChildProcess,
    ) {
        child.stdout?.on("data", (b: Buffer) => this.chunks.push(b));
        child.stderr?.on("data", (b: Buffer) => this.chunks.push(b));
        child.stdin?.end();
        this.exited = new Promise(resolve => {
            child.on("error", e => {
                this.chunks.push(Buffer.from(`spawn failed: ${e.message}\n`));
                this.done = true;
                resolve({ code: null, signal: null });
            });
            child.on("exit", (code, signal) => {
                this.done = true;
                resolve({ code, signal });
            });
        });
    }

    get pid(): number {
        return this.child.pid ?? 0;
    }

    get running(): boolean {
        return !this.done;
    }

    /** What it printed to stdout and stderr so far. */
    output(): string {
        return Buffer.concat(this.chunks).toString();
    }

    /**
     * SIGTERM to the whole process group (zabbix_server's children outlive a killed parent for
     * minutes), then SIGKILL if anything of it is still there after `graceMs`.
     */
    async stop(graceMs = 15_000): Promise<void> {
        const pid = this.pid;
        if (!pid || !groupAlive(pid)) {
            return;
        }
        killGroup(pid, "SIGTERM");
        const deadline = Date.now() + graceMs;
        while (groupAlive(pid) && Date.now() < deadline) {
            await sleep(100);
        }
        if (groupAlive(pid)) {
            killGroup(pid, "SIGKILL");
            await waitFor(`process group ${pid} (${this.name}) to end after SIGKILL`, () => !groupAlive(pid), {
                timeoutMs: 10_000,
            });
        }
    }
}

/** Starts a long-running program (a server in the foreground); the caller stops it, or the scratch space does. */
export function startDaemon(name: string, tool: string, args: readonly string[], opts: RunOptions = {}): Daemon {
    const file = tool.includes("/") ? tool : requireTool(tool);
    return new Daemon(name, spawn(file, args, spawnOptions(opts, true)));
}

/**
 * Temp dirs, servers and processes of one test file, torn down in reverse order in afterAll,
 * whether the tests passed or not. Use `scratchSpace()` at the top of a test file.
 */
export class Scratch {
    private readonly cleanups: Array<{ what: string; run: () => Promise<void> }> = [];

    /** Registers a teardown step; steps run last-registered first. */
    defer(what: string, run: () => Promise<void> | void): void {
        this.cleanups.push({
            what,
            run: async () => {
                await run();
            },
        });
    }

    /** A fresh temp dir (mode 0700), owned by `owner` when given, removed at teardown. */
    async dir(prefix: string, owner?: string): Promise<string> {
        const dir = await mkdtemp(path.join(tmpdir(), `zha-${prefix}-`));
        this.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
        if (owner) {
            const u = userInfo(owner);
            await chown(dir, u.uid, u.gid);
        }
        return dir;
    }

    /** A background program stopped (with its whole process group) at teardown. */
    daemon(name: string, tool: string, args: readonly string[], opts: RunOptions = {}): Daemon {
        const daemon = startDaemon(name, tool, args, opts);
        this.defer(`stop ${name}`, () => daemon.stop());
        return daemon;
    }

    async cleanup(): Promise<void> {
        const failures: string[] = [];
        for (const step of this.cleanups.splice(0).reverse()) {
            try {
                await step.run();
            } catch (e) {
                failures.push(`${step.what}: ${(e as Error).message}`);
            }
        }
        if (failures.length > 0) {
            throw new Error(`teardown failed:\n${failures.join("\n")}`);
        }
    }
}

/** A Scratch whose teardown runs in this test file's afterAll. */
export function scratchSpace(): Scratch {
    const scratch = new Scratch();
    afterAll(() => scratch.cleanup(), 120_000);
    return scratch;
}

/** Writes a file with the given mode and owner ("user" or root when omitted). */
export async function putFile(file: string, content: string, mode = 0o644, owner?: string): Promise<string> {
    await writeFile(file, content);
    await chmod(file, mode);
    if (owner) {
        const u = userInfo(owner);
        await chown(file, u.uid, u.gid);
    }
    return file;
}

// ---------------------------------------------------------------------------------------------
// Checking a file with the program that reads it.

/** How a program checks one file. */
export interface FileCheck {
    /** Program name, a key of TOOL_PACKAGES. */
    readonly tool: string;
    /** Name the file gets in its temp dir (some programs care about the extension). */
    readonly fileName: string;
    readonly args: (file: string) => string[];
    /**
     * What the program prints when it accepts the file. Exit 0 alone is not enough: some programs
     * exit 0 on problems they only warn about, or on a file they could not read at all.
     */
    readonly accepted: (output: string) => boolean;
}

export interface CheckResult extends RunResult {
    /** Exit 0 and the output the check expects of an accepted file. */
    readonly accepted: boolean;
}

/** Writes `content` to a temp file and runs the check's program on it. */
export async function checkFile(check: FileCheck, content: string, opts: RunOptions = {}): Promise<CheckResult> {
    const dir = await mkdtemp(path.join(tmpdir(), "zha-check-"));
    try {
        const file = await putFile(path.join(dir, check.fileName), content, 0o644);
        const result = await run(check.tool, check.args(file), opts);
        return { ...result, accepted: result.code === 0 && check.accepted(result.output) };
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
}

/** Fails with everything the program printed unless it accepted the file. */
export function expectAccepted(result: CheckResult | (RunResult & { accepted?: boolean })): void {
    if (!(result.accepted ?? result.code === 0)) {
        throw new Error(
            `expected ${result.command} to accept the file; it exited ${result.code ?? result.signal} and printed:\n${result.output}`,
        );
    }
}

/** Fails unless the program rejected the file, saying what `reason` matches. */
export function expectRejected(result: CheckResult, reason: RegExp): void {
    if (result.accepted) {
        throw new Error(`expected ${result.command} to reject the file; it accepted it and printed:\n${result.output}`);
    }
    expect(result.output).toMatch(reason);
}

// ---------------------------------------------------------------------------------------------
// Scratch PostgreSQL 15 clusters.

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

/** `initdb` a fresh cluster (UTF8, C locale, local peer auth) in a temp dir owned by postgres. */
export async function initPostgres(scratch: Scratch, name: string, port: number): Promise<PgServer> {
    const dir = await scratch.dir(`pg-${name}`, "postgres");
    const pg = new PgServer(scratch, name, dir, port);
    ok(
        await run(
            "initdb",
            [
                "-D",
                pg.data,
                "-U",
                "postgres",
                "-A",
                "peer",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            { user: "postgres", cwd: dir },
        ),
    );
    return pg;
}

/** A copy of a running primary made with pg_basebackup, in a temp dir owned by postgres; not started. */
export async function basebackup(
    scratch: Scratch,
    name: string,
    port: number,
    from: { host: string; port: number; user: string; passfile: string; slot?: string; writeRecoveryConf?: boolean },
): Promise<PgServer> {
    const dir = await scratch.dir(`pg-${name}`, "postgres");
    const pg = new PgServer(scratch, name, dir, port);
    ok(
        await run(
            "pg_basebackup",
            [
                "-h",
                from.host,
                "-p",
                String(from.port),
                "-U",
                from.user,
                "-w",
                "-D",
                pg.data,
                "-X",
                "stream",
                "--checkpoint=fast",
                ...(from.slot ? ["-S", from.slot] : []),
                ...(from.writeRecoveryConf ? ["-R"] : []),
            ],
            { user: "postgres", cwd: dir, env: { PGPASSFILE: from.passfile } },
        ),
    );
    return pg;
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

/** A client connection with psql as root, so by password (or refused): over TCP, or a socket dir as host. */
export function psqlTcp(
    conn: { host: string; port: number; user: string; db: string; password?: string; passfile?: string },
    sql: string,
): Promise<RunResult> {
    const env: Record<string, string> = { PGCONNECT_TIMEOUT: "5" };
    if (conn.password !== undefined) {
        env.PGPASSWORD = conn.password;
    }
    if (conn.passfile !== undefined) {
        env.PGPASSFILE = conn.passfile;
    }
    return run(
        "psql",
        [
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

/**
 * A prefix directory for a test's own nginx: the rendered site, included from a minimal nginx.conf
 * with pid, logs and temp paths inside `dir`. The site's relative `include fastcgi_params` resolves
 * next to nginx.conf.
 */
export async function writeNginxPrefix(dir: string, site: string, webUser: string): Promise<void> {
    await copyFile(requireFile("/etc/nginx/fastcgi_params"), path.join(dir, "fastcgi_params"));
    await putFile(path.join(dir, "site.conf"), site);
    await putFile(
        path.join(dir, "nginx.conf"),
        `user ${webUser};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
    access_log ${dir}/access.log;
${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(t => `    ${t}_temp_path ${dir}/${t}_temp;`).join("\n")}
    include ${dir}/site.conf;
}
`,
    );
}

/** Status of each server of a proxy, from the stats socket's `show stat` CSV. */
export function serverStatus(socket: string, proxy: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const conn = net.createConnection({ path: socket }, () => conn.end("show stat\n"));
        conn.setTimeout(5_000, () => conn.destroy(new Error(`no answer on ${socket}`)));
        conn.on("data", b => chunks.push(b));
        conn.on("error", reject);
        conn.on("close", () => {
            const [header, ...rows] = Buffer.concat(chunks).toString().trim().split("\n");
            const columns = header.replace(/^# /, "").split(",");
            const col = (name: string) => columns.indexOf(name);
            const status: Record<string, string> = {};
            for (const row of rows.map(r => r.split(","))) {
                if (row[col("pxname")] === proxy && !["FRONTEND", "BACKEND"].includes(row[col("svname")])) {
                    status[row[col("svname")]] = row[col("status")];
                }
            }
            resolve(status);
        });
    });
}
