/**
 * Every script the stack sends to a host, taken from a real offline plan of the stack program and
 * read by the programs that judge sh: shellcheck (POSIX sh) finds nothing, and dash (Debian's
 * /bin/sh) parses it. Covers the two example environments and the other OS families.
 */
import { ROOT_TLS } from "../../components/postgres/clusterTls";
import { createHash } from "crypto";
import { existsSync } from "fs";
import * as path from "path";
import { releasePackageCheck } from "../../components/host/render";
import { renderNewestPrimaryWatch, renderPrimaryCheckScript } from "../../components/loadbalancer/render";
import { renderEtcdLeaderKeepScript } from "../../components/postgres/etcdLeaderKeep";
import { renderFenceScript } from "../../components/postgres/fence";
import { patroniVersionGuard } from "../../components/postgres/patroniSteps";
import { CHECK_ROLE } from "../../components/postgres/render";
import { HOST_CLIENT_TLS, SELF_RUN_DB_TLS } from "../../components/postgres/tls";
import { script } from "../../components/shell";
import { CA_FILE } from "../../components/pki/files";
import { renderConfigSyncScript } from "../../components/zabbix/render";
import { renderTakeoverScript } from "../../components/zabbix/render";
import { PATTERNS } from "../../stacks/patterns";
import {
    CapturedPlan,
    PlanOptions,
    ofType,
    planEnvironment,
    readEnvironment,
    toEngineConfig,
} from "../../tools/offline";
import { dataPathConfig } from "../support/dataPath";
import { Scratch, putFile, run, scratchSpace } from "./support";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const ROOT = path.resolve(__dirname, "../..");

/**
 * The script inside a step's command: `sh -c '<script>'`, behind `sudo -n ` for a non-root user,
 * single-quoted the sh way (a `'` inside written as `'\''`).
 */
function scriptOf(create: string): string {
    const match = /^(?:sudo -n )?sh -c '((?:[^']|'\\'')*)'$/s.exec(create);
    if (!match) {
        throw new Error(`not a quoted "sh -c" command: ${create.slice(0, 80)}...`);
    }
    return match[1].split(`'\\''`).join("'");
}

interface Finding {
    readonly script: string;
    readonly problems: string;
}

/** shellcheck -s sh on each script (one run for all of them), then `sh -n` on each. */
async function lint(s: Scratch, scripts: Record<string, string>): Promise<Finding[]> {
    const dir = await s.dir("scripts");
    const files = await Promise.all(
        Object.entries(scripts).map(([name, text]) => putFile(path.join(dir, `${name}.sh`), text)),
    );
    const findings: Finding[] = [];
    const checked = await run("shellcheck", ["-s", "sh", "-f", "gcc", ...files], { cwd: dir });
    if (checked.code !== 0 || checked.output !== "") {
        const byFile = new Map<string, string[]>();
        for (const line of checked.output.split("\n").filter(Boolean)) {
            const file = line.split(":")[0];
            byFile.set(file, [...(byFile.get(file) ?? []), line.replace(`${dir}/`, "")]);
        }
        // An exit code with nothing printed would be a finding too.
        if (byFile.size === 0) {
            byFile.set("(shellcheck)", [`exited ${checked.code}: ${checked.output}`]);
        }
        byFile.forEach((lines, file) =>
            findings.push({ script: path.basename(file, ".sh"), problems: lines.join("\n") }),
        );
    }
    for (const file of files) {
        const parsed = await run("sh", ["-n", file]);
        if (parsed.code !== 0 || parsed.output !== "") {
            findings.push({ script: path.basename(file, ".sh"), problems: `sh -n: ${parsed.output}` });
        }
    }
    return findings;
}

function prefixed(prefix: string, scripts: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(scripts).map(([name, text]) => [`${prefix}${name}`, text]));
}

/** The host scripts of a plan, by resource name: each step's create, and its delete where it has one. */
function hostScripts(plan: CapturedPlan): Record<string, string> {
    if (plan.error) {
        throw plan.error;
    }
    const commands = ofType(plan, "command:remote:Command");
    expect(commands.length).toBeGreaterThan(0);
    return Object.fromEntries(
        commands.flatMap(c => [
            [c.name, scriptOf(String(c.inputs.create))],
            ...(c.inputs.delete !== undefined ? [[`${c.name}.delete`, scriptOf(String(c.inputs.delete))]] : []),
        ]),
    );
}

/** A config with every OS family in every role, vendor packages and non-root SSH users. */
const EVERY_OS_VENDOR = {
    zabbix: {
        version: "7.0",
        packageSource: "vendor",
        repositoryUrl: "https://zabbix-mirror.example.net/",
        // One release package per OS of a host that installs Zabbix.
        releasePackageSha256: {
            "ubuntu22.04": "1".repeat(64),
            "ubuntu24.04": "2".repeat(64),
            rhel9: "3".repeat(64),
        },
    },
    failoverDelay: "30s",
    db: { primarySite: "east", replication: "sync", adminNetwork: "198.18.100.0/24" },
    load: { monitoredHosts: 100, items: 10000, updateIntervalSeconds: 60 },
    sites: [
        {
            name: "east",
            network: "198.18.1.0/24",
            hosts: [
                { name: "east-db", address: "198.18.1.10", roles: ["db"], os: "rhel9", sshUser: "cloud-user" },
                {
                    name: "east-app",
                    address: "198.18.1.11",
                    roles: ["zabbix-server", "frontend", "lb"],
                    os: "ubuntu22.04",
                    sshUser: "ubuntu",
                },
            ],
        },
        {
            name: "west",
            network: "198.18.2.0/24",
            hosts: [
                { name: "west-db", address: "198.18.2.10", roles: ["db"], os: "ubuntu22.04" },
                {
                    name: "west-app",
                    address: "198.18.2.11",
                    roles: ["zabbix-server", "frontend", "lb"],
                    os: "ubuntu24.04",
                    sshUser: "ubuntu",
                },
            ],
        },
        {
            name: "north",
            network: "198.18.3.0/24",
            hosts: [
                { name: "north-db", address: "198.18.3.10", roles: ["db"], os: "ubuntu24.04" },
                { name: "north-app", address: "198.18.3.11", roles: ["zabbix-server", "frontend", "lb"], os: "rhel9" },
                { name: "north-wit", address: "198.18.3.12", roles: ["witness"], os: "debian12", sshUser: "admin" },
            ],
        },
    ],
};

/** Zabbix 6.0 from the distributions that ship it (Debian 12, Ubuntu 24.04). */
const DISTRIBUTION_6_0 = {
    zabbix: { version: "6.0", packageSource: "distribution" },
    db: { primarySite: "east", adminNetwork: "198.18.100.0/24" },
    sites: [
        {
            name: "east",
            network: "198.18.1.0/24",
            hosts: [
                {
                    name: "east-1",
                    address: "198.18.1.10",
                    roles: ["db", "zabbix-server", "frontend", "lb"],
                    os: "ubuntu24.04",
                    sshUser: "ubuntu",
                },
            ],
        },
        {
            name: "west",
            network: "198.18.2.0/24",
            hosts: [
                {
                    name: "west-1",
                    address: "198.18.2.10",
                    roles: ["db", "zabbix-server", "frontend", "lb"],
                    os: "debian12",
                },
            ],
        },
    ],
};

/** Offline, secrets the files leave unset (the SSH key) are planned with placeholders, as the preview does. */
const PLAN_OPTIONS: PlanOptions = { placeholderSecrets: true };

function planConfig(name: string, raw: Record<string, unknown>) {
    return planEnvironment({ file: `Pulumi.${name}.yaml`, ...toEngineConfig(raw) }, PLAN_OPTIONS);
}

describe("scripts the stack sends to hosts", () => {
    test.each(["dev", "prod"])("Pulumi.%s.yaml: every script is shellcheck clean and parses as sh", async env => {
        const plan = await planEnvironment(readEnvironment(path.join(ROOT, `Pulumi.${env}.yaml`)), PLAN_OPTIONS);
        expect(await lint(scratch, hostScripts(plan))).toEqual([]);
    });

    // The example files name one pattern; each of the others is planned on whichever file configures it.
    test.each(PATTERNS.map(p => p.name))(
        "pattern %s on the example environments: every script is shellcheck clean",
        async pattern => {
            const plans: Array<{ env: string; plan: CapturedPlan }> = [];
            // One at a time: the SDK's mock runtime is process-wide.
            for (const env of ["dev", "prod"]) {
                const file = readEnvironment(path.join(ROOT, `Pulumi.${env}.yaml`));
                plans.push({
                    env,
                    plan: await planEnvironment(file, { ...PLAN_OPTIONS, overrides: { "zabbix-ha:pattern": pattern } }),
                });
            }
            const planned = plans.filter(p => !p.plan.error);
            if (planned.length === 0) {
                throw new Error(
                    `pattern ${pattern} plans on neither example file:\n${plans.map(p => `${p.env}: ${p.plan.error?.message}`).join("\n")}`,
                );
            }
            const scripts = Object.assign({}, ...planned.map(p => prefixed(`${p.env}-`, hostScripts(p.plan))));
            expect(await lint(scratch, scripts)).toEqual([]);
        },
    );

    test("every OS family, vendor packages, non-root SSH users: every script is shellcheck clean", async () => {
        const plan = await planConfig("every-os", EVERY_OS_VENDOR);
        const scripts = hostScripts(plan);
        expect(
            Object.values(plan.resources).filter(r => String(r.inputs.create ?? "").startsWith("sudo -n ")).length,
        ).toBeGreaterThan(0);
        expect(Object.values(scripts).some(s => s.includes("dnf "))).toBe(true);
        expect(await lint(scratch, scripts)).toEqual([]);
    });

    test("db.failover patroni with a Patroni repository: every script is shellcheck clean", async () => {
        const plan = await planEnvironment(
            readEnvironment(path.join(ROOT, "test", "fixtures", "patroni-three-sites.yaml")),
            PLAN_OPTIONS,
        );
        const scripts = hostScripts(plan);
        expect(Object.values(scripts).some(s => s.includes("/etc/apt/sources.list.d/zabbix-ha-patroni.list"))).toBe(
            true,
        );
        expect(await lint(scratch, scripts)).toEqual([]);
    });

    test("a proxy and a monitored host per site, the host firewall on: every script is shellcheck clean", async () => {
        const plan = await planConfig("data-path", { ...dataPathConfig(), firewall: { enabled: true } });
        const scripts = hostScripts(plan);
        expect(Object.keys(scripts)).toEqual(
            expect.arrayContaining(["east-proxy-proxy-config", "east-app-agent-config.delete"]),
        );
        expect(await lint(scratch, scripts)).toEqual([]);
    });

    test("Zabbix 6.0 from Debian 12 and Ubuntu 24.04 archives: every script is shellcheck clean", async () => {
        expect(await lint(scratch, hostScripts(await planConfig("distribution", DISTRIBUTION_6_0)))).toEqual([]);
    });

    test("scripts installed on hosts (the load balancer's primary check and its watcher, the DB fence, the config sync, the takeover watcher, etcd's leader keeper) are shellcheck clean", async () => {
        expect(
            await lint(scratch, {
                "pg-is-primary": renderPrimaryCheckScript({
                    user: CHECK_ROLE,
                    passfile: "/etc/haproxy/pg-check.pgpass",
                    tls: HOST_CLIENT_TLS,
                }),
                "newest-primary-watch": renderNewestPrimaryWatch({
                    user: CHECK_ROLE,
                    passfile: "/etc/haproxy/pg-check.pgpass",
                    adminSocket: "/run/haproxy/admin.sock",
                    tls: HOST_CLIENT_TLS,
                    servers: [
                        { name: "tyo-db1", address: "198.18.1.10", port: 5432 },
                        { name: "osa-db1", address: "198.18.2.10", port: 5432 },
                    ],
                }),
                "pg-fence": renderFenceScript({
                    peers: ["198.18.2.10:5432", "198.18.3.10:5432"],
                    checkUser: CHECK_ROLE,
                    passfile: "/etc/zabbix-ha/pg-fence.pgpass",
                    port: 5432,
                    dataDir: "/var/lib/postgresql/15/main",
                    binDir: "/usr/lib/postgresql/15/bin",
                    service: "postgresql@15-main",
                    socketDir: "/var/run/postgresql",
                    roleMark: "/var/lib/zabbix-ha/postgres-role",
                    tls: HOST_CLIENT_TLS,
                }),
                "config-sync": renderConfigSyncScript({
                    sourceUrl: "https://198.18.1.10/api_jsonrpc.php",
                    targetUrls: ["https://198.18.2.10/api_jsonrpc.php", "https://198.18.3.10/api_jsonrpc.php"],
                    apiUser: "Admin",
                    passwordFile: "/etc/zabbix-ha/api-password",
                    caFile: CA_FILE,
                }),
                "takeover-watch": renderTakeoverScript({
                    nodeName: "tyo-zbx1",
                    dbHost: "198.18.1.10",
                    dbPort: 5433,
                    dbName: "zabbix",
                    dbUser: "zabbix",
                    dbTls: SELF_RUN_DB_TLS,
                    passwordInclude: "/etc/zabbix/zabbix_server.db-password.conf",
                    serverService: "zabbix-server",
                    failoverDelaySeconds: 30,
                    clusterNodes: ["osa-zbx1", "tyo-zbx1"],
                    serverConfig: "/etc/zabbix/zabbix_server.conf",
                }),
                "etcd-leader-keep": renderEtcdLeaderKeepScript({
                    endpoints: ["https://198.18.1.10:2379", "https://198.18.2.10:2379", "https://198.18.3.10:2379"],
                    ownEndpoint: "https://198.18.3.10:2379",
                    tls: ROOT_TLS,
                }),
            }),
        ).toEqual([]);
    });

    test("the Patroni step stops before configuring anything when the installed Patroni is older than 3.0.3", async () => {
        const bin = await scratch.dir("fake-patroni");
        const guard = patroniVersionGuard();
        const outcome = async (version: string | undefined) => {
            // A stand-in `patroni` on PATH that prints what `patroni --version` prints.
            await putFile(
                path.join(bin, "patroni"),
                version ? `#!/bin/sh\necho "patroni ${version}"\n` : "#!/bin/sh\nexit 127\n",
                0o755,
            );
            const result = await run("sh", ["-eu", "-c", `${guard}\necho "configuring with $zha_patroni"`], {
                env: { PATH: `${bin}:${process.env.PATH}` },
            });
            return { code: result.code, output: result.output.trim() };
        };
        expect(await outcome("3.0.2")).toEqual({
            code: 1,
            output: expect.stringMatching(/^patroni 3\.0\.2: zabbix-ha needs 3\.0\.3 or newer .*db\.patroniRepository/),
        });
        expect(await outcome("2.1.2")).toMatchObject({ code: 1 });
        expect(await outcome(undefined)).toEqual({
            code: 1,
            output: expect.stringMatching(/^patroni is not installed: zabbix-ha needs 3\.0\.3/),
        });
        expect(await outcome("3.0.3")).toEqual({ code: 0, output: "configuring with 3.0.3" });
        // Versions compare by number, not as text: 3.0.10 is newer than 3.0.3.
        expect(await outcome("3.0.10")).toEqual({ code: 0, output: "configuring with 3.0.10" });
        expect(await outcome("4.0.7")).toEqual({ code: 0, output: "configuring with 4.0.7" });
    });

    test("the release package check lets the pinned file through and stops at any other, removing it, naming the key", async () => {
        const dir = await scratch.dir("release-package");
        const url = "https://mirror.example.net/zabbix/7.0/debian/pool/main/z/zabbix-release/zabbix-release.deb";
        const bytes = "a stand-in for zabbix-release_latest_7.0+debian12_all.deb\n";
        const right = createHash("sha256").update(bytes).digest("hex");
        const wrong = createHash("sha256").update("another package").digest("hex");
        const outcome = async (pin: string) => {
            const file = await putFile(path.join(dir, "zabbix-release.deb"), bytes);
            const result = await run(
                "sh",
                [
                    "-eu",
                    "-c",
                    `zha_deb=${file}\n${releasePackageCheck("zha_deb", pin, url)}\necho "installing $zha_deb"`,
                ],
                { env: { LC_ALL: "C" } },
            );
            return { code: result.code, output: result.output.trim(), kept: existsSync(file) };
        };
        expect(await outcome(right)).toEqual({
            code: 0,
            output: `installing ${path.join(dir, "zabbix-release.deb")}`,
            kept: true,
        });
        expect(await outcome(wrong)).toEqual({
            code: 1,
            output: `the zabbix-release package from ${url} has SHA-256 ${right}, not ${wrong} (zabbix.releasePackageSha256): not installed`,
            kept: false,
        });
    });

    test("a script with an unquoted variable is flagged", async () => {
        const findings = await lint(scratch, { unquoted: script("zha_dir=$(mktemp -d)\nrm -rf $zha_dir/old") });
        expect(findings).toHaveLength(1);
        expect(findings[0].problems).toMatch(
            /unquoted\.sh:\d+:\d+: note: Double quote to prevent globbing and word splitting\. \[SC2086\]/,
        );
    });

    test("a script sh cannot parse is flagged", async () => {
        const findings = await lint(scratch, { broken: script("if true; then echo unterminated") });
        expect(findings.map(f => f.problems).join("\n")).toMatch(/sh -n: .*(end of file|expecting "fi")/);
    });

    test("scriptOf undoes the sh quoting of a step's command", async () => {
        const inner = "echo 'it'\\''s'; printf '%s\\n' \"$1\"";
        const text = script(inner);
        const quoted = `sudo -n sh -c '${text.replace(/'/g, `'\\''`)}'`;
        expect(scriptOf(quoted)).toBe(text);
        // And sh agrees: the command prints its own script when `sh -c` becomes `printf %s`.
        const printed = await run("sh", ["-c", quoted.replace(/^sudo -n sh -c /, "printf %s ")]);
        expect(printed.stdout).toBe(text);
    });
});
