package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.ironruntime.Json;
import org.junit.jupiter.api.Test;

/** One-hour cache writes and OpenAI service tiers: read from the table, priced apart. */
class PricingTiersTest {
    private static PricingTable table(String json) throws Exception {
        return PricingTable.parse(Json.MAPPER.readTree(json), "test");
    }

    @Test
    void oneHourCacheWritesHaveTheirOwnPrice() throws Exception {
        ModelPrice p = table("{\"claude-x\":{\"input_cost_per_token\":3e-06,\"output_cost_per_token\":1.5e-05,"
                + "\"cache_creation_input_token_cost\":3.75e-06,\"cache_creation_input_token_cost_above_1hr\":6e-06,"
                + "\"cache_read_input_token_cost\":3e-07,\"litellm_provider\":\"anthropic\"}}").find("claude-x");
        assertEquals(6_000_000, p.cacheWrite1hPerToken());
        // 10 input, 300 cache writes of which 200 for an hour, 5 output.
        long expected = 10 * 3_000_000L + 100 * 3_750_000L + 200 * 6_000_000L + 5 * 15_000_000L;
        assertEquals(expected, p.cost(new Usage(10, 0, 300, 200, 5)));
        assertEquals(6_000_000, p.dearestInputPerToken(), "a reservation prices input at the dearest rate");
    }

    @Test
    void anthropicWithoutAOneHourPriceGetsTwiceTheInputOthersTheWritePrice() throws Exception {
        PricingTable t = table("{\"claude-y\":{\"input_cost_per_token\":1e-06,\"output_cost_per_token\":5e-06,"
                + "\"cache_creation_input_token_cost\":1.25e-06},"
                + "\"my-model\":{\"input_cost_per_token\":1e-06,\"output_cost_per_token\":2e-06,"
                + "\"cache_creation_input_token_cost\":1.5e-06}}");
        assertEquals(2_000_000, t.find("claude-y").cacheWrite1hPerToken());
        assertEquals(1_500_000, t.find("my-model").cacheWrite1hPerToken());
    }

    @Test
    void serviceTiersPriceTheirOwnWayAndFallBackToTheBase() throws Exception {
        ModelPrice p = table("{\"gpt-x\":{\"input_cost_per_token\":2.5e-06,\"output_cost_per_token\":1e-05,"
                + "\"cache_read_input_token_cost\":1.25e-06,"
                + "\"input_cost_per_token_priority\":4.25e-06,\"output_cost_per_token_priority\":1.7e-05,"
                + "\"cache_read_input_token_cost_priority\":2.125e-06,"
                + "\"input_cost_per_token_flex\":1.25e-06,\"output_cost_per_token_flex\":5e-06}}").find("gpt-x");
        Usage u = new Usage(100, 50, 0, 10);
        assertEquals(100 * 2_500_000L + 50 * 1_250_000L + 10 * 10_000_000L, p.cost(u));
        assertEquals(100 * 4_250_000L + 50 * 2_125_000L + 10 * 17_000_000L, p.forTier("priority").cost(u));
        // Flex without its own cache price bills cached tokens at the flex input price.
        assertEquals(150 * 1_250_000L + 10 * 5_000_000L, p.forTier("flex").cost(u));
        assertSame(p, p.forTier("default"));
        assertSame(p, p.forTier(null));
        ModelPrice plain = table("{\"gpt-y\":{\"input_cost_per_token\":1e-06,\"output_cost_per_token\":2e-06}}").find("gpt-y");
        assertNull(plain.priority());
        assertSame(plain, plain.forTier("priority"), "no priority prices in the table: the base prices");
    }
}
