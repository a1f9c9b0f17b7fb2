/**
 * The schema step's Super Admin and guest, against the real schemas of Zabbix 6.0 (this machine's
 * Debian 12 packages) and 7.0 (the Debian 13 root's), each loaded by the library's own step, run by
 * sh, into a real PostgreSQL: the stored hash is checked by PHP's own password_verify, which is what
 * the Zabbix frontend logs a user in with.
 */
import { hashSync } from "bcryptjs";
import * as path from "path";
import { platformFor, zabbixLayout } from "../../components/platform";
import { BCRYPT_COST } from "../../tools/offline/capture";
import { PgServer, RunResult, ok, password, requireFile, run, scratchSpace, TestPki, testPki } from "./support";
import { ensureDebian13Root } from "./support/debian13";
import {
    SCHEMA_FILES,
    SUPER_ADMIN_HASH,
    SUPER_ADMIN_PASSWORD,
    loopbackSchemaStep,
    runStep,
    schemaSecrets,
    zabbixCluster,
} from "./zabbix-db";

jest.setTimeout(300_000);

const scratch = scratchSpace();
const dbPassword = password();
/** The hash the 6.0 and 7.0 schemas ship for Admin: that of `zabbix`. */
const SHIPPED_ADMIN_HASH = "$2y$10$92nDno4n0Zm7Ej7Jfsz8WukBfgSS/U0QkIuu8WkJPihXBb2A1UrEK";

/** PHP's password_verify of `candidate` against `hash`, both on stdin. */
async function phpVerifies(candidate: string, hash: string): Promise<boolean> {
    const answer = ok(
        await run(
            "php",
            ["-r", 'echo password_verify(rtrim(fgets(STDIN), "\\n"), rtrim(fgets(STDIN), "\\n")) ? "yes" : "no";'],
            { input: `${candidate}\n${hash}\n` },
        ),
    );
    return answer.stdout === "yes";
}

let db: PgServer;
let pki: TestPki;
/** Each series' schema files as this machine reads them, and the first load's result. */
const series: Record<string, { files: readonly string[]; load?: RunResult }> = {
    "6.0": { files: SCHEMA_FILES },
    "7.0": { files: [] },
};
const dbName = (version: string) => `zabbix_${version.replace(".", "")}`;
const step = (version: string) => loopbackSchemaStep(db, dbName(version), pki.db, series[version].files);
const adminHash = (version: string) => db.sql("select passwd from users where username = 'Admin'", dbName(version));
/** The groups guest is in, with whether each disables its members (users_status 1). */
const guestGroups = (version: string) =>
    db.sql(
        "select g.name || ':' || g.users_status from users u join users_groups ug on ug.userid = u.userid" +
            " join usrgrp g on g.usrgrpid = ug.usrgrpid where u.username = 'guest' order by g.name",
        dbName(version),
    );
/** Everything the step may touch, as text: Admin's and guest's rows and memberships, the ids table. */
const touched = (version: string) =>
    db.sql(
        "select (select string_agg(userid || passwd, ',' order by userid) from users)" +
            " || '|' || (select string_agg(id || ':' || usrgrpid || ':' || userid, ',' order by id) from users_groups)" +
            " || '|' || coalesce((select string_agg(table_name || nextid, ',') from ids), '')",
        dbName(version),
    );

beforeAll(async () => {
    SCHEMA_FILES.forEach(requireFile);
    const root = await ensureDebian13Root();
    series["7.0"].files = zabbixLayout(platformFor("debian13"), "distribution").schemaFiles.map(f =>
        path.join(root.rootfs, f),
    );
    series["7.0"].files.forEach(requireFile);
    pki = await testPki(scratch);
    db = await zabbixCluster(scratch, "zabbix-admin", dbPassword, Object.keys(series).map(dbName), pki);
    for (const version of Object.keys(series)) {
        await db.sql(
            `create database ${dbName(version)} owner zabbix encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0`,
        );
        series[version].load = await runStep(step(version), schemaSecrets(dbPassword));
    }
}, 30 * 60_000);

describe.each(Object.keys(series))("Zabbix %s's schema loaded by the schema step", version => {
    test("Admin's password is the stack's from the load on: `zabbix` does not verify, the generated one does", async () => {
        expect(ok(series[version].load!).output).toMatch(/loading the Zabbix schema/);
        const [mandatory] = (await db.sql("select mandatory from dbversion", dbName(version))).split("\n");
        expect(mandatory.slice(0, 3)).toBe(version.replace(".", "0"));
        const stored = await adminHash(version);
        expect(stored).toBe(SUPER_ADMIN_HASH);
        expect(await phpVerifies("zabbix", stored)).toBe(false);
        expect(await phpVerifies(SUPER_ADMIN_PASSWORD, stored)).toBe(true);
        // The shipped hash is what the step replaced: PHP verifies `zabbix` against it.
        expect(await phpVerifies("zabbix", SHIPPED_ADMIN_HASH)).toBe(true);
    });

    test("guest is in the Disabled group, which disables its members", async () => {
        expect((await guestGroups(version)).split("\n")).toContain("Disabled:1");
    });

    test("running the step again changes nothing and says so", async () => {
        const before = await touched(version);
        const again = ok(await runStep(step(version), schemaSecrets(dbPassword)));
        expect(again.output).toMatch(/Zabbix schema already loaded/);
        expect(again.output).not.toMatch(/NOTICE/);
        expect(await touched(version)).toBe(before);
    });

    test("on an install from before (shipped password, guest enabled, an ids row), the step sets both again", async () => {
        const name = dbName(version);
        await db.sql(`update users set passwd = '${SHIPPED_ADMIN_HASH}' where username = 'Admin'`, name);
        await db.sql(
            "delete from users_groups where userid = (select userid from users where username = 'guest')" +
                " and usrgrpid = (select usrgrpid from usrgrp where name = 'Disabled')",
            name,
        );
        // The frontend's id counter, once it has handed out ids of users_groups: the step must move past it.
        await db.sql("insert into ids (table_name, field_name, nextid) values ('users_groups', 'id', 40)", name);
        expect(await guestGroups(version)).not.toMatch(/Disabled/);

        const rerun = ok(await runStep(step(version), schemaSecrets(dbPassword)));
        expect(rerun.output).toMatch(/set the Admin password to the stack's/);
        expect(rerun.output).toMatch(/disabled the guest user/);
        expect(await adminHash(version)).toBe(SUPER_ADMIN_HASH);
        expect((await guestGroups(version)).split("\n")).toContain("Disabled:1");
        const added = await db.sql(
            "select id from users_groups where userid = (select userid from users where username = 'guest')" +
                " and usrgrpid = (select usrgrpid from usrgrp where name = 'Disabled')",
            name,
        );
        expect(added).toBe("41");
        expect(await db.sql("select nextid from ids where table_name = 'users_groups'", name)).toBe("41");
    });

    test("a hash that is not bcrypt's (a quote in it) stops the step before any SQL, changing nothing", async () => {
        const before = await touched(version);
        const hostile = `${SUPER_ADMIN_HASH.slice(0, 59)}'`;
        const refused = await runStep(step(version), schemaSecrets(dbPassword, hostile));
        expect(refused.code).not.toBe(0);
        expect(refused.output).toMatch(/ZABBIX_ADMIN_PASSWORD_HASH is not a bcrypt hash/);
        expect(refused.output).not.toContain(hostile);
        expect(await touched(version)).toBe(before);
    });
});

test("PHP's password_verify takes the capture's own hashes (bcryptjs, its cost), which the lab's hosts check", async () => {
    const generated = password();
    const hash = hashSync(generated, BCRYPT_COST);
    expect(hash.startsWith(`$2b$0${BCRYPT_COST}$`)).toBe(true);
    expect(await phpVerifies(generated, hash)).toBe(true);
    expect(await phpVerifies(`${generated}x`, hash)).toBe(false);
});
