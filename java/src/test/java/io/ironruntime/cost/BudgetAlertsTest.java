package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetAlertsTest {
    private static final List<Integer> DEFAULT = List.of(500_000, 800_000, 950_000, 1_000_000);

    private static BudgetLedger.Snapshot at(long limit, long spent) {
        return new BudgetLedger.Snapshot(limit, spent, 0);
    }

    @Test
    void eachThresholdFiresOncePerCrossing() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(), a.check(at(1_000, 0)));
        assertEquals(List.of(), a.check(at(1_000, 499)));
        assertEquals(List.of(500_000), a.check(at(1_000, 500)));
        assertEquals(List.of(), a.check(at(1_000, 500)));
        assertEquals(List.of(), a.check(at(1_000, 799)));
        assertEquals(List.of(800_000), a.check(at(1_000, 800)));
        assertEquals(List.of(), a.check(at(1_000, 900)));
        assertEquals(List.of(950_000), a.check(at(1_000, 950)));
        assertEquals(List.of(1_000_000), a.check(at(1_000, 1_000)));
        assertEquals(List.of(), a.check(at(1_000, 1_000)));
        assertEquals(List.of(), a.check(at(1_000, 5_000)));
    }

    @Test
    void aBigSettleFiresSeveralThresholdsAtOnceInOrder() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(500_000, 800_000, 950_000), a.check(at(1_000, 960)));
        assertEquals(List.of(1_000_000), a.check(at(1_000, 1_001)));

        BudgetAlerts b = new BudgetAlerts(DEFAULT);
        assertEquals(DEFAULT, b.check(at(1_000, 2_000)));
        assertEquals(List.of(), b.check(at(1_000, 3_000)));
    }

    @Test
    void reservationsDoNotCountAsSpend() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(), a.check(new BudgetLedger.Snapshot(1_000, 400, 600)));
        assertEquals(List.of(500_000), a.check(new BudgetLedger.Snapshot(1_000, 500, 500)));
    }

    @Test
    void nothingFiresWithoutALimit() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(), a.check(at(BudgetLedger.UNLIMITED, 0)));
        assertEquals(List.of(), a.check(at(BudgetLedger.UNLIMITED, 1_000_000_000_000L)));
        assertEquals(List.of(), a.check(at(BudgetLedger.UNLIMITED, Long.MAX_VALUE)));
    }

    @Test
    void raisingTheLimitRearmsAndTheNextCrossingFiresAgain() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(DEFAULT, a.check(at(1_000, 1_000)));
        // limit doubled: spend is now at exactly 50%, which stays fired; the others re-arm silently
        assertEquals(List.of(), a.check(at(2_000, 1_000)));
        assertEquals(List.of(), a.check(at(2_000, 1_599)));
        assertEquals(List.of(800_000), a.check(at(2_000, 1_600)));
        assertEquals(List.of(950_000), a.check(at(2_000, 1_900)));
        assertEquals(List.of(1_000_000), a.check(at(2_000, 2_000)));
        // raised far above spend: everything re-arms
        assertEquals(List.of(), a.check(at(10_000, 2_000)));
        assertEquals(List.of(500_000), a.check(at(10_000, 5_000)));
    }

    @Test
    void loweringTheLimitFiresWhatIsNowCrossed() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(), a.check(at(10_000, 1_000)));
        assertEquals(List.of(500_000, 800_000, 950_000, 1_000_000), a.check(at(1_000, 1_000)));
    }

    @Test
    void goingUnlimitedRearmsEverything() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(List.of(500_000), a.check(at(1_000, 600)));
        assertEquals(List.of(), a.check(at(BudgetLedger.UNLIMITED, 600)));
        assertEquals(List.of(500_000), a.check(at(1_000, 600)));
    }

    @Test
    void spentEqualToTheShareFiresAndOneBelowDoesNot() {
        long limit = 1_000_000_000_001L; // 50% is 500_000_000_000.5, rounded down
        assertEquals(500_000_000_000L, BudgetAlerts.share(limit, 500_000));
        BudgetAlerts a = new BudgetAlerts(List.of(500_000));
        assertEquals(List.of(), a.check(at(limit, 499_999_999_999L)));
        assertEquals(List.of(500_000), a.check(at(limit, 500_000_000_000L)));

        BudgetAlerts full = new BudgetAlerts(List.of(1_000_000));
        assertEquals(List.of(), full.check(at(limit, limit - 1)));
        assertEquals(List.of(1_000_000), full.check(at(limit, limit)));
    }

    @Test
    void aZeroLimitFiresEverythingAtOnce() {
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        assertEquals(DEFAULT, a.check(at(0, 0)));
        assertEquals(List.of(), a.check(at(0, 0)));
    }

    @Test
    void shareIsExactAndDoesNotOverflowNearLongMax() {
        long[] limits = {0, 1, 999_999, 1_000_000, 1_000_001, 123_456_789_012_345L, 9_000_000_000_000_000_000L,
            Long.MAX_VALUE - 1, Long.MAX_VALUE - 999_999};
        int[] ppms = {1, 500_000, 800_000, 950_000, 999_999, 1_000_000};
        for (long limit : limits) {
            for (int ppm : ppms) {
                long expected = BigInteger.valueOf(limit).multiply(BigInteger.valueOf(ppm))
                        .divide(BigInteger.valueOf(1_000_000)).longValueExact();
                assertEquals(expected, BudgetAlerts.share(limit, ppm), "limit " + limit + " ppm " + ppm);
            }
        }
        assertEquals(Long.MAX_VALUE - 1, BudgetAlerts.share(Long.MAX_VALUE - 1, 1_000_000));
    }

    @Test
    void thresholdsFireCorrectlyForAHugeLimit() {
        long limit = Long.MAX_VALUE - 1;
        BudgetAlerts a = new BudgetAlerts(DEFAULT);
        long half = BudgetAlerts.share(limit, 500_000);
        assertEquals(List.of(), a.check(at(limit, half - 1)));
        assertEquals(List.of(500_000), a.check(at(limit, half)));
        assertEquals(List.of(800_000, 950_000), a.check(at(limit, limit - 1)));
        assertEquals(List.of(1_000_000), a.check(at(limit, limit)));
    }
}
