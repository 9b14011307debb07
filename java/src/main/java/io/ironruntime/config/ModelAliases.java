package io.ironruntime.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names a client may use for a model ({@code {"fast": "claude-haiku-4-5"}}), applied to a request's
 * {@code model} before anything else reads it: pricing, routing and translation see the real model.
 * One step only: an alias may not name another alias, so what a name means is visible at a glance.
 */
public record ModelAliases(Map<String, String> aliases) {
    /** Longer names are more likely a pasted prompt than a model. */
    static final int MAX_NAME = 256;
    public static final ModelAliases NONE = new ModelAliases(Map.of());

    public ModelAliases {
        aliases = Map.copyOf(aliases);
    }

    /** The model {@code model} stands for: its target when it is an alias, else itself. */
    public String resolve(String model) {
        if (model == null || aliases.isEmpty()) {
            return model;
        }
        return aliases.getOrDefault(model, model);
    }

    public boolean isEmpty() {
        return aliases.isEmpty();
    }

    static ModelAliases read(RouterConfigReader.Settings s) {
        JsonNode n = s.node("model_aliases");
        if (n == null) {
            return NONE;
        }
        if (!n.isObject()) {
            throw new ConfigException("model_aliases must be a mapping of alias to model, like {\"fast\": \"claude-haiku-4-5\"}");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String alias = e.getKey();
            if (alias.isBlank() || alias.length() > MAX_NAME) {
                throw new ConfigException("model_aliases: an alias must be a non-empty name of at most " + MAX_NAME + " characters");
            }
            JsonNode target = e.getValue();
            if (!target.isTextual() || target.asText().isBlank() || target.asText().length() > MAX_NAME) {
                throw new ConfigException("model_aliases['" + alias + "'] must be a model name (a non-empty string of at most "
                        + MAX_NAME + " characters)");
            }
            if (target.asText().equals(alias)) {
                throw new ConfigException("model_aliases['" + alias + "'] names itself");
            }
            map.put(alias, target.asText());
        }
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (map.containsKey(e.getValue())) {
                throw new ConfigException("model_aliases['" + e.getKey() + "'] is '" + e.getValue()
                        + "', which is itself an alias: aliases are applied once, so name the model directly");
            }
        }
        return new ModelAliases(map);
    }
}
