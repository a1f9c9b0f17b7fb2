/** The port an https:// URL without one means. */
export const HTTPS_DEFAULT_PORT = 443;

/**
 * The UI's HTTPS port on every load balancer (HTTP, on loadBalancer.httpPort, redirects to it):
 * the standard port, so a user's browser needs no port in the URL.
 */
export const UI_HTTPS_PORT = HTTPS_DEFAULT_PORT;

/** The UI's URL at `address` over HTTPS (no port in it at the standard one); ends in "/". */
export function uiUrl(address: string, httpsPort: number): string {
    return `https://${address}${httpsPort === HTTPS_DEFAULT_PORT ? "" : `:${httpsPort}`}/`;
}
