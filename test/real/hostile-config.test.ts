/**
 * Every value of the prod stack file, and every secret, planned with hostile text in its place:
 * each is either refused by a ConfigError naming its path, or inert where it reaches a host's
 * shell. "Inert" is shown with real sh: every here-document of a step that holds the value runs in
 * a scratch directory (its file written there), with the step's own reads of its stdin, and no
 * command hidden in the value runs. A value that reaches a script anywhere else fails the test.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { ConfigError, SECRET_CONFIG, SECRET_KEYS } from "../../components/config";
import { RESOURCE_TYPES } from "../../components/facts";
import { CA_FILE } from "../../components/pki/files";
import { renderConfigSyncScript } from "../../components/zabbix/render";
import { DEFAULT_PRICES, DEFAULT_RATES, DEFAULT_TIMINGS } from "../../model";
import { CapturedResource, ofType } from "../../tools/offline/capture";
import { readEnvironment } from "../../tools/offline/environment";
import { StackPlan, planEnvironment } from "../../tools/offline/stack";
import { ROOT, TEST_SSH_KEY, operatorCa, scriptOf } from "../support/plan";
import { run, scratchSpace } from "./support";

jest.setTimeout(600_000);

const scratch = scratchSpace();

/** The hostile forms, each creating `mark` if a shell ever runs what it hides. */
function hostileValues(mark: string): Record<string, string> {
    return {
        "a quote that ends the quoting": `x'; touch ${mark}; echo '`,
        "a command substitution": `$(touch ${mark})`,
        backticks: `\`touch ${mark}\``,
        "a line break": `x\ntouch ${mark}\n`,
    };
}

/** Which pattern reads a top-level section (the others read only what every pattern reads). */
const PATTERN_OF: Record<string, string> = {
    configSync: "active-active",
    drbd: "pacemaker",
    cloud: "cloud",
    zabbixApiPassword: "active-active",
    cloudDbAdminPassword: "cloud",
    fencePassword: "pacemaker",
};

const PROD = readEnvironment(path.join(ROOT, "Pulumi.prod.yaml"));
const parsed = (text: string): unknown => {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
};
/**
 * Prod's values by key, as the stack program parses them, with every key the config reader knows
 * that prod leaves to its default set to it (the first site's first host, the first fence device):
 * the last test holds this to the reader's own lists of known keys.
 */
/** A CA an operator brings, for the pki section and its key. */
const OPERATOR_CA = operatorCa();

const BASE: Record<string, any> = (() => {
    const base: Record<string, any> = Object.fromEntries(
        Object.entries(PROD.config).map(([key, text]) => [key.slice("zabbix-ha:".length), parsed(text)]),
    );
    Object.assign(base.sites[0], { lost: false });
    Object.assign(base.sites[0].hosts[0], { sshUser: "root", sshPort: 22, os: "debian12", cpus: 4, memoryGiB: 16 });
    Object.assign(base.zabbix, { listenPort: 10051, dataPathCheckInterval: "1m" });
    Object.assign(base.db, { port: 5432, name: "zabbix", user: "zabbix", fallbackPair: false });
    base.db.passwordRotation = { admin: 0, check: 0, replication: 0, zabbix: 0, superuser: 0 };
    Object.assign(base.db.patroniRepository, { components: ["main"], trusted: false });
    Object.assign(base.frontend, { port: 8080 });
    Object.assign(base.drbd, { port: 7788 });
    // A user of the operator's: zabbixApiPassword is its password (Admin logs in with the stack's own).
    Object.assign(base.configSync, { intervalMinutes: 10, apiUser: "zabbix.sync" });
    // sslmode as the default reads it; the provider's CA (from the prod example) is a leaf too.
    Object.assign(base.cloud.database, { port: 5432, sslmode: "verify-full" });
    Object.assign(base.firewall, { usersNetwork: ["198.18.200.0/24"], sshFrom: ["198.18.101.0/24"] });
    // The operator's CA, so that its certificate is a leaf too (its key is among SECRETS).
    base.pki = { rotation: 0, caCertificate: OPERATOR_CA.certPem };
    base.model = { rates: DEFAULT_RATES, timings: DEFAULT_TIMINGS, prices: DEFAULT_PRICES };
    // A proxy in each service site, in one group across them (the zabbix.proxyGroups section's leaves).
    base.sites[0].hosts.push({ name: "tyo-prx1", address: "198.18.10.51", roles: ["proxy"] });
    base.sites[1].hosts.push({ name: "osa-prx1", address: "198.18.20.51", roles: ["proxy"] });
    base.zabbix.proxyGroups = [
        { name: "all-sites", proxies: ["osa-prx1", "tyo-prx1"], failoverDelay: "1m", minOnline: 1 },
    ];
    return base;
})();

/** Every leaf of a value, as config paths (`sites[0].hosts[1].name`). */
function leaves(value: unknown, at: string): string[] {
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => leaves(v, `${at}[${i}]`));
    }
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => leaves(v, `${at}.${k}`));
    }
    return [at];
}

const LEAVES = Object.entries(BASE).flatMap(([key, value]) => leaves(value, key));

/** A copy of `root` with the leaf at `leafPath` set to `value`. */
function withLeaf(root: Record<string, unknown>, leafPath: string, value: string): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(root));
    const steps = leafPath.match(/[^.[\]]+/g)!;
    let node = copy;
    for (const step of steps.slice(0, -1)) {
        node = node[step];
    }
    node[steps[steps.length - 1]] = value;
    return copy;
}

const SECRETS = {
    "zabbix-ha:sshPrivateKey": TEST_SSH_KEY,
    "zabbix-ha:zabbixApiPassword": "api-password-1",
    "zabbix-ha:cloudDbAdminPassword": "admin-password-1",
    "zabbix-ha:fencePassword": "fence-password-1",
    "zabbix-ha:pkiCaPrivateKey": OPERATOR_CA.keyPem,
};

/**
 * The values as a pattern with a Zabbix per site takes them: a proxy group there is one site's, so
 * the base's proxies (one group across sites) are left out, as an operator of that pattern would.
 */
function forPattern(values: Record<string, any>, pattern: string | undefined): Record<string, any> {
    if (pattern !== "active-active") {
        return values;
    }
    const { proxyGroups: _groups, ...zabbix } = values.zabbix ?? {};
    return {
        ...values,
        zabbix,
        sites: (values.sites as { hosts: { roles: unknown }[] }[]).map(site => ({
            ...site,
            hosts: site.hosts.filter(h => !(Array.isArray(h.roles) && h.roles.includes("proxy"))),
        })),
    };
}

/** Plans the values under the pattern that reads them (`pattern` itself when the values name a hostile one). */
function plan(values: Record<string, unknown>, pattern: string | undefined, secrets: Record<string, string> = SECRETS) {
    const config = Object.fromEntries(
        Object.entries(forPattern(values, pattern)).map(([k, v]) => [
            `zabbix-ha:${k}`,
            typeof v === "string" ? v : JSON.stringify(v),
        ]),
    );
    return planEnvironment(
        { file: "Pulumi.hostile.yaml", config, secretKeys: [] },
        { secrets, overrides: pattern ? { "zabbix-ha:pattern": pattern } : {} },
    );
}

/** The problems' paths, when the plan was refused by the configuration check. */
function refusedAt(result: StackPlan): string[] | undefined {
    return result.error instanceof ConfigError ? result.error.problems.map(p => p.path) : undefined;
}

/** A step's here-documents: the `zha_dir`/`zha_put_file` statement, its body, and whether sh expands it. */
const HEREDOC = /^(?:zha_dir [^\n]*\n)?zha_put_file '([^']+)' \d+ \S+ <<('?)ZHA_EOF\2\n([\s\S]*?)^ZHA_EOF$/gm;

interface Reached {
    /** Where the value is: a step's create or delete, or its stdin. */
    readonly where: string;
    /** Here-document statements (quoted or not) that hold the value, or for stdin those that expand variables. */
    readonly statements: {
        readonly text: string;
        readonly file: string;
        readonly body: string;
        readonly expands: boolean;
    }[];
    /** The value was found outside any here-document. */
    readonly elsewhere: boolean;
    readonly reads: string[];
    readonly stdin: string;
}

/** Where a marker reaches a step: each of its scripts and its stdin. */
function reached(command: CapturedResource, mark: string): Reached[] {
    const stdin = String(command.inputs.stdin ?? "");
    const found: Reached[] = [];
    for (const operation of ["create", "delete"] as const) {
        if (command.inputs[operation] === undefined) {
            continue;
        }
        const text = scriptOf(command, operation);
        const statements = [...text.matchAll(HEREDOC)].map(m => ({
            text: m[0],
            file: m[1],
            body: m[3],
            expands: m[2] === "",
        }));
        // The create's reads, one a line; a delete's, in one group (readSecrets, readSecretsForDelete).
        const reads = text.match(/^(IFS= read -r \w+|\{ (IFS= read -r \w+; )+\})$/gm) ?? [];
        const holding = statements.filter(s => s.text.includes(mark));
        const outside = statements.reduce((rest, s) => rest.split(s.text).join(""), text).includes(mark);
        if (holding.length > 0 || outside) {
            found.push({
                where: `${command.name} ${operation}`,
                statements: holding,
                elsewhere: outside,
                reads,
                stdin,
            });
        }
        if (stdin.includes(mark)) {
            found.push({
                where: `${command.name} stdin (${operation})`,
                statements: statements.filter(s => s.expands),
                elsewhere: false,
                reads,
                stdin,
            });
        }
    }
    return found;
}

/**
 * Runs the statements with sh in a fresh directory, as the step would (its reads of stdin first),
 * with zha_put_file writing there; returns the files written, by the path they were meant for.
 */
async function runStatements(r: Reached): Promise<Map<string, string>> {
    const dir = await scratch.dir("hostile-run");
    const prelude = `set -eu
cd '${dir}'
zha_dir() { :; }
zha_put_file() { mkdir -p "./$(dirname "$1")"; cat > "./$1"; }`;
    const text = [prelude, ...r.reads, ...r.statements.map(s => s.text)].join("\n");
    const result = await run("sh", ["-c", text], { input: r.stdin, cwd: dir });
    expect(`${r.where}: sh exited ${result.code}\n${result.output}`).toBe(`${r.where}: sh exited 0\n`);
    return new Map(r.statements.map(s => [s.file, readFileSync(path.join(dir, s.file), "utf8")]));
}

/** Plans with one hostile value and checks it is refused at `leaf` or inert; returns which. */
async function verdict(
    values: Record<string, unknown>,
    pattern: string | undefined,
    leaf: string,
    mark: string,
    secret?: { readonly key: string; readonly value: string },
): Promise<string> {
    const secrets = secret ? { ...SECRETS, [`zabbix-ha:${secret.key}`]: secret.value } : SECRETS;
    const result = await plan(values, pattern, secrets);
    const refused = refusedAt(result);
    if (refused) {
        // Named at the leaf, or at the list that holds it (a list of names checked as a whole).
        expect({ leaf, named: refused.some(p => p === leaf || p === leaf.replace(/\[\d+\]$/, "")) }).toEqual({
            leaf,
            named: true,
        });
        expect(result.resources.filter(r => r.custom)).toEqual([]);
        return "refused";
    }
    expect({ leaf, error: result.error?.message }).toEqual({ leaf, error: undefined });
    const reaches = ofType(result, RESOURCE_TYPES.command).flatMap(c => reached(c, mark));
    for (const r of reaches) {
        // Outside a here-document, or inside a script the host runs later (whose own quoting this does not run), it fails.
        const scripts = r.statements.filter(s => s.body.startsWith("#!")).map(s => s.file);
        expect({ where: r.where, elsewhere: r.elsewhere, scripts }).toEqual({
            where: r.where,
            elsewhere: false,
            scripts: [],
        });
        const written = await runStatements(r);
        for (const s of r.statements.filter(s => !s.expands)) {
            // A quoted here-document: the host gets the rendered text byte for byte.
            expect(written.get(s.file)).toBe(s.body);
        }
        if (secret && r.where.includes(" stdin ") && r.statements.length > 0) {
            // The secret, read from stdin, lands in its file as it was set.
            expect([...written.values()].some(content => content.includes(secret.value))).toBe(true);
        }
    }
    expect({ leaf, ran: existsSync(mark) }).toEqual({ leaf, ran: false });
    return reaches.length === 0
        ? "planned, reaches no host's shell"
        : `planned, inert in ${[...new Set(reaches.map(r => r.where.split(" ")[0]))].length} steps`;
}

describe("every config value with hostile text in its place", () => {
    const outcomes = new Map<string, string>();
    afterAll(() => {
        // What was accepted, for whoever reads the run: the rest was refused at its path.
        const accepted = [...outcomes].filter(([, v]) => !v.startsWith("refused"));
        console.log(
            `${outcomes.size} cases, ${outcomes.size - accepted.length} refused at their path; accepted:\n${accepted.map(([k, v]) => `  ${k}: ${v}`).join("\n")}`,
        );
    });

    test.each(LEAVES)("%s", async leaf => {
        const pattern = leaf === "pattern" ? undefined : (PATTERN_OF[leaf.split(/[.[]/)[0]] ?? "zabbix-ha");
        const dir = await scratch.dir("hostile-mark");
        for (const [form, value] of Object.entries(hostileValues(path.join(dir, "PWNED")))) {
            outcomes.set(
                `${leaf} (${form})`,
                await verdict(withLeaf(BASE, leaf, value), pattern, leaf, path.join(dir, "PWNED")),
            );
        }
    });

    // Not the two PEM keys: like the SSH key, the CA's key reaches no host's shell (only its provider parses it).
    const hostShellSecrets = SECRET_CONFIG.filter(s => !["sshPrivateKey", "pkiCaPrivateKey"].includes(s.key));
    test.each(hostShellSecrets.map(s => s.key))("the secret %s", async key => {
        const dir = await scratch.dir("hostile-mark");
        const mark = path.join(dir, "PWNED");
        for (const [form, value] of Object.entries(hostileValues(mark))) {
            const outcome = await verdict(BASE, PATTERN_OF[key], key, mark, { key, value });
            // A one-line secret with a line break is refused; every other form is carried to the host as it is.
            expect({ form, outcome: outcome.split(",")[0] }).toEqual({
                form,
                outcome: form === "a line break" ? "refused" : "planned",
            });
            outcomes.set(`${key} (${form})`, outcome);
        }
    });

    test("the cases cover every key the config reader knows (its own lists, from its unknown-key errors)", async () => {
        const mappings = (value: unknown, at: string): string[] =>
            Array.isArray(value)
                ? value.flatMap((v, i) => (i === 0 ? mappings(v, `${at}[${i}]`) : []))
                : value && typeof value === "object"
                  ? [at, ...Object.entries(value).flatMap(([k, v]) => mappings(v, at ? `${at}.${k}` : k))]
                  : [];
        const missing: string[] = [];
        for (const at of mappings(BASE, "").filter(at => !/\.params$/.test(at))) {
            const probe = at ? withLeaf(BASE, `${at}.zzUnknown`, "x") : { ...BASE, zzUnknown: "x" };
            const result = await plan(probe, PATTERN_OF[at.split(/[.[]/)[0]] ?? "zabbix-ha");
            const problem =
                result.error instanceof ConfigError
                    ? result.error.problems.find(p => p.path === (at ? `${at}.zzUnknown` : "zzUnknown"))
                    : undefined;
            const known = /unknown key \(known: (.*)\)$/.exec(problem?.message ?? "")?.[1].split(", ");
            expect({ at, known: known !== undefined }).toEqual({ at, known: true });
            const node = at ? at.match(/[^.[\]]+/g)!.reduce((n: any, step) => n[step], BASE) : BASE;
            missing.push(
                ...known!
                    .filter(k => !(k in node) && !(at === "" && (SECRET_KEYS as readonly string[]).includes(k)))
                    .map(k => (at ? `${at}.${k}` : k)),
            );
        }
        expect(missing).toEqual([]);
    });

    test("the base config plans under each pattern the cases use (a refusal above is the value's, not the base's)", async () => {
        for (const pattern of new Set(["zabbix-ha", ...Object.values(PATTERN_OF)])) {
            expect({ pattern, error: (await plan(BASE, pattern)).error?.message }).toEqual({
                pattern,
                error: undefined,
            });
        }
    });
});

test("the config sync's script quotes its user for sh, whatever it holds", async () => {
    const dir = await scratch.dir("hostile-sync");
    const mark = path.join(dir, "PWNED");
    for (const apiUser of Object.values(hostileValues(mark))) {
        const text = renderConfigSyncScript({
            sourceUrl: "https://198.18.1.10/api_jsonrpc.php",
            targetUrls: ["https://198.18.2.10/api_jsonrpc.php"],
            apiUser,
            passwordFile: "/etc/zabbix-ha/api-password",
            caFile: CA_FILE,
        });
        const settings = /^SOURCE=[^]*?^PASSWORD_FILE=.*$/m.exec(text)![0];
        const result = await run("sh", ["-c", `${settings}\nprintf '%s' "$API_USER"`], { cwd: dir });
        expect(result.stdout).toBe(apiUser);
        expect(existsSync(mark)).toBe(false);
    }
});
