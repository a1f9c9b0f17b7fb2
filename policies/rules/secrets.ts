/**
 * Secrets stay secret: nothing in clear in what is sent to hosts, passwords from @pulumi/random.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { fenceParameterHoldsSecret } from "../../components/drbd/fencing";
import { RESOURCE_TYPES } from "./facts";

/** Text that carries a secret value rather than a reference to one ($VAR, a file, stdin). */
const CLEAR_SECRETS: readonly { readonly what: string; readonly pattern: RegExp }[] = [
    { what: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { what: "a password assignment", pattern: /\b[A-Z_]*PASSWORD=(?!["']?\$)["']?[^\s"'$]{4,}/ },
    { what: "a DB password setting", pattern: /^DBPassword=(?!\$)\S+/m },
    { what: "an SQL password literal", pattern: /\bPASSWORD\s+'(?!\$)[^']{4,}'/i },
    { what: "a password option", pattern: /--password[= ](?!\$)\S{4,}/ },
];

export const noPlaintextSecrets: ResourceValidationPolicy = {
    name: "no-plaintext-secrets",
    description: "No plaintext secret in any command, script, file content or config value sent to a host.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== RESOURCE_TYPES.command) {
            return;
        }
        for (const field of ["create", "update", "delete"]) {
            const text = String(args.props[field] ?? "");
            for (const { what, pattern } of CLEAR_SECRETS) {
                if (pattern.test(text)) {
                    report(
                        `The ${field} command of ${args.name} holds ${what} in clear; the command text is logged and stored. ` +
                            "Pass the secret on stdin (HostStepArgs.secrets) and refer to it as a shell variable.",
                    );
                }
            }
            // A Pacemaker parameter holding a secret by the fence agents' own names (a CIB the step loads).
            for (const [, name] of text.matchAll(/<nvpair\b[^>]*\bname="([^"]*)"[^>]*\bvalue="[^"]+"/g)) {
                if (fenceParameterHoldsSecret(name)) {
                    report(
                        `The ${field} command of ${args.name} holds the Pacemaker parameter ${name} in clear; the command text is ` +
                            "logged and stored. Give fence agents their password through password_script (a command that prints it).",
                    );
                }
            }
        }
        for (const key of Object.keys(args.props.environment ?? {})) {
            if (/PASSWORD|SECRET|TOKEN|KEY/i.test(key)) {
                report(
                    `${args.name} passes ${key} in its environment, which sshd may refuse and logs may show; pass it on stdin.`,
                );
            }
        }
    },
};

export const randomPasswordLength: ResourceValidationPolicy = {
    name: "random-password-length",
    description: "Passwords come from @pulumi/random with at least 20 characters.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type === RESOURCE_TYPES.randomPassword && !(Number(args.props.length) >= 20)) {
            report(`${args.name} generates ${args.props.length} characters; use at least 20.`);
        }
    },
};
