/**
 * The policy pack's rules for the Zabbix server cluster (failover delay, agents' server lists,
 * sizing), for secrets, and for the DRBD + Pacemaker pair; and the harness that runs them.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import {
    agentServerLists,
    drbdDedicatedMetaDisk,
    failoverDelayAdvisory,
    failoverDelayRange,
    noPlaintextSecrets,
    pacemakerFencing,
    randomPasswordLength,
    serverHostHardware,
    sizingFitsLoad,
    sshHostKeyPinned,
} from "../../policies/rules";
import { ResourceInput, runPolicy } from "../../policies/harness";
import { sizeServer } from "../../components/sizing";
import { FENCE_PASSWORD_SCRIPT, FENCE_SECRET_PARAMETERS } from "../../components/drbd";
import { command, fixture, pair, resourcesOf, servers, violations } from "./cases";

describe("Zabbix server rules", () => {
    test("failover-delay-range", async () => {
        expect(await violations(failoverDelayRange, [servers()])).toEqual([]);
        expect(await violations(failoverDelayRange, [servers({ failoverDelaySeconds: 5 })])).toEqual([
            expect.objectContaining({ level: "mandatory" }),
        ]);
        expect(await violations(failoverDelayRange, [servers({ failoverDelaySeconds: 901 })])).toHaveLength(1);
    });

    test("failover-delay-short is advisory above 60 s", async () => {
        expect(await violations(failoverDelayAdvisory, [servers({ failoverDelaySeconds: 60 })])).toEqual([]);
        const found = await violations(
            failoverDelayAdvisory,
            await resourcesOf(fixture("slow-failover-small-hosts.yaml")),
        );
        expect(found).toEqual([
            expect.objectContaining({ level: "advisory", message: expect.stringMatching(/Failover delay 300 s/) }),
        ]);
    });

    test("agent-server-lists: the nodes of one cluster joined by ',' in settings or a sent agent config", async () => {
        expect(await violations(agentServerLists, [servers()])).toEqual([]);
        const comma = servers({
            agentSettings: { Server: "198.18.1.21,198.18.2.21", ServerActive: "198.18.1.21:10051,198.18.2.21:10051" },
        });
        expect(await violations(agentServerLists, [comma])).toHaveLength(1);
        const sent = command(
            "agent",
            "cat > /etc/zabbix/zabbix_agentd.d/server.conf <<'EOF'\nServerActive=198.18.1.21,198.18.2.21\nEOF",
        );
        expect((await violations(agentServerLists, [servers(), sent])).map(v => v.message)).toEqual([
            expect.stringMatching(/the agent configuration sent by agent/),
        ]);
        // Two separate installations may well be listed with ",".
        expect(
            await violations(agentServerLists, [
                servers(),
                command("agent", "ServerActive=198.18.1.21;198.18.2.21,203.0.113.5"),
            ]),
        ).toEqual([]);
    });

    test("sizing-fits-load", async () => {
        expect(await violations(sizingFitsLoad, [servers()])).toEqual([]);
        const undersized = servers({
            sizing: {
                ...sizeServer({ monitoredHosts: 100, items: 10_000, updateIntervalSeconds: 60 }),
                cacheSizeMiB: 8,
            },
        });
        expect((await violations(sizingFitsLoad, [undersized])).map(v => v.message)).toEqual([
            expect.stringMatching(/cacheSizeMiB 8 < 64/),
        ]);
    });

    test("server-host-hardware is advisory and only judges hosts whose size is known", async () => {
        const found = await violations(
            serverHostHardware,
            await resourcesOf(fixture("slow-failover-small-hosts.yaml")),
        );
        expect(found).toEqual([
            expect.objectContaining({
                level: "advisory",
                message: expect.stringMatching(/^tyo-1 has 2 cores and 4 GiB; Zabbix's large tier/),
            }),
        ]);
    });
});

describe("secrets", () => {
    test.each([
        ["a password assignment", "PGPASSWORD=hunter2hunter2 psql -c 'select 1'"],
        ["a private key", "cat > /root/.ssh/id <<EOF\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\nEOF"],
        ["a DB password setting", "cat > /etc/zabbix/x.conf <<EOF\nDBPassword=plainpassword\nEOF"],
        ["an SQL password literal", "psql -c \"ALTER ROLE zabbix PASSWORD 'plainpassword'\""],
    ])("no-plaintext-secrets catches %s", async (_what, create) => {
        expect(await violations(noPlaintextSecrets, [command("step", create)])).toHaveLength(1);
    });

    test("no-plaintext-secrets accepts references to secrets read from stdin", async () => {
        const create = 'IFS= read -r PW\nPGPASSWORD="$PW"\nexport PGPASSWORD\npsql -c "ALTER ROLE x PASSWORD \'$PW\'"';
        expect(await violations(noPlaintextSecrets, [command("step", create)])).toEqual([]);
    });

    // The rule reads the fence agents' secret parameters from where the config check and the CIB renderer do.
    const nvpair = (name: string, value: string) =>
        `zha_put_file /etc/zabbix-ha/pacemaker/cib.xml 0600 root:root <<'ZHA_EOF'\n<cib><primitive id="fence-a" class="stonith" type="fence_aws"><instance_attributes id="fence-a-params">` +
        `<nvpair id="fence-a-params-${name}" name="${name}" value="${value}"/></instance_attributes></primitive></cib>\nZHA_EOF`;
    test.each([...FENCE_SECRET_PARAMETERS, "Password", "secret-key", "SNMP_PRIV_PASSWD"])(
        "no-plaintext-secrets catches the fence parameter %s in a CIB",
        async name => {
            expect(await violations(noPlaintextSecrets, [command("step", nvpair(name, "wJalrXUtnFEMI"))])).toEqual([
                expect.objectContaining({
                    message: expect.stringContaining(`the Pacemaker parameter ${name} in clear`),
                }),
            ]);
        },
    );

    test("no-plaintext-secrets accepts a fence device that reads its password through password_script", async () => {
        const steps = [
            nvpair("password_script", FENCE_PASSWORD_SCRIPT),
            nvpair("ip", "192.0.2.1"),
            nvpair("token_file", "/etc/t"),
        ];
        expect(
            await violations(
                noPlaintextSecrets,
                steps.map(create => command("step", create)),
            ),
        ).toEqual([]);
    });

    test("random-password-length", async () => {
        const password = (length: number): ResourceInput => ({
            type: "random:index/randomPassword:RandomPassword",
            name: "pw",
            props: { length },
        });
        expect(await violations(randomPasswordLength, [password(32)])).toEqual([]);
        expect(await violations(randomPasswordLength, [password(12)])).toEqual([
            expect.objectContaining({ message: "pw generates 12 characters; use at least 20." }),
        ]);
    });
});

describe("SSH", () => {
    /** A real ed25519 public key (made with ssh-keygen for this test). */
    const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz";
    const step = (connection: Record<string, unknown>, host = "198.18.1.21"): ResourceInput => ({
        type: "command:remote:Command",
        name: `${host}-step`,
        props: { create: "true", connection: { host, ...connection } },
    });

    test("ssh-host-key-pinned: every step's connection carries its host's key, a well-formed one; one finding per host", async () => {
        expect(await violations(sshHostKeyPinned, [step({ hostKey: KEY })])).toEqual([]);
        // Nothing pinned anywhere: one finding, not one per step.
        expect(await violations(sshHostKeyPinned, [step({}), step({}, "198.18.2.21")])).toEqual([
            expect.objectContaining({
                level: "mandatory",
                message: expect.stringMatching(/^No host pins its SSH host key: the steps on all 2 hosts/),
            }),
        ]);
        // One host left out among pinned ones: that host, with its step count.
        const [missing, ...rest] = await violations(sshHostKeyPinned, [
            step({ hostKey: KEY }),
            step({}, "198.18.2.21"),
            step({}, "198.18.2.21"),
        ]);
        expect(rest).toEqual([]);
        expect(missing.message).toMatch(
            /^2 step\(s\) connect to 198\.18\.2\.21 without a pinned host key: set its sshHostKey/,
        );
        // One character lost in a copy: the blob no longer decodes to an ed25519 key.
        const [broken] = await violations(sshHostKeyPinned, [step({ hostKey: KEY.replace("AAAAC3", "AAAC3") })]);
        expect(broken.message).toMatch(/with a host key that is not valid \(its key does not decode/);
    });
});

describe("the pair's rules", () => {
    test("pacemaker-fencing", async () => {
        expect(await violations(pacemakerFencing, [pair()])).toEqual([]);
        expect(
            await violations(pacemakerFencing, [
                pair({ fencing: { enabled: false, agent: "fence_ipmilan", devices: [] } }),
            ]),
        ).toHaveLength(1);
        const oneDevice = await violations(pacemakerFencing, [
            pair({ fencing: { enabled: true, agent: "fence_ipmilan", devices: ["n1"] } }),
        ]);
        expect(oneDevice.map(v => v.message)).toEqual([expect.stringMatching(/n2 has no fence device/)]);
    });

    test("drbd-dedicated-meta-disk is advisory", async () => {
        expect(await violations(drbdDedicatedMetaDisk, [pair()])).toEqual([]);
        expect(await violations(drbdDedicatedMetaDisk, [pair({ metaDisk: "internal" })])).toEqual([
            expect.objectContaining({ level: "advisory" }),
        ]);
    });
});

describe("the harness", () => {
    test("reports one finding once, however often a rule reports it", async () => {
        const twice: StackValidationPolicy = {
            name: "reports-twice",
            description: "reports one finding from two views of it",
            enforcementLevel: "mandatory",
            validateStack: (_args, report) => {
                report("the same finding", "urn:a");
                report("the same finding", "urn:a");
                report("the same finding", "urn:b");
            },
        };
        expect(await runPolicy(twice, [])).toEqual([
            { policy: "reports-twice", level: "mandatory", message: "the same finding", resource: "urn:a" },
            { policy: "reports-twice", level: "mandatory", message: "the same finding", resource: "urn:b" },
        ]);
    });
});
