package io.ironruntime.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Conversions at the edges; inside, money is a long of pico-dollars. */
public final class Money {
    public static final long PICOS_PER_MICRO = 1_000_000L;
    public static final long PICOS_PER_DOLLAR = 1_000_000_000_000L;
    private static final BigDecimal PICOS_PER_DOLLAR_DECIMAL = BigDecimal.valueOf(PICOS_PER_DOLLAR);

    private Money() {
    }

    /** Micro-dollars for the Iron Cage wire, rounded up: a reported charge is never below the real one. */
    public static long picosToMicrosCeil(long picos) {
        return Math.floorDiv(picos + PICOS_PER_MICRO - 1, PICOS_PER_MICRO);
    }

    /** Dollars as a float, for the Python edge only. */
    public static double picosToDollars(long picos) {
        // A scaled BigDecimal, not a division: doubleValue() is then the correctly rounded double, and
        // below 2^52 picos (4,500 USD) it is one double division. An exact BigDecimal.divide costs ~10 us.
        return BigDecimal.valueOf(picos, 12).doubleValue();
    }

    /** Micro-dollars (the Iron Cage wire's unit) as dollars, for the Python edge only. */
    public static double microsToUsd(long micros) {
        return BigDecimal.valueOf(micros, 6).doubleValue();
    }

    /**
     * A per-token price in dollars (as LiteLLM writes it, e.g. {@code 1.5e-07}) to pico-dollars.
     * Published prices are whole pico-dollars; anything finer is rounded up so it is never free.
     */
    public static long dollarsPerTokenToPicos(BigDecimal dollars) {
        if (dollars.signum() < 0) {
            throw new IllegalArgumentException("a price cannot be negative");
        }
        return dollars.multiply(PICOS_PER_DOLLAR_DECIMAL).setScale(0, RoundingMode.CEILING).longValueExact();
    }
}
