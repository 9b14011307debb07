package io.ironruntime.router;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The agents a router serves, each known by its own token. A request that presents an agent's token
 * is that agent's: its budget, its counters, its ledger rows. Tokens are held as SHA-256 digests, so
 * the lookup's timing says nothing about a token, and no token is kept in memory as text.
 */
public final class AgentAccounts {
    private final Map<String, AgentAccount> byDigest = new ConcurrentHashMap<>();
    private final Map<String, AgentAccount> byId = new ConcurrentHashMap<>();
    private final Map<String, String> digestOf = new ConcurrentHashMap<>();
    private volatile Consumer<AgentAccount> onExhausted = a -> { };

    /**
     * Registers an agent (or gives a known one a new token: a restarted agent keeps its account).
     *
     * @param limitPicos the agent's own budget, or {@link io.ironruntime.cost.BudgetLedger#UNLIMITED}
     */
    public AgentAccount register(String agentId, String token, long limitPicos) {
        AgentAccount account = byId.computeIfAbsent(agentId, id -> new AgentAccount(id, limitPicos, 0));
        String digest = digest(token);
        String previous = digestOf.put(agentId, digest);
        if (previous != null && !previous.equals(digest)) {
            byDigest.remove(previous);
        }
        byDigest.put(digest, account);
        return account;
    }

    /** The agent's token stops working at once; its account and figures stay. */
    public void revoke(String agentId) {
        String digest = digestOf.remove(agentId);
        if (digest != null) {
            byDigest.remove(digest);
        }
    }

    /** Every agent this router has served, revoked ones included (their figures stay). */
    java.util.Collection<AgentAccount> all() {
        return java.util.List.copyOf(byId.values());
    }

    public AgentAccount get(String agentId) {
        return byId.get(agentId);
    }

    boolean isEmpty() {
        return byDigest.isEmpty();
    }

    /** The agent whose token this is, or null. */
    AgentAccount forToken(String presented) {
        return presented == null || byDigest.isEmpty() ? null : byDigest.get(digest(presented));
    }

    /**
     * Called once per agent when its own budget is found spent. It runs on a router I/O thread, so it
     * must only hand the work on (the runtime's stop policy does the stopping elsewhere).
     */
    public void onExhausted(Consumer<AgentAccount> listener) {
        this.onExhausted = listener;
    }

    /** @param refused a request of the agent's was just refused for want of its budget */
    void checkExhausted(AgentAccount account, boolean refused) {
        if (account.firstExhaustion(refused)) {
            onExhausted.accept(account);
        }
    }

    private static String digest(String token) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
