/**
 * The CA file the PostgreSQL provider verifies the database's certificate against. The provider
 * runs where `pulumi up` runs and takes `sslrootcert` as a file path only, so the program writes
 * the stack's CA there (in the project's `.zabbix-ha/`, not a shared temp dir another user could
 * plant a file in; one file per CA) and hands the provider the path once it is written. Every run writes it again,
 * so a fresh checkout or another operator's machine has it too.
 */
import { createHash } from "crypto";
import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/**
 * Where a CA goes, under the directory the program runs in: named by its content too, so that two
 * plans of one stack name with different CAs (the lab plans several configs as stack "lab") never
 * hand each other's provider the wrong file.
 */
export function providerCaPath(stack: string, caCertPem: string, cwd = process.cwd()): string {
    const digest = createHash("sha256").update(caCertPem).digest("hex").slice(0, 16);
    return path.resolve(cwd, ".zabbix-ha", `${stack}-${digest}-ca.crt`);
}

/** Writes the CA for the provider and resolves to its path. */
export function providerCaFile(caCertPem: pulumi.Input<string>, stack = pulumi.getStack()): pulumi.Output<string> {
    return pulumi.output(caCertPem).apply(pem => {
        const file = providerCaPath(stack, pem);
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
        writeFileSync(file, pem, { mode: 0o644 });
        return file;
    });
}
