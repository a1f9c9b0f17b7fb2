/**
 * One run of the bench, in a process of its own so that its peak memory is its own:
 * `node bin/tools/bench/measure.js <case id>` previews the case's environment once, all five
 * patterns as `npm run preview` does, and prints the figures as one JSON line.
 */
import { performance } from "perf_hooks";
import { comparePatterns } from "../preview/compare";
import { BENCH_CASES } from "./cases";

export interface Measurement {
    /** Seconds from the process' start until the preview could begin: node and the modules. */
    readonly startupSeconds: number;
    /** Wall seconds of the preview of all five patterns. */
    readonly seconds: number;
    /** CPU seconds of the process over the preview: every thread, the garbage collector's too. */
    readonly cpuSeconds: number;
    /** Peak resident memory of the process, MiB: every thread (it starts no other process). */
    readonly peakRssMiB: number;
    /** Patterns the environment formed; the others reported why they cannot. */
    readonly formed: number;
}

async function measure(id: string): Promise<Measurement> {
    const bench = BENCH_CASES.find(c => c.id === id);
    if (!bench) {
        throw new Error(`${id}: no such bench case (${BENCH_CASES.map(c => c.id).join(", ")})`);
    }
    const env = bench.environment();
    const startupSeconds = performance.now() / 1000;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const report = await comparePatterns(env);
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return {
        startupSeconds,
        seconds,
        cpuSeconds: (used.user + used.system) / 1e6,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
        formed: report.patterns.filter(p => p.errors.length === 0).length,
    };
}

measure(process.argv[2] ?? "").then(
    m => console.log(JSON.stringify(m)),
    err => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
