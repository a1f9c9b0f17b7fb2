/**
 * The command lines of the preview, the bench and the lab: `--help`/`-h` anywhere prints the usage
 * and exits 0; an unknown flag, a missing value or an unknown command prints what was wrong and the
 * usage, and exits 2. Each tool's parser stays pure (it throws UsageError) so tests can read it.
 */

/** A command line the tool cannot run. */
export class UsageError extends Error {}

/** What a command line asks for. */
export type CommandLine<T> =
    | { readonly kind: "help" }
    | { readonly kind: "usage-error"; readonly message: string }
    | { readonly kind: "run"; readonly args: T };

const HELP_FLAGS = ["--help", "-h"];

/** Reads a command line with a tool's parser, without printing or exiting. */
export function readCommandLine<T>(argv: readonly string[], parse: (argv: readonly string[]) => T): CommandLine<T> {
    if (argv.some(a => HELP_FLAGS.includes(a))) {
        return { kind: "help" };
    }
    try {
        return { kind: "run", args: parse(argv) };
    } catch (err) {
        if (err instanceof UsageError) {
            return { kind: "usage-error", message: err.message };
        }
        throw err;
    }
}

/** The arguments to run with; for help or a usage error, prints the usage and exits (0 or 2). */
export function argumentsOrExit<T>(argv: readonly string[], usage: string, parse: (argv: readonly string[]) => T): T {
    const line = readCommandLine(argv, parse);
    if (line.kind === "help") {
        console.log(usage);
        return process.exit(0);
    }
    if (line.kind === "usage-error") {
        console.error(`${line.message}\n${usage}`);
        return process.exit(2);
    }
    return line.args;
}

/** A flag's value: the next word, unless it is missing or another flag. */
export function flagValue(flag: string, value: string | undefined): string {
    if (!value || value.startsWith("--")) {
        throw new UsageError(`${flag} needs a value`);
    }
    return value;
}
