import { aptSourceLine, packagesFor, releasePackageCheck, renderPackageStep } from "../../components/host/render";
import { platformFor, zabbixLayout } from "../../components/platform";
import {
    SELF_RUN_DB_TLS,
    hbaRules,
    loadBalancerClients,
    renderPgHba,
    renderPostgresRoleConf,
} from "../../components/postgres/render";
import { putFile, putSecretFile, shellQuote } from "../../components/shell";
import { HARDWARE_TABLE, hardwareTier, postgresMaxConnections, sizeServer } from "../../components/sizing";
import { renderZabbixConfPhp, renderZabbixServerConf } from "../../components/zabbix/render";
import { RELEASE_PACKAGE_SHA256 } from "../support/plan";

/** Parses "Key=Value" lines the way zabbix_server does, ignoring comments. */
function zabbixParams(text: string): Map<string, string> {
    return new Map(
        text
            .split("\n")
            .filter(l => l && !l.startsWith("#"))
            .map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
}

const sizing = sizeServer({ monitoredHosts: 100, items: 10_000, updateIntervalSeconds: 60 });

describe("zabbix_server.conf", () => {
    const params = zabbixParams(
        renderZabbixServerConf({
            version: "7.0",
            nodeName: "tyo-zbx1",
            nodeAddress: "198.18.10.21",
            listenPort: 10051,
            dbHost: "198.18.10.41",
            dbPort: 5433,
            dbTls: SELF_RUN_DB_TLS,
            dbName: "zabbix",
            dbUser: "zabbix",
            passwordInclude: "/etc/zabbix/pw.conf",
            logFile: "/var/log/z.log",
            pidFile: "/run/z.pid",
            socketDir: "/run/zabbix",
            sizing,
        }),
    );

    test("turns native HA on with the node's name and the address other nodes reach it at", () => {
        expect(params.get("HANodeName")).toBe("tyo-zbx1");
        expect(params.get("NodeAddress")).toBe("198.18.10.21:10051");
    });

    test("points DBHost at the local load balancer and keeps the password out of the file", () => {
        expect(params.get("DBHost")).toBe("198.18.10.41");
        expect(params.get("DBPort")).toBe("5433");
        expect(params.has("DBPassword")).toBe(false);
        expect(params.get("Include")).toBe("/etc/zabbix/pw.conf");
    });

    test("carries the sized caches and process counts", () => {
        expect(params.get("CacheSize")).toBe(`${sizing.cacheSizeMiB}M`);
        expect(params.get("StartDBSyncers")).toBe(String(sizing.startDbSyncers));
        expect(params.get("StartPollers")).toBe(String(sizing.startPollers));
    });

    test("verifies the database's certificate against the stack's CA (a self-run cluster); encrypts only, for a managed endpoint", () => {
        expect(params.get("DBTLSConnect")).toBe("verify_full");
        expect(params.get("DBTLSCAFile")).toBe(SELF_RUN_DB_TLS.caFile);
        const managed = zabbixParams(
            renderZabbixServerConf({
                version: "6.0",
                nodeName: "tyo-zbx1",
                nodeAddress: "198.18.10.21",
                listenPort: 10051,
                dbHost: "db.example.internal",
                dbPort: 5432,
                dbName: "zabbix",
                dbUser: "zabbix",
                dbTls: { sslmode: "require" },
                passwordInclude: "/etc/zabbix/pw.conf",
                logFile: "/var/log/z.log",
                pidFile: "/run/z.pid",
                socketDir: "/run/zabbix",
                sizing,
            }),
        );
        // `required` encrypts without a CA file; verify_ca and verify_full would make zabbix_server demand DBTLSCAFile.
        expect(managed.get("DBTLSConnect")).toBe("required");
        expect(managed.has("DBTLSCAFile")).toBe(false);
        // 6.0 rejects parameters it does not know: 7.0's switch for global scripts stays out of its file.
        expect(managed.has("EnableGlobalScripts")).toBe(false);
    });

    test("turns 7.0's global scripts off (commands run on the server and agents), as Debian 13 ships it", () => {
        expect(params.get("EnableGlobalScripts")).toBe("0");
    });
});

describe("zabbix.conf.php", () => {
    const php = renderZabbixConfPhp({
        dbHost: "198.18.20.41",
        dbPort: 5433,
        dbName: "zabbix",
        dbUser: "zabbix",
        passwordFile: "/etc/zabbix/web-db-password",
        serverName: "Zabbix osaka",
        dbTls: SELF_RUN_DB_TLS,
    });

    test("is in HA mode: no $ZBX_SERVER or $ZBX_SERVER_PORT is assigned", () => {
        expect(php).not.toMatch(/^\s*\$ZBX_SERVER(_PORT)?\s*=/m);
    });

    test("reaches PostgreSQL through the local load balancer and reads the password from a file", () => {
        expect(php).toContain("$DB['TYPE']     = 'POSTGRESQL';");
        expect(php).toContain("$DB['SERVER']   = '198.18.20.41';");
        expect(php).toContain("$DB['PORT']     = '5433';");
        expect(php).toContain("file_get_contents('/etc/zabbix/web-db-password')");
    });

    test("verifies the DB's certificate (verify-full against the CA); a managed endpoint's is encrypted only", () => {
        expect(php).toContain("$DB['ENCRYPTION']  = true;");
        expect(php).toContain(`$DB['CA_FILE']     = '${SELF_RUN_DB_TLS.caFile}';`);
        expect(php).toContain("$DB['VERIFY_HOST'] = true;");
        const managed = renderZabbixConfPhp({
            dbHost: "db.example.internal",
            dbPort: 5432,
            dbName: "zabbix",
            dbUser: "zabbix",
            passwordFile: "/p",
            serverName: "Zabbix tokyo",
            dbTls: { sslmode: "require" },
        });
        expect(managed).toContain("$DB['ENCRYPTION']  = true;");
        expect(managed).toContain("$DB['VERIFY_HOST'] = false;");
    });

    test("escapes quotes in values", () => {
        const quoted = renderZabbixConfPhp({
            dbHost: "h",
            dbPort: 1,
            dbName: "z",
            dbUser: "z",
            passwordFile: "/p",
            serverName: "O'Hare \\ site",
            dbTls: SELF_RUN_DB_TLS,
        });
        expect(quoted).toContain("$ZBX_SERVER_NAME = 'O\\'Hare \\\\ site';");
    });
});

describe("pg_hba.conf", () => {
    const rules = hbaRules({
        dbName: "zabbix",
        dbUser: "zabbix",
        dbHosts: ["198.18.10.11", "198.18.20.11"],
        clients: loadBalancerClients(["198.18.10.41", "198.18.20.41"]),
        adminNetwork: "198.18.100.0/24",
    });
    const lines = renderPgHba({ rules })
        .split("\n")
        .filter(l => l.startsWith("host"))
        .map(l => l.split(/\s+/));

    test("admits only the cluster's own hosts and the admin network, by SCRAM", () => {
        expect(lines.every(l => l[4] === "scram-sha-256")).toBe(true);
        expect(new Set(lines.map(l => l[3]))).toEqual(
            new Set(["198.18.10.11/32", "198.18.20.11/32", "198.18.10.41/32", "198.18.20.41/32", "198.18.100.0/24"]),
        );
    });

    test("zabbix arrives from the load balancers; replication only between DB hosts", () => {
        expect(lines.filter(l => l[2] === "zabbix").map(l => l[3])).toEqual(["198.18.10.41/32", "198.18.20.41/32"]);
        expect(lines.filter(l => l[1] === "replication").map(l => `${l[2]} ${l[3]}`)).toEqual([
            "zabbix_ha_replicator 198.18.10.11/32",
            "zabbix_ha_replicator 198.18.20.11/32",
        ]);
        expect(lines.filter(l => l[3] === "198.18.100.0/24").map(l => l[2])).toEqual(["zabbix_ha_admin"]);
    });
});

test("a replica's role settings name its primary, slot and application name", () => {
    const conf = renderPostgresRoleConf({
        role: "replica",
        primaryAddress: "198.18.10.11",
        primaryPort: 5432,
        replicationUser: "zabbix_ha_replicator",
        applicationName: "osa-db1",
        slotName: "zabbix_ha_osa_db1",
        passfile: "/var/lib/postgresql/.pgpass",
        tls: { caFile: "/etc/ssl/zabbix-ha/ca.crt" },
    });
    expect(conf).toContain(
        "primary_conninfo = 'host=198.18.10.11 port=5432 user=zabbix_ha_replicator application_name=osa-db1 passfile=/var/lib/postgresql/.pgpass",
    );
    // The primary's certificate must verify and name the address it is reached at.
    expect(conf).toContain("sslmode=verify-full sslrootcert=/etc/ssl/zabbix-ha/ca.crt'");
    expect(conf).toContain("primary_slot_name = 'zabbix_ha_osa_db1'");
});

describe("package steps", () => {
    const vendor = {
        zabbixVersion: "7.0" as const,
        packageSource: "vendor" as const,
        repositoryUrl: "https://mirror.example.net/repo/",
        releasePackageSha256: RELEASE_PACKAGE_SHA256,
    };

    test("pick packages by role and OS", () => {
        expect(packagesFor({ ...vendor, os: "debian12", roles: ["db"] })).toContain("postgresql-15");
        expect(packagesFor({ ...vendor, os: "ubuntu24.04", roles: ["db"] })).toContain("postgresql-16");
        expect(packagesFor({ ...vendor, os: "rhel9", roles: ["db", "frontend"] })).toEqual(
            expect.arrayContaining(["postgresql-server", "zabbix-web-pgsql", "php-fpm", "nginx"]),
        );
        expect(packagesFor({ ...vendor, os: "debian12", roles: ["witness"] })).toEqual([
            "ca-certificates",
            "curl",
            "openssl",
        ]);
    });

    test("add the vendor repository from the configured base URL only when Zabbix packages are needed", () => {
        const debian = renderPackageStep({ ...vendor, os: "debian12", roles: ["zabbix-server"] });
        expect(debian).toContain(
            "https://mirror.example.net/repo/zabbix/7.0/debian/pool/main/z/zabbix-release/zabbix-release_latest_7.0+debian12_all.deb",
        );
        // Debian 13: the vendor's release package for trixie, and the vendor's own layout (one schema file, its paths).
        const trixie = renderPackageStep({ ...vendor, os: "debian13", roles: ["zabbix-server", "db"] });
        expect(trixie).toContain("zabbix-release_latest_7.0+debian13_all.deb");
        expect(packagesFor({ ...vendor, os: "debian13", roles: ["zabbix-server", "db"] })).toEqual(
            expect.arrayContaining([
                "zabbix-server-pgsql",
                "zabbix-sql-scripts",
                "postgresql-17",
                "postgresql-client-17",
            ]),
        );
        expect(zabbixLayout(platformFor("debian13"), "vendor")).toMatchObject({
            schemaFiles: ["/usr/share/zabbix-sql-scripts/postgresql/server.sql.gz"],
            frontendConfig: "/etc/zabbix/web/zabbix.conf.php",
            logFile: "/var/log/zabbix/zabbix_server.log",
        });
        // Its own packages: Debian's layout, as the lab runs it.
        expect(zabbixLayout(platformFor("debian13"), "distribution")).toMatchObject({
            schemaFiles: ["schema", "images", "data"].map(f => `/usr/share/zabbix-server-pgsql/${f}.sql.gz`),
            frontendConfig: "/etc/zabbix/zabbix.conf.php",
        });
        const rhel = renderPackageStep({ ...vendor, os: "rhel9", roles: ["frontend"] });
        expect(rhel).toContain(
            "https://mirror.example.net/repo/zabbix/7.0/rhel/9/x86_64/zabbix-release-latest-7.0.el9.noarch.rpm",
        );
        expect(rhel).toContain("dnf -y -q install");
        expect(renderPackageStep({ ...vendor, os: "debian12", roles: ["lb"] })).not.toContain("zabbix-release");
        expect(
            renderPackageStep({ ...vendor, packageSource: "distribution", os: "debian12", roles: ["zabbix-server"] }),
        ).not.toContain("zabbix-release");
    });

    test("the vendor's release package is checked against its pinned SHA-256 before dpkg or rpm installs it", () => {
        for (const os of ["debian12", "rhel9"] as const) {
            const step = renderPackageStep({ ...vendor, os, roles: ["zabbix-server"] });
            const check = step.indexOf(`printf '%s  %s\\n' ${RELEASE_PACKAGE_SHA256} "$zha_`);
            const install = step.search(/dpkg -i "\$zha_deb"|rpm -Uvh "\$zha_rpm"/);
            expect({ os, check: check > 0, before: check < install }).toEqual({ os, check: true, before: true });
            expect(step).toContain("| sha256sum -c --status -; then");
            expect(step).toMatch(
                /\(zabbix\.releasePackageSha256\): not installed" >&2\n\s*rm -f "\$zha_(deb|rpm)"\n\s*exit 1/,
            );
            // rpm no longer fetches the URL itself: curl's file is what was checked.
            expect(step).not.toMatch(/rpm -Uvh 'https/);
        }
        // Without the pin there is no package step for a host that installs Zabbix from the vendor.
        expect(() =>
            renderPackageStep({ ...vendor, releasePackageSha256: undefined, os: "debian12", roles: ["frontend"] }),
        ).toThrow("the vendor package source needs the release package's SHA-256 for Debian 12");
        // Hosts without Zabbix packages, and the distribution's packages, need none.
        expect(() =>
            renderPackageStep({ ...vendor, releasePackageSha256: undefined, os: "debian12", roles: ["db"] }),
        ).not.toThrow();
        expect(() => releasePackageCheck("f", "E3B0C442", "https://x")).toThrow(/64 lower-case hex digits/);
    });

    test("an extra repository is signed by its own key file unless it is a trusted local one", () => {
        const signed = {
            url: "https://pgdg-mirror.example.net/apt",
            suite: "bookworm-pgdg",
            components: ["main"],
            keyUrl: "https://pgdg-mirror.example.net/key.asc",
            trusted: false,
        };
        expect(aptSourceLine("patroni", signed)).toBe(
            "deb [signed-by=/etc/apt/keyrings/zabbix-ha-patroni.asc] https://pgdg-mirror.example.net/apt bookworm-pgdg main",
        );
        expect(
            aptSourceLine("patroni", { url: "file:/srv/repo/patroni", suite: "./", components: [], trusted: true }),
        ).toBe("deb [trusted=yes] file:/srv/repo/patroni ./");
        const step = renderPackageStep({
            ...vendor,
            packageSource: "distribution",
            os: "debian12",
            roles: ["db"],
            extraPackages: ["patroni"],
            extraRepositories: [{ name: "patroni", repository: signed, packages: ["patroni"] }],
        });
        // The source goes in before the install, so apt sees the newer Patroni when it resolves.
        expect(step.indexOf("/etc/apt/sources.list.d/zabbix-ha-patroni.list")).toBeLessThan(
            step.indexOf("apt-get install -y -q --no-install-recommends $zha_missing"),
        );
        expect(() =>
            renderPackageStep({
                ...vendor,
                os: "rhel9",
                roles: ["db"],
                extraRepositories: [{ name: "patroni", repository: signed, packages: ["patroni"] }],
            }),
        ).toThrow(/extra repositories are apt sources; RHEL 9 family installs with dnf/);
    });

    test("install only what is missing, so a second run touches nothing", () => {
        const step = renderPackageStep({ ...vendor, packageSource: "distribution", os: "debian12", roles: ["db"] });
        expect(step).toMatch(
            /if \[ -n "\$zha_missing\$zha_newest" \]; then[\s\S]*apt-get update[\s\S]*apt-get install -y -q --no-install-recommends \$zha_missing \$zha_newest/,
        );
    });
});

describe("shell building blocks", () => {
    test("quote anything for sh", () => {
        expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    });

    test("files go through a quoted here-document; secret files expand only their variable", () => {
        expect(putFile("/etc/a.conf", "x=$HOME\n", "0644", "root:root")).toContain("<<'ZHA_EOF'\nx=$HOME\nZHA_EOF");
        expect(putSecretFile("/etc/pw", "PW", "0600", "root:root")).toContain("<<ZHA_EOF\n$PW\nZHA_EOF");
        expect(() => putFile("/etc/b", "a\nZHA_EOF\nb", "0644", "root:root")).toThrow(/would end its here-document/);
    });
});

describe("sizing", () => {
    test("the second seed's tiers map onto Zabbix's hardware table", () => {
        // 30 hosts / 3,000 items, 100 / 10,000, 1,000 / 100,000 at a 5-minute interval.
        expect(hardwareTier({ monitoredHosts: 30, items: 3_000, updateIntervalSeconds: 300 }).name).toBe("medium");
        expect(hardwareTier({ monitoredHosts: 100, items: 10_000, updateIntervalSeconds: 300 }).name).toBe("medium");
        expect(hardwareTier({ monitoredHosts: 1_000, items: 100_000, updateIntervalSeconds: 300 }).name).toBe("large");
        expect(HARDWARE_TABLE.map(t => t.items)).toEqual([1_000, 10_000, 100_000, 1_000_000]);
    });

    test("a small install renders Zabbix's own defaults", () => {
        expect(sizeServer({ monitoredHosts: 30, items: 3_000, updateIntervalSeconds: 300 })).toMatchObject({
            nvps: 10,
            cacheSizeMiB: 32,
            historyCacheSizeMiB: 16,
            trendCacheSizeMiB: 4,
            startPollers: 5,
            startDbSyncers: 4,
        });
    });

    test("caches and processes grow with the load and stay powers of two", () => {
        const small = sizeServer({ monitoredHosts: 100, items: 10_000, updateIntervalSeconds: 300 });
        const large = sizeServer({ monitoredHosts: 1_000, items: 100_000, updateIntervalSeconds: 300 });
        const huge = sizeServer({ monitoredHosts: 10_000, items: 1_000_000, updateIntervalSeconds: 60 });
        expect(large.cacheSizeMiB).toBeGreaterThan(small.cacheSizeMiB);
        expect(huge.startDbSyncers).toBeGreaterThan(large.startDbSyncers);
        expect(huge.startPollers).toBeGreaterThan(large.startPollers);
        for (const s of [small, large, huge]) {
            for (const mib of [s.cacheSizeMiB, s.historyCacheSizeMiB, s.valueCacheSizeMiB]) {
                expect(Math.log2(mib) % 1).toBe(0);
            }
        }
        expect(postgresMaxConnections(huge, 4)).toBeGreaterThan(postgresMaxConnections(small, 1));
    });
});
