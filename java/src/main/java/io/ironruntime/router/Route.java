package io.ironruntime.router;

import io.ironruntime.provider.Provider;

/**
 * Where a request goes, as far as its path says.
 *
 * @param kind         proxy, health or not found
 * @param provider     the provider the path points at (for errors too); later the model may override it
 * @param explicit     true when a leading /openai or /anthropic segment chose the provider
 * @param upstreamPath path and query to send upstream (the provider segment removed)
 */
public record Route(Kind kind, Provider provider, boolean explicit, String upstreamPath) {

    public enum Kind { PROXY, HEALTH, NOT_FOUND }

    /** The model can move a request to the other provider only when no path segment chose one. */
    public Route withModelProvider(Provider byModel) {
        if (explicit || byModel == null || byModel == provider) {
            return this;
        }
        return new Route(kind, byModel, false, upstreamPath);
    }
}
