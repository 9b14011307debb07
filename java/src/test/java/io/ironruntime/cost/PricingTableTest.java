package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.config.ConfigException;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class PricingTableTest {
    private final PricingTable bundled = PricingTable.bundled();

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    @Test
    void bundledTableHasTheCurrentChatModelsOfBothProviders() {
        for (String m : new String[] {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-5", "o3", "o4-mini",
                "claude-sonnet-4", "claude-opus-4-1", "claude-haiku-4-5", "claude-3-5-haiku"}) {
            ModelPrice p = bundled.find(m);
            assertNotNull(p, m);
            assertTrue(p.inputPerToken() > 0 && p.outputPerToken() > p.inputPerToken(), m);
            assertTrue(p.maxOutputTokens() > 0, m);
        }
    }

    @Test
    void datedSnapshotsResolveToTheirFamilyUnlessPricedThemselves() {
        assertEquals("gpt-4o-mini", bundled.find("gpt-4o-mini-2024-07-18").model());
        assertEquals("claude-sonnet-4", bundled.find("claude-sonnet-4-20250514").model());
        assertEquals("claude-3-5-sonnet", bundled.find("claude-3-5-sonnet-latest").model());
        assertEquals("gpt-4o", bundled.find("GPT-4o-2024-08-06").model());
        // an old snapshot with its own, higher price keeps it
        assertEquals(5_000_000L, bundled.find("gpt-4o-2024-05-13").inputPerToken());
        assertNull(bundled.find("gpt-4o-mini-turbo-2024-07-18"));
        assertNull(bundled.find("llama-3-70b"));
        assertNull(bundled.find(""));
        assertNull(bundled.find(null));
    }

    @Test
    void costIsExactProviderArithmeticInPicodollars() {
        // gpt-4o-mini: $0.15 / $0.60 per million, cached input $0.075 per million.
        ModelPrice mini = bundled.find("gpt-4o-mini");
        assertEquals(150_000L, mini.inputPerToken());
        assertEquals(600_000L, mini.outputPerToken());
        assertEquals(75_000L, mini.cacheReadPerToken());
        long cost = mini.cost(new Usage(800, 200, 0, 500)); // prompt 1000 of which 200 cached
        assertEquals(800 * 150_000L + 200 * 75_000L + 500 * 600_000L, cost);
        assertEquals(435L, Money.picosToMicrosCeil(cost));

        // claude-sonnet-4: $3 in, $15 out, cache write $3.75, cache read $0.30 per million.
        ModelPrice sonnet = bundled.find("claude-sonnet-4-20250514");
        long c = sonnet.cost(new Usage(1200, 10_000, 2_000, 345));
        assertEquals(1200 * 3_000_000L + 10_000 * 300_000L + 2_000 * 3_750_000L + 345 * 15_000_000L, c);
        assertEquals(0.019275, Money.picosToDollars(c), 0.0);
    }

    @Test
    void usersOverrideAndExtendWithLiteLlmShapedEntries() throws Exception {
        PricingTable custom = PricingTable.parse(json("{"
                + "\"sample_spec\": {\"max_tokens\": \"LEGACY parameter\", \"input_cost_per_token\": 0.0},"
                + "\"my-model\": {\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": \"2e-06\"},"
                + "\"openai/gpt-4o-mini\": {\"input_cost_per_token\": 1e-07, \"output_cost_per_token\": 4e-07,"
                + "  \"cache_read_input_token_cost\": 5e-08, \"max_output_tokens\": 1000}}"), "custom_pricing");
        assertEquals(2, custom.size(), "sample_spec has no output price and is skipped");
        PricingTable merged = bundled.with(custom);
        assertEquals(1_000_000L, merged.find("my-model").inputPerToken());
        assertEquals(2_000_000L, merged.find("my-model").outputPerToken());
        assertEquals(1_000_000L, merged.find("my-model").cacheReadPerToken(), "no cache price: billed as input");
        assertEquals(100_000L, merged.find("gpt-4o-mini-2024-07-18").inputPerToken());
        assertEquals(1000, merged.find("gpt-4o-mini").maxOutputTokens());
        assertEquals(2_500_000L, merged.find("gpt-4o").inputPerToken(), "untouched entries stay");
    }

    @Test
    void badPricesNameTheModelAndTheField() {
        ConfigException neg = assertThrows(ConfigException.class, () -> PricingTable.parse(
                json("{\"m\": {\"input_cost_per_token\": -1e-06, \"output_cost_per_token\": 1e-06}}"), "prices.json"));
        assertTrue(neg.getMessage().contains("prices.json, model 'm': input_cost_per_token cannot be negative"),
                neg.getMessage());
        ConfigException text = assertThrows(ConfigException.class, () -> PricingTable.parse(
                json("{\"m\": {\"input_cost_per_token\": \"cheap\", \"output_cost_per_token\": 1e-06}}"), "custom_pricing"));
        assertTrue(text.getMessage().contains("input_cost_per_token is not a number"));
        assertThrows(ConfigException.class, () -> PricingTable.parse(json("[1, 2]"), "custom_pricing"));
    }

    @Test
    void moneyConversions() {
        assertEquals(0L, Money.picosToMicrosCeil(0));
        assertEquals(1L, Money.picosToMicrosCeil(1), "a charge is never rounded down to free");
        assertEquals(1L, Money.picosToMicrosCeil(1_000_000));
        assertEquals(2L, Money.picosToMicrosCeil(1_000_001));
        assertEquals(75_000L, Money.dollarsPerTokenToPicos(new BigDecimal("7.5e-08")));
        assertEquals(1L, Money.dollarsPerTokenToPicos(new BigDecimal("1e-15")), "finer than a picodollar rounds up");
        assertEquals(1.5, Money.picosToDollars(1_500_000_000_000L), 0.0);
        assertThrows(ArithmeticException.class,
                () -> new ModelPrice("m", Long.MAX_VALUE / 2, 0, 0, 0, 0).cost(new Usage(3, 0, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> new Usage(-1, 0, 0, 0));
    }
}
