package dev.rpctl.claim;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A small concurrent map of values that each last until a deadline (System.nanoTime), holding at
 * most {@code max} keys however many distinct keys pass through it over weeks: an expired value
 * is dropped when read, every expired one when the map is full, and all of them when it is still
 * more than half full of live ones (forgetting costs each key one reload, never a wrong answer).
 */
final class Expiring<K, V> {
    private record Held<V>(V value, long untilNanos) {}

    private final ConcurrentHashMap<K, Held<V>> map = new ConcurrentHashMap<>();
    private final int max;

    Expiring(int max) {
        this.max = max;
    }

    /** The value while it lasts, else null. */
    V get(K key, long nowNanos) {
        Held<V> h = map.get(key);
        if (h == null) {
            return null;
        }
        if (nowNanos - h.untilNanos() >= 0) {
            map.remove(key, h);
            return null;
        }
        return h.value();
    }

    void put(K key, V value, long untilNanos, long nowNanos) {
        if (map.size() >= max && !map.containsKey(key)) {
            map.values().removeIf(h -> nowNanos - h.untilNanos() >= 0);
            if (map.size() > max / 2) {
                map.clear();
            }
        }
        map.put(key, new Held<>(value, untilNanos));
    }

    int size() {
        return map.size();
    }
}
