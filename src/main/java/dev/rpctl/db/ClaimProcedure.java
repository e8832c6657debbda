package dev.rpctl.db;

import dev.rpctl.config.MappingSettings;

/**
 * The claim transaction as one stored procedure, so a claim costs the client one round trip: the
 * duplicate check, the budget shard, the allocation, the insert and the commit all run on the
 * server. On two cores the round trips, not the row locks, are what a claim spends its time on.
 */
public final class ClaimProcedure {
    /** Raised whenever the body changes; db init replaces a procedure of another revision. */
    static final int REVISION = 3;

    private ClaimProcedure() {
    }

    public static String name(MappingSettings m) {
        return "rpctl_claim_" + m.claimTable();
    }

    static String comment() {
        return "rpctl claim procedure, revision " + REVISION;
    }

    /**
     * Parameters: activity, user, fixed amount (0 for random), request id, now as DATETIME(3),
     * the shard to try first (spread by the caller so concurrent claims start on different rows).
     * One result row: outcome (claimed, duplicate, sold-out), amount, request id, version,
     * updated-at in epoch milliseconds, status.
     * <p>A shard is taken with SKIP LOCKED: first the suggested one by its primary key, then any
     * free one, so concurrent claims spread over the budget shards instead of queueing behind each
     * other's commits; only when every shard with budget is held does a claim wait. The random amount is drawn from [1, 2 x left/count] capped so that every
     * later claim of the shard can still be paid one cent; the last claim gets the rest.
     */
    static String createSql(MappingSettings m) {
        String claim = m.claimTable();
        String budget = SchemaService.budgetTable(m);
        String v = m.versionColumn();
        String existing = "SELECT 'duplicate', amount, request_id, " + v
                + ", CAST(UNIX_TIMESTAMP(updated_at) * 1000 AS SIGNED), status FROM " + claim
                + " WHERE activity_id = p_activity AND user_id = p_user";
        String pick = "SELECT shard, remaining_count, remaining_amount INTO v_shard, v_count, v_left FROM " + budget
                + " WHERE activity_id = p_activity AND remaining_count > 0 AND remaining_amount >= GREATEST(p_fixed, 1)";
        return "CREATE PROCEDURE " + name(m) + "(IN p_activity BIGINT, IN p_user BIGINT, IN p_fixed BIGINT,"
                + " IN p_request VARCHAR(64), IN p_now DATETIME(3), IN p_shard INT)\n"
                + "MODIFIES SQL DATA COMMENT '" + comment() + "'\n"
                + "BEGIN\n"
                + "  DECLARE v_shard INT DEFAULT NULL;\n"
                + "  DECLARE v_count BIGINT;\n"
                + "  DECLARE v_left BIGINT;\n"
                + "  DECLARE v_amount BIGINT;\n"
                + "  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;\n"
                + "  IF EXISTS (SELECT 1 FROM " + claim + " WHERE activity_id = p_activity AND user_id = p_user) THEN\n"
                + "    " + existing + ";\n"
                + "  ELSE\n"
                + "    START TRANSACTION;\n"
                + "    " + pick + " AND shard = p_shard FOR UPDATE SKIP LOCKED;\n"
                + "    IF v_shard IS NULL THEN\n"
                + "      " + pick + " LIMIT 1 FOR UPDATE SKIP LOCKED;\n"
                + "    END IF;\n"
                // wait for a held shard only while committed budget is left: a sold-out activity
                // answers from a plain read and takes no lock at all
                + "    IF v_shard IS NULL AND EXISTS (SELECT 1 FROM " + budget + " WHERE activity_id = p_activity"
                + " AND remaining_count > 0 AND remaining_amount >= GREATEST(p_fixed, 1)) THEN\n"
                + "      " + pick + " ORDER BY shard LIMIT 1 FOR UPDATE;\n"
                + "    END IF;\n"
                + "    IF v_shard IS NULL THEN\n"
                + "      ROLLBACK;\n"
                + "      SELECT 'sold-out', 0, '', 0, 0, '';\n"
                + "    ELSE\n"
                + "      IF p_fixed > 0 THEN SET v_amount = p_fixed;\n"
                + "      ELSEIF v_count = 1 THEN SET v_amount = v_left;\n"
                + "      ELSE SET v_amount = 1 + FLOOR(RAND() * LEAST(GREATEST(1, FLOOR(2 * v_left / v_count)), v_left - (v_count - 1)));\n"
                + "      END IF;\n"
                + "      UPDATE " + budget + " SET remaining_count = remaining_count - 1, remaining_amount = remaining_amount - v_amount,"
                + " " + v + " = " + v + " + 1 WHERE activity_id = p_activity AND shard = v_shard;\n"
                + "      INSERT IGNORE INTO " + claim + " (activity_id, user_id, amount, status, request_id, " + v
                + ", created_at, updated_at) VALUES (p_activity, p_user, v_amount, 'paid', p_request, 1, p_now, p_now);\n"
                + "      IF ROW_COUNT() = 0 THEN\n"
                + "        ROLLBACK;\n"
                + "        " + existing + ";\n"
                + "      ELSE\n"
                + "        COMMIT;\n"
                + "        SELECT 'claimed', v_amount, p_request, 1, CAST(UNIX_TIMESTAMP(p_now) * 1000 AS SIGNED), 'paid';\n"
                + "      END IF;\n"
                + "    END IF;\n"
                + "  END IF;\n"
                + "END";
    }
}
