package io.ironruntime.state;

import io.ironruntime.cost.Money;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import io.ironruntime.events.EventQueue;
import org.sqlite.SQLiteConfig;

/**
 * The request ledger in one SQLite file, readable with Python's {@code sqlite3}:
 *
 * <pre>
 * ledger(id INTEGER PRIMARY KEY, ts_ms, request_id UNIQUE, budget_id, agent_id, provider, model,
 *        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
 *        cost_picos       -- exact, pico-dollars (1e-12 USD)
 *        cost_usd         -- the same as a float, for reading
 *        cost_known       -- 0 for a model without a price (its cost_picos is 0)
 *        usage_estimated  -- 1 when the provider reported no usage and the router counted the tokens
 *        status           -- the provider's HTTP status, or 499 / 502 / 504 when it never answered
 *        outcome          -- completed, upstream_error, client_disconnected, upstream_failed, not_answered
 *        latency_ms, attempts,
 *        traceparent, pii_detections, stream)  -- schema 5: see {@link RequestHistory}
 * budget_totals(budget_id PRIMARY KEY, spent_picos)  -- the sum of each budget's rows, kept with them
 * pii_audit(id INTEGER PRIMARY KEY, ts_ms, request_id, agent_id,
 *        direction        -- request or response
 *        entity_type      -- EMAIL, CREDIT_CARD, ... or a pii_patterns name
 *        action           -- redacted, masked, hashed, blocked, detected
 *        value_hash       -- salted HMAC-SHA256 of the value (16 hex digits); never the value
 *        field, start_offset, end_offset)  -- where it was: the JSON field and the offsets in its text
 * agents, agent_status_history, runtimes  -- supervised agents (schema 3): see {@link AgentTables}
 * events(id INTEGER PRIMARY KEY, event_id UNIQUE, ts_ms, type, agent_id, request_id, payload_json)
 *                  -- engine events (schema 4), kept for the retention period: see {@link EventTable}
 * control_leases, control_outbox  -- control-server mode (schema 6): see {@link ControlTables}
 * </pre>
 *
 * Rows are appended by a writer thread in batched transactions (a batch gathers for 20 ms), so
 * the request path only enqueues.
 * The journal is WAL with {@code synchronous=NORMAL}: a committed row survives the process being
 * killed at any moment (not against a power cut: that would need an fsync per commit). The queue
 * is unbounded: when the disk fails, rows wait in memory and are retried, never dropped.
 */
public final class LedgerStore implements AutoCloseable {
    static final int SCHEMA_VERSION = 6;
    /** With events attached the writer looks for them this often: bounds how late an event reaches the file. */
    static final long EVENT_POLL_MILLIS = 100;
    static final long PRUNE_INTERVAL_NANOS = TimeUnit.HOURS.toNanos(24);
    static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    static final int MAX_BATCH = 1_000;
    static final long WATCH_MILLIS = 250;
    private static final String INSERT = "INSERT OR IGNORE INTO ledger (ts_ms, request_id, budget_id, agent_id,"
            + " provider, model, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_picos,"
            + " cost_usd, cost_known, usage_estimated, status, outcome, latency_ms, attempts, traceparent, pii_detections,"
            + " stream) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    private static final String INSERT_AUDIT = "INSERT INTO pii_audit (ts_ms, request_id, agent_id, direction,"
            + " entity_type, action, value_hash, field, start_offset, end_offset) VALUES (?,?,?,?,?,?,?,?,?,?)";

    private final Path file;
    /** Guards the connection and the statement (the connection is replaced when the WAL file is). */
    private final Object db = new Object();
    private Connection connection;
    /** The identity of the WAL file our connection writes, or null before the first write. */
    private Object walKey;
    /** Guarded by {@code db}. */
    private PreparedStatement insert;
    private PreparedStatement insertAudit;
    // The watched budget (see watchBudget); the amounts are guarded by db.
    private volatile String watchedBudget;
    private volatile LongConsumer watcher;
    private long watchBase;
    private long ownSinceWatch;
    private volatile long lastWatchNanos;
    /** Unbounded on purpose: a money record is never dropped and the request path never waits on the disk. */
    private final BlockingQueue<StoreRow> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final Object written = new Object();
    private long enqueued;
    private long committed;
    private volatile boolean closing;
    /** The events this store records (its own bounded buffer of the event bus), or null. */
    private volatile EventQueue events;
    /** Guarded by {@code written}. */
    private long eventsCommitted;
    private volatile long retentionMillis;
    private long nextPruneNanos;
    private volatile Exception lastFailure;

    private LedgerStore(Path file, Connection connection) {
        this.file = file;
        this.connection = connection;
        this.writer = new Thread(this::drain, "iron-ledger-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /** Opens (creating the file, its directory and the schema when needed). */
    public static LedgerStore open(Path file) throws SQLException {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new SQLException("cannot create the directory of " + file + ": " + e.getMessage(), e);
        }
        Connection c = connect(file);
        migrate(c);
        return new LedgerStore(file.toAbsolutePath(), c);
    }

    private static Connection connect(Path file) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(10_000);
        return config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
    }

    /**
     * Python's sqlite3 in the same process (a notebook reading {@code database_path}) is a second copy
     * of SQLite that cannot see this connection's locks, which POSIX keeps per process: when its last
     * connection closes it checkpoints and deletes the WAL file this connection still writes, and rows
     * written after that would be invisible to every new reader. So before each batch: if the WAL file
     * is not the one we wrote, close (which checkpoints what we wrote into the database file) and reopen.
     */
    private void reopenIfWalReplaced() throws SQLException {
        if (walKey == null || Objects.equals(walKey, currentWalKey())) {
            return;
        }
        if (insert != null) {
            insert.close();
            insertAudit.close();
            insert = null;
        }
        connection.close();
        connection = connect(file);
        walKey = null;
    }

    private Object currentWalKey() {
        try {
            return Files.readAttributes(Path.of(file + "-wal"), BasicFileAttributes.class).fileKey();
        } catch (java.io.IOException e) {
            return null; // deleted
        }
    }

    private static void migrate(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int version = 0;
            try (ResultSet r = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                if (r.next()) {
                    version = r.getInt(1);
                }
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException("the ledger was written by a newer iron-runtime (schema " + version + ")");
            }
            if (version < 1) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY," // no AUTOINCREMENT: a third of the insert cost
                        + " ts_ms INTEGER NOT NULL, request_id TEXT NOT NULL UNIQUE, budget_id TEXT, agent_id TEXT,"
                        + " provider TEXT NOT NULL, model TEXT, input_tokens INTEGER NOT NULL,"
                        + " cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,"
                        + " output_tokens INTEGER NOT NULL, cost_picos INTEGER NOT NULL, cost_usd REAL NOT NULL,"
                        + " cost_known INTEGER NOT NULL, usage_estimated INTEGER NOT NULL, status INTEGER NOT NULL,"
                        + " outcome TEXT NOT NULL, latency_ms INTEGER NOT NULL,"
                        + " attempts INTEGER NOT NULL DEFAULT 1)");
                s.executeUpdate("CREATE INDEX IF NOT EXISTS ledger_budget ON ledger (budget_id)");
                // Kept in the same transaction as the rows: O(1) reads of a budget's spend at start
                // and for routers sharing a budget_id while they run.
                s.executeUpdate("CREATE TABLE IF NOT EXISTS budget_totals (budget_id TEXT PRIMARY KEY,"
                        + " spent_picos INTEGER NOT NULL)");
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (1)");
            }
            if (version < 2) {
                s.executeUpdate("CREATE TABLE IF NOT EXISTS pii_audit (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
                        + " request_id TEXT NOT NULL, agent_id TEXT, direction TEXT NOT NULL, entity_type TEXT NOT NULL,"
                        + " action TEXT NOT NULL, value_hash TEXT NOT NULL, field TEXT, start_offset INTEGER NOT NULL,"
                        + " end_offset INTEGER NOT NULL)");
                s.executeUpdate("CREATE INDEX IF NOT EXISTS pii_audit_request ON pii_audit (request_id)");
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (2)");
            }
            if (version < 3) {
                AgentTables.create(s);
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (3)");
            }
            if (version < 4) {
                EventTable.create(s);
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (4)");
            }
            if (version < 5) {
                RequestHistory.addColumns(s);
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (5)");
            }
            if (version < 6) {
                ControlTables.create(s);
                s.executeUpdate("INSERT INTO schema_version (version) VALUES (6)");
            }
        }
    }

    /**
     * Makes the writer thread record the events of {@code buffer} (a consumer of the event bus: when the
     * disk is slow it fills and drops, counted, and the publisher never waits). Deletes the events older
     * than {@code retentionDays} now, on the caller's thread, and about daily after that on the writer's.
     */
    public void recordEvents(EventQueue buffer, int retentionDays, long nowMillis) throws SQLException {
        retentionMillis = TimeUnit.DAYS.toMillis(retentionDays);
        synchronized (db) {
            reopenIfWalReplaced();
            EventTable.prune(connection, nowMillis - retentionMillis);
            nextPruneNanos = System.nanoTime() + PRUNE_INTERVAL_NANOS;
        }
        this.events = buffer;
    }

    /** The newest stored events matching {@code q}, oldest first. */
    public List<EngineEvent> events(EventQuery q) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return EventTable.query(connection, q);
        }
    }

    /**
     * The newest {@code limit} ledger rows of the file (every router writing it), newest first; only the
     * agent's when {@code agentId} is not null. Rows still queued for the writer are not among them.
     */
    public List<LedgerRow> newestRequests(int limit, String agentId) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return RequestHistory.newest(connection, limit, agentId);
        }
    }

    /** Queues a row for the writer thread; never blocks on the disk. */
    public void append(StoreRow row) {
        synchronized (written) {
            enqueued++;
        }
        queue.add(row);
    }

    /** Rows appended but not yet committed. */
    public long pending() {
        synchronized (written) {
            return enqueued - committed;
        }
    }

    /** Waits until every row appended so far is committed; false when that took longer than the timeout. */
    public boolean flush(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        EventQueue ev = events;
        long eventTarget = ev == null ? 0 : ev.accepted();
        synchronized (written) {
            long target = enqueued;
            while (committed < target || eventsCommitted < eventTarget) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                written.wait(left);
            }
        }
        synchronized (db) {
            try {
                reopenIfWalReplaced(); // rows that went to a WAL deleted meanwhile become visible
            } catch (SQLException e) {
                lastFailure = e;
                return false;
            }
        }
        return true;
    }

    /** The last write failure (rows are kept and retried), or null. */
    public Exception lastFailure() {
        return lastFailure;
    }

    /** The total cost of the rows of a budget, in pico-dollars (all writers of the file together). */
    public long spentPicos(String budgetId) throws SQLException {
        synchronized (db) {
            try (PreparedStatement p = connection.prepareStatement(
                    "SELECT COALESCE((SELECT spent_picos FROM budget_totals WHERE budget_id = ?), 0)")) {
                p.setString(1, budgetId);
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? r.getLong(1) : 0;
                }
            }
        }
    }

    /** Every agent recorded in the file (by any runtime), newest first. */
    public List<AgentRow> agents() throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return AgentTables.agents(connection);
        }
    }

    /** The agent's row, or null when no runtime recorded it. */
    public AgentRow agent(String agentId) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return AgentTables.agent(connection, agentId);
        }
    }

    /** The agent's status changes, oldest first. */
    public List<AgentStatusRow> history(String agentId) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return AgentTables.history(connection, agentId);
        }
    }

    /** Spend, requests, tokens and PII detections of the ledger and audit rows carrying the agent's id. */
    public AgentTotals totals(String agentId) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return AgentTables.totals(connection, agentId);
        }
    }

    /** {@link #totals} of every agent of {@link #agents()}, in one query, newest agent first. */
    public Map<String, AgentTotals> totalsByAgent() throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            return AgentTables.totalsByAgent(connection);
        }
    }

    /**
     * Call once when an agent runtime opens, before it appends agents: records {@code runtimeId} as running
     * in this process, and ends the agents left running by runtimes whose process is gone (their status
     * becomes {@code stopped}, {@code ended_at_ms} now, {@code last_error} "its runtime ended before it did",
     * one history row each). Agents of runtimes alive in this or another process are left alone: the
     * database is shared by every runtime of the user. Returns how many agents it ended.
     * <p>
     * Runs on the caller's thread in its own transaction under the lock the writer takes for each batch,
     * so it never interleaves with a batch; queued rows are all of live runtimes, which it does not touch.
     * It does not signal the orphans' processes: their pids may have been reused.
     */
    public int endOrphans(String runtimeId, long nowMillis) throws SQLException {
        return inTransaction(c -> AgentTables.endOrphans(c, runtimeId, nowMillis));
    }

    /** Work on the store's connection; see {@link #inTransaction}. */
    interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on the caller's thread in one transaction, under the lock the writer takes for
     * each batch, so it never interleaves with a batch.
     */
    <T> T inTransaction(Work<T> work) throws SQLException {
        synchronized (db) {
            reopenIfWalReplaced();
            connection.setAutoCommit(false);
            try {
                T result = work.on(connection);
                connection.commit();
                walKey = currentWalKey();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    /**
     * Reports, from the writer thread, what other writers (other routers, other processes) have spent
     * under {@code budgetId} since this call: after each batch and every {@link #WATCH_MILLIS} when idle.
     */
    public void watchBudget(String budgetId, LongConsumer othersSpentSince) throws SQLException {
        synchronized (db) {
            watchBase = spentPicos(budgetId);
            ownSinceWatch = 0;
            watchedBudget = budgetId;
            watcher = othersSpentSince;
        }
    }

    private void reportWatched() {
        LongConsumer w = watcher;
        if (w == null) {
            return;
        }
        long others;
        synchronized (db) {
            lastWatchNanos = System.nanoTime();
            try {
                others = spentPicos(watchedBudget) - watchBase - ownSinceWatch;
            } catch (SQLException e) {
                lastFailure = e;
                return;
            }
        }
        if (others > 0) {
            w.accept(others);
        }
    }

    private void drain() {
        List<StoreRow> batch = new ArrayList<>();
        List<EngineEvent> eventBatch = new ArrayList<>();
        while (!closing || !queue.isEmpty() || (events != null && events.size() > 0)) {
            try {
                EventQueue ev = events;
                StoreRow first = queue.poll(ev == null ? WATCH_MILLIS : EVENT_POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    gather(batch);
                }
                if (ev != null) {
                    ev.drainTo(eventBatch, MAX_BATCH);
                }
                if (batch.isEmpty() && eventBatch.isEmpty()) {
                    if (watcher != null && System.nanoTime() - lastWatchNanos >= TimeUnit.MILLISECONDS.toNanos(WATCH_MILLIS)) {
                        reportWatched();
                    }
                    pruneWhenDue();
                    continue;
                }
                while (!tryWrite(batch, eventBatch)) {
                    Thread.sleep(1_000); // a money record is retried, never dropped
                }
                batch.clear();
                eventBatch.clear();
                reportWatched();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Lets more rows arrive for {@link #LINGER_NANOS}, then takes them: a commit costs about as much as
     * ten rows, so under load one commit carries many. The writer sleeps rather than waits on the
     * queue, so appending a row never has to wake it. Bounds how long a settled row waits to be committed.
     */
    private void gather(List<StoreRow> batch) throws InterruptedException {
        if (!closing) {
            TimeUnit.NANOSECONDS.sleep(LINGER_NANOS);
        }
        queue.drainTo(batch, MAX_BATCH - batch.size());
    }

    private void pruneWhenDue() {
        if (events == null || System.nanoTime() - nextPruneNanos < 0) {
            return;
        }
        synchronized (db) {
            nextPruneNanos = System.nanoTime() + PRUNE_INTERVAL_NANOS;
            try {
                reopenIfWalReplaced();
                EventTable.prune(connection, System.currentTimeMillis() - retentionMillis);
            } catch (SQLException e) {
                lastFailure = e; // tried again tomorrow; old events cost only disk
            }
        }
    }

    private boolean tryWrite(List<StoreRow> rows, List<EngineEvent> eventRows) {
        try {
            writeBatch(rows, eventRows);
            lastFailure = null;
            return true;
        } catch (IllegalStateException e) {
            lastFailure = e;
            return false;
        }
    }

    private void writeBatch(List<StoreRow> batch, List<EngineEvent> eventRows) {
        List<LedgerRow> rows = new ArrayList<>(batch.size());
        List<PiiAuditRow> audit = new ArrayList<>();
        List<AgentRow> agents = new ArrayList<>();
        List<AgentStatusRow> history = new ArrayList<>();
        List<OutboxRow> outbox = new ArrayList<>();
        List<StoreRow> flat = new ArrayList<>(batch.size());
        for (StoreRow r : batch) {
            if (r instanceof RowGroup g) {
                flat.addAll(g.rows());
            } else {
                flat.add(r);
            }
        }
        for (StoreRow r : flat) {
            if (r instanceof LedgerRow l) {
                rows.add(l);
            } else if (r instanceof PiiAuditRow a) {
                audit.add(a);
            } else if (r instanceof AgentRow a) {
                agents.add(a);
            } else if (r instanceof OutboxRow o) {
                outbox.add(o);
            } else {
                history.add((AgentStatusRow) r);
            }
        }
        synchronized (db) {
            try {
                reopenIfWalReplaced();
                connection.setAutoCommit(false);
                if (insert == null) {
                    insert = connection.prepareStatement(INSERT); // compiled once, reused by every batch
                    insertAudit = connection.prepareStatement(INSERT_AUDIT);
                }
                for (LedgerRow r : rows) {
                    bind(insert, r);
                    insert.addBatch();
                }
                int[] inserted = rows.isEmpty() ? new int[0] : insert.executeBatch();
                for (PiiAuditRow a : audit) {
                    bind(insertAudit, a);
                    insertAudit.addBatch();
                }
                if (!audit.isEmpty()) {
                    insertAudit.executeBatch();
                }
                long own = addTotals(rows, inserted);
                AgentTables.write(connection, agents, history);
                if (!outbox.isEmpty()) {
                    try (PreparedStatement p = connection.prepareStatement(ControlTables.INSERT_OUTBOX)) {
                        for (OutboxRow o : outbox) {
                            ControlTables.bind(p, o);
                            p.addBatch();
                        }
                        p.executeBatch();
                    }
                }
                EventTable.insert(connection, eventRows);
                connection.commit();
                ownSinceWatch += own;
                walKey = currentWalKey();
            } catch (SQLException e) {
                try {
                    if (insert != null) {
                        insert.clearBatch();
                        insertAudit.clearBatch();
                    }
                    connection.rollback();
                } catch (SQLException ignored) {
                    // the original failure is the one to report
                }
                throw new IllegalStateException("the ledger could not be written: " + e.getMessage(), e);
            } finally {
                try {
                    connection.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // the connection is unusable anyway
                }
            }
        }
        synchronized (written) {
            committed += batch.size();
            eventsCommitted += eventRows.size();
            written.notifyAll();
        }
    }

    /**
     * Adds the cost of the rows actually inserted (a repeated request id is ignored) to their budgets'
     * totals; returns the part that went to the watched budget.
     */
    private long addTotals(List<LedgerRow> rows, int[] inserted) throws SQLException {
        Map<String, Long> byBudget = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            LedgerRow r = rows.get(i);
            if (r.budgetId() != null && (i >= inserted.length || inserted[i] != 0)) {
                byBudget.merge(r.budgetId(), r.costPicos(), Long::sum);
            }
        }
        if (byBudget.isEmpty()) {
            return 0;
        }
        try (PreparedStatement p = connection.prepareStatement("INSERT INTO budget_totals (budget_id, spent_picos)"
                + " VALUES (?, ?) ON CONFLICT (budget_id) DO UPDATE SET spent_picos = spent_picos + excluded.spent_picos")) {
            for (Map.Entry<String, Long> e : byBudget.entrySet()) {
                p.setString(1, e.getKey());
                p.setLong(2, e.getValue());
                p.addBatch();
            }
            p.executeBatch();
        }
        Long own = watchedBudget == null ? null : byBudget.get(watchedBudget);
        return own == null ? 0 : own;
    }

    private static void bind(PreparedStatement p, LedgerRow r) throws SQLException {
        p.setLong(1, r.timestampMs());
        p.setString(2, r.requestId());
        p.setString(3, r.budgetId());
        p.setString(4, r.agentId());
        p.setString(5, r.provider());
        p.setString(6, r.model());
        p.setLong(7, r.inputTokens());
        p.setLong(8, r.cacheReadTokens());
        p.setLong(9, r.cacheWriteTokens());
        p.setLong(10, r.outputTokens());
        p.setLong(11, r.costPicos());
        p.setDouble(12, Money.picosToDollars(r.costPicos()));
        p.setInt(13, r.costKnown() ? 1 : 0);
        p.setInt(14, r.usageEstimated() ? 1 : 0);
        p.setInt(15, r.status());
        p.setString(16, r.outcome());
        p.setLong(17, r.latencyMs());
        p.setInt(18, r.attempts());
        p.setString(19, r.traceparent());
        p.setInt(20, r.piiDetections());
        if (r.stream() == null) {
            p.setNull(21, java.sql.Types.INTEGER);
        } else {
            p.setInt(21, r.stream() ? 1 : 0);
        }
    }

    private static void bind(PreparedStatement p, PiiAuditRow a) throws SQLException {
        p.setLong(1, a.timestampMs());
        p.setString(2, a.requestId());
        p.setString(3, a.agentId());
        p.setString(4, a.direction());
        p.setString(5, a.entityType());
        p.setString(6, a.action());
        p.setString(7, a.fingerprint());
        p.setString(8, a.field());
        p.setLong(9, a.start());
        p.setLong(10, a.end());
    }

    /** Writes what is queued, then closes the file. */
    @Override
    public void close() throws SQLException {
        closing = true;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (db) {
            if (insert != null) {
                insert.close();
                insertAudit.close();
            }
            connection.close();
        }
    }
}
