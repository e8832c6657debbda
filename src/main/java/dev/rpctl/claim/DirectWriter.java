package dev.rpctl.claim;

import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.DirectLink;
import dev.rpctl.cache.DirectLinks;
import dev.rpctl.protocol.CacheProtocol;
import dev.rpctl.protocol.CasOutcome;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.rpctl.claim.WriteThrough.log;

/**
 * The write-through to a single Redis, on the submitting thread: {@link #send} puts a batch on
 * the wire, {@link #receive} reads its replies by the batch's deadline and answers the batch for
 * this side. Retries, and the second a side is left alone after it timed out or could not be reached.
 */
final class DirectWriter {
    /** How long a side that timed out or could not be reached is left alone. */
    private static final long DOWN_NANOS = 1_000_000_000L;

    private final WriteThrough owner;
    private final int index;
    private final CacheSide side;
    private final DirectLinks links;
    private volatile long downUntil;
    private volatile boolean down;

    /** A batch on the wire, waiting for its replies. */
    record Round(DirectLink link, CacheProtocol.Sent sent, int attempt) {}

    DirectWriter(WriteThrough owner, int index, CacheSide side) {
        this.owner = owner;
        this.index = index;
        this.side = side;
        this.links = new DirectLinks(side);
    }

    /** Whether a link is there already, so that sending needs no handshake. */
    boolean connected() {
        return links.hasIdle();
    }

    /** Puts the batch on the wire; null when it could not (the batch is then answered for this side). */
    Round send(WriteBatch b, int attempt) {
        if (down && System.nanoTime() - downUntil < 0) {
            miss(b, null);
            return null;
        }
        DirectLink link = null;
        try {
            link = links.take();
            if (link == null) {
                link = links.connect(Duration.ofNanos(timeLeft(b)));
            }
            if (owner.closed()) {
                throw new IllegalStateException("shutting down");
            }
            return new Round(link, owner.protocol.send(side, link, b.writes), attempt);
        } catch (RuntimeException e) {
            links.discard(link);
            links.dropIdle();
            if (attempt < owner.retries && !owner.closed() && b.deadlineNanos - System.nanoTime() > 0) {
                return send(b, attempt + 1);
            }
            trip(e);
            miss(b, e);
            return null;
        }
    }

    /** Reads the replies of a round until the batch's deadline, and answers the batch for this side. */
    void receive(WriteBatch b, Round r) {
        try {
            int timeoutMillis = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeLeft(b)));
            List<CasOutcome> outcomes = owner.protocol.receive(r.link(), r.sent(), timeoutMillis);
            links.release(r.link());
            b.badData(owner.undecodable(index, side, b.writes, outcomes));
            if (down) {
                down = false;
                log.info("write-through to side {} works again", side.name());
            }
            b.answer(index, true);
        } catch (RuntimeException e) {
            // the link may still owe replies: it is not used again
            links.discard(r.link());
            boolean timedOut = e instanceof DirectLink.TimedOut || b.deadlineNanos - System.nanoTime() <= 0;
            if (!timedOut && !owner.closed() && r.attempt() < owner.retries) {
                // a broken connection (a restarted server): the idle links are likely broken
                // too, so they go, and the batch goes once more on a new one
                links.dropIdle();
                Round again = send(b, r.attempt() + 1);
                if (again != null) {
                    receive(b, again);
                }
                return;
            }
            trip(e);
            miss(b, e);
        }
    }

    /**
     * The time this side has to connect or to answer: what is left of the batch's timeout, but
     * at least a quarter of it, so that another side's slow handshake never uses up this
     * side's time (a healthy side's reply is in its socket long before).
     */
    private long timeLeft(WriteBatch b) {
        return Math.max(b.deadlineNanos - System.nanoTime(), Math.max(1_000_000L, owner.timeout.toNanos() / 4));
    }

    /** Leaves the side alone for a while after a timeout or a failure to reach it. */
    private void trip(RuntimeException e) {
        if (owner.closed()) {
            return;
        }
        downUntil = System.nanoTime() + DOWN_NANOS;
        if (!down) {
            down = true;
            log.warn("write-through to side {} ({}) failed: {}; the side is skipped for {} s at a time until it "
                    + "answers again, and the binlog pipeline applies what it misses", side.name(), side.address(),
                    e.getMessage(), TimeUnit.NANOSECONDS.toSeconds(DOWN_NANOS));
        }
    }

    private void miss(WriteBatch b, RuntimeException e) {
        owner.failed(index);
        if (e != null && !down) {
            log.warn("write-through of {} entries to side {} failed: {}; the binlog pipeline will apply them",
                    b.writes.size(), side.name(), e.getMessage());
        }
        b.answer(index, false);
    }

    void close() {
        links.close();
    }
}
