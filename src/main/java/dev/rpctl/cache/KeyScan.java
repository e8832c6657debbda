package dev.rpctl.cache;

import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SCAN of one side, every node of a cluster included, a batch of keys at a time, with each
 * batch's values and TTLs read in one pipelined round trip. For surveys (inspect --activity),
 * never for the claim path: SCAN walks the whole keyspace.
 */
public final class KeyScan {
    private KeyScan() {
    }

    /** One key as the scan found it: its value (null if gone meanwhile) and PTTL (-1 no TTL, -2 gone). */
    public record Found(String key, String value, long pttlMillis) {}

    /** Calls each with every batch of keys matching the glob pattern (every master of a Cluster). */
    public static void scan(CacheSide side, String match, int batch, Consumer<List<Found>> each) {
        side.scan(match, batch, keys -> side.call(j -> {
            List<Response<String>> values = new ArrayList<>(keys.size());
            List<Response<Long>> ttls = new ArrayList<>(keys.size());
            try (AbstractPipeline p = j.pipelined()) {
                for (String k : keys) {
                    values.add(p.get(k));
                    ttls.add(p.pttl(k));
                }
                p.sync();
            }
            List<Found> found = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                found.add(new Found(keys.get(i), values.get(i).get(), ttls.get(i).get()));
            }
            each.accept(found);
            return null;
        }));
    }

    /** A glob that matches the text itself: SCAN's special characters escaped. */
    public static String literal(String text) {
        return text.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
    }
}
