/**
 * The frontend's nginx site (`<nginx site dir>/zabbix.conf`): pure renderer.
 */
import { RENDERED_HEADER } from "../shell";

/** The nginx site's port, document root and PHP socket. */
export interface NginxSiteInput {
    readonly listenPort: number;
    /** Document root of the Zabbix frontend. */
    readonly root: string;
    /** php-fpm pool socket. */
    readonly phpSocket: string;
}

/** The nginx site serving the Zabbix UI on `listenPort`, PHP through the pool's socket. */
export function renderNginxSite(c: NginxSiteInput): string {
    return `# ${RENDERED_HEADER}
server {
    listen ${c.listenPort};
    listen [::]:${c.listenPort};
    server_name _;
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
