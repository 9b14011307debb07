package io.ironruntime.config;

import io.ironruntime.pii.CustomPattern;
import io.ironruntime.pii.EntityType;
import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Scanner;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * PII and secret handling, validated with the rest by {@link RouterConfigReader}.
 *
 * @param mode      what happens to a detected value
 * @param scope     which direction is scanned
 * @param detectors the built-in detectors that run
 * @param patterns  the user's own detectors
 * @param region    where phone numbers written without a country code are from (ISO 3166, e.g. "US")
 * @param salt      the key of hash tokens and audit fingerprints; random per router unless given; never printed
 */
public record PiiConfig(PiiMode mode, Scope scope, Set<EntityType> detectors, List<CustomPattern> patterns,
        String region, byte[] salt) {

    public PiiConfig {
        detectors = detectors.isEmpty() ? EnumSet.noneOf(EntityType.class) : EnumSet.copyOf(detectors);
        patterns = List.copyOf(patterns);
        salt = salt.clone();
    }

    /** The direction the user protects ({@code pii_scope}). */
    public enum Scope {
        /** What the agent sends, before anything leaves the machine. */
        REQUEST,
        /** What the model answers, before the agent sees it. */
        RESPONSE,
        BOTH
    }

    public boolean scansRequests() {
        return mode != PiiMode.OFF && scope != Scope.RESPONSE && hasDetectors();
    }

    public boolean scansResponses() {
        return mode != PiiMode.OFF && scope != Scope.REQUEST && hasDetectors();
    }

    private boolean hasDetectors() {
        return !detectors.isEmpty() || !patterns.isEmpty();
    }

    public Scanner scanner() {
        return new Scanner(detectors, region, patterns);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    /** Safe to log: never the salt. */
    @Override
    public String toString() {
        return "PiiConfig[mode=" + mode.wireName() + ", scope=" + scope + ", detectors=" + detectors
                + ", patterns=" + patterns.stream().map(CustomPattern::name).toList() + ", region=" + region + "]";
    }
}
