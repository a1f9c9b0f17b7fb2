/**
 * What the rules read: the facts the components declare (one definition, in
 * components/facts), found among the resources a policy sees, and a few helpers over them.
 */
import { PolicyResource } from "@pulumi/policy";
import { HOST, factsOf } from "../../components/facts";

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
