/**
 * Processes and daemons of the real-tool checks: running a program to completion, starting one in
 * the background in its own process group, stopping the whole group, and bounded waits.
 */
import { ChildProcess, spawn } from "child_process";
import { readFileSync, readdirSync } from "fs";
import { tmpdir } from "os";
import { Readable } from "stream";
import { PHP_EXTENSION_PACKAGES, installHint, requireTool, userInfo } from "./tools";

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
    /** Start from `env` alone rather than this process's environment (a chroot's programs get the root's). */
    readonly clearEnv?: boolean;
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
    const inherited = opts.clearEnv ? {} : process.env;
    const env: Record<string, string | undefined> = { ...inherited, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...opts.env };
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

/** Sends `signal` to a whole process group; a group already gone is no error. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
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
