/**
 * The configuration keys that hold secrets, declared once: the stack program reads them with
 * getSecret and never parses them, validation asks that each be a Pulumi secret, and the offline
 * preview plans them with a placeholder where a stack file sets none.
 */
import { Reader } from "./reader";

/** One secret configuration key. */
export interface SecretKeyDefinition {
    /** The key in the `zabbix-ha` namespace. */
    readonly key: string;
    /** What it holds, in the operator's words. */
    readonly what: string;
    /** What follows `pulumi config set --secret <key>` to set it from a file (a key), if anything. */
    readonly from?: string;
    /**
     * Whether it may hold line breaks. A key file does (it only reaches the SSH connection); a
     * password reaches hosts as one line of a step's stdin, and every file it lands in reads it as
     * one line (zabbix_server.conf, .pgpass, the fence password a fence agent reads).
     */
    readonly multiline: boolean;
    /** The config key it goes with: without that key it must stay unset (the preview plans no placeholder for it). */
    readonly onlyWith?: string;
}

export const SECRET_CONFIG = [
    {
        key: "sshPrivateKey",
        what: "the SSH private key of every host's sshUser",
        from: "< ~/.ssh/id_ed25519",
        multiline: true,
    },
    {
        key: "zabbixApiPassword",
        what: "the Zabbix API password of configSync.apiUser on every site (pattern 2, a user other than Admin)",
        multiline: false,
    },
    {
        key: "cloudDbAdminPassword",
        what: "the managed PostgreSQL's admin password (pattern 4)",
        multiline: false,
    },
    {
        key: "fencePassword",
        what: "the fence devices' password, written root-only to both pair nodes for password_script to print (patterns 3 and 5 with db.fallbackPair)",
        multiline: false,
    },
    {
        key: "pkiCaPrivateKey",
        what: "your CA's private key (PEM), with pki.caCertificate: it signs every host's certificate",
        from: "< ca.key",
        multiline: true,
        onlyWith: "pki.caCertificate",
    },
] as const satisfies readonly SecretKeyDefinition[];

export type SecretKey = (typeof SECRET_CONFIG)[number]["key"];
export const SECRET_KEYS: readonly SecretKey[] = SECRET_CONFIG.map(s => s.key);

/** The command that sets a secret key, as the operator types it. */
export function setSecretCommand(key: SecretKey): string {
    const definition: SecretKeyDefinition = SECRET_CONFIG.find(s => s.key === key)!;
    return `pulumi config set --secret ${key}${definition.from ? ` ${definition.from}` : ""}`;
}

/** How a secret key was set, without its value: what validation may know of it. */
export interface SecretSetting {
    /** Set as a Pulumi secret (`pulumi config set --secret`, a `secure:` value in the stack file). */
    readonly secret: boolean;
    /** The value holds a line break. */
    readonly lineBreak: boolean;
}

/** The secret keys that are set, each with how. */
export type SecretSettings = Readonly<Partial<Record<SecretKey, SecretSetting>>>;

/** What validation keeps of a secret's value. */
export function secretSetting(value: string, secret: boolean): SecretSetting {
    return { secret, lineBreak: /[\r\n]/.test(value) };
}

/** A key set with `pulumi config set --secret` to a one-line value (tools and tests that plan without an engine). */
export const SET_AS_SECRET: SecretSetting = { secret: true, lineBreak: false };

/**
 * Reports every secret key set as plain text (Pulumi then stores it in clear in the stack file and
 * shows it in `pulumi config` and in the engine's logs) and every one-line secret with a line break
 * (a host would read its first line only).
 */
export function checkSecretSettings(r: Reader, settings: SecretSettings): void {
    for (const definition of SECRET_CONFIG as readonly SecretKeyDefinition[]) {
        const key = definition.key as SecretKey;
        const setting = settings[key];
        if (setting && !setting.secret) {
            r.problem(
                key,
                `is set as plain text, which Pulumi keeps in clear in the stack file and shows in \`pulumi config\`; ` +
                    `it holds ${definition.what}: remove it (\`pulumi config rm ${key}\`) and set it as a secret: ` +
                    `\`${setSecretCommand(key)}\``,
            );
        }
        if (setting?.lineBreak && !definition.multiline) {
            r.problem(
                key,
                "holds a line break: a host reads it as one line (its first line would be taken silently), and " +
                    `every file it goes into is line-based; set it again as one line: \`${setSecretCommand(key)}\`, ` +
                    "typing the value at its prompt",
            );
        }
    }
}
