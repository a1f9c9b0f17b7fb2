/**
 * `npm run lab -- up [--pattern NAME] [--config FILE] [--jobs N]`, `npm run lab -- apply [--config FILE]
 * [--pattern NAME] [--replace NAME]... [--preview] [--jobs N]`, `npm run lab -- status`,
 * `npm run lab -- down`, `npm run lab -- drill [--json FILE] [--only NAME]... [--repeat N]`: a real multi-site lab of
 * systemd hosts on this machine, changes applied to it as `pulumi up` would, and failure drills
 * against it (see README.md here).
 */
import { argumentsOrExit } from "../cli";
import { USAGE, parseLabArgs } from "./args";
import { drill, promisedLost } from "./drills";
import { down, status, up } from "./lab";
import { applyLab } from "./replay";

async function main(): Promise<number> {
    const args = argumentsOrExit(process.argv.slice(2), USAGE, parseLabArgs);
    switch (args.command) {
        case "up":
            await up({ configFile: args.config, pattern: args.pattern, jobs: args.jobs });
            console.log("the lab is up; `npm run lab -- status` shows it, `npm run lab -- down` removes it");
            return 0;
        case "apply":
            await applyLab({
                configFile: args.config,
                pattern: args.pattern,
                replace: args.replace,
                preview: args.preview,
                jobs: args.jobs,
            });
            return 0;
        case "status":
            return (await status()) ? 0 : 1;
        case "down":
            await down();
            return 0;
        case "drill": {
            const results = await drill({ only: args.only, json: args.json, repeat: args.repeat });
            // Figures are for reading; only what must never happen (in any run) fails the command.
            return results.some(r => r.splitBrain || ("sources" in r && promisedLost(r) > 0)) ? 1 : 0;
        }
    }
}

main().then(
    code => process.exit(code),
    err => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
