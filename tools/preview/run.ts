/**
 * What `npm run preview` does, as a function of its arguments: the text it prints and its exit
 * code. The command (index.ts) only prints; the tests run this same path on every shipped config.
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { readEnvironment } from "../offline/environment";
import { StackPlan, planEnvironment } from "../offline/stack";
import { DEFAULT_PATTERN } from "../../components/config";
import { PreviewArgs } from "./args";
import { ComparisonReport, blockingViolations, comparePatterns, reportJson } from "./compare";
import { markdownReport } from "./markdown";
import { summarizePlan } from "./summary";
import { terminalTable, terminalWidth, wrapText } from "./terminal";

export interface PreviewRun {
    /** 0, or 1 when the configuration is bad or (with --config) the configured pattern breaks a mandatory rule. */
    readonly exitCode: 0 | 1;
    /** Lines for standard output and standard error. */
    readonly stdout: readonly string[];
    readonly stderr: readonly string[];
    readonly report: ComparisonReport;
}

/** Runs the preview; `width` is the terminal's (lines are wrapped to it). */
export async function runPreview(args: PreviewArgs, width = terminalWidth()): Promise<PreviewRun> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const done = (exitCode: 0 | 1) => ({ exitCode, stdout, stderr, report });
    const fit = (text: string, indent = 2) =>
        text
            .split("\n")
            .flatMap(line => wrapText(line, width, indent))
            .join("\n");
    const env = readEnvironment(args.config);
    const file = path.basename(env.file);
    // The configured pattern as `pulumi up` would build it: the comparison plans it with the same config.
    const configuredName = env.config["zabbix-ha:pattern"] ?? DEFAULT_PATTERN;
    let configuredPlan: StackPlan | undefined;
    const report = await comparePatterns(env, {
        onPlan: (name, plan) => {
            configuredPlan = name === configuredName ? plan : configuredPlan;
        },
    });
    stdout.push(...report.notes.map(note => fit(`note: ${note}`, 6)));
    stdout.push(`\nDesign patterns on ${file}, side by side:\n`, terminalTable(report, width));
    if (args.markdown) {
        writeFileSync(args.markdown, markdownReport(report));
        stdout.push(`\nMarkdown report: ${args.markdown}`);
    }
    if (args.json) {
        writeFileSync(args.json, `${reportJson(report)}\n`);
        stdout.push(`JSON report: ${args.json}`);
    }
    // A pattern name the comparison does not know fails here, with the program's own error.
    const plan = configuredPlan ?? (await planEnvironment(env, { placeholderSecrets: true }));
    stdout.push("");
    if (plan.error) {
        stderr.push(fit(`${file}: ${plan.error.message}`, 4));
        return done(1);
    }
    stdout.push(fit(summarizePlan(plan), 4));
    // As `pulumi preview --policy-pack policies` would: a mandatory violation of the configured pattern
    // fails. The table above lists each violation; this names the rules, so no message is printed twice.
    const configured = (plan.outputs as { topology: { pattern: { name: string } } }).topology.pattern.name;
    const mandatory = blockingViolations(report, configured);
    if (args.explicitConfig && mandatory.length > 0) {
        const pattern = report.patterns.find(p => p.name === configured)!;
        const rules = [...new Set(mandatory.map(v => v.policy))];
        stderr.push(
            fit(
                `\n${file}: pattern ${configured} has ${mandatory.length} mandatory violation(s) of ${rules.join(", ")}, ` +
                    `listed above under "pattern ${pattern.id} ${pattern.name} breaks design rules"`,
            ),
        );
        return done(1);
    }
    return done(0);
}
