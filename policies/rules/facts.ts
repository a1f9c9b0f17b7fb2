/**
 * What the rules read: the facts the components declare (one definition, in
 * components/facts), found among the resources a policy sees, and a few helpers over them.
 */
import { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { z } from "zod";
import { ComponentDefinition, FactsOf, HOST, factsOf } from "../../components/facts";

export * from "../../components/facts";

/** A component's own name (the last part of its URN). */
export function nameOf(resource: { urn: string; name?: string }): string {
    return resource.name ?? resource.urn.split("::").pop() ?? resource.urn;
}

/** Sites whose hosts are all witnesses. */
export function witnessSites(resources: readonly PolicyResource[]): Set<string> {
    const hosts = factsOf(resources, HOST).map(h => h.facts);
    const sites = new Set(hosts.map(h => h.site));
    return new Set(
        [...sites].filter(site => hosts.filter(h => h.site === site).every(h => h.roles.every(r => r === "witness"))),
    );
}

/** A resource rule that sees only components of `definition`'s type, handed their facts. */
export function validateFactsOf<D extends ComponentDefinition<string, z.ZodObject>>(
    definition: D,
    check: (facts: FactsOf<D>, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    return (args, report) => {
        if (args.type === definition.token) {
            check(args.props as FactsOf<D>, args, report);
        }
    };
}
