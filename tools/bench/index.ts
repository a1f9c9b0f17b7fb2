/**
 * `npm run bench`: how long the side-by-side preview takes on this machine. Prints figures; asserts
 * nothing (speed targets live here, never in tests).
 *  - all five patterns on the dev environment (target: under 3 s);
 *  - generated topologies of 10, 25 and 50 sites (target: 50 sites under 10 s, growing linearly).
 */
import { cpus } from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { argumentsOrExit, noArguments } from "../cli";
import { EnvironmentConfig, readEnvironment, toEngineConfig } from "../offline/environment";
import { comparePatterns } from "../preview/compare";

/** A stack file with `sites` sites of one all-roles host each, numbered from 198.18.x.0/24. */
export function generatedEnvironment(sites: number): EnvironmentConfig {
    const raw = {
        zabbix: { version: "6.0", packageSource: "distribution" },
        failoverDelay: "10s",
        db: { primarySite: "site-1", adminNetwork: "198.19.255.0/24" },
        configSync: { sourceSite: "site-1" },
        cloud: { database: { host: "zabbix-db.cloud.example.net" } },
        sites: Array.from({ length: sites }, (_, i) => ({
            name: `site-${i + 1}`,
            network: `198.18.${i + 1}.0/24`,
            hosts: [{ name: `host-${i + 1}`, address: `198.18.${i + 1}.10`, roles: ["db", "zabbix-server", "frontend", "lb"] }],
        })),
    };
    return { file: `generated-${sites}-sites`, ...toEngineConfig(raw) };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
    const start = performance.now();
    await run();
    return (performance.now() - start) / 1000;
}

async function median(runs: number, run: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        times.push(await timed(run));
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const USAGE = "usage: npm run bench   (no options: prints how long the side-by-side preview takes on this machine)";

async function main(): Promise<void> {
    argumentsOrExit(process.argv.slice(2), USAGE, noArguments);
    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}), node ${process.version}`);
    const dev = readEnvironment(path.resolve(__dirname, "../../../Pulumi.dev.yaml"));
    await comparePatterns(dev); // warm-up: module loading and JIT
    const devSeconds = await median(5, () => comparePatterns(dev));
    console.log(`all five patterns on Pulumi.dev.yaml: ${devSeconds.toFixed(2)} s (median of 5; target < 3 s)`);
    const perSite: string[] = [];
    for (const sites of [10, 25, 50]) {
        const env = generatedEnvironment(sites);
        const seconds = await median(3, () => comparePatterns(env));
        perSite.push(`${sites} sites: ${seconds.toFixed(2)} s (${((seconds / sites) * 1000).toFixed(0)} ms per site)`);
        console.log(`all five patterns on a generated ${perSite[perSite.length - 1]}${sites === 50 ? "; target < 10 s" : ""}`);
    }
}

main().catch(err => {
    console.error(err);
    process.exit(1);
});
