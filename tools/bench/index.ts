/**
 * `npm run bench [-- --runs N]`: how long the side-by-side preview takes on this machine and how
 * much memory it needs. Prints figures next to their targets; asserts nothing (speed and memory
 * targets live here, never in tests):
 *  - all five patterns on the dev environment (target: under 3 s);
 *  - generated topologies of 10, 25 and 50 sites of one host (target: 50 sites under 10 s, growing linearly);
 *  - 100 generated sites of 4 hosts, every pattern forming (target: under 10 s and under 500 MiB).
 * Each run is a fresh process that previews once, as `npm run preview` does, so that its peak
 * memory is its own and no run profits from another's warm-up.
 */
import { spawnSync } from "child_process";
import { cpus, loadavg } from "os";
import * as path from "path";
import { argumentsOrExit } from "../cli";
import { USAGE, parseBenchArgs } from "./args";
import { BENCH_CASES, BenchCase } from "./cases";
import type { Measurement } from "./measure";

/** One fresh process previewing the case once. */
function runOnce(bench: BenchCase): Measurement {
    const child = spawnSync(process.execPath, ["--expose-gc", path.join(__dirname, "measure.js"), bench.id], {
        encoding: "utf8",
    });
    if (child.status !== 0) {
        throw new Error(
            `${bench.label}: the measuring process failed (${child.status ?? child.signal}):\n${child.stderr}`,
        );
    }
    return JSON.parse(child.stdout.trim().split("\n").pop()!) as Measurement;
}

function median(values: readonly number[]): number {
    return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

function main(): void {
    const { runs } = argumentsOrExit(process.argv.slice(2), USAGE, parseBenchArgs);
    console.log(
        `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}), node ${process.version}; ` +
            `load average ${loadavg()[0].toFixed(1)} as the bench starts (other processes on these cores lengthen wall times more than CPU times)`,
    );
    console.log(
        "each run: a fresh process previewing all five patterns once; wall and CPU seconds are medians, peak RSS the largest of the runs",
    );
    const startups: number[] = [];
    for (const bench of BENCH_CASES) {
        const count = runs ?? (bench.id === "dev" ? 5 : 3);
        const measured = Array.from({ length: count }, () => runOnce(bench));
        startups.push(...measured.map(m => m.startupSeconds));
        const seconds = median(measured.map(m => m.seconds));
        const perSite = bench.sites ? ` (${((seconds / bench.sites) * 1000).toFixed(0)} ms per site)` : "";
        const rss = Math.max(...measured.map(m => m.peakRssMiB));
        const formed = Math.min(...measured.map(m => m.formed));
        console.log(
            `${bench.label}: ${seconds.toFixed(2)} s wall${perSite}, ${median(measured.map(m => m.cpuSeconds)).toFixed(2)} s CPU, ` +
                `peak RSS ${rss.toFixed(0)} MiB; ${formed} of 5 patterns formed (${count} run${count === 1 ? "" : "s"}; target ${bench.target})`,
        );
    }
    console.log(
        `before each preview: ${median(startups).toFixed(2)} s to start node and load the modules (median of every run)`,
    );
}

try {
    main();
} catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
}
