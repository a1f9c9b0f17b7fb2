/**
 * `npm run preview [-- --config Pulumi.<env>.yaml] [--markdown FILE] [--json FILE]`: plans the
 * five design patterns on one environment (Pulumi.prod.yaml, the study's design, unless told
 * otherwise) offline (the SDK's mock runtime: no CLI, no engine, no network), compares them side by
 * side within the terminal's width, and prints the configured pattern's plan.
 */
import { argumentsOrExit } from "../cli";
import { USAGE, parsePreviewArgs } from "./args";
import { runPreview } from "./run";

async function main(): Promise<number> {
    const run = await runPreview(argumentsOrExit(process.argv.slice(2), USAGE, parsePreviewArgs));
    run.stdout.forEach(line => console.log(line));
    run.stderr.forEach(line => console.error(line));
    return run.exitCode;
}

main().then(
    code => process.exit(code),
    err => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
