/**
 * Resource names as the engine makes them (tools/lab/README.md, "Engine facts" E1):
 * `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the qualified type being the parent
 * chain's types joined by `$` and ending with the resource's own, the root `pulumi:pulumi:Stack`
 * left out. A resource without an explicit provider uses its package's default provider,
 * `pulumi:providers:<package>::default_<version>`.
 */
import { readFileSync } from "fs";

export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** Where a resource sits: its type, its name and its parents' types (outermost first). */
export interface Placement {
    readonly type: string;
    readonly name: string;
    readonly parentTypes: readonly string[];
}

export function urnOf(stack: string, project: string, p: Placement): string {
    const chain = [...p.parentTypes.filter(t => t !== ROOT_STACK_TYPE), p.type].join("$");
    return `urn:pulumi:${stack}::${project}::${chain}::${p.name}`;
}

/** The resource name at the end of a URN (names may hold "::" only in the last part). */
export function nameOfUrn(urn: string): string {
    const parts = urn.split("::");
    return parts.slice(3).join("::");
}

/** The package of a type token: `command:remote:Command` is the command package's. */
export function packageOf(type: string): string {
    return type.split(":")[0];
}

/** Whether the type is a provider resource itself (`pulumi:providers:<package>`). */
export function isProviderType(type: string): boolean {
    return type.startsWith("pulumi:providers:");
}

const versions = new Map<string, string>();

/** The installed SDK version of a package (`@pulumi/<package>`), which names its default provider. */
function sdkVersion(pkg: string): string {
    if (!versions.has(pkg)) {
        let version = "0.0.0";
        try {
            const manifest = require.resolve(`@pulumi/${pkg}/package.json`);
            version = JSON.parse(readFileSync(manifest, "utf8")).version ?? version;
        } catch {
            // A package without an SDK here (a test's made-up type): the name stays stable all the same.
        }
        versions.set(pkg, version);
    }
    return versions.get(pkg)!;
}

/** The default provider a custom resource without an explicit one is managed by. */
export function defaultProviderUrn(stack: string, project: string, type: string): string {
    const pkg = packageOf(type);
    return urnOf(stack, project, {
        type: `pulumi:providers:${pkg}`,
        name: `default_${sdkVersion(pkg).replace(/[.-]/g, "_")}`,
        parentTypes: [],
    });
}
