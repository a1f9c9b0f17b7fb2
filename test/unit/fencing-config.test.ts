/**
 * Fence devices' secrets reach hosts only through password_script: a secret parameter is a config
 * error at its path (any case, `-` or `_`), the CIB renderer refuses one too, and the password the
 * examples' `cat /etc/zabbix-ha/fence-password` prints comes from the secret fencePassword.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ConfigError, PlacedHost } from "../../components/config";
import {
    DrbdPair,
    FENCE_PASSWORD_FILE,
    FENCE_PASSWORD_SCRIPT,
    FENCE_SECRET_PARAMETERS,
    renderPacemakerCib,
} from "../../components/drbd";
import { Host } from "../../components/host";
import { StackPki } from "../../components/pki";
import { capturePlan } from "../../tools/offline/capture";
import { readEnvironment } from "../../tools/offline/environment";
import { StackPlan, planEnvironment } from "../../tools/offline/stack";
import { cibInput } from "../real/pacemaker-cases";
import { ROOT, TEST_SSH_KEY, byName, commands, plannedFiles, scriptOf } from "../support/plan";

const PAIR = path.join(ROOT, "test", "fixtures", "fallback-pair.yaml");
const FENCE_PASSWORD = "ipmi-Pa55'word$(id)";

/** The fallback pair's stack file with its devices' params changed, planned with the given secrets. */
function planPair(
    params: (original: Record<string, string>, i: number) => Record<string, unknown>,
    secrets: Record<string, string> = { fencePassword: FENCE_PASSWORD },
): Promise<StackPlan> {
    const env = readEnvironment(PAIR);
    const drbd = JSON.parse(env.config["zabbix-ha:drbd"]);
    drbd.fencing.devices = drbd.fencing.devices.map((d: { params: Record<string, string> }, i: number) => ({
        ...d,
        params: params(d.params, i),
    }));
    return planEnvironment(env, {
        secrets: Object.fromEntries(
            Object.entries({ sshPrivateKey: TEST_SSH_KEY, ...secrets }).map(([k, v]) => [`zabbix-ha:${k}`, v]),
        ),
        overrides: { "zabbix-ha:drbd": JSON.stringify(drbd) },
    });
}

function problems(plan: StackPlan): string[] {
    expect(plan.error).toBeInstanceOf(ConfigError);
    expect(plan.resources.filter(r => r.custom)).toEqual([]);
    return (plan.error as ConfigError).problems.map(p => `${p.path}: ${p.message}`);
}

describe("fence parameters that hold a secret", () => {
    test.each([...FENCE_SECRET_PARAMETERS, "Password", "PASSWD", "secret-key", "Snmp-Priv-Passwd"])(
        "%s is a config error at its path",
        async name => {
            const plan = await planPair((p, i) => (i === 0 ? { ...p, [name]: "wJalrXUtnFEMI" } : p));
            const found = problems(plan);
            expect(found).toEqual([
                expect.stringMatching(
                    new RegExp(`^drbd\\.fencing\\.devices\\[0\\]\\.params\\.${name}: holds a secret in clear: `),
                ),
            ]);
            expect(found[0]).toMatch(/password_script|snmp_priv_passwd_script|off the CIB/);
            expect(plan.error!.message).not.toContain("wJalrXUtnFEMI");
        },
    );

    test("a password parameter is pointed at password_script and the secret fencePassword", async () => {
        const [found] = problems(await planPair((p, i) => (i === 1 ? { ...p, passwd: "x" } : p)));
        expect(found).toContain(`Give password_script instead, a command that prints it ("${FENCE_PASSWORD_SCRIPT}")`);
        expect(found).toContain("`pulumi config set --secret fencePassword`");
    });

    test("password_script naming the password file itself (fence-agents would run the file) is refused", async () => {
        const found = problems(await planPair(p => ({ ...p, password_script: FENCE_PASSWORD_FILE })));
        expect(found).toEqual(
            [0, 1].map(i =>
                expect.stringMatching(
                    new RegExp(
                        `^drbd\\.fencing\\.devices\\[${i}\\]\\.params\\.password_script: fence-agents runs password_script as a command .*use "cat /etc/zabbix-ha/fence-password"$`,
                    ),
                ),
            ),
        );
    });

    test.each([
        [
            "a line break in a value (another option line on the agent's stdin)",
            { ip: "192.0.2.1\npassword_script=id" },
            "params.ip: holds a control character or line break",
        ],
        [
            "a parameter name that no agent has",
            { "ip address": "192.0.2.1" },
            "params.ip address: is not a fence agent parameter name",
        ],
    ])("%s is refused", async (_what, extra, message) => {
        const found = problems(await planPair((p, i) => (i === 0 ? { ...p, ...extra } : p)));
        expect(found).toEqual([expect.stringContaining(`drbd.fencing.devices[0].${message}`)]);
    });

    test("an agent that is not a fence agent's name is refused at its path", async () => {
        const env = readEnvironment(PAIR);
        const drbd = JSON.parse(env.config["zabbix-ha:drbd"]);
        drbd.fencing.agent = "fence_ipmilan; id";
        const plan = await planEnvironment(env, {
            secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY, "zabbix-ha:fencePassword": FENCE_PASSWORD },
            overrides: { "zabbix-ha:drbd": JSON.stringify(drbd) },
        });
        expect(problems(plan)).toEqual([
            expect.stringMatching(/^drbd\.fencing\.agent: "fence_ipmilan; id" is not a fence agent's name/),
        ]);
    });

    test.each([...FENCE_SECRET_PARAMETERS, "Secret_Key"])("the CIB renderer refuses %s too", name => {
        const devices = cibInput().fencing.devices.map(d => ({ ...d, params: { ip: d.params.ip, [name]: "x" } }));
        expect(() => renderPacemakerCib(cibInput({ fencing: { agent: "fence_aws", devices } }))).toThrow(
            `parameter ${name} would put a secret in the CIB`,
        );
    });
});

test("a DrbdPair used on its own refuses a secret parameter as an error naming it, before any of its steps", async () => {
    const plan = await capturePlan(
        async () => {
            const pki = new StackPki("pki", { stack: "test", rotation: 0 });
            const hosts = ["n1", "n2"].map(
                (name, i) =>
                    new Host(name, {
                        host: {
                            ...cibInput().nodes[i],
                            roles: ["db"],
                            sshUser: "root",
                            sshPort: 22,
                            os: "debian12",
                            site: "east",
                        } as PlacedHost,
                        sshPrivateKey: TEST_SSH_KEY,
                        zabbix: {
                            version: "7.0",
                            packageSource: "distribution",
                            listenPort: 10051,
                            dataPathCheckSeconds: 60,
                            proxyGroups: [],
                        },
                        tls: {
                            certificate: pki.hostCertificate(name, {
                                dnsNames: [name],
                                ipAddresses: [cibInput().nodes[i].address],
                            }),
                            etcdMember: false,
                        },
                    }),
            ) as [Host, Host];
            const devices = cibInput().fencing.devices.map(d => ({ ...d, params: { ...d.params, Secret_Key: "x" } }));
            new DrbdPair("pair", {
                nodes: hosts,
                preferredNode: "n1",
                vip: { address: "10.0.0.10", cidrNetmask: 24, site: "east" },
                disk: "/dev/sdb1",
                metaDisk: "/dev/sdc1",
                port: 7788,
                mountPoint: "/var/lib/postgresql",
                services: { postgres: "postgresql@15-main", web: [] },
                fencing: { agent: "fence_aws", devices },
            });
        },
        { config: {}, stack: "test" },
    );
    expect(plan.error?.message).toContain("parameter Secret_Key would put a secret in the CIB");
    expect(pulumi.ResourceError.isInstance(plan.error)).toBe(true);
    expect((plan.error as pulumi.ResourceError).resource).toBeInstanceOf(DrbdPair);
    expect(plan.resources.filter(r => r.name.startsWith("pair-"))).toEqual([]);
});

describe("the fence password, from the secret fencePassword to the file password_script prints", () => {
    test("both nodes get the file on stdin, the CIB only the command, no text the password", async () => {
        const plan = await planPair(p => p);
        expect(plan.error).toBeUndefined();
        const cib = plannedFiles(plan).find(f => f.path.endsWith("/cib.xml"))!;
        expect(cib.content.match(/name="password_script" value="([^"]*)"/g)).toEqual([
            `name="password_script" value="${FENCE_PASSWORD_SCRIPT}"`,
            `name="password_script" value="${FENCE_PASSWORD_SCRIPT}"`,
        ]);
        for (const node of ["tyo-db1", "tyo-db2"]) {
            const step = byName(plan, `zabbix-db-pair-${node}-cluster`);
            expect(step.secretInputs).toContain("stdin");
            expect(String(step.inputs.stdin).split("\n")).toContain(FENCE_PASSWORD);
            expect(scriptOf(step)).toContain(
                `zha_put_file '${FENCE_PASSWORD_FILE}' 0600 root:root <<ZHA_EOF\n$FENCE_PASSWORD\nZHA_EOF`,
            );
        }
        for (const command of commands(plan)) {
            expect(String(command.inputs.create)).not.toContain("Pa55");
        }
    });

    test("a device reading the file without fencePassword set is an error naming the key and its command", async () => {
        const found = problems(await planPair(p => p, {}));
        expect(found).toEqual([
            "fencePassword: is required: the fence devices of tyo-db1, tyo-db2 read their password from the file the library writes from it; " +
                "set it: `pulumi config set --secret fencePassword`",
        ]);
    });

    test("a device without password_script gets the library's when fencePassword is set", async () => {
        const plan = await planPair(({ password_script: _, ...rest }) => rest);
        expect(plan.error).toBeUndefined();
        const cib = plannedFiles(plan).find(f => f.path.endsWith("/cib.xml"))!;
        expect(cib.content.split(`name="password_script" value="${FENCE_PASSWORD_SCRIPT}"`)).toHaveLength(3);
    });
});
