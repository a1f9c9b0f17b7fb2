/**
 * Lines of a .pgpass file (the replication role's, the fence's and the load balancers' checks'), pure.
 */

/** A .pgpass line; ':' and '\' in fields must be escaped. */
export function pgpassLine(host: string, port: string, database: string, user: string, password: string): string {
    const esc = (v: string) => v.replace(/[\\:]/g, m => `\\${m}`);
    return [host, port, database, user].map(esc).concat(password).join(":");
}
