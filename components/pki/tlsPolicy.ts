/**
 * Which TLS the stack's own servers speak (HAProxy's UI, nginx behind it): Mozilla's
 * "intermediate" profile, TLS 1.2 and 1.3 with forward-secret AEAD ciphers only. ECDHE only: the
 * stack's keys are ECDSA, and DHE would need DH parameters of our own. Pure: one definition.
 */

/** The oldest protocol accepted; TLS 1.0 and 1.1 are refused. */
export const TLS_MIN_VERSION = "TLSv1.2";

/** TLS 1.2 cipher list (OpenSSL names), strongest first as Mozilla orders it. */
export const TLS12_CIPHERS = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** TLS 1.3 cipher suites (OpenSSL names). */
export const TLS13_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
