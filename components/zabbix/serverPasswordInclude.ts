/**
 * zabbix_server.conf's included password file: zabbix_server.conf holds no secret, it includes this
 * file, which the step writes from a shell variable read on stdin. Pure.
 */

/** Where the include lives; root and the zabbix group read it. */
export const SERVER_PASSWORD_INCLUDE = "/etc/zabbix/zabbix_server.db-password.conf";

/** The included file's text, with the password as a reference to the shell variable that holds it. */
export function zabbixServerPasswordTemplate(variable: string): string {
    return `DBPassword=$${variable}`;
}
