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

    /** The router's own token-protected endpoints (metrics, REST, feeds) are {@code AdminRoutes}, not routes. */
    public enum Kind { PROXY, HEALTH, NOT_FOUND }

    /**
     * A Claude model moves an OpenAI-format request to Anthropic, unless a path segment chose the
     * provider. Chat Completions never get here with a Claude model: {@link ModelRouting} translates them
     * to Messages (as it translates Messages requests for OpenAI models).
     */
    public Route withModelProvider(Provider byModel) {
        if (explicit || byModel != Provider.ANTHROPIC || provider != Provider.OPENAI) {
            return this;
        }
        return new Route(kind, byModel, false, upstreamPath);
    }
}
