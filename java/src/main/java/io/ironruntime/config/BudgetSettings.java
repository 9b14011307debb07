package io.ironruntime.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.config.BudgetConfig.UnknownModelPolicy;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.cost.PricingTable;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Reads and validates the budget, pricing and ledger settings into a {@link BudgetConfig}. */
final class BudgetSettings {
    /** A long of pico-dollars holds a little over nine million dollars. */
    static final BigDecimal MAX_BUDGET_USD = BigDecimal.valueOf(9_000_000);
    private static final int MAX_BUDGET_ID = 200;

    private BudgetSettings() {
    }

    static BudgetConfig read(RouterConfigReader.Settings s) {
        long limit = limit(s.node("budget"));
        String budgetId = budgetId(s.text("budget_id", null));
        Path database = database(s);
        PricingTable pricing = pricing(s);
        UnknownModelPolicy unknown = switch (s.text("unknown_model", "block").toLowerCase(Locale.ROOT)) {
            case "block" -> UnknownModelPolicy.BLOCK;
            case "allow" -> UnknownModelPolicy.ALLOW;
            default -> throw new ConfigException("unknown_model must be 'block' or 'allow'");
        };
        if (budgetId != null && database == null) {
            throw new ConfigException("budget_id needs persistence: it names spend kept in the database, but persist is false");
        }
        return new BudgetConfig(limit, budgetId, database, pricing, unknown, alerts(s.node("budget_alerts")));
    }

    /** USD (a number or a decimal string) to pico-dollars, rounded down: never more than the user gave. */
    static long limit(JsonNode n) {
        if (n == null) {
            return BudgetLedger.UNLIMITED;
        }
        BigDecimal usd = decimal(n, "budget");
        if (usd.signum() < 0) {
            throw new ConfigException("budget cannot be negative, got " + usd.toPlainString());
        }
        if (usd.compareTo(MAX_BUDGET_USD) > 0) {
            throw new ConfigException("budget must be at most " + MAX_BUDGET_USD.toPlainString() + " USD, or None for no limit");
        }
        return usd.multiply(BigDecimal.valueOf(Money.PICOS_PER_DOLLAR)).setScale(0, RoundingMode.FLOOR).longValueExact();
    }

    static BigDecimal decimal(JsonNode n, String name) {
        if (n.isNumber()) {
            return n.decimalValue();
        }
        if (n.isTextual()) {
            try {
                return new BigDecimal(n.asText().strip());
            } catch (NumberFormatException e) {
                throw new ConfigException(name + " must be a number of US dollars");
            }
        }
        throw new ConfigException(name + " must be a number of US dollars");
    }

    private static String budgetId(String id) {
        if (id == null) {
            return null;
        }
        if (id.isBlank() || id.length() > MAX_BUDGET_ID || id.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException("budget_id must be 1 to " + MAX_BUDGET_ID + " printable characters");
        }
        return id;
    }

    private static Path database(RouterConfigReader.Settings s) {
        JsonNode persist = s.node("persist");
        if (persist != null && !persist.isBoolean()) {
            throw new ConfigException("persist must be true or false");
        }
        if (persist != null && !persist.asBoolean()) {
            return null;
        }
        String dir = s.text("state_dir", null);
        if (dir == null) {
            dir = s.env("IRON_RUNTIME_HOME");
        }
        try {
            Path base = dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".iron_runtime");
            return base.resolve(BudgetConfig.DATABASE_FILE).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new ConfigException("state_dir is not a valid path: " + e.getReason());
        }
    }

    private static PricingTable pricing(RouterConfigReader.Settings s) {
        PricingTable table = PricingTable.bundled();
        String file = s.text("pricing_file", null);
        if (file != null) {
            try (InputStream in = Files.newInputStream(Path.of(file))) {
                table = table.with(PricingTable.parse(Json.MAPPER.readTree(in), "pricing_file " + file));
            } catch (NoSuchFileException | InvalidPathException e) {
                throw new ConfigException("pricing_file " + file + " does not exist");
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ConfigException("pricing_file " + file + " is not valid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new ConfigException("pricing_file " + file + " cannot be read: " + e.getMessage());
            }
        }
        JsonNode custom = s.node("custom_pricing");
        if (custom != null) {
            PricingTable extra = PricingTable.parse(custom, "custom_pricing");
            if (extra.size() < custom.size()) {
                throw new ConfigException("custom_pricing: every model needs input_cost_per_token and output_cost_per_token");
            }
            table = table.with(extra);
        }
        return table;
    }

    /** Fractions of the budget in (0, 1], e.g. [0.5, 0.8]; parts per million, sorted, without repeats. */
    private static List<Integer> alerts(JsonNode n) {
        if (n == null) {
            return BudgetConfig.DEFAULT_ALERTS_PPM;
        }
        if (!n.isArray()) {
            throw new ConfigException("budget_alerts must be a list of fractions of the budget, like [0.5, 0.8, 1.0]");
        }
        List<Integer> ppm = new ArrayList<>();
        for (JsonNode v : n) {
            BigDecimal f = decimal(v, "budget_alerts");
            if (f.signum() <= 0 || f.compareTo(BigDecimal.ONE) > 0) {
                throw new ConfigException("budget_alerts are fractions of the budget between 0 and 1 (0.5 means 50%), got "
                        + f.toPlainString());
            }
            int p = f.multiply(BigDecimal.valueOf(1_000_000)).setScale(0, RoundingMode.CEILING).intValueExact();
            if (!ppm.contains(p)) {
                ppm.add(p);
            }
        }
        ppm.sort(null);
        return ppm;
    }
}
