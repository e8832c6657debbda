package dev.rpctl.cache;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The direct links of one single Redis: idle ones lent again most recent first, and every link in
 * use or still connecting known, so that {@link #close} can break a read or a handshake that a
 * hung server holds.
 */
public final class DirectLinks implements AutoCloseable {
    private final CacheSide side;
    private final ConcurrentLinkedDeque<DirectLink> idle = new ConcurrentLinkedDeque<>();
    private final Set<DirectLink> busy = ConcurrentHashMap.newKeySet();
    private final Set<Socket> connecting = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public DirectLinks(CacheSide side) {
        if (!side.single()) {
            throw new IllegalStateException("side " + side.name() + " is not a single Redis");
        }
        this.side = side;
    }

    /** Whether a link is there to lend without connecting. */
    public boolean hasIdle() {
        return !idle.isEmpty();
    }

    /** An idle link, busy until given back by {@link #release} or {@link #discard}; null when none is idle. */
    public DirectLink take() {
        DirectLink link = idle.pollFirst();
        return link == null ? null : lend(link);
    }

    /** A new link, connected within timeout, busy until given back by {@link #release} or {@link #discard}. */
    public DirectLink connect(Duration timeout) {
        Socket[] socket = new Socket[1];
        DirectLink link;
        try {
            link = side.openLink(timeout, s -> {
                socket[0] = s;
                connecting.add(s);
                if (closed) {
                    closeQuietly(s);
                }
            });
        } finally {
            if (socket[0] != null) {
                connecting.remove(socket[0]);
            }
        }
        return lend(link);
    }

    private DirectLink lend(DirectLink link) {
        busy.add(link);
        if (closed) {
            discard(link);
            throw new IllegalStateException("shutting down");
        }
        return link;
    }

    /** A link that has read every reply it was owed, to lend again. */
    public void release(DirectLink link) {
        busy.remove(link);
        idle.addFirst(link);
        if (closed) {
            // close() may have emptied idle before this link came back
            dropIdle();
        }
    }

    /** Closes a link that may still owe replies, or is broken: it is not lent again. */
    public void discard(DirectLink link) {
        if (link != null) {
            busy.remove(link);
            try {
                link.close();
            } catch (RuntimeException ignored) {
                // already broken
            }
        }
    }

    /** Closes the idle links: after a broken connection (a restarted server) they are likely broken too. */
    public void dropIdle() {
        for (DirectLink l; (l = idle.pollFirst()) != null; ) {
            l.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        dropIdle();
        // a caller blocked on a hung server's reply gets a closed socket and gives up its batch
        connecting.forEach(DirectLinks::closeQuietly);
        List.copyOf(busy).forEach(this::discard);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is all that was asked
        }
    }
}
