/**
 * The host firewall's rules: every host loads one (advisory), and none admits SSH from everywhere
 * (mandatory); on hand-built facts and on the shipped examples' plans.
 */
import * as path from "path";
import { HOST_FIREWALL } from "../../components/facts";
import { ResourceInput } from "../../policies/harness";
import { firewallSshNarrow, hostFirewallEnabled } from "../../policies/rules";
import { ROOT } from "../support/plan";
import { PROD, host, resourcesOf, violations } from "./cases";

/** A host's firewall admitting SSH from `sshSources` and the UI from anywhere. */
const firewall = (name: string, site: string, sshSources: string[]): ResourceInput => ({
    type: HOST_FIREWALL.token,
    name: `${name}-firewall`,
    props: {
        host: name,
        site,
        admits: [
            { protocol: "tcp", port: 22, services: ["ssh"], sources: sshSources },
            { protocol: "tcp", port: 443, services: ["ui"], sources: ["any"] },
        ],
    },
});

const ADMIN = ["198.18.100.0/24"];
const hosts = [host("zbx-a", "a", ["zabbix-server"]), host("zbx-b", "b", ["zabbix-server"])];

describe("host-firewall-enabled", () => {
    test("every host with its firewall: nothing to report", async () => {
        expect(
            await violations(hostFirewallEnabled, [
                ...hosts,
                firewall("zbx-a", "a", ADMIN),
                firewall("zbx-b", "b", ADMIN),
            ]),
        ).toEqual([]);
    });

    test("no host with one: a single advisory for the stack", async () => {
        expect(await violations(hostFirewallEnabled, hosts)).toEqual([
            expect.objectContaining({
                level: "advisory",
                message: expect.stringMatching(
                    /^No host loads the host firewall: .* all 2 hosts .* firewall\.enabled: true/,
                ),
            }),
        ]);
    });

    test("one host left out while others have it: that host, by name", async () => {
        const found = await violations(hostFirewallEnabled, [...hosts, firewall("zbx-a", "a", ADMIN)]);
        expect(found.map(v => v.message)).toEqual([
            expect.stringMatching(/^Host zbx-b loads no host firewall while others do/),
        ]);
    });

    test("the prod example (firewall on) passes; the dev example (off) gets the one advisory", async () => {
        expect(await violations(hostFirewallEnabled, await resourcesOf(PROD))).toEqual([]);
        const dev = await violations(hostFirewallEnabled, await resourcesOf(path.join(ROOT, "Pulumi.dev.yaml")));
        expect(dev).toEqual([
            expect.objectContaining({ message: expect.stringMatching(/^No host loads the host firewall/) }),
        ]);
    }, 30_000);
});

describe("firewall-ssh-narrow", () => {
    test("SSH from the admin network and a jump host passes; the UI from anywhere is not its concern", async () => {
        expect(await violations(firewallSshNarrow, [firewall("zbx-a", "a", [...ADMIN, "203.0.113.7/32"])])).toEqual([]);
    });

    test.each([
        ["anywhere", ["any"], "any"],
        ["0.0.0.0/0", ["0.0.0.0/0"], "0.0.0.0/0"],
        ["a whole private range", [...ADMIN, "10.0.0.0/8"], "10.0.0.0/8"],
    ])("SSH from %s is mandatory to fix, naming the host and the source", async (_what, sources, named) => {
        expect(await violations(firewallSshNarrow, [firewall("zbx-a", "a", sources)])).toEqual([
            expect.objectContaining({
                level: "mandatory",
                message: `Host zbx-a's firewall admits SSH (tcp/22) from ${named}: name where pulumi up and your jump hosts run (db.adminNetwork, firewall.sshFrom), /16 or narrower.`,
            }),
        ]);
    });

    test("the prod example's firewalls admit SSH from narrow networks only", async () => {
        const resources = await resourcesOf(PROD);
        expect(resources.filter(r => r.type === HOST_FIREWALL.token).length).toBeGreaterThan(0);
        expect(await violations(firewallSshNarrow, resources)).toEqual([]);
    }, 30_000);
});
