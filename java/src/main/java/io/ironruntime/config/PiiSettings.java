package io.ironruntime.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.pii.CustomPattern;
import io.ironruntime.pii.EntityType;
import io.ironruntime.pii.PhoneValidator;
import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Validators;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Reads and validates {@code pii}, {@code pii_scope}, {@code pii_patterns}, {@code pii_detectors}, {@code pii_region} and {@code pii_salt}. */
final class PiiSettings {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    private static final Set<String> PATTERN_KEYS = Set.of("name", "regex", "validator");
    static final List<String> VALIDATOR_NAMES = List.of("luhn", "mod97", "iban", "ssn", "ipv4", "ipv6", "email", "card");

    private PiiSettings() {
    }

    static PiiConfig read(RouterConfigReader.Settings s) {
        return new PiiConfig(mode(s.node("pii")), scope(s.text("pii_scope", "both")), detectors(s.node("pii_detectors")),
                patterns(s.node("pii_patterns")), region(s.text("pii_region", "US")), salt(s.text("pii_salt", null)));
    }

    private static PiiMode mode(JsonNode n) {
        if (n == null) {
            return PiiMode.REDACT;
        }
        if (n.isBoolean()) {
            return n.asBoolean() ? PiiMode.REDACT : PiiMode.OFF;
        }
        PiiMode m = n.isTextual() ? PiiMode.ofWireName(n.asText().toLowerCase(Locale.ROOT)) : null;
        if (m == null) {
            throw new ConfigException("pii must be one of 'redact', 'mask', 'hash', 'block', 'detect', 'off'"
                    + (n.isTextual() ? ", got '" + n.asText() + "'" : ""));
        }
        return m;
    }

    private static PiiConfig.Scope scope(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "request" -> PiiConfig.Scope.REQUEST;
            case "response" -> PiiConfig.Scope.RESPONSE;
            case "both" -> PiiConfig.Scope.BOTH;
            default -> throw new ConfigException("pii_scope must be 'request', 'response' or 'both', got '" + v + "'");
        };
    }

    /** {@code {"IP_ADDRESS": false, ...}}: every built-in detector runs unless switched off here. */
    private static Set<EntityType> detectors(JsonNode n) {
        EnumSet<EntityType> on = EnumSet.allOf(EntityType.class);
        if (n == null) {
            return on;
        }
        if (!n.isObject()) {
            throw new ConfigException("pii_detectors must be a mapping of detector name to True/False, e.g. {'IP_ADDRESS': False}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            EntityType t = entityType(e.getKey());
            if (!e.getValue().isBoolean()) {
                throw new ConfigException("pii_detectors['" + e.getKey() + "'] must be True or False");
            }
            if (!e.getValue().asBoolean()) {
                on.remove(t);
            }
        }
        return on;
    }

    private static EntityType entityType(String name) {
        try {
            return EntityType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("pii_detectors: unknown detector '" + name + "'; the detectors are "
                    + Arrays.toString(EntityType.values()));
        }
    }

    private static List<CustomPattern> patterns(JsonNode n) {
        if (n == null) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new ConfigException("pii_patterns must be a list of {'name': ..., 'regex': ..., 'validator': None}");
        }
        List<CustomPattern> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < n.size(); i++) {
            CustomPattern p = pattern(n.get(i), "pii_patterns[" + i + "]");
            if (!names.add(p.name())) {
                throw new ConfigException("pii_patterns: the name '" + p.name() + "' is used twice");
            }
            out.add(p);
        }
        return out;
    }

    private static CustomPattern pattern(JsonNode p, String where) {
        if (p == null || !p.isObject()) {
            throw new ConfigException(where + " must be a mapping with 'name' and 'regex'");
        }
        for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!PATTERN_KEYS.contains(k)) {
                throw new ConfigException(where + ": unknown key '" + k + "' (expected name, regex, validator)");
            }
        }
        JsonNode nameNode = p.get("name");
        if (nameNode == null || !nameNode.isTextual() || !NAME.matcher(nameNode.asText()).matches()) {
            throw new ConfigException(where + ".name must be a word of letters, digits and _ starting with a letter"
                    + " (at most 64), e.g. 'EMPLOYEE_ID'");
        }
        String name = nameNode.asText().toUpperCase(Locale.ROOT);
        if (Arrays.stream(EntityType.values()).anyMatch(t -> t.name().equals(name))) {
            throw new ConfigException(where + ".name '" + name + "' is a built-in detector; choose another name");
        }
        JsonNode regexNode = p.get("regex");
        if (regexNode == null || !regexNode.isTextual() || regexNode.asText().isEmpty()) {
            throw new ConfigException(where + ".regex must be a non-empty regular expression");
        }
        Pattern regex;
        try {
            regex = Pattern.compile(regexNode.asText());
        } catch (PatternSyntaxException e) {
            throw new ConfigException(where + ".regex is not a valid regular expression: " + e.getDescription()
                    + " near index " + e.getIndex());
        }
        if (regex.matcher("").matches()) {
            throw new ConfigException(where + ".regex matches the empty text; it must match at least one character");
        }
        JsonNode v = p.get("validator");
        Validators.Validator validator = null;
        if (v != null && !v.isNull()) {
            validator = v.isTextual() ? Validators.byName(v.asText()) : null;
            if (validator == null) {
                throw new ConfigException(where + ".validator must be None or one of " + VALIDATOR_NAMES);
            }
        }
        return new CustomPattern(name, regex, validator);
    }

    private static String region(String r) {
        String up = r.toUpperCase(Locale.ROOT);
        if (!PhoneValidator.knownRegion(up)) {
            throw new ConfigException("pii_region must be a two-letter country code such as 'US' or 'DE', got '" + r + "'");
        }
        return up;
    }

    private static byte[] salt(String given) {
        if (given != null) {
            if (given.length() < 16) {
                throw new ConfigException("pii_salt must be at least 16 characters");
            }
            return given.getBytes(StandardCharsets.UTF_8);
        }
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return b;
    }
}
