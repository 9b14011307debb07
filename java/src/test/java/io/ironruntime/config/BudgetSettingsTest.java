package io.ironruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.Json;
import io.ironruntime.config.BudgetConfig.UnknownModelPolicy;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.ModelPrice;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BudgetSettingsTest {
    private static final String KEY = "\"provider_key\": \"sk-test-0123456789\"";

    @TempDir
    Path tmp;

    /** Settings without persistence plus {@code extra} members (may be empty). */
    private static BudgetConfig budget(String extra) {
        String json = "{" + KEY + ", \"persist\": false" + (extra.isEmpty() ? "" : ", " + extra) + "}";
        return RouterConfigReader.fromJson(json).budget();
    }

    private static ConfigException fails(String json) {
        return assertThrows(ConfigException.class, () -> RouterConfigReader.fromJson(json));
    }

    private static ConfigException failsWith(String extra) {
        return fails("{" + KEY + ", \"persist\": false, " + extra + "}");
    }

    private static String quoted(Object o) {
        try {
            return Json.MAPPER.writeValueAsString(o);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void assertMentions(ConfigException e, String... words) {
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + e.getMessage() + "' should mention " + w);
        }
    }

    // ---- budget ----

    @Test
    void budgetAsNumberIsExactPicoDollars() {
        assertEquals(100_000_000_000L, budget("\"budget\": 0.1").limitPicos());
        assertEquals(5_000_000_000_000L, budget("\"budget\": 5").limitPicos());
        assertEquals(12_345_678_900_000L, budget("\"budget\": 12.3456789").limitPicos());
        assertEquals(0, budget("\"budget\": 0").limitPicos());
        assertEquals(9_000_000L * 1_000_000_000_000L, budget("\"budget\": 9000000").limitPicos());
    }

    @Test
    void budgetAsDecimalStringIsExactAndRoundsDownBelowAPico() {
        assertEquals(100_000_000_000L, budget("\"budget\": \"0.1\"").limitPicos());
        assertEquals(2_500_000_000_000L, budget("\"budget\": \" 2.50 \"").limitPicos());
        assertEquals(123_456_789_012L, budget("\"budget\": \"0.1234567890129\"").limitPicos());
        assertEquals(1, budget("\"budget\": \"0.0000000000019\"").limitPicos());
        assertEquals(0, budget("\"budget\": \"0.0000000000009\"").limitPicos());
        assertEquals(1_000_000_000_000L, budget("\"budget\": \"1e0\"").limitPicos());
        assertEquals(9_000_000_000_000_000_000L, budget("\"budget\": \"9000000.000\"").limitPicos());
    }

    @Test
    void budgetLimitReadsDecimalTextOrNull() {
        assertEquals(100_000_000_000L, RouterConfigReader.budgetLimit("0.1"));
        assertEquals(999_999_999_999L, RouterConfigReader.budgetLimit("0.9999999999999"));
        assertEquals(7_000_000_000_000L, RouterConfigReader.budgetLimit("7"));
        assertEquals(BudgetLedger.UNLIMITED, RouterConfigReader.budgetLimit(null));
        assertMentions(assertThrows(ConfigException.class, () -> RouterConfigReader.budgetLimit("-1")), "budget");
        assertMentions(assertThrows(ConfigException.class, () -> RouterConfigReader.budgetLimit("NaN")), "budget");
        assertMentions(assertThrows(ConfigException.class, () -> RouterConfigReader.budgetLimit("abc")), "budget");
        assertMentions(assertThrows(ConfigException.class, () -> RouterConfigReader.budgetLimit("")), "budget");
        assertMentions(assertThrows(ConfigException.class, () -> RouterConfigReader.budgetLimit("9000000.01")), "budget");
    }

    @Test
    void noBudgetIsUnlimited() {
        assertEquals(BudgetLedger.UNLIMITED, budget("").limitPicos());
        assertEquals(BudgetLedger.UNLIMITED, budget("\"budget\": null").limitPicos());
    }

    @Test
    void invalidBudgetsAreRejectedNamingBudget() {
        for (String bad : List.of("-0.01", "\"-5\"", "\"NaN\"", "\"abc\"", "\"Infinity\"", "9000000.5", "\"9000001\"",
                "1e30", "true", "[1]", "{\"usd\": 1}")) {
            assertMentions(failsWith("\"budget\": " + bad), "budget");
        }
    }

    // ---- budget_id ----

    @Test
    void budgetIdIsKeptWithPersistence() {
        String id = "team-a/project:1 é";
        BudgetConfig c = RouterConfigReader.fromJson("{" + KEY + ", \"state_dir\": " + quoted(tmp.toString())
                + ", \"budget_id\": " + quoted(id) + "}").budget();
        assertEquals(id, c.budgetId());
        String longest = "x".repeat(200);
        assertEquals(longest, RouterConfigReader.fromJson("{" + KEY + ", \"state_dir\": " + quoted(tmp.toString())
                + ", \"budget_id\": " + quoted(longest) + "}").budget().budgetId());
        assertNull(budget("").budgetId());
    }

    @Test
    void invalidBudgetIdsAreRejected() {
        for (String bad : List.of("", "   ", "a\tb", "line\nbreak", "nul\u0000", "del\u007f", "x".repeat(201))) {
            ConfigException e = fails("{" + KEY + ", \"state_dir\": " + quoted(tmp.toString())
                    + ", \"budget_id\": " + quoted(bad) + "}");
            assertMentions(e, "budget_id");
        }
        assertMentions(fails("{" + KEY + ", \"state_dir\": " + quoted(tmp.toString()) + ", \"budget_id\": 5}"),
                "budget_id");
    }

    @Test
    void budgetIdWithoutPersistenceIsAnError() {
        assertMentions(failsWith("\"budget_id\": \"team-a\""), "budget_id", "persist");
    }

    // ---- unknown_model ----

    @Test
    void unknownModelIsBlockOrAllow() {
        assertEquals(UnknownModelPolicy.BLOCK, budget("").unknownModel());
        assertEquals(UnknownModelPolicy.BLOCK, budget("\"unknown_model\": \"block\"").unknownModel());
        assertEquals(UnknownModelPolicy.ALLOW, budget("\"unknown_model\": \"allow\"").unknownModel());
        assertEquals(UnknownModelPolicy.ALLOW, budget("\"unknown_model\": \"ALLOW\"").unknownModel());
        assertMentions(failsWith("\"unknown_model\": \"warn\""), "unknown_model");
        assertMentions(failsWith("\"unknown_model\": \"\""), "unknown_model");
        assertMentions(failsWith("\"unknown_model\": true"), "unknown_model");
    }

    // ---- budget_alerts ----

    @Test
    void budgetAlertsDefault() {
        assertEquals(List.of(500_000, 800_000, 950_000, 1_000_000), budget("").alertsPpm());
        assertEquals(List.of(500_000, 800_000, 950_000, 1_000_000), budget("\"budget_alerts\": null").alertsPpm());
    }

    @Test
    void budgetAlertsAreSortedDeduplicatedPartsPerMillion() {
        assertEquals(List.of(250_000, 500_000, 800_000, 1_000_000),
                budget("\"budget_alerts\": [1.0, 0.5, \"0.8\", 0.5, 0.25, \"0.50\", 1]").alertsPpm());
        assertEquals(List.of(1, 999_999), budget("\"budget_alerts\": [\"0.999999\", \"0.0000001\"]").alertsPpm());
        assertEquals(List.of(), budget("\"budget_alerts\": []").alertsPpm());
    }

    @Test
    void budgetAlertsOutsideZeroToOneAreRejected() {
        for (String bad : List.of("[0]", "[0.0]", "[-0.5]", "[1.01]", "[0.5, 2]", "[\"1.0000001\"]")) {
            assertMentions(failsWith("\"budget_alerts\": " + bad), "budget_alerts", "fractions");
        }
        assertMentions(failsWith("\"budget_alerts\": 0.5"), "budget_alerts");
        assertMentions(failsWith("\"budget_alerts\": [\"half\"]"), "budget_alerts");
    }

    // ---- pricing ----

    @Test
    void missingPricingFileIsNamed() {
        Path missing = tmp.resolve("nope.json");
        assertMentions(failsWith("\"pricing_file\": " + quoted(missing.toString())), missing.toString());
    }

    @Test
    void pricingFileThatIsNotJsonIsNamed() throws Exception {
        Path bad = tmp.resolve("prices.json");
        Files.writeString(bad, "{ not json", StandardCharsets.UTF_8);
        ConfigException e = failsWith("\"pricing_file\": " + quoted(bad.toString()));
        assertMentions(e, bad.toString(), "JSON");

        Path array = tmp.resolve("array.json");
        Files.writeString(array, "[1, 2]", StandardCharsets.UTF_8);
        assertMentions(failsWith("\"pricing_file\": " + quoted(array.toString())), array.toString());
    }

    @Test
    void pricingFileOverridesBundledPricesAndAddsModels() throws Exception {
        ModelPrice bundledMini = budget("").pricing().find("gpt-4o-mini");
        assertNotNull(bundledMini);
        assertEquals(150_000, bundledMini.inputPerToken());
        assertNull(budget("").pricing().find("my-local-model"));

        Path file = tmp.resolve("model_prices.json");
        Files.writeString(file, "{"
                + "\"sample_spec\": {\"max_tokens\": \"LEGACY\", \"input_cost_per_token\": 0},"
                + "\"gpt-4o-mini\": {\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": 2e-06,"
                + " \"max_output_tokens\": 1000, \"litellm_provider\": \"openai\", \"mode\": \"chat\"},"
                + "\"openai/my-local-model\": {\"input_cost_per_token\": 3e-07, \"output_cost_per_token\": 9e-07,"
                + " \"cache_read_input_token_cost\": 1e-07}"
                + "}", StandardCharsets.UTF_8);
        BudgetConfig c = budget("\"pricing_file\": " + quoted(file.toString()));
        ModelPrice mini = c.pricing().find("gpt-4o-mini");
        assertEquals(1_000_000, mini.inputPerToken());
        assertEquals(2_000_000, mini.outputPerToken());
        assertEquals(1_000_000, mini.cacheReadPerToken());
        assertEquals(1_000, mini.maxOutputTokens());
        assertEquals(1_000_000, c.pricing().find("gpt-4o-mini-2024-07-18").inputPerToken());
        ModelPrice local = c.pricing().find("my-local-model");
        assertNotNull(local);
        assertEquals(300_000, local.inputPerToken());
        assertEquals(900_000, local.outputPerToken());
        assertEquals(100_000, local.cacheReadPerToken());
        assertEquals(300_000, local.cacheWritePerToken());
        // models the file does not mention keep the bundled price
        assertEquals(budget("").pricing().find("gpt-4o"), c.pricing().find("gpt-4o"));
    }

    @Test
    void customPricingOverridesBundledAndFilePricesAndAddsModels() throws Exception {
        Path file = tmp.resolve("p.json");
        Files.writeString(file, "{\"gpt-4o-mini\": {\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": 2e-06}}",
                StandardCharsets.UTF_8);
        BudgetConfig c = budget("\"pricing_file\": " + quoted(file.toString()) + ", \"custom_pricing\": {"
                + "\"gpt-4o-mini\": {\"input_cost_per_token\": \"5e-07\", \"output_cost_per_token\": 0.000004},"
                + "\"acme-1\": {\"input_cost_per_token\": 0.00000125, \"output_cost_per_token\": 0.00001,"
                + " \"cache_creation_input_token_cost\": 0.0000015625, \"max_output_tokens\": 8192}}");
        ModelPrice mini = c.pricing().find("gpt-4o-mini");
        assertEquals(500_000, mini.inputPerToken());
        assertEquals(4_000_000, mini.outputPerToken());
        ModelPrice acme = c.pricing().find("ACME-1");
        assertEquals(new ModelPrice("acme-1", 1_250_000, 10_000_000, 1_250_000, 1_562_500, 8_192), acme);

        BudgetConfig onlyCustom = budget("\"custom_pricing\": {\"claude-sonnet-4\": "
                + "{\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": 1e-06}}");
        assertEquals(1_000_000, onlyCustom.pricing().find("claude-sonnet-4-20250514").outputPerToken());
    }

    @Test
    void customPricingEntryNeedsBothPrices() {
        assertMentions(failsWith("\"custom_pricing\": {\"acme-1\": {\"input_cost_per_token\": 1e-06}}"),
                "custom_pricing");
        assertMentions(failsWith("\"custom_pricing\": {\"acme-1\": {\"output_cost_per_token\": 1e-06}}"),
                "custom_pricing");
        assertMentions(failsWith("\"custom_pricing\": {\"acme-1\": {\"input_cost_per_token\": -1e-06,"
                + " \"output_cost_per_token\": 1e-06}}"), "custom_pricing");
        assertMentions(failsWith("\"custom_pricing\": [1]"), "custom_pricing");
    }

    // ---- where the ledger lives ----

    @Test
    void stateDirGivesTheDatabasePath() {
        BudgetConfig c = RouterConfigReader.fromJson("{" + KEY + ", \"state_dir\": " + quoted(tmp.toString()) + "}")
                .budget();
        assertEquals(tmp.resolve("iron_runtime.db").toAbsolutePath(), c.database());
    }

    @Test
    void ironRuntimeHomeFromEnvIsUsedWithoutStateDir() {
        Path home = tmp.resolve("home");
        BudgetConfig c = RouterConfigReader.fromJson("{" + KEY + ", \"env\": {\"IRON_RUNTIME_HOME\": "
                + quoted(home.toString()) + "}}").budget();
        assertEquals(home.resolve("iron_runtime.db").toAbsolutePath(), c.database());

        Path dir = tmp.resolve("explicit");
        BudgetConfig both = RouterConfigReader.fromJson("{" + KEY + ", \"state_dir\": " + quoted(dir.toString())
                + ", \"env\": {\"IRON_RUNTIME_HOME\": " + quoted(home.toString()) + "}}").budget();
        assertEquals(dir.resolve("iron_runtime.db").toAbsolutePath(), both.database());
    }

    @Test
    void persistFalseHasNoDatabase() {
        assertNull(budget("").database());
        assertNull(RouterConfigReader.fromJson("{" + KEY + ", \"persist\": false, \"state_dir\": "
                + quoted(tmp.toString()) + "}").budget().database());
        assertEquals(tmp.resolve("iron_runtime.db").toAbsolutePath(), RouterConfigReader.fromJson("{" + KEY
                + ", \"persist\": true, \"state_dir\": " + quoted(tmp.toString()) + "}").budget().database());
        assertMentions(fails("{" + KEY + ", \"persist\": \"no\", \"state_dir\": " + quoted(tmp.toString()) + "}"),
                "persist");
    }

    @Test
    void readingTheConfigCreatesNoFiles() throws Exception {
        Path home = tmp.resolve("state");
        RouterConfigReader.fromJson("{" + KEY + ", \"state_dir\": " + quoted(home.toString()) + "}");
        assertTrue(Files.notExists(home));
    }
}
