/**
 * Fence agents and their parameters, declared once for the config check, the CIB renderer and the
 * policy pack: the agents' names, and which parameters hold a secret (the config check refuses
 * them, the CIB renderer throws on them and the policy pack looks for them in what steps send). A fence
 * device's parameters go into the CIB, which a step's command text carries: Pulumi stores and
 * logs that text in clear. fence-agents reads a password through a command instead
 * (`password_script`, `snmp_priv_passwd_script`: `os.popen(...).read().rstrip()` in fencing.py).
 */
import { CONFIG_DIR } from "../platform";

/** A fence agent's name as fence-agents installs it (/usr/sbin/fence_ipmilan): it goes into the CIB's primitive type. */
export const FENCE_AGENT_NAME = /^fence_[A-Za-z0-9_]+$/;

/** Root-only file on both pair nodes holding the fence devices' password, from the secret fencePassword. */
export const FENCE_PASSWORD_FILE = `${CONFIG_DIR}/fence-password`;

/** The password_script the library gives a device without one, and the one the examples use: it prints the file. */
export const FENCE_PASSWORD_SCRIPT = `cat ${FENCE_PASSWORD_FILE}`;

/**
 * The secret-holding parameters of the agents fence-agents 4.12 ships (their `-o metadata`):
 * passwords (`passwd` is `password`'s other name), the SNMPv3 privacy password, SNMP's community,
 * cloud API credentials (fence_aws, fence_aliyun, fence_ecloud, fence_ibm_*) and IPMI's Kg key.
 */
export const FENCE_SECRET_PARAMETERS: readonly string[] = [
    "password",
    "passwd",
    "snmp_priv_passwd",
    "community",
    "secret_key",
    "access_key",
    "apikey",
    "api_key",
    "token",
    "hexadecimal_kg",
];

/** The parameters fence-agents runs as a command to read a password from its output. */
export const FENCE_PASSWORD_SCRIPT_PARAMETERS: readonly string[] = [
    "password_script",
    "passwd_script",
    "snmp_priv_passwd_script",
];

/** Words that mark a credential in a parameter another agent version may add. */
const SECRET_WORD = /pass|secret|token|api_?key|credential/;
/** A parameter that names where a secret is (a command, a file), not the secret itself. */
const REFERENCE = /_(script|file|path)$/;

/** fence-agents reads `a-b` and `a_b` alike (fencing.py's stdin parser); Pacemaker passes names as written. */
export function fenceParameterName(name: string): string {
    return name.toLowerCase().replace(/-/g, "_");
}

/** Whether a fence parameter (any case, `-` or `_`) holds a secret itself rather than a reference to one. */
export function fenceParameterHoldsSecret(name: string): boolean {
    const normal = fenceParameterName(name);
    return FENCE_SECRET_PARAMETERS.includes(normal) || (SECRET_WORD.test(normal) && !REFERENCE.test(normal));
}

/** Whether a parameter is one fence-agents runs as a command (password_script and its kin). */
export function isFencePasswordScript(name: string): boolean {
    return FENCE_PASSWORD_SCRIPT_PARAMETERS.includes(fenceParameterName(name));
}
