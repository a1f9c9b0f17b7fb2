/**
 * A Zabbix API client in POSIX sh, curl and jq, for the scripts that talk to the API from a host
 * (pattern 2's config sync, the Zabbix objects step): pure renderer, the text of its functions.
 *
 * It uses the script's `CA_FILE`, `API_USER` and `PASSWORD_FILE`, and makes a private directory
 * `$work` that goes when the script exits. The password and every request travel in files or on
 * stdin, the session token in the environment and a header file: never on a command line, which
 * every local user can read.
 */

/** The client's functions: `call URL METHOD`, `api_version URL`, `login URL`, `logout URL`. */
export function renderApiClient(): string {
    return `work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
# The session token travels in the environment, the password and every request on stdin or in
# files: a command line is readable by every local user.
ZHA_AUTH=
export ZHA_AUTH
# Where the token goes: 7.0 takes an Authorization header (and logs every use of the body's "auth",
# which 7.2 removes); 6.0 knows only the body's. Set by api_version before logging in.
ZHA_AUTH_IN=body
export ZHA_AUTH_IN

# call URL METHOD: reads the params on stdin and prints the result (with $ZHA_AUTH when set).
call() {
  jq -c --arg m "$2" '{jsonrpc: "2.0", method: $m, params: ., id: 1} + (if ($ENV.ZHA_AUTH // "") == "" or $ENV.ZHA_AUTH_IN != "body" then {} else {auth: $ENV.ZHA_AUTH} end)' >"$work/request" || return 1
  [ -s "$work/request" ] || { echo "$1 $2: no request to send" >&2; return 1; }
  # The header comes from a file, so the token never stands on curl's command line.
  printf 'Content-Type: application/json-rpc\\n' >"$work/headers"
  if [ -n "$ZHA_AUTH" ] && [ "$ZHA_AUTH_IN" = header ]; then
    printf 'Authorization: Bearer %s\\n' "$ZHA_AUTH" >>"$work/headers"
  fi
  # HTTPS only (redirects included), the site's certificate verified against the stack's CA: the
  # password and the session token cross the network. A connection that does not open in 10 s will
  # not (a dark site): callers that retry try again soon, not after the 300 s a slow call may take.
  curl -fsS --connect-timeout 10 -m 300 --proto =https --cacert "$CA_FILE" -H @"$work/headers" --data-binary @"$work/request" -o "$work/response" "$1" || { echo "$1 $2: request failed" >&2; return 1; }
  if [ "$(jq 'has("error")' "$work/response")" != false ]; then
    echo "$1 $2: $(jq -c .error "$work/response")" >&2
    return 1
  fi
  jq -c .result "$work/response"
}

# api_version URL: sets $version to the API's version, and where the token goes on it.
api_version() {
  r=$(echo '[]' | call "$1" apiinfo.version) || return 1
  version=$(printf '%s' "$r" | jq -r .)
  case "$version" in
    6.*) ZHA_AUTH_IN=body ;;
    *) ZHA_AUTH_IN=header ;;
  esac
}

login() {
  ZHA_AUTH=
  r=$(jq -n --arg u "$API_USER" --rawfile p "$PASSWORD_FILE" '{username: $u, password: ($p | rtrimstr("\\n"))}' | call "$1" user.login)
  ZHA_AUTH=$(printf '%s' "$r" | jq -r .)
}

logout() {
  echo '[]' | call "$1" user.logout >/dev/null
  ZHA_AUTH=
}`;
}
