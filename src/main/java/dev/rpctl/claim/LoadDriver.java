package dev.rpctl.claim;

import dev.rpctl.errors.ExitCode;
import dev.rpctl.errors.RpctlException;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Drives claims and reads against one activity from many threads and measures them. New claims
 * take fresh users in order from the range, duplicates retry users already claimed, reads pick any
 * user of the range. With a rate, each operation has a planned start and its latency counts from
 * there, so a stall shows in the percentiles instead of hiding (no coordinated omission).
 */
public final class LoadDriver {

    public enum Op { CLAIM_NEW, CLAIM_DUPLICATE, READ }

    public record Plan(long activityId, long fromUser, long toUser, int concurrency, Duration duration, long count,
                       double duplicateRatio, double readRatio, double rate) {}

    public record OpStats(Op op, long count, double perSecond, double p50Ms, double p99Ms, double p999Ms, double maxMs) {}

    /**
     * What a run did. readFallbacks: primary reads made because the read side could not be
     * reached; readsRefused: those refused beyond the fallback bound (also in errors);
     * undecodableEntries: undecodable entries the reader met; badData: the error that stopped the
     * run under sync.on-bad-data=fail (exit 65), or null.
     */
    public record Result(double seconds, long operations, double perSecond, List<OpStats> ops,
                         long claimed, long duplicates, long soldOut, long closed, long errors,
                         long writeThroughMisses, String firstError, List<Long> touchedUsers, boolean interrupted,
                         long readFallbacks, long readsRefused, long undecodableEntries, RpctlException badData,
                         double driverCpuSeconds, double processCpuSeconds) {
        /** The share of this process's CPU the load's own threads used (the rest: committers, writers, the JVM). */
        public double driverCpuShare() {
            return processCpuSeconds <= 0 ? 0 : Math.min(1, driverCpuSeconds / processCpuSeconds);
        }
    }

    /** A snapshot for a progress line. */
    public record Progress(double seconds, long operations, long claimed, long duplicates, long soldOut, long errors) {}

    private final ClaimService claims;
    private final ClaimReader reader;

    private volatile boolean stopped;

    /** Ends a run early: each thread finishes the operation in hand, and run returns what was done. */
    public void stop() {
        stopped = true;
    }

    public LoadDriver(ClaimService claims, ClaimReader reader) {
        this.claims = claims;
        this.reader = reader;
    }

    public Result run(Plan plan, Consumer<Progress> progress) throws InterruptedException {
        AtomicLong nextNew = new AtomicLong(plan.fromUser());
        AtomicLong started = new AtomicLong();
        LongAdder claimed = new LongAdder();
        LongAdder duplicates = new LongAdder();
        LongAdder soldOut = new LongAdder();
        LongAdder closed = new LongAdder();
        LongAdder errors = new LongAdder();
        LongAdder wtMisses = new LongAdder();
        LongAdder done = new LongAdder();
        AtomicLong[] claimedUsers = new AtomicLong[] {new AtomicLong(plan.fromUser() - 1)};
        Map<Long, Boolean> touched = new ConcurrentHashMap<>();
        String[] firstError = new String[1];
        RpctlException[] badData = new RpctlException[1];
        long fallbacksBefore = reader.fallbacks();
        long refusedBefore = reader.refused();
        long undecodableBefore = reader.undecodable();
        List<Map<Op, Histogram>> perThread = new ArrayList<>();
        LongAdder driverCpuNanos = new LongAdder();
        long processCpuBefore = processCpuNanos();
        long startNanos = System.nanoTime();
        long endNanos = plan.duration() == null ? Long.MAX_VALUE : startNanos + plan.duration().toNanos();
        double intervalNanos = plan.rate() > 0 ? 1e9 * plan.concurrency() / plan.rate() : 0;
        CountDownLatch finished = new CountDownLatch(plan.concurrency());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < plan.concurrency(); t++) {
            Map<Op, Histogram> hs = new EnumMap<>(Op.class);
            for (Op op : Op.values()) {
                hs.put(op, new Histogram(3_600_000_000_000L, 3));
            }
            perThread.add(hs);
            int index = t;
            Thread th = new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                // threads start spread over one interval, so a rate does not arrive in bursts
                double planned = startNanos + intervalNanos * index / plan.concurrency();
                try {
                    while (true) {
                        long n = started.incrementAndGet();
                        if (stopped || (plan.count() > 0 && n > plan.count()) || System.nanoTime() >= endNanos) {
                            return;
                        }
                        long begin;
                        if (intervalNanos > 0) {
                            long wait = (long) planned - System.nanoTime();
                            if (wait > 0) {
                                sleepNanos(wait);
                            }
                            if (stopped) {
                                return;
                            }
                            begin = (long) planned;
                            planned += intervalNanos;
                        } else {
                            begin = System.nanoTime();
                        }
                        Op op;
                        long user;
                        double r = rnd.nextDouble();
                        if (r < plan.readRatio()) {
                            op = Op.READ;
                            user = plan.fromUser() + rnd.nextLong(plan.toUser() - plan.fromUser() + 1);
                        } else if (rnd.nextDouble() < plan.duplicateRatio() && claimedUsers[0].get() >= plan.fromUser()) {
                            op = Op.CLAIM_DUPLICATE;
                            user = plan.fromUser() + rnd.nextLong(claimedUsers[0].get() - plan.fromUser() + 1);
                        } else {
                            long u = nextNew.getAndIncrement();
                            if (u > plan.toUser()) {
                                op = Op.CLAIM_DUPLICATE;
                                user = plan.fromUser() + rnd.nextLong(plan.toUser() - plan.fromUser() + 1);
                            } else {
                                op = Op.CLAIM_NEW;
                                user = u;
                            }
                        }
                        touched.put(user, Boolean.TRUE);
                        try {
                            if (op == Op.READ) {
                                reader.read(plan.activityId(), user);
                            } else {
                                ClaimService.Outcome o = claims.claim(plan.activityId(), user, "load-" + user);
                                switch (o.result()) {
                                    case CLAIMED -> claimed.increment();
                                    case DUPLICATE -> duplicates.increment();
                                    case SOLD_OUT -> soldOut.increment();
                                    // a load counts every refusal of the activity's state together
                                    case CLOSED, NOT_STARTED -> closed.increment();
                                }
                                if (!o.failedSides().isEmpty()) {
                                    wtMisses.increment();
                                }
                                if (op == Op.CLAIM_NEW) {
                                    claimedUsers[0].accumulateAndGet(user, Math::max);
                                }
                                if (o.badData() != null) {
                                    // the claim is made; the load stops on the bad data as on a read's
                                    throw o.badData();
                                }
                            }
                            hs.get(op).recordValue(Math.max(0, System.nanoTime() - begin));
                        } catch (RuntimeException e) {
                            errors.increment();
                            synchronized (firstError) {
                                if (firstError[0] == null) {
                                    firstError[0] = e.getMessage();
                                }
                                // bad data under the fail policy stops the run: the command exits 65 naming it
                                if (e instanceof RpctlException re && re.exitCode() == ExitCode.DATA && badData[0] == null) {
                                    badData[0] = re;
                                    stopped = true;
                                }
                            }
                        }
                        done.increment();
                    }
                } finally {
                    driverCpuNanos.add(java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
                    finished.countDown();
                }
            }, "load-" + t);
            th.setDaemon(true);
            threads.add(th);
        }
        threads.forEach(Thread::start);
        while (!finished.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
            progress.accept(new Progress((System.nanoTime() - startNanos) / 1e9, done.sum(), claimed.sum(),
                    duplicates.sum(), soldOut.sum(), errors.sum()));
        }
        for (Thread th : threads) {
            th.join();
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        List<OpStats> stats = new ArrayList<>();
        for (Op op : Op.values()) {
            Histogram h = new Histogram(3_600_000_000_000L, 3);
            for (Map<Op, Histogram> hs : perThread) {
                h.add(hs.get(op));
            }
            if (h.getTotalCount() > 0) {
                stats.add(new OpStats(op, h.getTotalCount(), h.getTotalCount() / seconds,
                        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
                        h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6));
            }
        }
        List<Long> users = new ArrayList<>(touched.keySet());
        users.sort(null);
        long ops = done.sum();
        return new Result(seconds, ops, ops / seconds, stats, claimed.sum(), duplicates.sum(), soldOut.sum(),
                closed.sum(), errors.sum(), wtMisses.sum(), firstError[0], users, stopped && badData[0] == null,
                reader.fallbacks() - fallbacksBefore, reader.refused() - refusedBefore,
                reader.undecodable() - undecodableBefore, badData[0], driverCpuNanos.sum() / 1e9,
                (processCpuNanos() - processCpuBefore) / 1e9);
    }

    /** CPU time of the whole process so far, where the JVM tells it; 0 where it does not. */
    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
