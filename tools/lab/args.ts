/** The lab's command line: a command and the flags that command takes. */
import { UsageError, flagValue } from "../cli";

export const USAGE = `usage: npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]
       npm run lab -- apply [--config FILE] [--pattern NAME] [--replace NAME]... [--preview] [--jobs N]
       npm run lab -- status
       npm run lab -- down
       npm run lab -- drill [--json FILE] [--only NAME]... [--repeat N]
                            (NAME: a drill, or site-isolation for both of its entries; N: runs of each drill in a row, 1 to 20)
       npm run lab -- [COMMAND] --help
The cache lives in $ZABBIX_HA_LAB_CACHE (default /var/cache/zabbix-ha-lab).`;

export const COMMANDS = ["up", "apply", "status", "down", "drill"] as const;

export interface LabArgs {
    readonly command: (typeof COMMANDS)[number];
    readonly pattern?: string;
    readonly config?: string;
    readonly jobs?: number;
    readonly json?: string;
    readonly only?: string[];
    /** drill: runs of each drill, one after the other. */
    readonly repeat?: number;
    /** apply: resources (URN or name) to replace, as `pulumi up --replace`. */
    readonly replace?: string[];
    /** apply: print what would change, and stop. */
    readonly preview?: boolean;
}

/** The flags each command takes. */
const FLAGS: Record<LabArgs["command"], readonly string[]> = {
    up: ["--pattern", "--config", "--jobs"],
    apply: ["--pattern", "--config", "--jobs", "--replace", "--preview"],
    status: [],
    down: [],
    drill: ["--json", "--only", "--repeat"],
};

/** Reads a lab command line; throws UsageError for an unknown command or flag, or a bad value. */
export function parseLabArgs(argv: readonly string[]): LabArgs {
    const [command, ...rest] = argv;
    if (!(COMMANDS as readonly string[]).includes(command)) {
        throw new UsageError(command ? `unknown command ${command}` : "no command given");
    }
    const args: { -readonly [K in keyof LabArgs]: LabArgs[K] } = { command: command as LabArgs["command"] };
    for (let i = 0; i < rest.length; i++) {
        const flag = rest[i];
        if (!FLAGS[args.command].includes(flag)) {
            throw new UsageError(
                Object.values(FLAGS).some(f => f.includes(flag))
                    ? `${flag} does not apply to ${command}`
                    : `unknown argument ${flag}`,
            );
        }
        if (flag === "--preview") {
            args.preview = true;
            continue;
        }
        const value = flagValue(flag, rest[++i]);
        switch (flag) {
            case "--pattern":
                args.pattern = value;
                break;
            case "--config":
                args.config = value;
                break;
            case "--jobs":
                args.jobs = Number(value);
                break;
            case "--json":
                args.json = value;
                break;
            // Repeatable, and each may list several names: --only server-crash,db-primary-crash.
            case "--only":
                args.only = [...(args.only ?? []), ...value.split(",").filter(Boolean)];
                break;
            case "--repeat": {
                // Digits only: Number() would also take "0x3", "3e0" or "3.0".
                const repeat = /^\d+$/.test(value) ? Number(value) : NaN;
                const problem = repeatProblem(repeat);
                if (problem) {
                    throw new UsageError(`--repeat ${problem}, not ${value}`);
                }
                args.repeat = repeat;
                break;
            }
            // Repeatable, one resource (URN or name) each, as pulumi up --replace.
            case "--replace":
                args.replace = [...(args.replace ?? []), value];
                break;
        }
    }
    if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) {
        throw new UsageError("--jobs takes a whole number from 1");
    }
    return args;
}

/** The most runs of each drill `--repeat` takes, which bounds how long one command holds the lab. */
export const MAX_REPEAT = 20;

/** What is wrong with a repeat count, or undefined when it is a whole number from 1 to MAX_REPEAT. */
export function repeatProblem(repeat: number): string | undefined {
    return Number.isInteger(repeat) && repeat >= 1 && repeat <= MAX_REPEAT
        ? undefined
        : `takes a whole number from 1 to ${MAX_REPEAT} (runs of each drill)`;
}
