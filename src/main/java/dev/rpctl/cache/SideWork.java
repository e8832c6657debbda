package dev.rpctl.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Work on several sides side by side (each side is its own server), for bulk jobs such as
 * reconcile and warm: the first side on the caller's thread, the others on daemon threads, a
 * failure on any side thrown as it was.
 */
public final class SideWork {
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "side-work");
        t.setDaemon(true);
        return t;
    });

    private SideWork() {
    }

    /** f of every side, in the sides' order. */
    public static <T> List<T> each(List<CacheSide> sides, Function<CacheSide, T> f) {
        List<CompletableFuture<T>> others = new ArrayList<>();
        for (int i = 1; i < sides.size(); i++) {
            CacheSide s = sides.get(i);
            others.add(CompletableFuture.supplyAsync(() -> f.apply(s), THREADS));
        }
        List<T> out = new ArrayList<>(sides.size());
        out.add(f.apply(sides.get(0)));
        for (CompletableFuture<T> c : others) {
            out.add(join(c));
        }
        return out;
    }

    /** Starts a piece of work (a read to overlap with the sides' writes) on the same threads. */
    public static <T> CompletableFuture<T> start(Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, THREADS);
    }

    /** The result of work started here, its failure thrown as it was. */
    public static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }
}
