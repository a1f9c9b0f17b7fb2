/**
 * The UI's path as rendered: HAProxy serves it over HTTPS on the host's own address (HTTP only
 * redirects, HSTS on every answer), reaches each frontend over TLS verified against the stack's CA
 * and the frontend's name; nginx serves HTTPS only, on its host's addresses; the DB port binds to
 * the host's address too. HAProxy and nginx themselves check these files in test/real.
 */
import { HSTS_HEADER, HaproxyInput, renderHaproxyCfg } from "../../components/loadbalancer/render";
import { UI_HTTPS_PORT, uiUrl } from "../../components/loadbalancer/ports";
import { CA_FILE, CERT_FILE, HAPROXY_PEM, ROOT_KEY } from "../../components/pki/files";
import { ConfigError } from "../../components/config/reader";
import { Host } from "../../components/host";
import { ConfigSync, ConfigSyncArgs } from "../../components/zabbix";
import { renderNginxSite } from "../../components/zabbix/render";

/** The lines of one HAProxy section. */
function section(cfg: string, header: string): string[] {
    const lines = cfg.split("\n");
    const start = lines.indexOf(header);
    expect(start).toBeGreaterThanOrEqual(0);
    const end = lines.findIndex((l, i) => i > start && l !== "" && !l.startsWith(" "));
    return lines
        .slice(start + 1, end === -1 ? undefined : end)
        .map(l => l.trim())
        .filter(Boolean);
}

const tokyo: HaproxyInput = {
    site: "tokyo",
    bindAddress: "198.18.10.41",
    tls: { certificateWithKey: HAPROXY_PEM, caFile: CA_FILE },
    httpPort: 80,
    httpsPort: UI_HTTPS_PORT,
    localFrontends: [{ name: "tyo-web1", address: "198.18.10.31", port: 8080 }],
    remoteFrontends: [{ name: "osa-web1", address: "198.18.20.31", port: 8080 }],
    dbPort: 5433,
    dbServers: [
        { name: "tyo-db1", address: "198.18.10.11", port: 5432 },
        { name: "osa-db1", address: "198.18.20.11", port: 5432 },
    ],
    dbAllowedSources: ["198.18.10.21", "198.18.100.0/24"],
    primaryCheckCommand: "/etc/haproxy/pg-is-primary",
    runDir: "/run/haproxy",
};

describe("haproxy.cfg", () => {
    const cfg = renderHaproxyCfg(tokyo);
    const ui = section(cfg, "frontend zabbix_ui");

    test("serves the UI over HTTPS with the stack's certificate, on the host's own address only", () => {
        expect(ui.filter(l => l.startsWith("bind "))).toEqual([
            "bind 198.18.10.41:80",
            "bind 198.18.10.41:443 ssl crt /etc/ssl/zabbix-ha/haproxy.pem alpn h2,http/1.1",
        ]);
        // No bind on every address (":PORT", "*:", "[::]") anywhere in the file.
        expect(cfg).not.toMatch(/^\s*bind (:|\*|\[::\])/m);
    });

    test("answers plain HTTP only with a 301 to the same host over HTTPS, and sends HSTS over HTTPS", () => {
        expect(ui).toContain(
            "http-request redirect location https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 301 unless { ssl_fc }",
        );
        expect(ui).toContain(`http-response set-header Strict-Transport-Security "${HSTS_HEADER}" if { ssl_fc }`);
        // A non-standard HTTPS port goes into the redirect's URL.
        const custom = section(renderHaproxyCfg({ ...tokyo, httpsPort: 8443 }), "frontend zabbix_ui");
        expect(custom.find(l => l.startsWith("http-request redirect"))).toContain("field(1,:)]:8443%[capture.req.uri]");
    });

    test("accepts TLS 1.2 and later only, with forward-secret AEAD ciphers, serving and connecting", () => {
        const global = section(cfg, "global");
        for (const side of ["bind", "server"]) {
            expect(global).toContain(`ssl-default-${side}-options ssl-min-ver TLSv1.2 no-tls-tickets`);
            const ciphers = global.find(l => l.startsWith(`ssl-default-${side}-ciphers `))!;
            expect(
                ciphers
                    .split(" ")[1]
                    .split(":")
                    .every(c => /^ECDHE-(ECDSA|RSA)-.*(GCM|POLY1305)/.test(c)),
            ).toBe(true);
        }
    });

    test("reaches this site's frontends first, the other sites' as backups, each over TLS verified against the CA and its name", () => {
        const servers = section(cfg, "backend zabbix_frontends").filter(l => l.startsWith("server "));
        expect(servers).toEqual([
            "server tyo-web1 198.18.10.31:8080 check ssl verify required ca-file /etc/ssl/zabbix-ha/ca.crt verifyhost tyo-web1",
            "server osa-web1 198.18.20.31:8080 check ssl verify required ca-file /etc/ssl/zabbix-ha/ca.crt verifyhost osa-web1 backup",
        ]);
    });

    test("routes the DB port by role (the external primary check), to every DB host, none as a fixed backup, each in maintenance until the newest-primary watcher decides", () => {
        const db = section(cfg, "listen postgres_primary");
        expect(db).toContain("bind 198.18.10.41:5433");
        expect(db).toContain("option external-check");
        expect(db).toContain("external-check command /etc/haproxy/pg-is-primary");
        expect(db).not.toContain("option pgsql-check");
        expect(db.filter(l => l.startsWith("server "))).toEqual([
            "server tyo-db1 198.18.10.11:5432 check disabled",
            "server osa-db1 198.18.20.11:5432 check disabled",
        ]);
        expect(db).toContain("balance first");
        expect(db).toContain("tcp-request connection reject unless { src 198.18.10.21/32 198.18.100.0/24 }");
    });
});

describe("nginx site", () => {
    const render = (listenAddresses: string[]) =>
        renderNginxSite({
            listenAddresses,
            listenPort: 8080,
            certificateFile: CERT_FILE,
            keyFile: ROOT_KEY,
            root: "/usr/share/zabbix",
            phpSocket: "/run/php/zabbix.sock",
        });

    test("serves HTTPS only, on the host's own address, never on every address or IPv6's", () => {
        const site = render(["198.18.10.31"]);
        expect(site.match(/^\s*listen .*$/gm)!.map(l => l.trim())).toEqual(["listen 198.18.10.31:8080 ssl;"]);
        expect(site).not.toMatch(/\[::\]|listen \d+;/);
        expect(site).toContain("ssl_certificate /etc/ssl/zabbix-ha/host.crt;");
        expect(site).toContain("ssl_certificate_key /etc/ssl/zabbix-ha/host.key;");
        expect(site).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    });

    test("listens on each address given once", () => {
        const site = render(["198.18.10.31", "198.18.10.30", "198.18.10.30"]);
        expect(site.match(/^\s*listen .*$/gm)!.map(l => l.trim())).toEqual([
            "listen 198.18.10.31:8080 ssl;",
            "listen 198.18.10.30:8080 ssl;",
        ]);
    });
});

test("the UI's URL is https, with the port only when it is not the standard one", () => {
    expect(uiUrl("198.18.10.41", UI_HTTPS_PORT)).toBe("https://198.18.10.41/");
    expect(uiUrl("198.18.10.30", 8080)).toBe("https://198.18.10.30:8080/");
});

describe("config sync", () => {
    const args = (sourceUrl: string, targetUrls: string[]): ConfigSyncArgs => ({
        // Refused before the host is used: no resource is made.
        host: undefined as unknown as Host,
        sourceUrl,
        targetUrls,
        apiUser: "Admin",
        apiPassword: "not sent",
        intervalMinutes: 10,
        after: [],
    });

    test.each([
        ["the source", "http://198.18.10.41/api_jsonrpc.php", ["https://198.18.20.41/api_jsonrpc.php"]],
        ["a target", "https://198.18.10.41/api_jsonrpc.php", ["HTTP://198.18.20.41:80/api_jsonrpc.php"]],
    ])("refuses a plain http:// URL for %s: it would carry the Super Admin password in clear", (_, source, targets) => {
        const made = () => new ConfigSync("sync", args(source, targets));
        expect(made).toThrow(ConfigError);
        expect(made).toThrow(/configSync\.apiUser: .*http:\/\/.*only https:\/\/ URLs/i);
    });
});
