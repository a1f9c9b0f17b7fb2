/**
 * The frontend's nginx site (`<nginx site dir>/zabbix.conf`): pure renderer. It serves HTTPS only,
 * on the host's own addresses: the load balancers reach it over TLS and verify its certificate.
 */
import { TLS12_CIPHERS } from "../pki/tlsPolicy";
import { RENDERED_HEADER } from "../shell";

/** The nginx site's addresses, port, certificate, document root and PHP socket. */
export interface NginxSiteInput {
    /** The host's own address (0.0.0.0 only on a pair's node, whose VIP moves); never IPv6's `[::]`. */
    readonly listenAddresses: readonly string[];
    readonly listenPort: number;
    /** The host's certificate (CERT_FILE on a host). */
    readonly certificateFile: string;
    /** Its key: root's copy (ROOT_KEY), which nginx's master process reads as root before its workers drop privileges. */
    readonly keyFile: string;
    /** Document root of the Zabbix frontend. */
    readonly root: string;
    /** php-fpm pool socket. */
    readonly phpSocket: string;
}

/** The nginx site serving the Zabbix UI over HTTPS on `listenPort`, PHP through the pool's socket. */
export function renderNginxSite(c: NginxSiteInput): string {
    const listen = [...new Set(c.listenAddresses)].map(a => `    listen ${a}:${c.listenPort} ssl;`);
    return `# ${RENDERED_HEADER}
server {
${listen.join("\n")}
    server_name _;
    ssl_certificate ${c.certificateFile};
    ssl_certificate_key ${c.keyFile};
    # Mozilla intermediate (pki/tlsPolicy.ts).
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${TLS12_CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_session_tickets off;
    root ${c.root};
    index index.php;
    client_max_body_size 5m;

    location = /favicon.ico { log_not_found off; }
    location / { try_files $uri $uri/ =404; }
    location /assets { access_log off; expires 10d; }
    location ~ /\\.ht { deny all; }
    location ~ /(api\\/|conf[^\\.]|include|locale) { deny all; return 404; }
    location /vendor { deny all; return 404; }

    location ~ [^/]\\.php(/|$) {
        fastcgi_pass unix:${c.phpSocket};
        fastcgi_split_path_info ^(.+\\.php)(/.+)$;
        fastcgi_index index.php;
        include fastcgi_params;
        fastcgi_param DOCUMENT_ROOT ${c.root};
        fastcgi_param SCRIPT_FILENAME ${c.root}$fastcgi_script_name;
        fastcgi_param PATH_TRANSLATED ${c.root}$fastcgi_script_name;
        fastcgi_intercept_errors on;
        fastcgi_read_timeout 300;
    }
}
`;
}
