/**
 * Values that are well-formed but unsafe or unusable, each a ConfigError at its path: credentials in
 * a package source's URL, a repository base that apt or sed would misread, an admin network too
 * wide, names PostgreSQL keeps or cannot hold, DRBD disks outside /dev, user names no host has.
 */
import {
    ADMIN_NETWORK_MIN_PREFIX,
    PatternRequirements,
    RawStackConfig,
    SET_AS_SECRET,
    ValidationOptions,
    validateStackConfig,
} from "../../components/config";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE, replicationSlotName } from "../../components/postgres/roles";
import { MANAGED_DB_CA, RELEASE_PACKAGE_SHA256, configProblems, twoSiteConfig } from "../support/plan";

const PATTERN_5: PatternRequirements = {
    minSites: 2,
    requiredRoles: ["db", "zabbix-server", "frontend", "lb"],
    selfRunDatabase: true,
};

function problems(raw: RawStackConfig, requirements = PATTERN_5): string[] {
    return configProblems(raw, { secrets: { sshPrivateKey: SET_AS_SECRET }, requirements });
}

/** twoSiteConfig with Zabbix from a vendor repository at `url`. */
function withRepository(url: string): Record<string, any> {
    const raw = twoSiteConfig();
    raw.zabbix = {
        version: "7.0",
        packageSource: "vendor",
        repositoryUrl: url,
        releasePackageSha256: RELEASE_PACKAGE_SHA256,
    };
    return raw;
}

/** twoSiteConfig on Patroni with a third site and the given Patroni repository. */
function withPatroniRepository(repository: Record<string, unknown>): Record<string, any> {
    const raw = twoSiteConfig();
    raw.db.failover = "patroni";
    raw.db.patroniRepository = repository;
    raw.sites.push({
        name: "tie",
        network: "198.18.3.0/24",
        hosts: [{ name: "tie-1", address: "198.18.3.10", roles: ["witness"] }],
    });
    return raw;
}

describe("package source URLs hold no credentials", () => {
    const CREDENTIALS: Record<string, { url: string; said: string }> = {
        "user:password": { url: "https://deploy:s3cr3t-pw@mirror.example.net/zabbix", said: "user:password" },
        "a token as the user": { url: "https://glpat-s3cr3t-pw@mirror.example.net/zabbix", said: "a user or token" },
        "a token in the query": {
            url: "https://mirror.example.net/zabbix?private_token=s3cr3t-pw",
            said: "in its query (private_token)",
        },
    };
    test.each(Object.keys(CREDENTIALS))("zabbix.repositoryUrl with %s", what => {
        const { url, said } = CREDENTIALS[what];
        const found = problems(withRepository(url));
        expect(found).toEqual([expect.stringMatching(/^zabbix\.repositoryUrl: holds (credentials|a credential) /)]);
        expect(found[0]).toContain(said);
        expect(found[0]).toContain("apt's auth.conf");
        // The message names the problem, never the secret.
        expect(found[0]).not.toContain("s3cr3t-pw");
    });

    test("db.patroniRepository's url and keyUrl", () => {
        const found = problems(
            withPatroniRepository({
                url: "https://u:s3cr3t-pw@apt.example.net/postgresql",
                suite: "bookworm-pgdg",
                keyUrl: "https://apt.example.net/key.asc?token=s3cr3t-pw",
            }),
        );
        expect(found).toEqual([
            expect.stringMatching(/^db\.patroniRepository\.url: holds credentials \(user:password before the host\)/),
            expect.stringMatching(/^db\.patroniRepository\.keyUrl: holds a credential in its query \(token\)/),
        ]);
        expect(found.join("\n")).not.toContain("s3cr3t-pw");
    });

    test("an @ in the path is no credential", () => {
        expect(problems(withRepository("https://mirror.example.net/~ops/@zabbix/"))).toEqual([]);
    });
});

describe("a repository's base URL holds nothing apt or the release package's rewrite misreads", () => {
    test.each([
        ["https://mirror.example.net/zabbix#main", '"#"'],
        ["https://mirror.example.net/a&b/zabbix", '"&"'],
        ["https://mirror.example.net/zabbix?x=1", '"?"'],
    ])("%s", (url, said) => {
        expect(problems(withRepository(url))).toEqual([
            expect.stringMatching(
                new RegExp(
                    `^zabbix\\.repositoryUrl: holds ${said.replace("?", "\\?")}: a repository's base URL takes no query or fragment`,
                ),
            ),
        ]);
    });

    test("the Patroni repository's too (apt reads # as a comment)", () => {
        expect(
            problems(
                withPatroniRepository({
                    url: "https://apt.example.net/pg#x",
                    suite: "bookworm-pgdg",
                    keyUrl: "https://apt.example.net/k.asc",
                }),
            ),
        ).toEqual([expect.stringMatching(/^db\.patroniRepository\.url: holds "#"/)]);
    });
});

describe("the vendor's release package is pinned by its SHA-256", () => {
    const PIN = "0123456789abcdef".repeat(4);
    const withPin = (pin: unknown, os?: Record<number, string>) => {
        const raw = withRepository("https://mirror.example.net/zabbix");
        raw.zabbix.releasePackageSha256 = pin;
        Object.entries(os ?? {}).forEach(([i, name]) => (raw.sites[Number(i)].hosts[0].os = name));
        return raw;
    };

    test("64 hex digits, either case, for the one OS of the Zabbix hosts", () => {
        expect(problems(withPin(PIN))).toEqual([]);
        expect(problems(withPin(PIN.toUpperCase()))).toEqual([]);
    });

    test.each([
        ["missing", undefined, /^zabbix\.releasePackageSha256: is required with packageSource vendor: the SHA-256/],
        ["too short", PIN.slice(1), /^zabbix\.releasePackageSha256: ".{63}" is not the SHA-256 of the zabbix-release/],
        ["not hex", `${PIN.slice(1)}g`, /is not the SHA-256/],
        ["a shell word", `${PIN.slice(2)}$(`, /is not the SHA-256/],
        ["a number", 12, /^zabbix\.releasePackageSha256: 12 is not the SHA-256/],
    ])("%s is refused at its path", (_what, pin, said) => {
        expect(problems(withPin(pin))).toEqual([expect.stringMatching(said)]);
    });

    test("hosts of two OSes need a mapping by OS, each OS pinned", () => {
        const mixed = { 1: "rhel9" };
        expect(problems(withPin(PIN, mixed))).toEqual([
            "zabbix.releasePackageSha256: one checksum for hosts of debian12, rhel9, whose release packages differ: give a mapping by OS",
        ]);
        expect(problems(withPin({ debian12: PIN, rhel9: PIN.replace("0", "f") }, mixed))).toEqual([]);
        expect(problems(withPin({ debian12: PIN }, mixed))).toEqual([
            expect.stringMatching(/^zabbix\.releasePackageSha256\.rhel9: is required: RHEL 9 .*hosts install Zabbix/),
        ]);
        expect(problems(withPin({ debian12: PIN, rhel9: PIN, debain13: PIN }, mixed))).toEqual([
            expect.stringMatching(/^zabbix\.releasePackageSha256\.debain13: unknown key/),
        ]);
    });

    test("the distribution's packages take no pin", () => {
        const raw = twoSiteConfig();
        raw.zabbix.releasePackageSha256 = PIN;
        expect(problems(raw)).toEqual([
            "zabbix.releasePackageSha256: is for packageSource vendor only: the distribution's packages are checked by apt or dnf",
        ]);
    });
});

describe("trust anchors and unsigned packages come over https only", () => {
    test("the vendor's repository: its release package is installed unsigned", () => {
        expect(problems(withRepository("http://mirror.example.net/zabbix"))).toEqual([
            expect.stringMatching(
                /^zabbix\.repositoryUrl: "http:\/\/mirror\.example\.net\/zabbix" is not an https URL \(its release package/,
            ),
        ]);
        expect(problems(withRepository("https://mirror.example.net/zabbix"))).toEqual([]);
    });

    test("an apt key over http is refused; a signed repository over http with an https key is not", () => {
        const repository = (url: string, keyUrl: string) =>
            problems(withPatroniRepository({ url, suite: "bookworm-pgdg", keyUrl }));
        expect(repository("https://apt.example.net/pg", "http://apt.example.net/k.asc")).toEqual([
            expect.stringMatching(/^db\.patroniRepository\.keyUrl: .* is not an https URL \(the key apt checks/),
        ]);
        expect(repository("http://apt.example.net/pg", "https://apt.example.net/k.asc")).toEqual([]);
    });
});

describe("db.adminNetwork is narrow", () => {
    test.each(["0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "198.18.0.0/15"])("%s is too wide", cidr => {
        const raw = twoSiteConfig();
        raw.db.adminNetwork = cidr;
        expect(problems(raw)).toEqual([
            `db.adminNetwork: ${cidr} is too wide: the DB's superuser may log in from it and every load balancer's DB port admits it; ` +
                `name the network pulumi up runs from, /${ADMIN_NETWORK_MIN_PREFIX} or narrower`,
        ]);
    });

    test.each(["198.18.0.0/16", "198.18.100.0/24", "198.18.100.7/32"])("%s is accepted", cidr => {
        const raw = twoSiteConfig();
        raw.db.adminNetwork = cidr;
        expect(problems(raw)).toEqual([]);
    });
});

describe("names PostgreSQL keeps, or cannot hold", () => {
    test.each(["postgres", ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE, "pg_monitor", "pg_zabbix"])("db.user %s", user => {
        const raw = twoSiteConfig();
        raw.db.user = user;
        expect(problems(raw)).toEqual([
            expect.stringMatching(
                new RegExp(`^db\\.user: "${user}" is reserved \\(postgres, zabbix_ha_admin, .*pg_\\.\\.\\.\\)`),
            ),
        ]);
    });

    test.each(["postgres", "template0", "template1"])("db.name %s", name => {
        const raw = twoSiteConfig();
        raw.db.name = name;
        expect(problems(raw)).toEqual([
            `db.name: "${name}" is reserved (postgres, template0, template1): PostgreSQL keeps these databases for itself; Zabbix's gets a name of its own`,
        ]);
    });

    test("a DB host's name whose replication slot would pass 63 characters is refused at its path; 53 fit", () => {
        const longest = `db-${"a".repeat(50)}`;
        expect(replicationSlotName(longest)).toHaveLength(63);
        const raw = twoSiteConfig();
        raw.sites[1].hosts[0].name = longest;
        expect(problems(raw)).toEqual([]);
        raw.sites[1].hosts[0].name = `${longest}b`;
        expect(problems(raw)).toEqual([
            `sites[1].hosts[0].name: "${longest}b" is too long for a DB host: its replication slot would be zabbix_ha_db_${"a".repeat(50)}b (64 characters), and PostgreSQL names hold 63; use at most 53 characters`,
        ]);
        // A host without the db role has no slot: a DNS label's 63 characters are fine.
        raw.sites[1].hosts.push({ name: "x".repeat(63), address: "198.18.2.11", roles: ["frontend"] });
        raw.sites[1].hosts[0].name = "west-1";
        expect(problems(raw)).toEqual([]);
    });
});

describe("the pair's disks and the hosts' users", () => {
    const PAIR = { minSites: 1, requiredRoles: [], selfRunDatabase: false, sections: ["drbd"] } as const;
    function withDisks(disk: string, metaDisk = "/dev/vg0/zabbix-md"): Record<string, any> {
        const raw = twoSiteConfig();
        raw.sites[0].l2Segment = true;
        raw.sites[0].hosts.push({ name: "east-2", address: "198.18.1.11", roles: ["zabbix-server"] });
        raw.drbd = {
            site: "east",
            nodes: ["east-1", "east-2"],
            vip: "198.18.1.100",
            disk,
            metaDisk,
            fencing: {
                devices: ["east-1", "east-2"].map(node => ({ node, params: { ip: "192.0.2.1", username: "fence" } })),
            },
        };
        return raw;
    }

    test("block devices under /dev plan", () => {
        expect(problems(withDisks("/dev/vg0/zabbix-data"), PAIR)).toEqual([]);
    });

    test.each([
        ["disk", "/dev/../etc/shadow"],
        ["disk", "/dev/./sdb1"],
        ["disk", "/dev/$(reboot)"],
        ["disk", "sdb1"],
        ["metaDisk", "/dev/vg0/../../etc/passwd"],
    ])("drbd.%s %s is a config error", (key, device) => {
        const raw = key === "disk" ? withDisks(device) : withDisks("/dev/vg0/zabbix-data", device);
        expect(problems(raw, PAIR)).toEqual([
            `drbd.${key}: ${JSON.stringify(device)} is not a block device path under /dev (no "." or ".." in it)`,
        ]);
    });

    test.each(["ops user; id", "x".repeat(33), "$(id)", "a\nb"])("sshUser %j is not a user name", user => {
        const raw = twoSiteConfig();
        raw.sites[0].hosts[0].sshUser = user;
        expect(problems(raw)).toEqual([
            expect.stringMatching(/^sites\[0\]\.hosts\[0\]\.sshUser: .* is not a user name/),
        ]);
    });

    test.each(["ubuntu", "cloud-user", "ops.admin", "_deploy"])("sshUser %s is", user => {
        const raw = twoSiteConfig();
        raw.sites[0].hosts[0].sshUser = user;
        expect(problems(raw)).toEqual([]);
    });
});

describe("the config sync's Zabbix user", () => {
    const SYNC = { minSites: 2, requiredRoles: [], selfRunDatabase: true, sections: ["configSync"] } as const;
    const withApiUser = (apiUser: string) => ({ ...twoSiteConfig(), configSync: { apiUser } });
    // Admin logs in with the stack's generated password; another user with zabbixApiPassword.
    const options = (requirements: PatternRequirements, user = ""): ValidationOptions => ({
        secrets: { sshPrivateKey: SET_AS_SECRET, ...(user === "Admin" ? {} : { zabbixApiPassword: SET_AS_SECRET }) },
        requirements,
    });

    test.each(["Admin", "zabbix.sync", "sync@example.net", "svc-sync+2"])("%s is a user name", user => {
        expect(() => validateStackConfig(withApiUser(user), options(SYNC, user))).not.toThrow();
    });

    test.each(["x'; touch /tmp/PWNED; echo '", "$(id)", "`id`", "a\nb", "two words", "x".repeat(101)])(
        "%j is refused at its path",
        user => {
            expect(() => validateStackConfig(withApiUser(user), options(SYNC))).toThrow(
                /configSync\.apiUser: .* is not a Zabbix user name the sync takes: 1 to 100 letters, digits and \. _ @ \+ -/,
            );
        },
    );
});

describe("the managed database's admin user", () => {
    const CLOUD = { minSites: 2, requiredRoles: [], selfRunDatabase: false, sections: ["cloud"] } as const;
    test.each([
        ["postgres", true],
        ["azure_admin@zabbix-db", true],
        ["adm'; drop", false],
        ["$(id)", false],
    ])("%s: accepted %s", (adminUser, accepted) => {
        const raw = {
            ...twoSiteConfig(),
            cloud: { database: { host: "db.cloud.example.net", adminUser, caCertificate: MANAGED_DB_CA } },
        };
        const found = validateStackConfig.bind(null, raw, {
            secrets: { sshPrivateKey: SET_AS_SECRET, cloudDbAdminPassword: SET_AS_SECRET },
            requirements: CLOUD,
        });
        if (accepted) {
            expect(found).not.toThrow();
        } else {
            expect(found).toThrow(/cloud\.database\.adminUser: .* is not a role name/);
        }
    });
});
