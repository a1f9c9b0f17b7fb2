/**
 * `npm run lab -- drill --repeat N`: the spread of each figure over a drill's runs, whether each
 * run was within the model's range, and split brain over every run; and the report and JSON that
 * show them. Pure: no lab runs here (test/lab runs the drills themselves).
 */
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ChangeDrillResult, DrillResult, drill, median, spread, summarize, withinModel } from "../../tools/lab/drills";
import {
    formatSpread,
    formatSummaryTable,
    formatTable,
    formatVerdicts,
    writeJson,
} from "../../tools/lab/drills/report";
import { FaultDrillSummary } from "../../tools/lab/drills/summary";

/** One run of a fault drill that went as a good one goes; `over` changes what the test is about. */
function faultRun(run: number, over: Partial<DrillResult> = {}): DrillResult {
    return {
        name: "server-crash",
        run,
        pattern: "zabbix-ha",
        dbFailover: "patroni",
        fault: "SIGKILL to every process of zabbix-server on tyo-zbx1",
        activeBefore: "tyo-zbx1",
        primaryBefore: "tyo-db1",
        recoverySeconds: 10,
        serverRecoverySeconds: 10,
        boundSeconds: 63,
        predictedSeconds: { min: 6, max: 21 },
        predictedRecovery: "automatic",
        splitBrain: false,
        splitBrainDetail: {
            samples: 60,
            blindSamples: 0,
            insideSamples: 0,
            maxWritable: 1,
            maxActive: 1,
            violations: [],
        },
        sources: { direct: { valuesProduced: 100, valuesStored: 90, valuesLost: 10 } },
        valuesSent: 100,
        valuesAccepted: 95,
        valuesStored: 90,
        acceptedLost: 0,
        acceptedBy: { "tyo-zbx1": 40, "osa-zbx1": 55 },
        configLost: 0,
        uiGapSeconds: { "osa-lb1": 0.2 },
        restoreSeconds: 20,
        repairs: [],
        activeAfter: "osa-zbx1",
        primaryAfter: "tyo-db1",
        notes: [],
        ...over,
    };
}

function changeRun(run: number, over: Partial<ChangeDrillResult> = {}): ChangeDrillResult {
    return {
        kind: "change",
        name: "planned-switchover",
        run,
        pattern: "zabbix-ha",
        dbFailover: "patroni",
        summary: "db.primarySite to another DB site",
        applies: [],
        recoverySeconds: 16,
        commitsLost: 0,
        promise: "every acknowledged commit",
        splitBrain: false,
        valuesSent: 100,
        valuesStored: 98,
        checks: [{ name: "the primary moved", ok: true, detail: "osa-db1" }],
        notes: [],
        ...over,
    };
}

/** The five server-crash runs on the 6.0 lab (seconds). */
const MEASURED = [6.2, 6.4, 11.8, 14.5, 16.1];

describe("median and spread", () => {
    test("an odd count: the middle value, whatever the order", () => {
        expect(median([14.5, 6.2, 16.1, 6.4, 11.8])).toBe(11.8);
        expect(median([7])).toBe(7);
    });

    test("an even count: the mean of the two middle values", () => {
        expect(median([16.1, 6.2, 11.8, 6.4])).toBe((6.4 + 11.8) / 2);
        expect(median([1, 2])).toBe(1.5);
    });

    test("no values: no median, and no spread", () => {
        expect(() => median([])).toThrow("no values");
        expect(spread([])).toBeNull();
    });

    test("min, median and max, with even and odd counts", () => {
        expect(spread(MEASURED)).toEqual({ min: 6.2, median: 11.8, max: 16.1 });
        expect(spread(MEASURED.slice(1))).toEqual({ min: 6.4, median: (11.8 + 14.5) / 2, max: 16.1 });
    });
});

describe("a run within the model", () => {
    const range = { min: 6, max: 21 };
    test.each([
        [6, true],
        [13.7, true],
        [21, true],
        [5.9, false],
        [22.5, false],
    ])("%p s against 6 to 21 s: %p", (seconds, inside) => {
        expect(withinModel({ recoverySeconds: seconds, predictedSeconds: range })).toBe(inside);
    });

    test("no recovery is within the model only where the model expects an operator", () => {
        expect(withinModel({ recoverySeconds: null, predictedSeconds: null })).toBe(true);
        expect(withinModel({ recoverySeconds: null, predictedSeconds: range })).toBe(false);
        expect(withinModel({ recoverySeconds: 30, predictedSeconds: null })).toBe(false);
    });
});

describe("a drill's runs summarized", () => {
    test("five runs: each figure's min, median and max, and every run within the model", () => {
        const runs = MEASURED.map((s, i) =>
            faultRun(i + 1, { recoverySeconds: s, valuesStored: 90 - i, restoreSeconds: 20 + i }),
        );
        const [summary] = summarize(runs) as FaultDrillSummary[];
        expect(summary).toMatchObject({
            kind: "fault",
            name: "server-crash",
            runs: 5,
            recoverySeconds: { min: 6.2, median: 11.8, max: 16.1 },
            notRecovered: 0,
            predictedSeconds: { min: 6, max: 21 },
            withinModel: 5,
            outsideModel: [],
            splitBrain: false,
            splitBrainRuns: [],
            valuesLost: { min: 10, median: 12, max: 14 },
            restoreSeconds: { min: 20, median: 22, max: 24 },
            uiGapSeconds: { "osa-lb1": { min: 0.2, median: 0.2, max: 0.2 } },
        });
    });

    test("split brain in one run of four makes the drill's verdict split brain, and names the run", () => {
        const runs = [1, 2, 3, 4].map(run =>
            faultRun(run, {
                splitBrain: run === 3,
                splitBrainDetail: {
                    ...faultRun(run).splitBrainDetail,
                    maxWritable: run === 3 ? 2 : 1,
                    violations: run === 3 ? ["+12.0 s: two writable (tyo-db1, osa-db1)"] : [],
                },
            }),
        );
        const [summary] = summarize(runs) as FaultDrillSummary[];
        expect(summary).toMatchObject({
            splitBrain: true,
            splitBrainRuns: [3],
            violations: ["run 3: +12.0 s: two writable (tyo-db1, osa-db1)"],
        });
        expect(formatVerdicts([summary])).toContain("split-brain in run 3; VIOLATIONS run 3: +12.0 s");
        // No split brain in any run: the verdict says so.
        expect(summarize(runs.filter(r => r.run !== 3))[0].splitBrain).toBe(false);
    });

    test("a run outside the model's range, and one that did not recover, are counted and named", () => {
        const runs = [
            faultRun(1, { recoverySeconds: 13.8 }),
            faultRun(2, { recoverySeconds: 22.5 }),
            faultRun(3, { recoverySeconds: null }),
            faultRun(4, { recoverySeconds: 15.4 }),
        ];
        const [summary] = summarize(runs) as FaultDrillSummary[];
        expect(summary).toMatchObject({
            runs: 4,
            recoverySeconds: { min: 13.8, median: 15.4, max: 22.5 },
            notRecovered: 1,
            withinModel: 2,
            outsideModel: ["run 2: 22.5 s against 6 to 21 s", "run 3: not recovered against 6 to 21 s"],
        });
        const verdict = formatVerdicts([summary]);
        expect(verdict).toContain("within the model in 2 of 4 runs; OUTSIDE: run 2: 22.5 s against 6 to 21 s");
        expect(verdict).toContain("recovery 13.8 / 15.4 / 22.5 (1 not recovered) s");
    });

    test("runs whose predictions differ (who was active changed): the range spans them, each run judged by its own", () => {
        const runs = [
            faultRun(1, { recoverySeconds: 5, predictedSeconds: { min: 0, max: 0 } }),
            faultRun(2, { recoverySeconds: 12, predictedSeconds: { min: 6, max: 21 } }),
        ];
        const [summary] = summarize(runs) as FaultDrillSummary[];
        expect(summary.predictedSeconds).toEqual({ min: 0, max: 21 });
        expect(summary.withinModel).toBe(1);
    });

    test("drills keep their order and their own runs; a change drill sums up its commits and failed checks", () => {
        const results = [
            faultRun(1),
            faultRun(2, { recoverySeconds: 14 }),
            faultRun(1, { name: "db-primary-crash", recoverySeconds: 21, predictedSeconds: { min: 18, max: 28 } }),
            changeRun(1),
            changeRun(2, {
                commitsLost: 2,
                splitBrain: true,
                checks: [{ name: "the primary moved", ok: false, detail: "still tyo-db1" }],
            }),
        ];
        const summaries = summarize(results);
        expect(summaries.map(s => [s.name, s.kind, s.runs])).toEqual([
            ["server-crash", "fault", 2],
            ["db-primary-crash", "fault", 1],
            ["planned-switchover", "change", 2],
        ]);
        expect(summaries[0].recoverySeconds).toEqual({ min: 10, median: 12, max: 14 });
        expect(summaries[2]).toMatchObject({
            commitsLost: { min: 0, median: 1, max: 2 },
            splitBrain: true,
            splitBrainRuns: [2],
            failedChecks: ["run 2: the primary moved: still tyo-db1"],
        });
        expect(formatVerdicts(summaries).split("\n")[2]).toBe(
            "planned-switchover: 2 runs; recovery 16.0 s; commits lost 0 / 1 / 2; FAILED: run 2: the primary moved: still tyo-db1; split-brain in run 2",
        );
    });
});

describe("the report", () => {
    test("a spread reads min / median / max, or one figure when every run gave it", () => {
        expect(formatSpread({ min: 6.2, median: 11.8, max: 16.1 })).toBe("6.2 / 11.8 / 16.1");
        expect(formatSpread({ min: 0, median: 0, max: 0 }, 0)).toBe("0");
        expect(formatSpread(null)).toBe("-");
    });

    test("the per-run table shows the model's range and gains a run column once a drill repeats", () => {
        const once = formatTable([faultRun(1)]);
        expect(once.split("\n")[0]).not.toContain("| run |");
        expect(once).toContain("| 6.0 to 21.0 |");
        const twice = formatTable([faultRun(1), faultRun(2, { recoverySeconds: 30 })]);
        expect(twice.split("\n")[0]).toMatch(/^\| drill +\| run \|/);
        expect(twice.split("\n")[3]).toMatch(/\| 30\.0 +\| 6\.0 to 21\.0 \| NO /);
    });

    test("the summary table has a row per drill with its spread and how many runs the model held", () => {
        const runs = MEASURED.map((s, i) => faultRun(i + 1, { recoverySeconds: s }));
        const table = formatSummaryTable(summarize(runs) as FaultDrillSummary[]);
        expect(table.split("\n")).toHaveLength(3);
        expect(table).toMatch(/\| server-crash \| 5 +\| 6\.2 \/ 11\.8 \/ 16\.1 +\| 6\.0 to 21\.0 \| 5 of 5 +\| no /);
    });

    test("the JSON keeps every run and adds the summary", () => {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "zha-drills-")), "drills.json");
        const runs = MEASURED.map((s, i) => faultRun(i + 1, { recoverySeconds: s }));
        writeJson(file, runs, "npm run lab -- drill --only server-crash --repeat 5", 5);
        const json = JSON.parse(readFileSync(file, "utf8"));
        expect(json).toMatchObject({ command: "npm run lab -- drill --only server-crash --repeat 5", repeat: 5 });
        expect(json.drills.map((r: DrillResult) => [r.run, r.recoverySeconds])).toEqual(
            MEASURED.map((s, i) => [i + 1, s]),
        );
        expect(json.summary).toEqual(JSON.parse(JSON.stringify(summarize(runs))));
    });
});

describe("drill() refuses a repeat count out of range before it touches the lab", () => {
    test.each([0, 21, 2.5, NaN])("repeat %p", async repeat => {
        await expect(drill({ repeat, cacheRoot: "/nonexistent", log: () => undefined })).rejects.toThrow(
            "repeat takes a whole number from 1 to 20 (runs of each drill)",
        );
    });
});
