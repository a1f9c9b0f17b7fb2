/**
 * `npm run preview [-- --config Pulumi.<env>.yaml]`: plans the stack offline under the SDK's mock
 * runtime and prints what `pulumi up` would build, or every configuration problem.
 */
import * as path from "path";
import { readEnvironment } from "../offline/environment";
import { planEnvironment } from "../offline/stack";
import { summarizePlan } from "./summary";

function parseArgs(argv: string[]): { config: string } {
    let config = "Pulumi.dev.yaml";
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--config" && argv[i + 1]) {
            config = argv[++i];
        } else if (argv[i] === "--help" || argv[i] === "-h") {
            console.log("usage: npm run preview [-- --config Pulumi.<env>.yaml]");
            process.exit(0);
        } else {
            console.error(`unknown argument ${argv[i]}; usage: npm run preview [-- --config Pulumi.<env>.yaml]`);
            process.exit(2);
        }
    }
    return { config: path.resolve(config) };
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const env = readEnvironment(args.config);
    const plan = await planEnvironment(env, { placeholderSshKey: true });
    for (const note of plan.notes) {
        console.log(`note: ${note}`);
    }
    if (plan.error) {
        console.error(`${path.basename(env.file)}: ${plan.error.message}`);
        return 1;
    }
    console.log(summarizePlan(plan));
    return 0;
}

main().then(code => process.exit(code), err => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
