package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.config.KeyMode;
import io.ironruntime.config.ModelAliases;
import io.ironruntime.cost.PricingTable;
import io.ironruntime.cost.ReservationPlan;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.translate.Direction;
import io.ironruntime.translate.Translated;
import io.ironruntime.translate.TranslationException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a request's model sends it. Aliases are applied first; then a Chat Completions request for a
 * Claude model is translated to Anthropic Messages, and a Messages request for an OpenAI model to Chat
 * Completions. A provider segment in the path ({@code /anthropic/v1/chat/completions}) means "this
 * provider's own endpoint, as it is": such requests are never translated.
 */
final class ModelRouting implements RequestStage {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRouting.class);
    private static final java.util.regex.Pattern PLAIN_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private final ModelAliases aliases;
    private final PricingTable pricing;
    private final boolean passthrough;
    /** Fields already reported as dropped: the first drop of each is a warning, later ones are debug lines. */
    private final Set<String> noted = ConcurrentHashMap.newKeySet();

    ModelRouting(ModelAliases aliases, PricingTable pricing, KeyMode keyMode) {
        this.aliases = aliases;
        this.pricing = pricing;
        this.passthrough = keyMode == KeyMode.PASSTHROUGH;
    }

    @Override
    public ErrorReply apply(ProxyRequest r) {
        if (r.json == null || !r.json.isObject()) {
            return null;
        }
        String asked = r.model();
        String model = aliases.resolve(asked);
        boolean aliased = !Objects.equals(asked, model);
        if (aliased) {
            ((ObjectNode) r.json).put("model", model);
        }
        Direction direction = r.route.explicit() || !"POST".equalsIgnoreCase(r.method()) ? null
                : Direction.of(RouteResolver.pathOf(r.route.upstreamPath()), model);
        if (direction == null) {
            r.route = r.route.withModelProvider(Provider.ofModel(model));
            return aliased ? r.encodeJson() : null;
        }
        if (passthrough) {
            return ErrorReply.badRequest("translation_needs_provider_key", "Model '" + RequestStages.printable(model)
                    + "' is served by " + direction.upstream.wireName() + ", so this request must be translated, and the"
                    + " router holds no provider keys (passthrough mode) to call " + direction.upstream.wireName()
                    + " with. Give the router provider keys, or call " + direction.upstream.wireName() + " in its own format.");
        }
        // A priced model gets the output bound from the ledger (its max output, or what the budget pays for).
        boolean priced = pricing.find(model) != null;
        Translated t;
        try {
            t = direction.request(r.json, priced ? 0 : (int) ReservationPlan.DEFAULT_OUTPUT_CAP);
        } catch (TranslationException e) {
            return ErrorReply.badRequest("untranslatable_request", "This request for " + RequestStages.printable(model)
                    + " cannot be translated to the " + direction.upstream.wireName() + " format: " + e.getMessage());
        }
        r.translation = direction.response(r.json, System.currentTimeMillis() / 1000);
        r.translationDropped = t.dropped();
        r.outputBoundRequired = direction.upstream == Provider.ANTHROPIC && !t.body().has("max_tokens");
        r.json = t.body();
        r.route = new Route(Route.Kind.PROXY, direction.upstream, false, direction.upstreamPath);
        note(direction, model, t);
        return r.encodeJson();
    }

    /** Field names as logged: only plain identifiers, since a client's odd key could carry anything. */
    static String shown(java.util.List<String> fields) {
        java.util.List<String> plain = new java.util.ArrayList<>();
        int others = 0;
        for (String f : fields) {
            if (PLAIN_NAME.matcher(f).matches()) {
                plain.add(f);
            } else {
                others++;
            }
        }
        if (others > 0) {
            plain.add(others + (others == 1 ? " other field" : " other fields"));
        }
        return String.join(", ", plain);
    }

    /** Says which of the client's fields had no counterpart: a warning the first time a field is dropped. */
    private void note(Direction direction, String model, Translated t) {
        if (t.dropped().isEmpty()) {
            return;
        }
        boolean first = false;
        for (String field : t.dropped()) {
            first |= noted.size() < 1000 && noted.add(direction + "/" + field); // bounded: clients choose the names
        }
        String line = "Translating a request for " + RequestStages.printable(model) + " to " + direction.upstream.wireName()
                + ": dropped " + shown(t.dropped()) + " (no counterpart in that format)";
        if (first) {
            LOG.warn(line);
        } else {
            LOG.debug(line);
        }
    }
}
