/**
 * The UI's HTTPS port on every load balancer (HTTP, on loadBalancer.httpPort, redirects to it):
 * the standard port, so a user's browser needs no port in the URL.
 */
export const UI_HTTPS_PORT = 443;
