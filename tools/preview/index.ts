/**
 * `npm run preview [-- --config Pulumi.<env>.yaml] [--markdown FILE] [--json FILE]`: plans the
 * five design patterns on one environment offline (the SDK's mock runtime: no CLI, no engine, no
 * network), compares them side by side, and prints the configured pattern's plan.
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { readEnvironment } from "../offline/environment";
import { blockingViolations, comparePatterns, reportJson } from "./compare";
import { summarizePlan } from "./summary";
import { markdownReport, terminalTable } from "./table";
import { StackPlan, planEnvironment } from "../offline/stack";

const USAGE = "usage: npm run preview [-- --config Pulumi.<env>.yaml] [--markdown FILE] [--json FILE]";

interface Args {
    readonly config: string;
    /** Whether --config was given: then, as in `pulumi preview`, mandatory violations fail the command. */
    readonly explicitConfig: boolean;
    readonly markdown?: string;
    readonly json?: string;
}

function parseArgs(argv: string[]): Args {
    const args: { config: string; markdown?: string; json?: string } = { config: "Pulumi.dev.yaml" };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[i + 1];
        if ((flag === "--config" || flag === "--markdown" || flag === "--json") && value && !value.startsWith("--")) {
            args[flag.slice(2) as keyof typeof args] = value;
            i++;
        } else if (flag === "--help" || flag === "-h") {
            console.log(USAGE);
            process.exit(0);
        } else {
            console.error(`${flag}: unknown argument or missing value\n${USAGE}`);
            process.exit(2);
        }
    }
    return { ...args, config: path.resolve(args.config), explicitConfig: argv.includes("--config") };
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const env = readEnvironment(args.config);
    // The configured pattern as `pulumi up` would build it: the comparison plans it with the same config.
    const configuredName = env.config["zabbix-ha:pattern"] ?? "zabbix-ha";
    let configuredPlan: StackPlan | undefined;
    const report = await comparePatterns(env, { onPlan: (name, plan) => { configuredPlan = name === configuredName ? plan : configuredPlan; } });
    for (const note of report.notes) {
        console.log(`note: ${note}`);
    }
    console.log(`\nDesign patterns on ${path.basename(env.file)}, side by side:\n`);
    console.log(terminalTable(report));
    if (args.markdown) {
        writeFileSync(args.markdown, markdownReport(report));
        console.log(`\nMarkdown report: ${args.markdown}`);
    }
    if (args.json) {
        writeFileSync(args.json, `${reportJson(report)}\n`);
        console.log(`JSON report: ${args.json}`);
    }
    // A pattern name the comparison does not know fails here, with the program's own error.
    const plan = configuredPlan ?? await planEnvironment(env, { placeholderSecrets: true });
    console.log("");
    if (plan.error) {
        console.error(`${path.basename(env.file)}: ${plan.error.message}`);
        return 1;
    }
    console.log(summarizePlan(plan));
    // As `pulumi preview --policy-pack policies` would: a mandatory violation of the configured pattern fails.
    const configured = (plan.outputs as { topology: { pattern: { name: string } } }).topology.pattern.name;
    const mandatory = blockingViolations(report, configured);
    if (args.explicitConfig && mandatory.length > 0) {
        console.error(`\n${path.basename(env.file)}: pattern ${configured} breaks ${mandatory.length} mandatory design rule(s):`);
        mandatory.forEach(v => console.error(`  - ${v.policy}: ${v.message}`));
        return 1;
    }
    return 0;
}

main().then(code => process.exit(code), err => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
