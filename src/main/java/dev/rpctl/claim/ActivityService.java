package dev.rpctl.claim;

import dev.rpctl.errors.RpctlException;
import dev.rpctl.config.MappingSettings;
import dev.rpctl.db.Database;
import dev.rpctl.db.SchemaService;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Creates activities with their budget, and reads them back. */
public final class ActivityService {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ActivityService.class);
    private final Database db;
    private final String activityTable;
    private final String budgetTable;
    private final String version;
    private final int defaultShards;

    /** Longest name the default schema's name column holds (VARCHAR(128)). */
    public static final int NAME_MAX = 128;
    /** Most budget shards an activity may have, as for claim.budget-shards. */
    public static final int SHARDS_MAX = 1024;

    public ActivityService(Database db, MappingSettings mapping) {
        this(db, mapping, 32);
    }

    /** @param defaultShards the shards of an activity created without a shard count (claim.budget-shards) */
    public ActivityService(Database db, MappingSettings mapping, int defaultShards) {
        this.db = db;
        this.defaultShards = defaultShards;
        this.activityTable = mapping.activityTable();
        this.budgetTable = SchemaService.budgetTable(mapping);
        this.version = mapping.versionColumn();
    }

    /** @param shards budget shards, 1-1024; 0 for claim.budget-shards (then an existing activity's count is not compared) */
    public record NewActivity(long id, String name, int count, long amount, Allocation allocation,
                              Instant startsAt, Instant endsAt, int shards) {}

    public record Created(Activity activity, boolean existed) {}

    /** Creates the activity, or returns it unchanged when one with the same budget exists. */
    public Created create(NewActivity a) {
        validate(a);
        Optional<Activity> existing = find(a.id());
        if (existing.isPresent()) {
            Activity e = existing.get();
            boolean otherShards = a.shards() > 0 && e.shards() != effectiveShards(a.shards(), a.count());
            if (e.totalCount() != a.count() || e.totalAmount() != a.amount() || e.allocation() != a.allocation()
                    || otherShards) {
                throw RpctlException.badData("activity " + a.id() + " exists with another budget ("
                        + e.totalCount() + " claims, " + e.totalAmount() + " cents, " + e.allocation().label()
                        + ", " + e.shards() + " shards); pick another --activity id");
            }
            return new Created(e, true);
        }
        int shards = effectiveShards(a.shards() > 0 ? a.shards() : defaultShards, a.count());
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + activityTable
                    + " (activity_id, name, total_count, total_amount, allocation, status, starts_at, ends_at, budget_shards, "
                    + version + ") VALUES (?,?,?,?,?,'open',?,?,?,1)")) {
                ps.setLong(1, a.id());
                ps.setString(2, a.name() == null ? "" : a.name());
                ps.setInt(3, a.count());
                ps.setLong(4, a.amount());
                ps.setString(5, a.allocation().label());
                ps.setTimestamp(6, a.startsAt() == null ? null : Timestamp.from(a.startsAt()));
                ps.setTimestamp(7, a.endsAt() == null ? null : Timestamp.from(a.endsAt()));
                ps.setInt(8, shards);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + budgetTable
                    + " (activity_id, shard, remaining_count, remaining_amount, " + version + ") VALUES (?,?,?,?,1)")) {
                long perClaim = a.amount() / a.count();
                long amountLeft = a.amount();
                for (int s = 0; s < shards; s++) {
                    int count = a.count() / shards + (s < a.count() % shards ? 1 : 0);
                    long amount;
                    if (s == shards - 1) {
                        amount = amountLeft;
                    } else if (a.allocation() == Allocation.FIXED) {
                        amount = perClaim * count;
                    } else {
                        // proportional to the shard's count, so every shard can pay one cent a claim
                        amount = Math.max(count, a.amount() * count / a.count());
                    }
                    amountLeft -= amount;
                    ps.setLong(1, a.id());
                    ps.setInt(2, s);
                    ps.setInt(3, count);
                    ps.setLong(4, amount);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        } catch (SQLException e) {
            throw db.translate(e);
        }
        return new Created(find(a.id()).orElseThrow(), false);
    }

    /** An activity never has more shards than packets: a shard without a packet could pay nothing. */
    private static int effectiveShards(int shards, int count) {
        return Math.max(1, Math.min(shards, count));
    }

    private static void validate(NewActivity a) {
        if (a.shards() < 0 || a.shards() > SHARDS_MAX) {
            throw RpctlException.usage("--shards must be 1-" + SHARDS_MAX + ", got " + a.shards());
        }
        if (a.name() != null && a.name().codePointCount(0, a.name().length()) > NAME_MAX) {
            throw RpctlException.usage("--name is " + a.name().codePointCount(0, a.name().length())
                    + " characters long; an activity's name holds at most " + NAME_MAX);
        }
        if (a.id() <= 0) {
            throw RpctlException.usage("--activity must be a positive number, got " + a.id());
        }
        if (a.count() <= 0) {
            throw RpctlException.usage("--count must be at least 1, got " + a.count());
        }
        if (a.amount() < a.count()) {
            throw RpctlException.usage("--amount (" + a.amount() + " cents) must be at least one cent per claim (--count " + a.count() + ")");
        }
        if (a.allocation() == Allocation.FIXED && a.amount() % a.count() != 0) {
            throw RpctlException.usage("--amount " + a.amount() + " does not divide into " + a.count()
                    + " equal claims; use a multiple of --count or --allocation random");
        }
        if (a.startsAt() != null && a.endsAt() != null && !a.endsAt().isAfter(a.startsAt())) {
            throw RpctlException.usage("--ends must be after --starts");
        }
    }

    public Optional<Activity> find(long id) {
        List<Activity> found = select(" WHERE a.activity_id = ?", id, 1);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /** The newest activities first, at most limit of them. */
    public List<Activity> list(int limit) {
        return select("", 0, limit);
    }

    private List<Activity> select(String where, long id, int limit) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT a.activity_id, a.name, a.total_count, a.total_amount, a.allocation,"
                     + " a.status, a.starts_at, a.ends_at, a.budget_shards, a." + version
                     + ", COALESCE(SUM(b.remaining_count),0), COALESCE(SUM(b.remaining_amount),0)"
                     + " FROM " + activityTable + " a LEFT JOIN " + budgetTable + " b ON b.activity_id = a.activity_id"
                     + where + " GROUP BY a.activity_id ORDER BY a.activity_id DESC LIMIT " + limit)) {
            if (!where.isEmpty()) {
                ps.setLong(1, id);
            }
            List<Activity> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp s = rs.getTimestamp(7);
                    Timestamp e = rs.getTimestamp(8);
                    out.add(new Activity(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getLong(4),
                            Allocation.parse(rs.getString(5)), rs.getString(6),
                            s == null ? null : s.toInstant(), e == null ? null : e.toInstant(),
                            rs.getInt(9), rs.getLong(10), rs.getLong(11), rs.getLong(12)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** What {@link #setStatus} did: the activity after it, and whether it changed. */
    public record Changed(Activity activity, boolean changed) {}

    /**
     * Pauses (paused), resumes (open) or closes (closed) an activity; claims are refused unless it
     * is open. Closing is final: a closed activity is neither paused nor resumed.
     */
    public Changed setStatus(long id, String status) {
        Activity a = require(id);
        if (a.status().equals(status)) {
            return new Changed(a, false);
        }
        if ("closed".equals(a.status())) {
            throw RpctlException.usage("activity " + id + " is closed, which is final; create another activity");
        }
        update(id, "status = ?", ps -> ps.setString(1, status));
        return new Changed(require(id), true);
    }

    /** Moves an activity's end; it must stay after its start. */
    public Changed extend(long id, Instant endsAt) {
        Activity a = require(id);
        if (a.startsAt() != null && !endsAt.isAfter(a.startsAt())) {
            throw RpctlException.usage("--ends " + endsAt + " is not after the activity's start " + a.startsAt());
        }
        if (endsAt.equals(a.endsAt())) {
            return new Changed(a, false);
        }
        update(id, "ends_at = ?", ps -> ps.setTimestamp(1, Timestamp.from(endsAt)));
        return new Changed(require(id), true);
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private void update(long id, String set, Binder binder) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("UPDATE " + activityTable + " SET " + set + ", " + version
                     + " = " + version + " + 1 WHERE activity_id = ?")) {
            binder.bind(ps);
            ps.setLong(2, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /**
     * The activity's claim statistics over the last minutes of window (whole minutes of the
     * server's clock, the current one included), from every process that claimed. Null, with a
     * warning logged, when they cannot be read: a schema older than this rpctl, a user without
     * SELECT on the statistics table.
     */
    public ClaimStats claimStats(long id, java.time.Duration window) {
        long minutes = Math.max(1, (window.toSeconds() + 59) / 60);
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(claims), 0), COALESCE(SUM(claim_groups), 0),"
                     + " COALESCE(SUM(claim_us), 0), COALESCE(SUM(shard_wait_us), 0), COALESCE(SUM(timed_claim_us), 0) FROM "
                     + SchemaService.CLAIM_STATS_TABLE
                     + " WHERE activity_id = ? AND minute > DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00') - INTERVAL ? MINUTE")) {
            ps.setLong(1, id);
            ps.setLong(2, minutes);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new ClaimStats(java.time.Duration.ofMinutes(minutes), rs.getLong(1), rs.getLong(2), rs.getLong(3),
                        rs.getLong(4), rs.getLong(5));
            }
        } catch (SQLException e) {
            LOG.warn("activity {}: claim statistics not shown: {}", id, db.translate(e).getMessage());
            return null;
        }
    }

    public Activity require(long id) {
        return find(id).orElseThrow(() -> RpctlException.usage(
                "activity " + id + " does not exist; create it with 'rpctl activity create --activity " + id + " ...'"));
    }
}
