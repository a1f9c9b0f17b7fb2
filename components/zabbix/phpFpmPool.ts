/**
 * The frontend's php-fpm pool (`<pool dir>/zabbix.conf`): pure renderer.
 */
import { RENDERED_HEADER } from "../shell";
import { DB_CONNECT_TIMEOUT_SECONDS } from "./serverUnitDropIn";

/** The pool's socket, user and PHP time zone. */
export interface PhpFpmPoolInput {
    readonly socket: string;
    /** User php-fpm and nginx run as (www-data on Debian, nginx on RHEL). */
    readonly user: string;
    readonly timezone: string;
}

/** A pool of its own with the PHP settings the Zabbix frontend's setup check asks for. */
export function renderPhpFpmPool(c: PhpFpmPoolInput): string {
    return `; ${RENDERED_HEADER}
[zabbix]
user = ${c.user}
group = ${c.user}
listen = ${c.socket}
listen.owner = ${c.user}
listen.group = ${c.user}
listen.mode = 0660
pm = dynamic
pm.max_children = 50
pm.start_servers = 5
pm.min_spare_servers = 5
pm.max_spare_servers = 35
pm.max_requests = 200
; max_execution_time counts CPU time on Linux, not a wait on the database: a worker stuck on a dead
; session would be lost to the pool for good. php-fpm ends any request older than Zabbix's own limit.
request_terminate_timeout = 300s
; A DB connect that hangs (a balancer that just started) gives up instead of holding the worker.
env[PGCONNECT_TIMEOUT] = ${DB_CONNECT_TIMEOUT_SECONDS}
php_value[max_execution_time] = 300
php_value[memory_limit] = 128M
php_value[post_max_size] = 16M
php_value[upload_max_filesize] = 2M
php_value[max_input_time] = 300
php_value[max_input_vars] = 10000
php_value[date.timezone] = ${c.timezone}
`;
}
