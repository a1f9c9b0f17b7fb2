/**
 * Errors that name the component they came from: `pulumi up` then reports the resource, not only
 * the message.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/reader";

/**
 * Runs pure renderers on behalf of a component. A renderer's plain Error (its input cannot be
 * rendered) becomes a ResourceError naming the component, with the same message; a configuration
 * error, or an error that already names a resource, passes as it is.
 */
export function renderFor<T>(resource: pulumi.Resource, render: () => T): T {
    try {
        return render();
    } catch (err) {
        if (err instanceof Error && !(err instanceof ConfigError) && !pulumi.ResourceError.isInstance(err)) {
            throw new pulumi.ResourceError(err.message, resource);
        }
        throw err;
    }
}
