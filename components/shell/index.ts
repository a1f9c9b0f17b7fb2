/**
 * Building blocks of the POSIX sh scripts that run on hosts over SSH. Every script starts with
 * `set -eu`, is idempotent (files are rewritten only when their content changes, services are
 * restarted only then) and receives secrets on stdin, never in its own text, so the command
 * text that Pulumi logs and stores in clear holds no secret.
 */
import { SYSTEMD_UNIT_DIR } from "../platform";

const HEREDOC = "ZHA_EOF";

/** The first comment of every file the library renders, so whoever reads it on a host knows not to edit it. */
export const RENDERED_HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";
/** The same without backticks: patroni.yml goes through an unquoted here-document (for its password variables), and etcd's settings beside it say it alike. */
export const RENDERED_HEADER_NO_BACKTICKS = RENDERED_HEADER.replace(/`/g, "");

/** Quotes a value for sh: safe for any string. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Functions every script may use.
 * - `zha_put_file PATH MODE OWNER`: writes stdin to PATH atomically when it differs, with the mode
 *   and owner given, and sets ZHA_CHANGED=1 when it wrote (the temp file is created 0600 first, so
 *   a secret is never readable by others, not even for a moment).
 * - `zha_dir DIR OWNER`: creates DIR when it is missing, owned by OWNER ("user:group"): under the
 *   prelude's umask a new directory is 0700, so one root kept would hide a file from its own service
 *   (RHEL's PostgreSQL has no conf.d until the library makes it). An existing one is left as it is.
 * - `zha_retry N CMD...`: runs CMD up to N times a second apart (services take a moment to listen).
 */
export const PRELUDE = `set -eu
umask 077
# Steps run programs as other users (runuser -u postgres): start where every user may be.
cd /
# ZHA_CHANGED is read by the steps that install files; shellcheck would call it unused in the others.
# shellcheck disable=SC2034
ZHA_CHANGED=0
# shellcheck disable=SC2034
zha_put_file() {
  zha_tmp=$(mktemp "$1.zha.XXXXXX")
  cat > "$zha_tmp"
  chmod "$2" "$zha_tmp"
  chown "$3" "$zha_tmp"
  if [ -f "$1" ] && cmp -s "$zha_tmp" "$1" && [ "$(stat -c %a:%U:%G "$1")" = "$(stat -c %a:%U:%G "$zha_tmp")" ]; then
    rm -f "$zha_tmp"
  else
    mv -f "$zha_tmp" "$1"
    ZHA_CHANGED=1
    echo "updated $1"
  fi
}
zha_dir() {
  if [ ! -d "$1" ]; then
    mkdir -p "$1"
    chown "$2" "$1"
  fi
}
zha_retry() {
  zha_n=$1; shift
  until "$@"; do
    zha_n=$((zha_n - 1))
    if [ "$zha_n" -le 0 ]; then echo "gave up: $*" >&2; return 1; fi
    sleep 1
  done
}`;

/** A step that installs a file with the given content, mode and owner ("user:group"). */
export function putFile(path: string, content: string, mode: string, owner: string): string {
    const body = content.endsWith("\n") ? content : `${content}\n`;
    if (body.split("\n").includes(HEREDOC)) {
        throw new Error(`content for ${path} contains the line ${HEREDOC}, which would end its here-document`);
    }
    return `zha_dir ${shellQuote(dirname(path))} ${owner}\nzha_put_file ${shellQuote(path)} ${mode} ${owner} <<'${HEREDOC}'\n${body}${HEREDOC}`;
}

/** A program the library runs beside a service: its script (root's) and its systemd unit. */
export interface WatcherService {
    readonly script: string;
    readonly scriptText: string;
    /** The unit's name, under SYSTEMD_UNIT_DIR. */
    readonly unit: string;
    readonly unitText: string;
}

/**
 * Installs a watcher's script and unit, enabled and running, restarted when either changed. It has
 * its own change flag: a change earlier in the same step (the service it watches) does not restart it.
 */
export function installWatcher(w: WatcherService): string {
    return [
        "ZHA_CHANGED=0",
        putFile(w.script, w.scriptText, "0700", "root:root"),
        putFile(`${SYSTEMD_UNIT_DIR}/${w.unit}`, w.unitText, "0644", "root:root"),
        `if [ "$ZHA_CHANGED" = 1 ]; then systemctl daemon-reload; fi`,
        `systemctl enable --quiet ${w.unit}`,
        `if [ "$ZHA_CHANGED" = 1 ] || ! systemctl is-active --quiet ${w.unit}; then systemctl restart ${w.unit}; fi`,
    ].join("\n");
}

/** Stops and removes a watcher where one was installed. */
export function removeWatcher(w: Pick<WatcherService, "script" | "unit">): string {
    return `if [ -e ${SYSTEMD_UNIT_DIR}/${w.unit} ]; then
  systemctl disable --now ${w.unit} 2>/dev/null || true
  rm -f ${w.script} ${SYSTEMD_UNIT_DIR}/${w.unit}
  systemctl daemon-reload
fi`;
}

/** A step that installs a file holding the value of a shell variable (a secret read from stdin). */
export function putSecretFile(
    path: string,
    variable: string,
    mode: string,
    owner: string,
    template = `$${variable}`,
): string {
    // The here-document expands $variables (the secrets); a backtick in the text must stay text.
    return `zha_dir ${shellQuote(dirname(path))} ${owner}\nzha_put_file ${shellQuote(path)} ${mode} ${owner} <<${HEREDOC}\n${template.replace(/`/g, "\\`")}\n${HEREDOC}`;
}

/** Lines that read secrets, one per stdin line, in the order the command's stdin lists them. */
export function readSecrets(variables: readonly string[]): string {
    return variables.map(v => `IFS= read -r ${v}`).join("\n");
}

/**
 * The same reads for a step's delete, which gets the create's stdin (the engine runs it with the
 * stdin recorded in state) and may not use every secret on it.
 */
export function readSecretsForDelete(variables: readonly string[]): string {
    return variables.length === 0
        ? ""
        : `# shellcheck disable=SC2034 # the create's secrets, in its order; the delete may use only some
{ ${variables.map(v => `IFS= read -r ${v};`).join(" ")} }`;
}

/** Joins script parts into one script, prelude first. */
export function script(...parts: string[]): string {
    return [PRELUDE, ...parts.filter(p => p.length > 0)].join("\n\n") + "\n";
}

/**
 * The command text for a host. The script runs under `sh -c` whatever the user's login shell is;
 * a user other than root runs it through `sudo -n`, which keeps stdin (the secrets) flowing.
 */
export function asHostUser(scriptText: string, sshUser: string): string {
    return `${sshUser === "root" ? "" : "sudo -n "}sh -c ${shellQuote(scriptText)}`;
}

function dirname(path: string): string {
    return path.slice(0, path.lastIndexOf("/")) || "/";
}
