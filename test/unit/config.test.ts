import {
    OS_FAMILIES,
    RawStackConfig,
    ValidationOptions,
    ZABBIX_VERSIONS,
    validateStackConfig,
} from "../../components/config";
import { platformFor } from "../../components/platform";
import { HA, RELEASE_PACKAGE_SHA256, configProblems, planConfig, twoSiteConfig } from "../support/plan";

/** The problems a raw config produces, as "path: message" lines. */
function problems(raw: RawStackConfig, options: ValidationOptions = HA): string[] {
    return configProblems(raw, options);
}

function withHost(patch: Record<string, unknown>, siteIndex = 1): Record<string, any> {
    const raw = twoSiteConfig();
    Object.assign(raw.sites[siteIndex].hosts[0], patch);
    return raw;
}

describe("stack configuration validation", () => {
    test("a valid two-site config passes and gets its defaults", () => {
        const config = validateStackConfig(twoSiteConfig(), HA);
        expect(config.failoverDelaySeconds).toBe(10);
        expect(config.db).toMatchObject({
            primarySite: "east",
            replication: "async",
            port: 5432,
            name: "zabbix",
            user: "zabbix",
        });
        expect(config.loadBalancer).toEqual({ httpPort: 80, dbPort: 5433 });
        expect(config.sites[0].hosts[0]).toMatchObject({ sshUser: "root", sshPort: 22, os: "debian12" });
        expect(config.sites[0].l2Segment).toBe(false);
    });

    test("a pinned host key is kept as the provider reads it (type and key, the comment dropped)", () => {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz";
        const config = validateStackConfig(withHost({ sshHostKey: `  ${key} root@west-1\n` }), HA);
        expect(config.sites[1].hosts[0].sshHostKey).toBe(key);
        expect(config.sites[0].hosts[0].sshHostKey).toBeUndefined();
    });

    test("YAML's number 7 is read as Zabbix 7.0", () => {
        const raw = twoSiteConfig();
        raw.zabbix = {
            version: 7.0,
            packageSource: "vendor",
            repositoryUrl: "https://mirror.example.net/zabbix-repo",
            releasePackageSha256: RELEASE_PACKAGE_SHA256,
        };
        expect(validateStackConfig(raw, HA).zabbix.version).toBe("7.0");
    });

    test.each([
        [
            "an address that is not IPv4",
            withHost({ address: "300.1.1.1" }),
            'sites[1].hosts[0].address: "300.1.1.1" is not an IPv4 address',
        ],
        [
            "an address outside its site",
            withHost({ address: "198.18.1.99" }),
            "sites[1].hosts[0].address: 198.18.1.99 is outside its site's network 198.18.2.0/24",
        ],
        [
            "an unknown role",
            withHost({ roles: ["db", "zabbix-proxy"] }),
            'sites[1].hosts[0].roles[1]: unknown role "zabbix-proxy"',
        ],
        ["a duplicate host name", withHost({ name: "east-1" }), 'sites[1].hosts[0].name: duplicate host name "east-1"'],
        ["an unknown OS", withHost({ os: "windows" }), 'sites[1].hosts[0].os: "windows" is not one of debian12'],
        [
            "a host key that is not a public key line",
            withHost({ sshHostKey: "AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz" }),
            'sites[1].hosts[0].sshHostKey: expected an SSH public key line ("ssh-ed25519 AAAA..."',
        ],
        [
            "a host key of one type pasted under another",
            withHost({
                sshHostKey: "ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz",
            }),
            'sites[1].hosts[0].sshHostKey: its key does not decode to a ecdsa-sha2-nistp256 key (it names "ssh-ed25519")',
        ],
        [
            "an RSA host key",
            withHost({ sshHostKey: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7" }),
            "sites[1].hosts[0].sshHostKey: is an RSA key: the provider would ask for ssh-rsa (SHA-1) signatures",
        ],
        [
            "a host key with a character lost",
            withHost({ sshHostKey: "ssh-ed25519 AAAC3NzaC1lZDI1NTE5AAAAIPUUbKbVxDY2vMbrGydUaaHoyF6V/0gJ4AOInjXwyRxz" }),
            "sites[1].hosts[0].sshHostKey: its key does not decode to a ssh-ed25519 key",
        ],
    ])("%s is reported with its path", (_label, raw, expected) => {
        expect(problems(raw).join("\n")).toContain(expected);
    });

    test("duplicate site names and overlapping networks", () => {
        const raw = twoSiteConfig();
        raw.sites[1].name = "east";
        raw.sites[1].network = "198.18.0.0/16";
        raw.sites[1].hosts[0].address = "198.18.2.10";
        const found = problems(raw);
        expect(found).toContainEqual(
            expect.stringContaining('sites[1].name: duplicate site name "east" (also sites[0].name)'),
        );
        expect(found).toContainEqual(
            expect.stringContaining("sites[1].network: 198.18.0.0/16 overlaps sites[0].network 198.18.1.0/24"),
        );
    });

    test("a network with host bits set names the real network", () => {
        const raw = twoSiteConfig();
        raw.sites[0].network = "198.18.1.7/24";
        expect(problems(raw)).toContainEqual(
            'sites[0].network: "198.18.1.7/24" has host bits set; the network is 198.18.1.0/24',
        );
    });

    test("fewer than two sites for an HA pattern", () => {
        const raw = twoSiteConfig();
        raw.sites = [raw.sites[0]];
        expect(problems(raw)).toContainEqual(
            expect.stringMatching(/^sites: 1 site given; this pattern needs at least 2/),
        );
    });

    test("no DB host at all, and a primary site without one", () => {
        const raw = twoSiteConfig();
        for (const site of raw.sites) {
            site.hosts[0].roles = ["zabbix-server", "frontend", "lb"];
        }
        expect(problems(raw)).toEqual(
            expect.arrayContaining([
                "sites: no host has the db role; the Zabbix database needs one",
                'db.primarySite: site "east" has no host with the db role',
            ]),
        );
    });

    test("a primary site that is not a site", () => {
        const raw = twoSiteConfig();
        raw.db.primarySite = "north";
        expect(problems(raw)).toContainEqual('db.primarySite: "north" is not a site (sites: east, west)');
    });

    test.each([["9s"], ["16m"], ["1h"], ["soon"]])("failover delay %s is rejected", delay => {
        const raw = { ...twoSiteConfig(), failoverDelay: delay };
        expect(problems(raw)).toContainEqual(expect.stringMatching(/^failoverDelay: /));
    });

    test.each([
        ["10s", 10],
        ["15m", 900],
        ["90", 90],
        [30, 30],
    ])("failover delay %s is %i seconds", (delay, seconds) => {
        const raw = { ...twoSiteConfig(), failoverDelay: delay };
        expect(validateStackConfig(raw, HA).failoverDelaySeconds).toBe(seconds);
    });

    test("a missing SSH key", () => {
        expect(problems(twoSiteConfig(), { ...HA, secrets: {} })).toContainEqual(
            expect.stringMatching(/^sshPrivateKey: is required/),
        );
    });

    test("an unknown Zabbix version, and a vendor source without a repository", () => {
        const raw = twoSiteConfig();
        raw.zabbix = { version: "5.0", packageSource: "vendor" };
        expect(problems(raw)).toEqual(
            expect.arrayContaining([
                'zabbix.version: unknown Zabbix version "5.0" (supported: 6.0, 7.0)',
                expect.stringMatching(/^zabbix\.repositoryUrl: is required with packageSource vendor/),
            ]),
        );
    });

    test("the distribution source needs an OS that ships the chosen series", () => {
        const raw = withHost({ os: "ubuntu22.04" });
        expect(problems(raw)).toContainEqual(
            expect.stringMatching(/^sites\[1\]\.hosts\[0\]\.os: Ubuntu 22\.04 does not ship Zabbix 6\.0/),
        );
        raw.zabbix.version = "7.0";
        expect(problems(raw)).toContainEqual(
            expect.stringMatching(/^sites\[0\]\.hosts\[0\]\.os: Debian 12 does not ship Zabbix 7\.0 \(it ships 6\.0\)/),
        );
    });

    test("every os x zabbix.version x packageSource: accepted exactly where the packages exist", () => {
        const osOf = (os: string, version: string, packageSource: string) => {
            const raw = twoSiteConfig();
            raw.zabbix = { version, packageSource, repositoryUrl: "https://zabbix.example/zabbix" };
            raw.sites.forEach((site: any) => site.hosts.forEach((h: any) => (h.os = os)));
            return problems(raw).filter(p => /hosts\[\d\]\.os:/.test(p));
        };
        const accepted: string[] = [];
        for (const os of OS_FAMILIES) {
            for (const version of ZABBIX_VERSIONS) {
                for (const source of ["distribution", "vendor"]) {
                    const found = osOf(os, version, source);
                    if (found.length === 0) {
                        accepted.push(`${os} ${version} ${source}`);
                    } else {
                        // Each refusal names the host's os path and says what would work instead, if anything does.
                        expect(found[0]).toMatch(/^sites\[0\]\.hosts\[0\]\.os: /);
                    }
                }
            }
        }
        // What each platform's facts say exists, and nothing more.
        const expected = OS_FAMILIES.flatMap(os =>
            ZABBIX_VERSIONS.flatMap(v => [
                ...(platformFor(os).distributionZabbix === v ? [`${os} ${v} distribution`] : []),
                ...(platformFor(os).vendorZabbix.includes(v) ? [`${os} ${v} vendor`] : []),
            ]),
        );
        expect(accepted).toEqual(expected);
        expect(accepted).toEqual(expect.arrayContaining(["debian12 6.0 distribution", "debian13 7.0 distribution"]));
        expect(accepted).not.toContain("debian13 6.0 distribution");
        expect(osOf("debian13", "6.0", "distribution")[0]).toMatch(
            /Debian 13 does not ship Zabbix 6\.0 \(it ships 7\.0\); zabbix\.version 7\.0$/,
        );
        expect(osOf("debian13", "6.0", "vendor")[0]).toMatch(
            /the Zabbix repository has no 6\.0 packages for Debian 13 \(it has 7\.0\)$/,
        );
    });

    test("a site with Zabbix servers but no load balancer, and sync replication without a replica", () => {
        const raw = twoSiteConfig();
        raw.sites[1].hosts[0].roles = ["zabbix-server", "frontend"];
        raw.db.replication = "sync";
        expect(problems(raw)).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^sites\[1\]\.hosts: site "west" runs west-1 but has no lb host/),
                expect.stringMatching(/^db\.replication: sync needs a replica in another site/),
            ]),
        );
    });

    test("a fallback pair holds the primary: in db.primarySite, on db hosts", () => {
        const raw = twoSiteConfig();
        raw.sites[1].l2Segment = true;
        raw.sites[1].hosts.push({ name: "west-2", address: "198.18.2.11", roles: ["zabbix-server"] });
        raw.db.fallbackPair = true;
        raw.drbd = {
            site: "west",
            nodes: ["west-1", "west-2"],
            vip: "198.18.2.100",
            disk: "/dev/sdb1",
            metaDisk: "/dev/sdc1",
            fencing: {
                devices: [
                    { node: "west-1", params: {} },
                    { node: "west-2", params: {} },
                ],
            },
        };
        expect(problems(raw)).toEqual([
            'db.fallbackPair: the fallback pair is in site "west" but db.primarySite is "east": the pair holds the primary',
            "drbd.nodes[1]: west-2 needs the db role to be half of the DB's fallback pair",
        ]);
        raw.db.primarySite = "west";
        raw.sites[1].hosts[1].roles = ["db"];
        expect(problems(raw)).toEqual([]);
    });

    const PGDG = {
        url: "https://pgdg-mirror.example.net/apt",
        suite: "bookworm-pgdg",
        keyUrl: "https://pgdg-mirror.example.net/apt/key.asc",
    };

    /** A third site with only a witness: the etcd member that gives two DB sites a majority. */
    const TIE_SITE = {
        name: "tie",
        network: "198.18.3.0/24",
        hosts: [{ name: "tie-1", address: "198.18.3.10", roles: ["witness"] }],
    };

    test("patroni needs etcd members in three sites, and says why", () => {
        const raw = twoSiteConfig();
        raw.db.failover = "patroni";
        raw.db.patroniRepository = PGDG;
        expect(problems(raw)).toEqual([
            expect.stringMatching(
                /^db\.failover: patroni needs etcd members in at least three sites \(found east, west\): with two, losing either site leaves no majority/,
            ),
        ]);
        raw.sites.push(TIE_SITE);
        expect(problems(raw)).toEqual([]);
    });

    test("patroni on a distribution whose Patroni can lose commits after a site cut needs a newer one, and says why", () => {
        const raw = twoSiteConfig();
        raw.db.failover = "patroni";
        raw.sites.push(TIE_SITE);
        raw.sites[1].hosts[0].os = "ubuntu22.04";
        raw.zabbix = {
            version: "7.0",
            packageSource: "vendor",
            repositoryUrl: "https://mirror.example.net/zabbix-repo",
            // One pin per OS of the Zabbix hosts, as they change below; one for an OS no host has is kept unused.
            releasePackageSha256: Object.fromEntries(
                ["debian12", "ubuntu22.04", "ubuntu24.04"].map(os => [os, RELEASE_PACKAGE_SHA256]),
            ),
        };
        expect(problems(raw)).toEqual([
            expect.stringMatching(
                /^db\.patroniRepository: is required \(east-1: Debian 12 ships Patroni 3\.0\.2; west-1: Ubuntu 22\.04 ships Patroni 2\.1\.2\)\. Before 3\.0\.3, a former primary .* drop commits it acknowledged/,
            ),
        ]);
        // Ubuntu 24.04's own Patroni (3.2.2) is new enough: only the Debian host needs the repository.
        raw.sites[1].hosts[0].os = "ubuntu24.04";
        expect(problems(raw)).toEqual([
            expect.stringMatching(/^db\.patroniRepository: is required \(east-1: Debian 12 ships Patroni 3\.0\.2\)/),
        ]);
        raw.db.patroniRepository = PGDG;
        const config = validateStackConfig(raw, HA);
        expect(config.db.patroniRepository).toEqual({ ...PGDG, components: ["main"], trusted: false });
    });

    test("a Patroni repository is signed unless it is a local one marked trusted", () => {
        const raw = twoSiteConfig();
        raw.db.failover = "patroni";
        raw.sites.push(TIE_SITE);
        raw.db.patroniRepository = {
            url: "https://pgdg-mirror.example.net/apt",
            suite: "bookworm-pgdg",
            trusted: true,
        };
        expect(problems(raw)).toEqual([
            "db.patroniRepository.trusted: only a local file: repository may go unsigned; give keyUrl for one reached over the network",
        ]);
        raw.db.patroniRepository = { url: "https://pgdg-mirror.example.net/apt", suite: "bookworm pgdg" };
        expect(problems(raw)).toEqual([
            'db.patroniRepository.suite: "bookworm pgdg" is not a suite name (e.g. bookworm-pgdg) or ./ for a flat repository',
            expect.stringMatching(
                /^db\.patroniRepository\.keyUrl: is required: apt checks the repository's signatures/,
            ),
        ]);
        raw.db.patroniRepository = { url: "file:/srv/repo/patroni", suite: "./", trusted: true };
        expect(validateStackConfig(raw, HA).db.patroniRepository).toEqual({
            url: "file:/srv/repo/patroni",
            suite: "./",
            components: [],
            trusted: true,
        });
        raw.db.failover = "manual";
        expect(problems(raw)).toEqual(["db.patroniRepository: is only used with db.failover patroni"]);
    });

    test("patroni runs on Debian and Ubuntu DB hosts only", () => {
        const raw = twoSiteConfig();
        raw.db.failover = "patroni";
        raw.db.patroniRepository = PGDG;
        raw.sites.push(TIE_SITE);
        raw.sites[1].hosts[0].os = "rhel9";
        expect(problems(raw)).toContainEqual(
            expect.stringMatching(
                /^sites\[1\]\.hosts\[0\]\.os: db\.failover patroni runs on Debian and Ubuntu DB hosts: RHEL 9 family has no etcd/,
            ),
        );
    });

    test("the Zabbix server port is within what zabbix_server accepts", () => {
        const raw = {
            ...twoSiteConfig(),
            zabbix: { version: "6.0", packageSource: "distribution", listenPort: 40000 },
        };
        expect(problems(raw)).toContainEqual("zabbix.listenPort: 40000 is not a whole number from 1024 to 32767");
    });

    test("a typo'd role is reported alone: the host keeps its other roles for the cross-checks", () => {
        const raw = twoSiteConfig();
        raw.sites[0].hosts[0].roles = ["db", "zabix-server", "frontend", "lb"];
        const typo =
            'sites[0].hosts[0].roles[1]: unknown role "zabix-server" (did you mean "zabbix-server"? known: db, zabbix-server, frontend, lb, witness, proxy, agent)';
        expect(problems(raw)).toEqual([typo]);
        // A pattern that needs every role in every site does not follow up with the misspelt one missing.
        expect(
            problems(raw, {
                ...HA,
                requirements: { ...HA.requirements, rolesInEverySite: ["db", "zabbix-server", "frontend", "lb"] },
            }),
        ).toEqual([typo]);
        // A role that resembles none is still the only problem when the host's other roles suffice.
        raw.sites[0].hosts[0].roles = ["db", "zabbix-server", "frontend", "lb", "mail"];
        expect(problems(raw)).toEqual([
            'sites[0].hosts[0].roles[4]: unknown role "mail" (known: db, zabbix-server, frontend, lb, witness, proxy, agent)',
        ]);
        raw.sites[0].hosts[0].roles = ["db", "db", "zabbix-server", "frontend", "lb"];
        expect(problems(raw)).toEqual(['sites[0].hosts[0].roles[1]: role "db" is listed twice']);
    });

    test("typos in keys are caught rather than ignored", () => {
        const raw = withHost({ rolez: ["db"] });
        expect(problems(raw)).toContainEqual(expect.stringMatching(/^sites\[1\]\.hosts\[0\]\.rolez: unknown key/));
    });

    test("a config with several problems reports every one of them in one error", () => {
        const raw = twoSiteConfig();
        raw.sites[0].hosts[0].address = "300.1.1.1";
        raw.sites[1].hosts[0].roles = ["db", "mail"];
        raw.failoverDelay = "5s";
        raw.zabbix = { version: "8.0" };
        const found = problems(raw, { ...HA, secrets: {} });
        expect(found).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^sites\[0\]\.hosts\[0\]\.address: /),
                expect.stringMatching(/^sites\[1\]\.hosts\[0\]\.roles\[1\]: unknown role "mail"/),
                expect.stringMatching(/^failoverDelay: /),
                expect.stringMatching(/^zabbix\.version: /),
                expect.stringMatching(/^sshPrivateKey: /),
            ]),
        );
    });
});

describe("the stack program with bad input", () => {
    test("fails with one error listing every problem and creates no resource", async () => {
        const raw = twoSiteConfig();
        raw.sites[1].hosts[0].address = "198.18.9.9";
        raw.failoverDelay = "20m";
        const plan = await planConfig(raw, null);
        expect(plan.error?.message).toMatch(/invalid zabbix-ha configuration \(3 problems\)/);
        expect(plan.error?.message).toContain(
            "sites[1].hosts[0].address: 198.18.9.9 is outside its site's network 198.18.2.0/24",
        );
        expect(plan.error?.message).toContain("failoverDelay:");
        expect(plan.error?.message).toContain("sshPrivateKey: is required");
        // Only the stack itself registered: nothing half-deployed.
        expect(plan.resources.filter(r => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });

    test("an unknown pattern is a config error", async () => {
        const plan = await planConfig({ ...twoSiteConfig(), pattern: "clustered" });
        expect(plan.error?.message).toContain('pattern: "clustered" is not one of');
    });
});
