/**
 * Text rendering of a captured plan: sites, hosts, components and their resources.
 */
import { COMPONENTS, HOST, RESOURCE_TYPES, SITE } from "../../components/facts";
import type { Topology } from "../../model";
import { CapturedPlan, CapturedResource } from "../offline/capture";

const TYPE_LABELS: Record<string, string> = {
    [RESOURCE_TYPES.command]: "remote command",
    [RESOURCE_TYPES.randomPassword]: "random password",
    [RESOURCE_TYPES.randomBytes]: "random key",
    [RESOURCE_TYPES.postgresqlProvider]: "postgresql provider",
    [RESOURCE_TYPES.tlsPrivateKey]: "TLS private key",
    [RESOURCE_TYPES.tlsSelfSignedCert]: "CA certificate",
    [RESOURCE_TYPES.tlsCertRequest]: "certificate request",
    [RESOURCE_TYPES.tlsLocallySignedCert]: "host certificate",
};

function label(type: string): string {
    return TYPE_LABELS[type] ?? type.replace(/^postgresql:index\/\w+:/, "postgresql ");
}

/** Custom resources beneath a component, at any depth. */
function customDescendants(plan: CapturedPlan, id: string): CapturedResource[] {
    const children = plan.resources.filter(r => r.parent === id);
    return children.flatMap(c => (c.custom ? [c] : customDescendants(plan, c.id)));
}

export function summarizePlan(plan: CapturedPlan): string {
    const lines: string[] = [];
    const sites = plan.resources.filter(r => r.type === SITE.token);
    lines.push(`Stack ${plan.project}/${plan.stack}`);
    lines.push("");
    lines.push("Sites and hosts:");
    for (const site of sites) {
        lines.push(`  ${site.name}`);
        for (const host of plan.resources.filter(r => r.parent === site.id && r.type === HOST.token)) {
            const steps = customDescendants(plan, host.id);
            const pkg = steps.find(s => s.name.endsWith("-packages"));
            const connection = (pkg?.inputs.connection ?? {}) as { host?: string; user?: string };
            lines.push(
                `    ${host.name.slice(site.name.length + 1).padEnd(14)} ${String(connection.host ?? "").padEnd(15)} ssh ${connection.user ?? "?"}`,
            );
        }
    }
    lines.push("");
    lines.push("Components:");
    const tokens = new Set<string>(COMPONENTS.filter(c => c !== HOST).map(c => c.token));
    const components = plan.resources.filter(r => tokens.has(r.type));
    for (const component of components) {
        const own = customDescendants(plan, component.id);
        lines.push(`  ${component.type.padEnd(42)} ${component.name.padEnd(22)} ${own.length} resources`);
    }
    lines.push(...dataPathLines((plan.outputs as { topology?: Topology } | undefined)?.topology));
    lines.push("");
    const counts = new Map<string, number>();
    for (const r of plan.resources.filter(r => r.custom)) {
        counts.set(label(r.type), (counts.get(label(r.type)) ?? 0) + 1);
    }
    lines.push(
        `Resources: ${[...counts].map(([type, n]) => `${n} ${type}`).join(", ")}; ${plan.resources.filter(r => r.custom).length} in all`,
    );
    return lines.join("\n");
}

/** The proxy groups, their proxies and the agents that send through them, when the stack has any. */
function dataPathLines(topology: Topology | undefined): string[] {
    const d = topology?.dataPath;
    if (!d) {
        return [];
    }
    const at = (p: { host: string; site: string }) => `${p.host} (${p.site})`;
    return [
        "",
        "Data path:",
        ...d.proxyGroups.map(
            g =>
                `  proxy group ${g.name} (failover ${g.failoverDelaySeconds} s, ${g.minOnline} online): ` +
                d.proxies
                    .filter(p => p.group === g.name)
                    .map(at)
                    .join(", "),
        ),
        ...d.agents.map(a => `  agent ${at(a)} -> ${a.group ? `group ${a.group}` : "the servers"}: ${a.serverActive}`),
    ];
}
