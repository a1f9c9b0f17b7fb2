/**
 * The witness's etcd leader keeper on a real three-member etcd (Debian 12's 3.4) on loopback: why it
 * exists (a new etcd leader restarts every lease at its full TTL), that it brings the leader to its
 * member once every member answers, and that it leaves the leader alone while one is missing.
 */
import * as path from "path";
import {
    EtcdEndpointStatus,
    EtcdMember,
    parseEtcdEndpointStatus,
    renderEtcdEnvironment,
    renderEtcdLeaderKeepScript,
} from "../../components/postgres/render";
import { Daemon, TestPki, freePort, ok, putFile, run, scratchSpace, sleep, testPki, waitFor } from "./support";
import { ETCD_TOKEN, etcdDaemon, etcdctl, parseEnvironmentFile } from "./patroni-nodes";

jest.setTimeout(180_000);

const scratch = scratchSpace();

/** Two DB hosts' members and the witness's, each on its own loopback address and client port. */
const MEMBERS: EtcdMember[] = [
    { name: "db-a", address: "127.0.0.2" },
    { name: "db-b", address: "127.0.0.3" },
    { name: "wit", address: "127.0.0.4" },
];

interface Member {
    readonly member: EtcdMember;
    readonly endpoint: string;
    readonly vars: Record<string, string>;
    daemon: Daemon;
}

let members: Member[];
/** The members' certificate (server and client use) and the CA every member and client verifies. */
let pki: TestPki;
const byName = (name: string) => members.find(m => m.member.name === name)!;
const allEndpoints = () => members.map(m => m.endpoint).join(",");

/** The members that answer: endpoint, ID (hex) and whether it leads, as the keeper reads them. */
async function statuses(): Promise<EtcdEndpointStatus[]> {
    const out = await etcdctl([`--endpoints=${allEndpoints()}`, "endpoint", "status"], pki.root);
    return parseEtcdEndpointStatus(out.stdout);
}

async function leaderEndpoint(): Promise<string | undefined> {
    return (await statuses()).find(s => s.leader)?.endpoint;
}

/** A transfer as an operator would make one, sent to the leader (move-leader gives up on any endpoint that does not answer). */
async function moveLeaderTo(name: string): Promise<void> {
    const now = await statuses();
    const target = now.find(s => s.endpoint === byName(name).endpoint)!;
    const leader = now.find(s => s.leader)!;
    ok(await etcdctl([`--endpoints=${leader.endpoint}`, "move-leader", target.id], pki.root));
    await waitFor(`etcd's leader on ${name}`, async () => (await leaderEndpoint()) === byName(name).endpoint);
}

beforeAll(async () => {
    pki = await testPki(scratch);
    const peerPort = await freePort();
    members = [];
    for (const member of MEMBERS) {
        const dir = await scratch.dir(`etcd-${member.name}`, "etcd");
        const clientPort = await freePort();
        const environment = renderEtcdEnvironment(member, MEMBERS, ETCD_TOKEN, {
            clientPort,
            peerPort,
            dataDir: path.join(dir, "data"),
            tls: pki.etcd,
        });
        const vars = parseEnvironmentFile(environment);
        members.push({
            member,
            endpoint: `https://${member.address}:${clientPort}`,
            vars,
            daemon: etcdDaemon(scratch, `etcd ${member.name}`, vars),
        });
    }
    await waitFor("all three etcd members to answer", async () => (await statuses()).length === 3, {
        timeoutMs: 60_000,
        watch: members.map(m => m.daemon),
    });
});

describe("etcd's TLS, as rendered (the three members above formed their cluster over TLS peers)", () => {
    test("a plain-HTTP client gets no answer: the client port speaks TLS only", async () => {
        const plain = await run(
            "curl",
            [
                "-sS",
                "-m",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                `${byName("db-a").endpoint.replace("https:", "http:")}/version`,
            ],
            { timeoutMs: 15_000 },
        );
        // etcd answers a plain request on a TLS port with a 400 (or drops it): never with the version.
        expect(plain.stdout).not.toBe("200");
        const plainCtl = await etcdctl(
            [`--endpoints=${byName("db-a").endpoint.replace("https:", "http:")}`, "get", "x"],
            undefined,
        );
        expect(plainCtl.code).not.toBe(0);
    });

    test("a TLS client without a certificate is refused; the same client with the stack's certificate reads", async () => {
        const bare = await etcdctl(
            [`--endpoints=${byName("db-a").endpoint}`, `--cacert=${pki.root.caFile}`, "put", "zha-test", "x"],
            undefined,
        );
        expect(bare.code).not.toBe(0);
        expect(bare.output).toMatch(/certificate|handshake|deadline exceeded|tls/i);
        ok(await etcdctl([`--endpoints=${byName("db-a").endpoint}`, "put", "zha-test", "x"], pki.root));
    });

    test("a client with a certificate of another CA is refused", async () => {
        const other = await testPki(scratch, "Another CA");
        const foreign = await etcdctl(
            [
                `--endpoints=${byName("db-a").endpoint}`,
                `--cacert=${pki.root.caFile}`,
                `--cert=${other.root.certFile}`,
                `--key=${other.root.keyFile}`,
                "get",
                "zha-test",
            ],
            undefined,
        );
        expect(foreign.code).not.toBe(0);
    });
});

test("why: a leader change restarts a lease at its full TTL, however much of it had passed", async () => {
    const grant = ok(await etcdctl([`--endpoints=${allEndpoints()}`, "lease", "grant", "20"], pki.root));
    const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
    const remaining = async () => {
        const out = ok(await etcdctl([`--endpoints=${allEndpoints()}`, "lease", "timetolive", lease], pki.root));
        return Number(/remaining\((-?\d+)s\)/.exec(out.stdout)![1]);
    };
    await sleep(6_000);
    expect(await remaining()).toBeLessThanOrEqual(14);
    const leader = await leaderEndpoint();
    await moveLeaderTo(members.find(m => m.endpoint !== leader)!.member.name);
    // The new leader starts it afresh: its TTL plus an election timeout.
    expect(await remaining()).toBeGreaterThanOrEqual(19);
});

describe("the keeper on the witness's member", () => {
    let keeper: Daemon;

    beforeAll(async () => {
        const wit = byName("wit");
        const dir = await scratch.dir("etcd-keeper");
        const file = await putFile(
            path.join(dir, "etcd-leader-keep"),
            renderEtcdLeaderKeepScript({
                endpoints: members.map(m => m.endpoint),
                ownEndpoint: wit.endpoint,
                tls: pki.root,
                pollSeconds: 1,
            }),
            0o700,
        );
        if ((await leaderEndpoint()) === wit.endpoint) {
            await moveLeaderTo("db-a");
        }
        keeper = scratch.daemon("etcd leader keeper", file, []);
    });

    test("brings etcd's leader to the witness once every member has answered for a few polls", async () => {
        await waitFor(
            "the keeper to move etcd's leader to the witness",
            async () => (await leaderEndpoint()) === byName("wit").endpoint,
            {
                timeoutMs: 30_000,
                watch: [keeper],
            },
        );
        expect(keeper.output()).toContain("moving it to this witness");
    });

    test("leaves the leader where it is while a member is missing, and takes it once the member is back", async () => {
        const dbB = byName("db-b");
        await dbB.daemon.stop();
        await waitFor("two members answering", async () => (await statuses()).length === 2);
        await moveLeaderTo("db-a");
        const moves = (keeper.output().match(/moving it to this witness/g) ?? []).length;
        // Ten polls' worth: every one finds a member missing, so none may move the leader.
        await sleep(10_000);
        expect(await leaderEndpoint()).toBe(byName("db-a").endpoint);
        expect((keeper.output().match(/moving it to this witness/g) ?? []).length).toBe(moves);

        dbB.daemon = etcdDaemon(scratch, "etcd db-b again", dbB.vars);
        await waitFor(
            "the keeper to move etcd's leader to the witness once db-b is back",
            async () => (await leaderEndpoint()) === byName("wit").endpoint,
            {
                timeoutMs: 60_000,
                watch: [keeper, dbB.daemon],
            },
        );
    });
});
