/**
 * `npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]`, `npm run lab -- apply [--config FILE]
 * [--pattern NAME] [--replace NAME]... [--preview] [--jobs N]`, `npm run lab -- status`,
 * `npm run lab -- down`, `npm run lab -- drill [--json FILE] [--only NAME]...`: a real multi-site lab of
 * systemd hosts on this machine, changes applied to it as `pulumi up` would, and failure drills
 * against it (see README.md here).
 */
import { drill } from "./drills";
import { down, status, up } from "./lab";
import { applyLab } from "./replay";

const USAGE = `usage: npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]
       npm run lab -- apply [--config FILE] [--pattern NAME] [--replace NAME]... [--preview] [--jobs N]
       npm run lab -- status
       npm run lab -- down
       npm run lab -- drill [--json FILE] [--only NAME]...   (NAME: a drill, or site-isolation for both of its entries)
The cache lives in $ZABBIX_HA_LAB_CACHE (default /var/cache/zabbix-ha-lab).`;

type Command = "up" | "apply" | "status" | "down" | "drill";

interface Args {
    readonly command: Command;
    readonly pattern?: string;
    readonly config?: string;
    readonly jobs?: number;
    readonly json?: string;
    readonly only?: string[];
    readonly replace?: string[];
    readonly preview?: boolean;
}

/** The flags each command takes. */
const FLAGS: Record<Command, readonly string[]> = {
    up: ["--pattern", "--config", "--jobs"],
    apply: ["--pattern", "--config", "--jobs", "--replace", "--preview"],
    status: [],
    down: [],
    drill: ["--json", "--only"],
};

function parseArgs(argv: string[]): Args {
    const [command, ...rest] = argv;
    if (!command || !(command in FLAGS)) {
        throw new UsageError(command ? `unknown command ${command}` : "no command given");
    }
    const args: { -readonly [K in keyof Args]: Args[K] } = { command: command as Command };
    for (let i = 0; i < rest.length; i++) {
        const flag = rest[i];
        if (!FLAGS[args.command].includes(flag)) {
            throw new UsageError(Object.values(FLAGS).some(f => f.includes(flag)) ? `${flag} does not apply to ${command}` : `unknown argument ${flag}`);
        }
        if (flag === "--preview") {
            args.preview = true;
            continue;
        }
        const value = need(flag, rest[++i]);
        switch (flag) {
            case "--pattern": args.pattern = value; break;
            case "--config": args.config = value; break;
            case "--jobs": args.jobs = Number(value); break;
            case "--json": args.json = value; break;
            // Repeatable, and each may list several names: --only server-crash,db-primary-crash.
            case "--only": args.only = [...(args.only ?? []), ...value.split(",").filter(Boolean)]; break;
            // Repeatable, one resource (URN or name) each, as pulumi up --replace.
            case "--replace": args.replace = [...(args.replace ?? []), value]; break;
        }
    }
    if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) {
        throw new UsageError("--jobs takes a whole number from 1");
    }
    return args;
}

function need(flag: string, value: string | undefined): string {
    if (!value || value.startsWith("--")) {
        throw new UsageError(`${flag} needs a value`);
    }
    return value;
}

class UsageError extends Error {}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    switch (args.command) {
        case "up":
            await up({ configFile: args.config, pattern: args.pattern, jobs: args.jobs });
            console.log("the lab is up; `npm run lab -- status` shows it, `npm run lab -- down` removes it");
            return 0;
        case "apply":
            await applyLab({ configFile: args.config, pattern: args.pattern, replace: args.replace, preview: args.preview, jobs: args.jobs });
            return 0;
        case "status":
            return (await status()) ? 0 : 1;
        case "down":
            await down();
            return 0;
        case "drill": {
            const results = await drill({ only: args.only, json: args.json });
            // Figures are for reading; only what must never happen fails the command.
            return results.some(r => r.splitBrain) ? 1 : 0;
        }
    }
}

main().then(code => process.exit(code), err => {
    if (err instanceof UsageError) {
        console.error(`${err.message}\n${USAGE}`);
        process.exit(2);
    }
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
