/**
 * Running programs for the lab: every call captures stdout and stderr (the lab prints them only
 * when a step fails), takes stdin and extra environment without ever putting them on a command line.
 */
import { spawn } from "child_process";

/** Where the lab's commands write their progress, a line at a time. */
export type Log = (line: string) => void;

export interface RunOptions {
    /** Written to the program's stdin, then closed. */
    readonly input?: string;
    /** Added to the inherited environment (passwords travel here, not in arguments). */
    readonly env?: Record<string, string>;
    /** Milliseconds before the program is killed. */
    readonly timeoutMs?: number;
    readonly cwd?: string;
}

export interface RunResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    /** Seconds the program ran. */
    readonly seconds: number;
}

/** Runs a program to completion; never throws for a non-zero exit (see `check`). */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(program, [...args], {
            cwd: options.cwd,
            env: { ...process.env, ...options.env },
            stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        let timer: NodeJS.Timeout | undefined;
        if (options.timeoutMs) {
            timer = setTimeout(() => {
                err.push(Buffer.from(`\n[lab] killed after ${options.timeoutMs! / 1000} s\n`));
                child.kill("SIGKILL");
            }, options.timeoutMs);
        }
        child.on("error", e => {
            clearTimeout(timer);
            reject(new Error(`cannot run ${program}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                code: code ?? (signal ? 128 : 1),
                stdout: Buffer.concat(out).toString(),
                stderr: Buffer.concat(err).toString(),
                seconds: (Date.now() - started) / 1000,
            });
        });
        // A program that exits without reading its stdin must not crash the lab with EPIPE.
        child.stdin.on("error", () => undefined);
        child.stdin.end(options.input ?? "");
    });
}

/** Runs a program and throws, with its output, unless it exits 0. */
export async function check(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await run(program, args, options);
    if (result.code !== 0) {
        // The end of the output says why; debootstrap and apt print hundreds of lines before it.
        const output = (result.stdout + result.stderr).trimEnd().split("\n").slice(-40).join("\n");
        throw new Error(`${program} ${args.join(" ")} exited ${result.code}\n${indent(output)}`);
    }
    return result;
}

/** Indents program output under a message. */
export function indent(text: string): string {
    return text
        .trimEnd()
        .split("\n")
        .map(line => `    ${line}`)
        .join("\n");
}

export function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

/** Formats seconds for step lines: "12.3 s". */
export function seconds(value: number): string {
    return `${value.toFixed(1)} s`;
}
