package dev.rpctl.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * The progress of a long command (a claim load, reconcile, warm), on stderr. On a terminal: one
 * line rewritten in place, at most ten times a second, with what is done, the rate, and when the
 * amount or the duration is known, the share done and an estimate of the time left. Elsewhere (a
 * pipe, a file, cron) nothing while it runs, then one summary line when it ends, so a log gets the
 * figures once instead of a stream of carriage returns.
 */
final class Progress {
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter err;
    private final boolean live;
    private final String what;
    private final String unit;
    private long total;
    private Duration duration;
    private long drawnAt = Long.MIN_VALUE;
    private boolean drawn;

    /** Live on a terminal (and without --json, whose reader wants stderr for errors); a summary line otherwise. */
    Progress(PrintWriter err, boolean live, String what, String unit) {
        this.err = err;
        this.live = live;
        this.what = what;
        this.unit = unit;
    }

    /** The amount of work, when it is known: the estimate is then the units left at the rate so far. */
    Progress total(long units) {
        this.total = units;
        return this;
    }

    /** How long the work runs, when that is what bounds it: the estimate is then the time left. */
    Progress duration(Duration d) {
        this.duration = d;
        return this;
    }

    boolean live() {
        return live;
    }

    /** What is done so far, after that many seconds; detail (may be empty) says where or what else. */
    void update(long done, double seconds, String detail) {
        if (!live) {
            return;
        }
        long now = System.nanoTime();
        if (drawn && now - drawnAt < REDRAW_NANOS) {
            return;
        }
        drawnAt = now;
        drawn = true;
        err.print("\r" + line(done, seconds, detail) + "\u001b[K");
        err.flush();
    }

    /** Ends it: clears the line on a terminal, else prints the summary, with the final figures. */
    void finish(long done, double seconds, String detail) {
        if (live) {
            if (drawn) {
                err.print("\r\u001b[K");
                err.flush();
            }
            return;
        }
        err.println(what + ": " + String.format(Locale.ROOT, "%,d %s in %.1f s (%,.0f/s)", done, unit, seconds, rate(done, seconds))
                + (detail == null || detail.isEmpty() ? "" : ", " + detail));
        err.flush();
    }

    /** The live line: {@code reconcile: 120,000 keys, 41,230/s, 48%, 3 s left, claims up to activity 7 user 42}. */
    String line(long done, double seconds, String detail) {
        StringBuilder sb = new StringBuilder(what).append(": ")
                .append(String.format(Locale.ROOT, "%,d %s, %,.0f/s", done, unit, rate(done, seconds)));
        double left = -1;
        if (total > 0) {
            sb.append(String.format(Locale.ROOT, ", %d%%", Math.min(100, done * 100 / total)));
            left = done > 0 ? Math.max(0, total - done) * seconds / done : -1;
        } else if (duration != null) {
            double whole = duration.toMillis() / 1000.0;
            sb.append(String.format(Locale.ROOT, ", %d%%", Math.min(100, Math.round(seconds * 100 / whole))));
            left = Math.max(0, whole - seconds);
        }
        if (left >= 0) {
            sb.append(", ").append(eta(left)).append(" left");
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(", ").append(detail);
        }
        return sb.toString();
    }

    private static double rate(long done, double seconds) {
        return seconds > 0 ? done / seconds : 0;
    }

    /** 42 s, 3 min 20 s, 2 h 05 min. */
    static String eta(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min " + s % 60 + " s";
        }
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }
}
