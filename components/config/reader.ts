/**
 * Reading raw configuration one node at a time, collecting every problem with its config path.
 */
import * as pulumi from "@pulumi/pulumi";

export interface ConfigProblem {
    /** Config path, e.g. `sites[1].hosts[0].address`. */
    readonly path: string;
    readonly message: string;
}

/**
 * Thrown when the configuration has problems; its message lists every one of them. A RunError, so
 * `pulumi preview` prints the list alone, without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: readonly ConfigProblem[]) {
        super(
            `invalid zabbix-ha configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map(p => `  - ${p.path}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Collects problems while reading one level of raw config. */
export class Reader {
    constructor(private readonly problems: ConfigProblem[]) {}

    problem(path: string, message: string): void {
        this.problems.push({ path, message });
    }

    /** How many problems were reported so far (to tell whether a section read cleanly). */
    problemCount(): number {
        return this.problems.length;
    }

    /** An object node; reports unknown keys, which are nearly always typos. */
    object(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> | undefined {
        if (value === undefined || value === null) {
            return {};
        }
        if (typeof value !== "object" || Array.isArray(value)) {
            this.problem(path, `expected a mapping, got ${describe(value)}`);
            return undefined;
        }
        for (const key of Object.keys(value)) {
            if (!keys.includes(key)) {
                this.problem(join(path, key), `unknown key (known: ${keys.join(", ")})`);
            }
        }
        return value as Record<string, unknown>;
    }

    string(node: Record<string, unknown>, key: string, path: string, fallback?: string): string | undefined {
        const value = node[key];
        if (value === undefined || value === null || value === "") {
            if (fallback === undefined) {
                this.problem(join(path, key), "is required");
            }
            return fallback;
        }
        if (typeof value !== "string") {
            this.problem(join(path, key), `expected a string, got ${describe(value)}`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(
        node: Record<string, unknown>,
        key: string,
        path: string,
        allowed: readonly T[],
        fallback: T,
    ): T | undefined {
        const value = this.string(node, key, path, fallback);
        if (value !== undefined && !allowed.includes(value as T)) {
            this.problem(join(path, key), `"${value}" is not one of ${allowed.join(", ")}`);
            return undefined;
        }
        return value as T | undefined;
    }

    integer(
        node: Record<string, unknown>,
        key: string,
        path: string,
        fallback: number,
        min: number,
        max: number,
    ): number | undefined {
        const value = node[key] ?? fallback;
        const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
        if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
            this.problem(join(path, key), `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
            return undefined;
        }
        return number;
    }

    boolean(node: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean | undefined {
        const value = node[key] ?? fallback;
        if (value === "true" || value === "false") {
            return value === "true";
        }
        if (typeof value !== "boolean") {
            this.problem(join(path, key), `expected true or false, got ${describe(value)}`);
            return undefined;
        }
        return value;
    }
}

/** Whether text holds a line break, a tab or another control character (none belongs in a name, a URL or a parameter). */
export function hasControlCharacter(value: string): boolean {
    return [...value].some(ch => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
}

export function join(path: string, key: string): string {
    return path ? `${path}.${key}` : key;
}

export function describe(value: unknown): string {
    return Array.isArray(value) ? "a list" : value === null ? "null" : `${typeof value} ${JSON.stringify(value)}`;
}

/** A section of values that override the given defaults: numbers non-negative, strings as they are. */
export function readOverrides<T extends object>(r: Reader, value: unknown, path: string, defaults: T): T | undefined {
    const base = { ...defaults } as Record<string, unknown>;
    const numeric = Object.entries(base)
        .filter(([, v]) => typeof v === "number")
        .map(([k]) => k);
    const textual = Object.entries(base)
        .filter(([, v]) => typeof v === "string")
        .map(([k]) => k);
    const node = r.object(value, path, [...numeric, ...textual]);
    if (!node) {
        return undefined;
    }
    const result = { ...base };
    for (const [key, v] of Object.entries(node)) {
        if (textual.includes(key) && typeof v === "string") {
            result[key] = v;
        } else if (numeric.includes(key) && typeof v === "number" && Number.isFinite(v) && v >= 0) {
            result[key] = v;
        } else if (numeric.includes(key) || textual.includes(key)) {
            r.problem(
                join(path, key),
                `${JSON.stringify(v)} is not a ${numeric.includes(key) ? "non-negative number" : "string"}`,
            );
        }
    }
    return result as unknown as T;
}
