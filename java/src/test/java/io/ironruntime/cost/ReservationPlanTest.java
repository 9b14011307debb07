package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReservationPlanTest {
    /** gpt-4o-mini-like: $0.15 / $0.60 per million tokens, cache reads half price. */
    private static final ModelPrice MINI = new ModelPrice("mini", 150_000, 600_000, 75_000, 150_000, 16_384);

    @Test
    void clientBoundMakesMinimumEqualWanted() {
        ReservationPlan p = ReservationPlan.of(MINI, 1_000, 100, 1, true);
        long input = 1_000L * 150_000;
        long whole = input + 100L * 600_000;
        assertEquals(input, p.inputCost());
        assertEquals(600_000, p.outputPerToken());
        assertEquals(whole, p.minimum());
        assertEquals(whole, p.wanted());
        assertEquals(100, p.outputCap());
        assertTrue(p.clientBound());
    }

    @Test
    void clientBoundOfZeroReservesOnlyTheInput() {
        ReservationPlan p = ReservationPlan.of(MINI, 10, 0, 1, true);
        assertEquals(1_500_000, p.minimum());
        assertEquals(1_500_000, p.wanted());
        assertEquals(0, p.outputCap());
        assertTrue(p.clientBound());
    }

    @Test
    void inputIsPricedAtTheDearestInputRate() {
        // cache write dearest (Anthropic: 1.25x input)
        ModelPrice write = new ModelPrice("w", 3_000_000, 15_000_000, 300_000, 3_750_000, 8_192);
        assertEquals(100L * 3_750_000, ReservationPlan.of(write, 100, 10, 1, true).inputCost());
        // cache read dearest (odd, but the bound must still hold)
        ModelPrice read = new ModelPrice("r", 1_000, 2_000, 5_000, 4_000, 0);
        assertEquals(100L * 5_000, ReservationPlan.of(read, 100, 10, 1, true).inputCost());
        // plain input dearest
        assertEquals(100L * 150_000, ReservationPlan.of(MINI, 100, 10, 1, true).inputCost());
        ReservationPlan w = ReservationPlan.of(write, 100, 10, 1, true);
        assertEquals(100L * 3_750_000 + 10L * 15_000_000, w.wanted());
    }

    @Test
    void withoutClientBoundWantedUsesTheModelMaximumAndMinimumUsesMinOutput() {
        ReservationPlan p = ReservationPlan.of(MINI, 1_000, -1, 1, true);
        long input = 1_000L * 150_000;
        assertFalse(p.clientBound());
        assertEquals(16_384, p.outputCap());
        assertEquals(input + 16_384L * 600_000, p.wanted());
        assertEquals(input + ReservationPlan.MIN_OUTPUT_TOKENS * 600_000, p.minimum());
        assertTrue(p.minimum() < p.wanted());
    }

    @Test
    void withoutClientBoundAndUnknownMaximumTheDefaultCapApplies() {
        ModelPrice noMax = new ModelPrice("x", 1_000, 2_000, 1_000, 1_000, 0);
        ReservationPlan p = ReservationPlan.of(noMax, 50, -1, 1, true);
        assertEquals(ReservationPlan.DEFAULT_OUTPUT_CAP, p.outputCap());
        assertEquals(50L * 1_000 + 4_096L * 2_000, p.wanted());
        assertEquals(50L * 1_000 + 16L * 2_000, p.minimum());
    }

    @Test
    void minimumNeverAsksForMoreOutputThanTheModelMaximum() {
        ModelPrice tiny = new ModelPrice("tiny", 1_000, 2_000, 1_000, 1_000, 10);
        ReservationPlan p = ReservationPlan.of(tiny, 5, -1, 1, true);
        assertEquals(10, p.outputCap());
        assertEquals(5_000 + 10L * 2_000, p.wanted());
        assertEquals(p.wanted(), p.minimum());
    }

    @Test
    void choicesMultiplyTheOutputPrice() {
        ReservationPlan three = ReservationPlan.of(MINI, 1_000, 100, 3, true);
        assertEquals(1_800_000, three.outputPerToken());
        assertEquals(1_000L * 150_000 + 100L * 1_800_000, three.wanted());

        ReservationPlan unbounded = ReservationPlan.of(MINI, 1_000, -1, 4, true);
        assertEquals(2_400_000, unbounded.outputPerToken());
        assertEquals(1_000L * 150_000 + 16_384L * 2_400_000, unbounded.wanted());
        assertEquals(1_000L * 150_000 + 16L * 2_400_000, unbounded.minimum());

        // zero or negative choices count as one
        assertEquals(600_000, ReservationPlan.of(MINI, 1, 1, 0, true).outputPerToken());
        assertEquals(600_000, ReservationPlan.of(MINI, 1, 1, -3, true).outputPerToken());
    }

    @Test
    void inputOnlyEndpointsReserveJustTheInput() {
        ModelPrice embed = new ModelPrice("embed", 20_000, 0, 20_000, 20_000, 0);
        ReservationPlan p = ReservationPlan.of(embed, 8_000, -1, 1, false);
        assertEquals(160_000_000, p.inputCost());
        assertEquals(160_000_000, p.minimum());
        assertEquals(160_000_000, p.wanted());
        assertEquals(0, p.outputCap());
        assertFalse(p.clientBound());
        assertEquals(0, p.outputTokensFor(1_000_000_000));

        // a client bound is ignored when nothing is produced
        ReservationPlan q = ReservationPlan.of(MINI, 100, 500, 2, false);
        assertEquals(15_000_000, q.wanted());
        assertEquals(15_000_000, q.minimum());
        assertEquals(0, q.outputCap());
        assertEquals(0, q.outputTokensFor(Long.MAX_VALUE));
    }

    @Test
    void outputTokensForFloorsAndCaps() {
        ReservationPlan p = ReservationPlan.of(MINI, 1_000, -1, 1, true);
        long input = p.inputCost();
        assertEquals(0, p.outputTokensFor(0));
        assertEquals(0, p.outputTokensFor(input - 1));
        assertEquals(0, p.outputTokensFor(input));
        assertEquals(0, p.outputTokensFor(input + 599_999));
        assertEquals(1, p.outputTokensFor(input + 600_000));
        assertEquals(20, p.outputTokensFor(input + 20 * 600_000 + 599_999));
        assertEquals(16, p.outputTokensFor(p.minimum()));
        assertEquals(16_384, p.outputTokensFor(p.wanted()));
        assertEquals(16_384, p.outputTokensFor(p.wanted() + 600_000_000L));
        assertEquals(16_384, p.outputTokensFor(Long.MAX_VALUE));
    }

    @Test
    void outputTokensForWithFreeOutputIsTheCap() {
        ModelPrice free = new ModelPrice("free", 1_000, 0, 1_000, 1_000, 2_000);
        ReservationPlan p = ReservationPlan.of(free, 10, -1, 1, true);
        assertEquals(10_000, p.minimum());
        assertEquals(10_000, p.wanted());
        assertEquals(2_000, p.outputTokensFor(0));
    }

    @Test
    void overflowSaturatesInsteadOfWrapping() {
        // input tokens times rate overflows
        ReservationPlan in = ReservationPlan.of(MINI, Long.MAX_VALUE / 2, 10, 1, true);
        assertEquals(Long.MAX_VALUE, in.inputCost());
        assertEquals(Long.MAX_VALUE, in.wanted());
        assertEquals(Long.MAX_VALUE, in.minimum());

        // output price times choices overflows
        ModelPrice dear = new ModelPrice("dear", 1, Long.MAX_VALUE / 2, 1, 1, 0);
        ReservationPlan ch = ReservationPlan.of(dear, 1, 1, 3, true);
        assertEquals(Long.MAX_VALUE, ch.outputPerToken());
        assertEquals(Long.MAX_VALUE, ch.wanted());

        // bound times output price overflows, and so would the sum
        ReservationPlan bound = ReservationPlan.of(MINI, 1, Long.MAX_VALUE / 100_000, 1, true);
        assertEquals(Long.MAX_VALUE, bound.wanted());
        assertEquals(Long.MAX_VALUE, bound.minimum());

        // input plus output overflows only in the sum
        long half = Long.MAX_VALUE / 2 + 1;
        ModelPrice one = new ModelPrice("one", 1, 1, 1, 1, 0);
        ReservationPlan sum = ReservationPlan.of(one, half, half, 1, true);
        assertEquals(half, sum.inputCost());
        assertEquals(Long.MAX_VALUE, sum.wanted());

        // no client bound: the model maximum times a huge price
        ModelPrice huge = new ModelPrice("huge", 1, Long.MAX_VALUE / 1_000, 1, 1, 100_000);
        ReservationPlan cap = ReservationPlan.of(huge, 1, -1, 1, true);
        assertEquals(Long.MAX_VALUE, cap.wanted());
        assertTrue(cap.minimum() > 0);
        assertTrue(cap.minimum() <= cap.wanted());

        // everything saturated still plans without a negative grant
        ReservationPlan all = ReservationPlan.of(dear, Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE, true);
        assertEquals(Long.MAX_VALUE, all.inputCost());
        assertEquals(Long.MAX_VALUE, all.wanted());
        assertEquals(0, all.outputTokensFor(Long.MAX_VALUE));
    }

    @Test
    void exactPlanForAnUnboundedRequestMatchesTheFormula() {
        ModelPrice sonnet = new ModelPrice("claude-sonnet-4", 3_000_000, 15_000_000, 300_000, 3_750_000, 64_000);
        ReservationPlan p = ReservationPlan.of(sonnet, 2_000, -1, 1, true);
        assertEquals(new ReservationPlan(7_500_000_000L, 15_000_000, 7_500_000_000L + 240_000_000L,
                7_500_000_000L + 960_000_000_000L, 64_000, false), p);
    }
}
