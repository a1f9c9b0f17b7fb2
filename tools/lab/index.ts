/**
 * `npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]`, `npm run lab -- status`,
 * `npm run lab -- down`: a real multi-site lab of systemd hosts on this machine (see README.md here).
 */
import { down, status, up } from "./lab";

const USAGE = `usage: npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]
       npm run lab -- status
       npm run lab -- down
The cache lives in $ZABBIX_HA_LAB_CACHE (default /var/cache/zabbix-ha-lab).`;

interface Args {
    readonly command: "up" | "status" | "down";
    readonly pattern?: string;
    readonly config?: string;
    readonly jobs?: number;
}

function parseArgs(argv: string[]): Args {
    const [command, ...rest] = argv;
    if (command !== "up" && command !== "status" && command !== "down") {
        throw new UsageError(command ? `unknown command ${command}` : "no command given");
    }
    const args: { command: Args["command"]; pattern?: string; config?: string; jobs?: number } = { command };
    for (let i = 0; i < rest.length; i++) {
        const value = rest[i + 1];
        switch (rest[i]) {
            case "--pattern": args.pattern = need(rest[i], value); i++; break;
            case "--config": args.config = need(rest[i], value); i++; break;
            case "--jobs": args.jobs = Number(need(rest[i], value)); i++; break;
            default: throw new UsageError(`unknown argument ${rest[i]}`);
        }
        if (command !== "up") {
            throw new UsageError(`${rest[i - 1] ?? rest[i]} applies to up only`);
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
        case "status":
            return (await status()) ? 0 : 1;
        case "down":
            await down();
            return 0;
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
