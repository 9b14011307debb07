package io.ironruntime.cost;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Model prices in the shape of LiteLLM's {@code model_prices_and_context_window.json}, so users can
 * drop that file in. Entries without both input and output prices (LiteLLM's {@code sample_spec},
 * image or audio models) are skipped. Lookups resolve dated snapshots to their family
 * ({@code gpt-4o-mini-2024-07-18} to {@code gpt-4o-mini}, {@code claude-sonnet-4-20250514} to
 * {@code claude-sonnet-4}) when the snapshot has no entry of its own. Immutable (lookups are cached).
 */
public final class PricingTable {
    static final String BUNDLED = "/io/ironruntime/cost/pricing.json";
    private static final Pattern DATE_SUFFIX = Pattern.compile("-(\\d{4}-\\d{2}-\\d{2}|\\d{8})$");
    private static final Pattern LATEST_SUFFIX = Pattern.compile("-latest$");

    /** Resolved lookups, so the request path does not normalise and match suffixes every time. */
    private static final int MAX_RESOLVED = 4_096;
    private static final ModelPrice UNPRICED = new ModelPrice("", 0, 0, 0, 0, 0);

    private final Map<String, ModelPrice> prices;
    private final Map<String, ModelPrice> resolved = new ConcurrentHashMap<>();

    private PricingTable(Map<String, ModelPrice> prices) {
        this.prices = Map.copyOf(prices);
    }

    /** The table that ships in the jar. */
    public static PricingTable bundled() {
        try (InputStream in = PricingTable.class.getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IllegalStateException("the engine jar has no " + BUNDLED);
            }
            return parse(Json.MAPPER.readTree(in), "the bundled pricing table");
        } catch (IOException e) {
            throw new IllegalStateException("the bundled pricing table cannot be read", e);
        }
    }

    /**
     * Reads a LiteLLM-shaped object ({@code {"model": {"input_cost_per_token": ..., ...}}}).
     *
     * @param source names the table in error messages (a file name, "custom_pricing")
     */
    public static PricingTable parse(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + " must be a JSON object of model name to prices");
        }
        Map<String, ModelPrice> prices = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ModelPrice price = entry(e.getKey(), e.getValue(), source);
            if (price != null) {
                prices.put(normalise(e.getKey()), price);
            }
        }
        return new PricingTable(prices);
    }

    private static ModelPrice entry(String model, JsonNode spec, String source) {
        if (!spec.isObject() || !spec.has("input_cost_per_token") || !spec.has("output_cost_per_token")) {
            return null;
        }
        String where = source + ", model '" + model + "'";
        JsonNode max = spec.get("max_output_tokens");
        int maxOutput = max != null && max.canConvertToInt() && max.asInt() > 0 ? max.asInt() : 0;
        boolean anthropic = "anthropic".equals(spec.path("litellm_provider").asText())
                || normalise(model).startsWith("claude");
        String name = normalise(model);
        ModelPrice priority = spec.has("input_cost_per_token_priority")
                ? prices(name, spec, "_priority", where, maxOutput, anthropic, null, null) : null;
        ModelPrice flex = spec.has("input_cost_per_token_flex")
                ? prices(name, spec, "_flex", where, maxOutput, anthropic, null, null) : null;
        return prices(name, spec, "", where, maxOutput, anthropic, priority, flex);
    }

    /**
     * One set of prices; {@code tier} is the LiteLLM field suffix ("", "_priority", "_flex"), and
     * {@code priority} / {@code flex} are the tier prices of a base price (null for a tier's own).
     */
    private static ModelPrice prices(String model, JsonNode spec, String tier, String where, int maxOutput,
            boolean anthropic, ModelPrice priority, ModelPrice flex) {
        long input = perToken(spec, "input_cost_per_token" + tier, where, 0);
        long output = perToken(spec, "output_cost_per_token" + tier, where, 0);
        // A provider without separate cache prices bills cached tokens as ordinary input.
        long cacheRead = perToken(spec, "cache_read_input_token_cost" + tier, where, input);
        long cacheWrite = perToken(spec, "cache_creation_input_token_cost" + tier, where, input);
        // Anthropic bills 1-hour cache writes at twice the input price when the table does not say.
        long cacheWrite1h = perToken(spec, "cache_creation_input_token_cost_above_1hr" + tier, where,
                anthropic ? Math.multiplyExact(input, 2) : cacheWrite);
        return new ModelPrice(model, input, output, cacheRead, cacheWrite, cacheWrite1h, maxOutput, priority, flex);
    }

    private static long perToken(JsonNode spec, String field, String where, long fallback) {
        JsonNode n = spec.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        BigDecimal value;
        if (n.isNumber()) {
            value = n.decimalValue();
        } else if (n.isTextual()) {
            try {
                value = new BigDecimal(n.asText().strip());
            } catch (NumberFormatException e) {
                throw new ConfigException(where + ": " + field + " is not a number");
            }
        } else {
            throw new ConfigException(where + ": " + field + " is not a number");
        }
        if (value.signum() < 0) {
            throw new ConfigException(where + ": " + field + " cannot be negative");
        }
        return Money.dollarsPerTokenToPicos(value);
    }

    /** This table with {@code overrides} laid over it, entry by entry. */
    public PricingTable with(PricingTable overrides) {
        Map<String, ModelPrice> merged = new HashMap<>(prices);
        merged.putAll(overrides.prices);
        return new PricingTable(merged);
    }

    /** The price of {@code model}, or null when neither it nor its family is priced. */
    public ModelPrice find(String model) {
        if (model == null || model.isBlank()) {
            return null;
        }
        ModelPrice known = resolved.get(model);
        if (known != null) {
            return known == UNPRICED ? null : known;
        }
        ModelPrice found = resolve(model);
        if (resolved.size() < MAX_RESOLVED) { // model names come from clients: the cache stays bounded
            resolved.put(model, found == null ? UNPRICED : found);
        }
        return found;
    }

    private ModelPrice resolve(String model) {
        String key = normalise(model);
        ModelPrice exact = prices.get(key);
        if (exact != null) {
            return exact;
        }
        String family = DATE_SUFFIX.matcher(key).replaceFirst("");
        family = LATEST_SUFFIX.matcher(family).replaceFirst("");
        return family.equals(key) ? null : prices.get(family);
    }

    public int size() {
        return prices.size();
    }

    /** Lower case, without LiteLLM's provider prefix ({@code openai/}, {@code anthropic/}). */
    static String normalise(String model) {
        String m = model.strip().toLowerCase(Locale.ROOT);
        int slash = m.indexOf('/');
        if (slash > 0 && (m.startsWith("openai/") || m.startsWith("anthropic/"))) {
            m = m.substring(slash + 1);
        }
        return m;
    }
}
