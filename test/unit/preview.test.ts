import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { stringify } from "yaml";
import {
    EnvironmentConfig,
    readEnvironment,
    SECRET_PLACEHOLDER,
    toEngineConfig,
} from "../../tools/offline/environment";
import { StackPlan, planEnvironment } from "../../tools/offline/stack";
import { ComparisonReport, comparePatterns } from "../../tools/preview/compare";
import { mermaidDiagram } from "../../tools/preview/diagram";
import { markdownReport } from "../../tools/preview/markdown";
import { summarizePlan } from "../../tools/preview/summary";
import { terminalTable, terminalWidth, wrapText } from "../../tools/preview/terminal";
import { PATTERNS } from "../../stacks/patterns";
import { MANUAL_DB_FAILOVER, ROOT, twoSiteConfig } from "../support/plan";

describe("stack files", () => {
    test("structured values become JSON, secure values a secret placeholder", () => {
        const { config, secretKeys } = toEngineConfig({
            "zabbix-ha:failoverDelay": "10s",
            sites: [{ name: "a" }],
            "zabbix-ha:sshPrivateKey": { secure: "v1:abc" },
        });
        expect(config).toEqual({
            "zabbix-ha:failoverDelay": "10s",
            "zabbix-ha:sites": '[{"name":"a"}]',
            "zabbix-ha:sshPrivateKey": SECRET_PLACEHOLDER,
        });
        expect(secretKeys).toEqual(["zabbix-ha:sshPrivateKey"]);
    });

    test("a file without config: is rejected with its name", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-env-"));
        try {
            const file = path.join(dir, "Pulumi.x.yaml");
            writeFileSync(file, "encryptionsalt: abc\n");
            expect(() => readEnvironment(file)).toThrow(`${file}: no "config:" mapping`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the preview", () => {
    test("plans dev with a placeholder SSH key and says so", async () => {
        const plan = await planEnvironment(readEnvironment(path.join(ROOT, "Pulumi.dev.yaml")), {
            placeholderSecrets: true,
        });
        expect(plan.error).toBeUndefined();
        expect(plan.notes).toContainEqual(expect.stringContaining("sshPrivateKey is not set"));
        const text = summarizePlan(plan);
        expect(text).toContain("Stack zabbix-ha/dev");
        expect(text).toMatch(/^ {2}tokyo\n {4}tyo-zbx1 +198\.18\.1\.10 +ssh root$/m);
        expect(text).toMatch(/zabbix-ha:postgres:PostgresCluster +zabbix-db +\d+ resources/);
        const customs = plan.resources.filter(r => r.custom).length;
        expect(text).toContain(`; ${customs} in all`);
    });

    test("reports every problem of a broken stack file", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "zha-env-"));
        try {
            const raw = twoSiteConfig();
            raw.sites[0].hosts[0].roles = ["db", "web"];
            raw.failoverDelay = "2h";
            const file = path.join(dir, "Pulumi.broken.yaml");
            writeFileSync(
                file,
                stringify({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`zabbix-ha:${k}`, v])) }),
            );
            const plan = await planEnvironment(readEnvironment(file), { placeholderSecrets: true });
            expect(plan.error?.message).toContain('sites[0].hosts[0].roles[1]: unknown role "web"');
            expect(plan.error?.message).toContain("failoverDelay:");
            expect(plan.stack).toBe("broken");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

/** The environment file with some config keys replaced (engine form). */
function withConfig(env: EnvironmentConfig, values: Record<string, unknown>): EnvironmentConfig {
    const config = { ...env.config };
    for (const [key, value] of Object.entries(values)) {
        config[`zabbix-ha:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return { ...env, config };
}

const PROD = readEnvironment(path.join(ROOT, "Pulumi.prod.yaml"));
const DEV = readEnvironment(path.join(ROOT, "Pulumi.dev.yaml"));
const prodManualDb = () => ({ ...PROD, config: { ...PROD.config, ...MANUAL_DB_FAILOVER } });

/** The row of a wide terminal table that starts with `label`. */
function terminalRow(text: string, label: string): string {
    return text.split("\n").find(l => l.startsWith(label))!;
}

/** The header row of a wide terminal table. */
function header(text: string): string {
    return text.split("\n").find(l => l.includes("1 standalone"))!;
}

/** Footnote codes a rendering defines (at the start of a line) and uses (anywhere else). */
function footnoteCodes(text: string, definition: RegExp): { defined: string[]; used: Set<string> } {
    const defined: string[] = [];
    const used = new Set<string>();
    for (const line of text.split("\n")) {
        const match = definition.exec(line);
        const rest = match ? line.slice(match[0].length) : line;
        if (match) {
            defined.push(match[1]);
        }
        // Codes cited inside a definition count as uses too (none cite another today).
        for (const code of rest.match(/(?<![\w.-])[mdn]\d+(?![\w.-])/g) ?? []) {
            used.add(code);
        }
    }
    return { defined, used };
}

interface Diagram {
    readonly boxes: string[];
    readonly nodes: Map<string, string>;
    readonly edges: string[];
}

/** A diagram's boxes (in order), nodes with their labels, and edges as "from arrow|label| to". */
function parseDiagram(source: string): Diagram {
    const boxes: string[] = [];
    const nodes = new Map<string, string>();
    const edges: string[] = [];
    for (const line of source.split("\n").slice(1)) {
        const box = /^ +subgraph (\w+)\[/.exec(line);
        const node = /^ +(\w+)(?:\["|\(\("|\(\["|\{\{")(.*?)(?:"\]|"\)\)|"\]\)|"\}\})$/.exec(line);
        const edge = /^ +(\w+) (-->|-\.->|==>|o--o|---)(\|"[^"]*"\|)? (\w+)$/.exec(line);
        if (box) {
            boxes.push(box[1]);
        } else if (node) {
            nodes.set(node[1], node[2]);
        } else if (edge) {
            edges.push(`${edge[1]} ${edge[2]}${edge[3] ?? ""} ${edge[4]}`);
        } else {
            expect(line).toMatch(/^ +end$/);
        }
    }
    return { boxes, nodes, edges };
}

function patternDiagram(report: ComparisonReport, name: string): Diagram {
    return parseDiagram(mermaidDiagram(report.patterns.find(p => p.name === name)!.topology!));
}

describe("the comparison report", () => {
    let prod: ComparisonReport;
    let dev: ComparisonReport;
    beforeAll(async () => {
        [prod, dev] = [await comparePatterns(PROD), await comparePatterns(DEV)];
    }, 60_000);

    test("marks the configured pattern and names the study's choice with its why", async () => {
        const text = terminalTable(prod, 1000);
        expect(text).toContain("* configured in Pulumi.prod.yaml: pattern 5 zabbix-ha");
        expect(text).toMatch(/^\+ the study's choice: pattern 5 zabbix-ha\. Why: .*VIP/m);
        expect(header(text)).toMatch(/4 cloud +5 zabbix-ha \*\+$/);
        // The configured marker follows zabbix-ha:pattern; the study's does not.
        const cloud = await comparePatterns(withConfig(PROD, { pattern: "cloud" }));
        expect(cloud.configuredPattern).toBe("cloud");
        expect(header(terminalTable(cloud, 1000))).toMatch(/4 cloud \* +5 zabbix-ha \+$/);
    }, 30_000);

    test("a manual recovery names its cause and the setting that changes it, from the topology", async () => {
        // prod with the default manual DB failover: losing the primary's host waits for an operator, because of db.failover.
        const manual = terminalTable(await comparePatterns(prodManualDb()), 1000);
        const code = /no manual (m\d+), no UI$/.exec(terminalRow(manual, "one server down"))![1];
        expect(manual).toMatch(
            new RegExp(
                `^${code} the DB's failover is manual: .*Fix: db\\.failover: patroni \\(.*already in three sites\\)`,
                "m",
            ),
        );
        // With Patroni (prod as it is) the same loss recovers by itself, and no footnote blames db.failover.
        const patroni = terminalTable(prod, 1000);
        const [, soonest, latest] = /yes auto (\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)s$/.exec(
            terminalRow(patroni, "one server down"),
        )!;
        expect(Number(soonest)).toBeLessThan(Number(latest));
        expect(patroni).not.toContain("the DB's failover is manual");
        // dev has two sites: the fix says a witness site is missing.
        expect(terminalTable(dev, 1000)).toContain("this config has 2: add a witness site");
    }, 30_000);

    test("every footnote code used is defined once, and every one defined is used", () => {
        for (const report of [prod, dev]) {
            const renderings = [
                footnoteCodes(terminalTable(report, 200), /^([mdn]\d+) /),
                footnoteCodes(terminalTable(report, 80), /^([mdn]\d+) /),
                footnoteCodes(markdownReport(report), /^- \*\*([mdn]\d+)\*\* /),
            ];
            for (const { defined, used } of renderings) {
                expect(defined.length).toBeGreaterThan(0);
                expect(new Set(defined).size).toBe(defined.length);
                expect([...used].sort()).toEqual([...defined].sort());
            }
        }
    });

    test("independent installations show what their zero downtime leaves out", () => {
        const text = terminalTable(prod, 1000);
        const codes = [...terminalRow(text, "downtime per year").matchAll(/\(99\.9999%\) (n\d+)/g)].map(m => m[1]);
        expect(codes).toHaveLength(2);
        const note = (code: string) => text.split("\n").find(l => l.startsWith(`${code} `))!;
        expect(note(codes[0])).toMatch(
            /every alert arrives twice; 2 configurations to edit; and each keeps its own history/,
        );
        expect(note(codes[1])).toMatch(/1 configuration to edit \(the others copy tokyo's every 10 min\)/);
        const standalone = prod.patterns.find(p => p.name === "standalone")!;
        expect(standalone.availability).toMatchObject({ downtimeMinutesPerYear: { min: 0, max: 0 } });
        // The gaps' latest end closes the figure, whether it reads "N" or "M-N".
        expect(note(codes[0])).toContain(
            `${Math.round(standalone.availability!.degradedMinutesPerYear.max).toLocaleString("en-US")} min of gaps`,
        );
    });

    test("one line says why the configured pattern scores as it does, from its topology", () => {
        const devLine = terminalTable(dev, 1000)
            .split("\n")
            .find(l => l.startsWith("Why 5 zabbix-ha"))!;
        expect(devLine).toContain(
            "each site has one host carrying every role, so losing it takes the DB primary and a server together",
        );
        expect(devLine).toMatch(
            /one server down, .* wait for an operator because the DB's failover is manual \(m\d+\)/,
        );
        const prodLine = terminalTable(prod, 1000)
            .split("\n")
            .find(l => l.startsWith("Why 5 zabbix-ha"))!;
        expect(prodLine).not.toContain("one host carrying every role");
        expect(prodLine).toMatch(/the other failures recover by themselves in at most \d+(?:\.\d+)? s\.$/);
    });

    test.each([80, 100, 160])("fits a terminal of %i columns", width => {
        for (const report of [prod, dev]) {
            const lines = terminalTable(report, width).split("\n");
            expect(lines.filter(l => l.length > width)).toEqual([]);
            // Every cell's words are still there: the wide rendering's words all appear.
            // Stacked rows end their label with a colon; the table's rule is no word.
            const words = (t: string) =>
                new Set(
                    t
                        .split(/\s+/)
                        .map(w => w.replace(/:$/, ""))
                        .filter(w => w && !/^-+$/.test(w)),
                );
            const narrow = words(lines.join(" "));
            expect([...words(terminalTable(report, 1000))].filter(w => !narrow.has(w) && w.length < width - 8)).toEqual(
                [],
            );
            const asTable = lines.some(l => /1 standalone +2 active-active/.test(l));
            expect(asTable).toBe(width >= 100);
        }
    });

    test("wrapping breaks between words, indents continuations and cuts only words longer than a line", () => {
        expect(wrapText("one two three four", 9, 2)).toEqual(["one two", "  three", "  four"]);
        expect(wrapText("  a  b   c", 20)).toEqual(["  a  b   c"]);
        expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
        expect(terminalWidth({ isTTY: false, columns: 50 })).toBe(100);
        expect(terminalWidth({ isTTY: true, columns: 50 })).toBe(50);
    });

    test("the Markdown folds each pattern in a <details> block and says each data-at-risk sentence once", () => {
        const md = markdownReport(prod);
        expect(md.match(/^<details><summary>.*<\/summary>\n\n/gm)).toHaveLength(5);
        expect(md.match(/^<\/details>$/gm)).toHaveLength(5);
        // Before the first block: the table and its footnotes, none of the per-pattern detail.
        expect(md.indexOf("```mermaid")).toBeGreaterThan(md.indexOf("<details>"));
        const risks = new Set(prod.patterns.flatMap(p => p.scenarios.flatMap(s => s.risks)));
        expect(risks.size).toBeGreaterThan(1);
        for (const risk of risks) {
            expect(md.split(risk).length - 1).toBe(1);
        }
        expect(md).toContain("<b>5 zabbix-ha *+</b>");
    });
    test("every diagram parses with mermaid's own parser", () => {
        const diagrams = [prod, dev].flatMap(r =>
            r.patterns.filter(p => p.topology).map(p => mermaidDiagram(p.topology!)),
        );
        const results = JSON.parse(
            execFileSync(process.execPath, [path.join(ROOT, "test/support/mermaid-parse.mjs")], {
                input: JSON.stringify([...diagrams, 'flowchart TB\n  a -->|"broken| b']),
            }).toString(),
        );
        expect(results.slice(0, -1)).toEqual(diagrams.map(() => null));
        // The check can fail: a broken diagram is reported.
        expect(results[results.length - 1]).toMatch(/Parse error/);
    }, 30_000);

    test("diagrams draw one box per site that has hosts, in config order, and edges only between declared nodes", () => {
        for (const report of [prod, dev]) {
            for (const p of report.patterns.filter(x => x.topology)) {
                const d = parseDiagram(mermaidDiagram(p.topology!));
                const placed = new Set([
                    ...p.topology!.hosts.map(h => h.site),
                    ...p.topology!.instances.flatMap(i =>
                        [i.database.primary, ...i.database.standbys].map(db => db.site),
                    ),
                ]);
                expect(d.boxes).toEqual(p.topology!.sites.filter(s => placed.has(s.name)).map(s => `site_${s.name}`));
                for (const edge of d.edges) {
                    const [from, to] = [edge.split(" ")[0], edge.split(" ").pop()!];
                    expect({ edge, from: d.nodes.has(from), to: d.nodes.has(to), self: from === to }).toEqual({
                        edge,
                        from: true,
                        to: true,
                        self: false,
                    });
                }
            }
        }
        expect(patternDiagram(prod, "pacemaker").boxes).toEqual(["site_tokyo"]);
    });

    test("pattern 5's diagram on prod has every path the topology implies", () => {
        const d = patternDiagram(prod, "zabbix-ha");
        expect(d.nodes.get("wit_1")).toBe("wit-1<br/>witness, etcd");
        expect(d.edges).toEqual(
            expect.arrayContaining([
                "users --> tyo_lb1",
                "users --> osa_lb1",
                'tyo_lb1 -->|"UI"| tyo_web1',
                'tyo_lb1 -.->|"backup"| osa_web1',
                'osa_lb1 -->|"UI"| osa_web1',
                'tyo_zbx1 -->|"DB"| tyo_lb1',
                'osa_zbx1 -->|"DB"| osa_lb1',
                'tyo_web1 -->|"DB"| tyo_lb1',
                'osa_web1 -->|"DB"| osa_lb1',
                'tyo_lb1 -->|"primary only"| tyo_db1',
                'osa_lb1 -->|"primary only"| tyo_db1',
                'osa_db1 -.->|"streams from"| tyo_db1',
                'tyo_db1 o--o|"etcd"| osa_db1',
                'osa_db1 o--o|"etcd"| wit_1',
                'wit_1 o--o|"etcd"| tyo_db1',
                "tyo_lb1 --- between_sites",
                "osa_lb1 --- between_sites",
                "wit_1 --- between_sites",
            ]),
        );
        // With manual failover the witness runs nothing, and says so.
        expect(d.nodes.get("between_sites")).toBe("link between sites, L3");
    });

    test("one-host sites: the label lists every role, the paths between sites remain, nothing loops on itself", () => {
        const d = patternDiagram(dev, "zabbix-ha");
        expect(d.nodes.get("tyo_zbx1")).toBe("tyo-zbx1<br/>HA node, DB primary, frontend, load balancer");
        expect(d.edges).toEqual(
            expect.arrayContaining([
                "users --> tyo_zbx1",
                'tyo_zbx1 -.->|"backup"| osa_zbx1',
                'osa_zbx1 -->|"primary only"| tyo_zbx1',
                'osa_zbx1 -.->|"streams from"| tyo_zbx1',
            ]),
        );
        expect(d.edges.filter(e => e.split(" ")[0] === e.split(" ").pop())).toEqual([]);
    });

    test("active-active's config sync joins the sites' load balancers; a manual-failover witness is drawn as unused", async () => {
        expect(patternDiagram(prod, "active-active").edges).toContain('tyo_lb1 ==>|"config sync"| osa_lb1');
        const manual = await comparePatterns(prodManualDb());
        const d = patternDiagram(manual, "zabbix-ha");
        expect(d.nodes.get("wit_1")).toBe("wit-1<br/>witness, unused (no consensus store)");
        expect(d.edges.filter(e => e.includes("o--o"))).toEqual([]);
    }, 30_000);
});

test("the comparison hands over each pattern's plan once, planned as that pattern (the preview prints the configured one)", async () => {
    const seen: { name: string; plan: StackPlan }[] = [];
    const report = await comparePatterns(readEnvironment(path.join(ROOT, "Pulumi.dev.yaml")), {
        onPlan: (name, plan) => seen.push({ name, plan }),
    });
    expect(seen.map(s => s.name)).toEqual(PATTERNS.map(p => p.name));
    for (const { name, plan } of seen) {
        const reported = report.patterns.find(p => p.name === name)!;
        const planned = (plan.outputs as { topology?: { pattern: { name: string } } } | undefined)?.topology?.pattern
            .name;
        expect({ name, planned: plan.error ? "failed" : planned, reportedErrors: reported.errors.length > 0 }).toEqual({
            name,
            planned: plan.error ? "failed" : name,
            reportedErrors: !!plan.error,
        });
    }
});
