/**
 * Checking a file with the program that reads it: a FileCheck says how the program is called and
 * what it prints when it accepts the file.
 */
import { mkdtemp, rm } from "fs/promises";
import { tmpdir } from "os";
import * as path from "path";
import { RunOptions, RunResult, run } from "./processes";
import { putFile } from "./scratch";

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
