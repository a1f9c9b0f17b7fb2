/**
 * Plans every design pattern on one environment and evaluates each: hosts, resources, the failure
 * matrix, availability and cost. The report's JSON shape is what tools downstream rely on.
 */
import {
    AvailabilityEstimate,
    CostEstimate,
    ModelConfig,
    ScenarioResult,
    Topology,
    estimateAvailability,
    estimateCost,
    evaluateAll,
    scenarioMatrix,
} from "../../model";
import { DEFAULT_PATTERN } from "../../components/config";
import { Violation, runPolicies } from "../../policies/harness";
import { PATTERNS } from "../../stacks/patterns";
import { CapturedPlan } from "../offline/capture";
import { EnvironmentConfig } from "../offline/environment";
import { StackPlan, errorLines, planEnvironment } from "../offline/stack";

export type { Violation };

export interface PatternReport {
    readonly id: number;
    readonly name: string;
    readonly summary: string;
    readonly hosts: number | null;
    readonly resources: number | null;
    readonly scenarios: readonly ScenarioResult[];
    readonly availability: AvailabilityEstimate | null;
    readonly cost: CostEstimate | null;
    /** Independent configurations an operator edits (a synced site is not one). */
    readonly configurationPlanes: number | null;
    /** Whether the design needs a VIP, and an L2 segment spanning sites for it. */
    readonly vipNeeded: boolean | null;
    readonly l2AcrossSites: boolean | null;
    readonly violations: readonly Violation[];
    /** Problems that keep the configuration from forming this pattern. */
    readonly errors: readonly string[];
    /** The plan's topology, for the diagrams. */
    readonly topology?: Topology;
}

/** The pattern the design study chose, and why. */
export interface StudyChoice {
    readonly id: number;
    readonly name: string;
    readonly why: string;
}

/** The five patterns evaluated on one environment. */
export interface ComparisonReport {
    readonly environment: string;
    /** The pattern the environment builds (`zabbix-ha:pattern`, or the default). */
    readonly configuredPattern: string;
    readonly studyChoice: StudyChoice | null;
    readonly patterns: readonly PatternReport[];
    readonly notes: readonly string[];
}

function failed(id: number, name: string, summary: string, errors: string[]): PatternReport {
    return {
        id,
        name,
        summary,
        hosts: null,
        resources: null,
        scenarios: [],
        availability: null,
        cost: null,
        configurationPlanes: null,
        vipNeeded: null,
        l2AcrossSites: null,
        violations: [],
        errors,
    };
}

/** Runs the policy pack's rules on a captured plan, as `pulumi preview --policy-pack policies` would. */
export function planViolations(plan: CapturedPlan): Promise<Violation[]> {
    return runPolicies(
        plan.resources
            .filter(r => r.type !== "pulumi:pulumi:Stack")
            .map(r => ({ type: r.type, name: r.name, props: r.inputs, parent: r.parent })),
    );
}

/** Evaluates one planned pattern from its exported topology. */
export async function reportPattern(
    id: number,
    name: string,
    summary: string,
    plan: CapturedPlan,
): Promise<PatternReport> {
    if (plan.error) {
        return failed(id, name, summary, errorLines(plan.error));
    }
    const outputs = plan.outputs as { topology: Topology; model: ModelConfig };
    const topology = outputs.topology;
    const model = outputs.model;
    const managers = topology.instances.flatMap(i => (i.clusterManager ? [i.clusterManager] : []));
    // Every concrete failure, evaluated once for both the matrix and the availability.
    const evaluated = evaluateAll(topology, model.timings);
    return {
        id,
        name,
        summary,
        hosts: topology.hosts.length,
        resources: plan.resources.filter(r => r.custom).length,
        scenarios: scenarioMatrix(topology, model.timings, evaluated),
        availability: estimateAvailability(topology, model.rates, model.timings, evaluated),
        cost: estimateCost(topology, model.prices),
        configurationPlanes: topology.instances.length - (topology.configSync?.targets.length ?? 0),
        vipNeeded: topology.instances.some(i => i.entryPoints.some(e => e.kind === "vip")),
        l2AcrossSites: managers.some(m => new Set(m.nodes.map(n => n.site)).size > 1),
        violations: await planViolations(plan),
        errors: [],
        topology,
    };
}

export interface CompareOptions {
    /** Sees each pattern's plan once it is evaluated (the preview keeps the configured pattern's to print it). */
    readonly onPlan?: (pattern: string, plan: StackPlan) => void;
}

/** V8's collector, when node runs with --expose-gc (`npm run preview` and the bench's measuring process do). */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** Plans and evaluates all five patterns on one environment; a pattern the config cannot form reports its errors. */
export async function comparePatterns(env: EnvironmentConfig, options: CompareOptions = {}): Promise<ComparisonReport> {
    const patterns: PatternReport[] = [];
    const notes = new Set<string>();
    for (const pattern of PATTERNS) {
        // The last pattern's plan is garbage once reported; V8 left it for later and a 100-site preview
        // peaked at 555 MiB. Collected here, the peak is one plan's (with --expose-gc, as the scripts run node).
        collectGarbage?.();
        const plan = await planEnvironment(env, {
            placeholderSecrets: true,
            overrides: { "zabbix-ha:pattern": pattern.name },
        });
        options.onPlan?.(pattern.name, plan);
        plan.notes.forEach(n => notes.add(n));
        patterns.push(await reportPattern(pattern.id, pattern.name, pattern.summary, plan));
    }
    const chosen = PATTERNS.find(p => p.studyChoice);
    return {
        environment: env.file,
        configuredPattern: env.config["zabbix-ha:pattern"] ?? DEFAULT_PATTERN,
        studyChoice: chosen ? { id: chosen.id, name: chosen.name, why: chosen.studyChoice! } : null,
        patterns,
        notes: [...notes],
    };
}

/** The mandatory violations of one pattern: what makes `pulumi preview --policy-pack policies` fail. */
export function blockingViolations(report: ComparisonReport, pattern: string): Violation[] {
    return report.patterns.find(p => p.name === pattern)?.violations.filter(v => v.level === "mandatory") ?? [];
}

/** The report as JSON, without the internal topology. */
export function reportJson(report: ComparisonReport): string {
    return JSON.stringify(
        {
            environment: report.environment,
            configuredPattern: report.configuredPattern,
            studyChoice: report.studyChoice,
            patterns: report.patterns.map(({ topology: _topology, summary: _summary, ...rest }) => rest),
        },
        null,
        2,
    );
}
