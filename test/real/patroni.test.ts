/**
 * Automatic DB failover (db.failover: patroni), the configuration files with the real programs:
 * etcd starts from the rendered /etc/default/etcd and is healthy, and Patroni's validator accepts
 * the rendered patroni.yml and rejects broken ones.
 */
import * as path from "path";
import { renderPatroniConfig } from "../../components/postgres/render";
import {
    FileCheck,
    checkFile,
    expectRejected,
    freePort,
    ok,
    password,
    putFile,
    run,
    scratchSpace,
    TestPki,
    testPki,
} from "./support";
import {
    DbPasswords,
    ETCD_MEMBER,
    Etcd,
    Node,
    etcdEnvironment,
    etcdctl,
    installConfig,
    newNode,
    parseEnvironmentFile,
    patroniInput,
    requirePatroni,
    startEtcd,
} from "./patroni-nodes";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const passwords: DbPasswords = { superuser: password(), replication: password(), restApi: password() };

let etcd: Etcd;
let pki: TestPki;

beforeAll(async () => {
    pki = await testPki(scratch);
    etcd = await startEtcd(scratch, pki);
});

describe("etcd with the rendered /etc/default/etcd", () => {
    test("the file holds plain assignments that sh reads to the same values", async () => {
        expect(Object.keys(etcd.vars).every(k => k.startsWith("ETCD_"))).toBe(true);
        const dir = await scratch.dir("etcd-env");
        const file = await putFile(path.join(dir, "etcd"), etcd.environment);
        const shell = ok(await run("sh", ["-c", `set -a; . "$1"; exec env`, "sh", file]));
        const fromSh = Object.fromEntries(
            shell.stdout
                .split("\n")
                .filter(l => l.startsWith("ETCD_"))
                .map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        expect(fromSh).toEqual(etcd.vars);
    });

    test("etcd started from it is healthy on the member's address and on 127.0.0.1", async () => {
        const result = ok(
            await etcdctl([`--endpoints=${etcd.endpoints.join(",")}`, "endpoint", "health"], etcd.clientTls),
        );
        for (const endpoint of etcd.endpoints) {
            expect(result.output).toMatch(new RegExp(`${endpoint.replace(/\./g, "\\.")} is healthy`));
        }
        const members = JSON.parse(
            ok(await etcdctl([`--endpoints=${etcd.endpoints[0]}`, "member", "list", "-w", "json"], etcd.clientTls))
                .stdout,
        );
        expect(
            members.members.map((m: { name: string; peerURLs: string[]; clientURLs: string[] }) => [
                m.name,
                m.peerURLs,
                m.clientURLs,
            ]),
        ).toEqual([
            [ETCD_MEMBER.name, [etcd.vars.ETCD_INITIAL_ADVERTISE_PEER_URLS], [etcd.vars.ETCD_ADVERTISE_CLIENT_URLS]],
        ]);
    });

    test("an ETCD_INITIAL_CLUSTER that omits the member stops etcd from starting", async () => {
        const other = { name: "zha-etcd-b", address: "127.0.0.3" };
        const { environment } = await etcdEnvironment(scratch, [other], pki);
        const vars = parseEnvironmentFile(environment);
        expect(vars.ETCD_INITIAL_CLUSTER).not.toContain(ETCD_MEMBER.name);
        const result = await run("etcd", [], { user: "etcd", env: vars, timeoutMs: 30_000 });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(
            new RegExp(`couldn't find local name "${ETCD_MEMBER.name}" in the initial cluster configuration`),
        );
    });
});

/** `patroni --validate-config` prints one line per problem and exits 1 when there is any. */
const PATRONI_VALIDATE: FileCheck = {
    tool: "patroni",
    fileName: "patroni.yml",
    args: file => ["--validate-config", file],
    accepted: output => output.trim() === "",
};

describe("patroni --validate-config with the rendered patroni.yml", () => {
    let node: Node;
    let rendered: string;

    beforeAll(async () => {
        requirePatroni();
        // Patroni refuses 127.0.0.1 as a connect address, not the rest of 127.0.0.0/8.
        node = await newNode(scratch, "validate", "127.0.0.2");
        rendered = await installConfig(
            node.config,
            renderPatroniConfig(patroniInput(etcd, node, await freePort(), pki)),
            passwords,
        );
    });

    test("the host's here-document fills in the passwords", () => {
        expect(rendered).not.toMatch(/\$[A-Z_]+/);
        expect(rendered.match(new RegExp(`password: "${passwords.superuser}"`, "g"))).toHaveLength(2);
        expect(rendered).toContain(`password: "${passwords.replication}"`);
        expect(rendered).toContain(`password: "${passwords.restApi}"`);
    });

    test("it is accepted without a word", async () => {
        const result = await run("patroni", ["--validate-config", node.config]);
        expect(result.output).toBe("");
        expect(result.code).toBe(0);
    });

    test("a ttl that is not an integer is rejected", async () => {
        const broken = rendered.replace(/^( {4}ttl:) \d+$/m, "$1 twenty");
        expect(broken).not.toBe(rendered);
        expectRejected(await checkFile(PATRONI_VALIDATE, broken), /bootstrap\.dcs\.ttl twenty is not an(d)? integer/);
    });

    test("a config without a DCS section is rejected", async () => {
        const broken = rendered.replace(/^etcd3:\n(?: {2}.*\n)+/m, "");
        expect(broken).not.toMatch(/etcd3/);
        expectRejected(await checkFile(PATRONI_VALIDATE, broken), /etcd3 {1,2}is not defined/);
    });

    test("an etcd that does not answer is rejected", async () => {
        const broken = renderPatroniConfig(
            patroniInput(etcd, node, await freePort(), pki, { etcdPort: await freePort() }),
        );
        expectRejected(
            await checkFile(PATRONI_VALIDATE, broken),
            /etcd3\.hosts\.0 .* didn't pass validation: '127\.0\.0\.2:\d+ is not reachable'/,
        );
    });

    test("a host address of 127.0.0.1 is refused as a connect address", async () => {
        const broken = renderPatroniConfig(patroniInput(etcd, node, await freePort(), pki, { address: "127.0.0.1" }));
        const result = await checkFile(PATRONI_VALIDATE, broken);
        expectRejected(
            result,
            /restapi\.connect_address 127\.0\.0\.1:\d+ didn't pass validation: 'must not contain "127\.0\.0\.1"/,
        );
        expect(result.output).toMatch(
            /postgresql\.connect_address 127\.0\.0\.1:\d+ didn't pass validation: 'must not contain "127\.0\.0\.1"/,
        );
    });
});
