/**
 * Reading declared facts back off resources, wherever they come from: a policy's view of the
 * stack, or a plan captured offline. One reader, typed by the component's definition.
 */
import { z } from "zod";
import { ComponentDefinition, FactsOf } from "./definitions";

/** A resource as policies and captured plans see it: its type token and its inputs. */
export interface DeclaredResource {
    readonly type: string;
    readonly props: Record<string, unknown>;
}

/** The facts of every resource of one component, with the resource for reporting. */
export function factsOf<R extends DeclaredResource, D extends ComponentDefinition<string, z.ZodObject>>(
    resources: readonly R[],
    definition: D,
): { readonly resource: R; readonly facts: FactsOf<D> }[] {
    return resources
        .filter(r => r.type === definition.token)
        .map(resource => ({ resource, facts: resource.props as FactsOf<D> }));
}

/**
 * Where a resource's props break its definition's schema (a missing fact, a wrong kind, an
 * undeclared one), as `path: message` lines; none for a resource of another type.
 */
export function factProblems(
    resource: DeclaredResource,
    definition: ComponentDefinition<string, z.ZodObject>,
): string[] {
    if (resource.type !== definition.token) {
        return [];
    }
    const parsed = definition.facts.safeParse(resource.props);
    return parsed.success ? [] : parsed.error.issues.map(i => `${i.path.join(".") || "(facts)"}: ${i.message}`);
}
