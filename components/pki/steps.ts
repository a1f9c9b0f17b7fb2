/**
 * The step that installs a host's TLS files, a pure renderer. The CA, the certificate and the key
 * arrive on stdin, base64 on one line each (a step reads each secret as one line); the script
 * writes each file only when it differs, and on a change asks the services that already run to
 * read them again.
 */
import { shellQuote } from "../shell";
import { CA_FILE, CERT_FILE, DATABASE_CA_FILE, TLS_DIR, TlsHostInput, keyCopies } from "./files";

/** The shell variables the step reads its stdin into, in order. */
export const TLS_SECRETS = {
    ca: "ZHA_TLS_CA",
    cert: "ZHA_TLS_CERT",
    key: "ZHA_TLS_KEY",
    /** The managed database's CA bundle, read after the key where the host has one (TlsHostInput.databaseCa). */
    databaseCa: "ZHA_TLS_DB_CA",
} as const;

/** Encodes a PEM for the step's stdin: one line. */
export function oneLine(pem: string): string {
    return Buffer.from(pem, "utf8").toString("base64");
}

/**
 * Services that read the files at start and again on a reload (Patroni's REST API on its reload;
 * PostgreSQL under Patroni is asked directly). etcd reads its certificate at every new connection.
 */
const RELOAD_ON_CHANGE = ["postgresql", "patroni", "haproxy", "nginx"];

/** A here-document of decoded stdin values (the file writer must run in this shell, not a pipe's, to report a change). */
function decoded(variables: readonly string[]): string {
    return `<<ZHA_PEM\n${variables.map(v => `$(zha_b64 "$${v}")`).join("\n")}\nZHA_PEM`;
}

/** The script of a host's TLS step. */
export function tlsStep(h: TlsHostInput): string {
    const { ca, cert, key, databaseCa } = TLS_SECRETS;
    const copies = keyCopies(h).map(c => {
        const owner = `${c.user}:${c.user}`;
        const parts = c.withCertificate ? [cert, key] : [key];
        // A service user missing on this host (its package not installed) has nothing that would read its copy.
        return `if id -u ${c.user} >/dev/null 2>&1; then\nzha_put_file ${shellQuote(c.path)} 0600 ${owner} ${decoded(parts)}\nfi`;
    });
    return `zha_b64() { printf '%s' "$1" | base64 -d; }
mkdir -p ${shellQuote(TLS_DIR)}
chmod 0755 ${shellQuote(TLS_DIR)}
zha_put_file ${shellQuote(CA_FILE)} 0644 root:root ${decoded([ca])}
zha_put_file ${shellQuote(CERT_FILE)} 0644 root:root ${decoded([cert])}
${h.databaseCa ? `zha_put_file ${shellQuote(DATABASE_CA_FILE)} 0644 root:root ${decoded([databaseCa])}` : `rm -f ${shellQuote(DATABASE_CA_FILE)}`}
${copies.join("\n")}
# The key must belong to the certificate, and the certificate to the CA: otherwise every handshake fails later, far from here.
if [ "$(openssl x509 -noout -pubkey -in ${shellQuote(CERT_FILE)} | openssl sha256)" != "$(zha_b64 "$${key}" | openssl pkey -pubout | openssl sha256)" ]; then
  echo "the certificate in ${CERT_FILE} does not match its key" >&2; exit 1
fi
openssl verify -CAfile ${shellQuote(CA_FILE)} ${shellQuote(CERT_FILE)} >/dev/null
if [ "$ZHA_CHANGED" = 1 ]; then
  for zha_unit in ${RELOAD_ON_CHANGE.map(u => `'${u}*'`).join(" ")}; do
    for zha_u in $(systemctl list-units --state=active --plain --no-legend "$zha_unit" | cut -d' ' -f1); do
      echo "reloading $zha_u for its new certificate"
      systemctl reload "$zha_u" || true
    done
  done
  # PostgreSQL under Patroni has no unit of its own: ask it directly (a no-op where none runs).
  if id -u postgres >/dev/null 2>&1; then runuser -u postgres -- psql -XAtq -c 'select pg_reload_conf()' >/dev/null 2>&1 || true; fi
fi`;
}
