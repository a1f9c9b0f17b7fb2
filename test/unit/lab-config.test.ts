/**
 * The lab's config check, run on files without touching the machine: every problem at once, and
 * the file named; and what the lab reads off a lab config's plan: each installation's database and
 * the logins the plan set up for it; the units `status` and the drills wait for, which the stack's
 * steps must name. (Nothing here boots a host; test/lab does that.)
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { readFileSync } from "fs";
import { RESOURCE_TYPES } from "../../components/facts";
import { ADMIN_ROLE } from "../../components/postgres";
import { readEnvironment } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { checkLabConfig, topologyOf } from "../../tools/lab/machines";
import { goalsOf, instanceDatabases, stackOutputs } from "../../tools/lab/replay";
import { unitsOf } from "../../tools/lab/checks";
import { RELEASE_PACKAGE_SHA256, ROOT, TEST_SSH_KEY } from "../support/plan";

/** The lab's own config with a change, written to a temporary file. */
function labFileWith(dir: string, change: (config: Record<string, any>) => void): string {
    const doc = parse(readFileSync(path.join(ROOT, "lab", "Pulumi.lab.yaml"), "utf8"));
    change(doc.config);
    const file = path.join(dir, "Pulumi.lab-broken.yaml");
    writeFileSync(file, stringify(doc));
    return file;
}

describe("npm run lab -- up --config F checks F first", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "zha-lab-config-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("the shipped lab configs pass", async () => {
        for (const name of ["Pulumi.lab.yaml", "Pulumi.lab-patroni.yaml", "Pulumi.lab-cloud.yaml"]) {
            await expect(checkLabConfig(readEnvironment(path.join(ROOT, "lab", name)))).resolves.toBeUndefined();
        }
        await expect(
            checkLabConfig(readEnvironment(path.join(ROOT, "lab", "Pulumi.lab.yaml")), "standalone"),
        ).resolves.toBeUndefined();
    });

    test("every problem, the stack program's and the lab's own, in one error that names the file", async () => {
        const file = labFileWith(dir, config => {
            config["zabbix-ha:sites"][0].hosts[0].roles = ["db", "zabix-server", "frontend", "lb"];
            config["zabbix-ha:sites"][1].hosts[0].sshUser = "admin";
            config["zabbix-ha:sites"][2].network = "10.3.0.0/24";
            config["zabbix-ha:sites"][2].hosts[0].address = "10.3.0.10";
        });
        const error = await checkLabConfig(readEnvironment(file)).then(
            () => undefined,
            (err: Error) => err,
        );
        expect(error?.message.split("\n")).toEqual([
            `${file}: cannot run the lab from it (3 problems):`,
            '  - sites[0].hosts[0].roles[1]: unknown role "zabix-server" (did you mean "zabbix-server"? known: db, zabbix-server, frontend, lb, witness, proxy, agent)',
            "  - sites: site witness's network 10.3.0.0/24 is outside 198.18.0.0/15; the lab uses only that block so it never shadows a real network",
            "  - host osa-zbx1: the lab logs in as root; remove sshUser admin from the lab config",
        ]);
    });

    test("a pattern's own needs count: the lab plans what `up --pattern` would", async () => {
        const file = labFileWith(dir, config => {
            config["zabbix-ha:sites"][1].hosts[0].roles = ["zabbix-server", "frontend", "lb"];
        });
        await expect(checkLabConfig(readEnvironment(file))).resolves.toBeUndefined();
        await expect(checkLabConfig(readEnvironment(file), "standalone")).rejects.toThrow(
            new RegExp(
                `^${file.replace(/[.]/g, "\\.")}: cannot run the lab from it \\(1 problem\\):\\n  - sites\\[1\\]\\.hosts: site "osaka" has no db host`,
            ),
        );
    });

    test("the lab's shape, read by status and the drills, names the file too", () => {
        const file = labFileWith(dir, config => {
            config["zabbix-ha:zabbix"] = {
                version: "7.0",
                packageSource: "vendor",
                repositoryUrl: "https://zabbix-packages.example.net",
                releasePackageSha256: { debian13: RELEASE_PACKAGE_SHA256, rhel9: RELEASE_PACKAGE_SHA256 },
            };
            config["zabbix-ha:db"].adminNetwork = "198.18.1.0/24";
            config["zabbix-ha:sites"][1].hosts[0].os = "rhel9";
        });
        expect(() => topologyOf(readEnvironment(file))).toThrow(
            `${file}: cannot run the lab from it (3 problems):\n` +
                "  - zabbix.packageSource: vendor; the lab's hosts reach only a local repository of Debian's own packages: use packageSource distribution (Zabbix 6.0 on Debian 12, 7.0 on Debian 13)\n" +
                "  - host osa-zbx1: os rhel9; the lab boots Debian hosts only (debian12, debian13)\n" +
                "  - db.adminNetwork: 198.18.1.0/24 overlaps site tokyo's network 198.18.1.0/24; the machine needs a network of its own",
        );
    });

    test("the lab's shape reads the config as the stack program does, the model's section included", async () => {
        const file = labFileWith(dir, config => {
            config["zabbix-ha:model"] = { timings: { patroniLoopWaitSeconds: 10 } };
        });
        await expect(checkLabConfig(readEnvironment(file))).resolves.toBeUndefined();
        expect(topologyOf(readEnvironment(file)).hosts.map(h => h.name)).toEqual([
            "tyo-zbx1",
            "tyo-prx1",
            "tyo-mon1",
            "osa-zbx1",
            "osa-prx1",
            "osa-mon1",
            "wit-1",
        ]);
    });
});

describe("the lab reads each installation's logins off the plan, by what the product declares", () => {
    const CLOUD_ADMIN_PASSWORD = "the-provider-admin-password";
    const cases: [string, string | undefined, string[]][] = [
        ["Pulumi.lab.yaml", undefined, ["zabbix"]],
        ["Pulumi.lab-patroni.yaml", undefined, ["zabbix"]],
        ["Pulumi.lab-cloud.yaml", undefined, ["zabbix"]],
        ["Pulumi.lab.yaml", "standalone", ["tokyo", "osaka"]],
    ];

    test.each(cases)("%s (pattern %s): installations %j", async (file, pattern, names) => {
        const env = readEnvironment(path.join(ROOT, "lab", file));
        const plan = await planEnvironment(env, {
            secrets: {
                "zabbix-ha:sshPrivateKey": TEST_SSH_KEY,
                "zabbix-ha:cloudDbAdminPassword": CLOUD_ADMIN_PASSWORD,
            },
            overrides: pattern ? { "zabbix-ha:pattern": pattern } : {},
        });
        const config = topologyOf(env).config;
        const databases = instanceDatabases(goalsOf(plan), stackOutputs(plan.outputs), config.db.user);
        const generated = plan.resources
            .filter(r => r.type === RESOURCE_TYPES.randomPassword)
            .map(r => r.outputs.result);
        expect([...databases.keys()]).toEqual(names);
        for (const database of databases.values()) {
            expect(database.zabbix?.user).toBe(config.db.user);
            expect(generated).toContain(database.zabbix?.password);
            // A self-run database is set up as the admin role with a generated password; a managed one as the provider's admin.
            const admin = database.provider;
            if (config.cloud) {
                expect([admin?.username, admin?.password]).toEqual([
                    config.cloud.database.adminUser,
                    CLOUD_ADMIN_PASSWORD,
                ]);
            } else {
                expect(admin?.username).toBe(ADMIN_ROLE);
                expect(generated).toContain(admin?.password);
            }
        }
        // Each installation has logins of its own.
        expect(new Set([...databases.values()].map(d => d.zabbix?.password)).size).toBe(names.length);
    });
});

describe("the units status and the drills wait for are the ones the stack's steps set up", () => {
    test.each(["Pulumi.lab.yaml", "Pulumi.lab-patroni.yaml"])("%s", async file => {
        const env = readEnvironment(path.join(ROOT, "lab", file));
        const plan = await planEnvironment(env, { secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY } });
        const lab = topologyOf(env);
        const fenced = lab.hosts.filter(h => h.roles.includes("db")).length > 1;
        for (const host of lab.hosts) {
            const steps = plan.resources
                .filter(
                    r =>
                        r.type === RESOURCE_TYPES.command &&
                        (r.inputs.connection as { host: string }).host === host.address,
                )
                .map(r => String(r.inputs.create))
                .join("\n");
            const units = unitsOf(host, {
                failover: lab.config.db.failover,
                packageSource: lab.config.zabbix.packageSource,
                fenced,
            });
            expect({
                host: host.name,
                unnamed: units.filter(u => !steps.includes(u.replace(/\.service$/, ""))),
            }).toEqual({ host: host.name, unnamed: [] });
        }
    });
});
