package dev.rpctl.protocol;

import dev.rpctl.cache.LuaScript;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The server-side scripts of the protocol, one per kind of write; each .lua states its rules. */
final class Scripts {
    /** Writes entries where a key is absent, a lease, or older; one call takes many keys. */
    static final LuaScript CAS = load("cas.lua");
    /** Reads an entry or, on a miss, takes a lease for the reader. */
    static final LuaScript LEASE = load("lease.lua");
    /** Fills a key only while the reader's own lease is there. */
    static final LuaScript FILL = load("fill.lua");
    /** Replaces exactly the value compared, for repairs the compare-and-set cannot order. */
    static final LuaScript SWAP = load("swap.lua");
    /** Reads an entry or, on a miss, asks the activity's Bloom filter, then takes a lease (one Redis only). */
    static final LuaScript LEASE_BLOOM = load("lease_bloom.lua", "bloom.lua");
    /** Adds claimers to an activity's Bloom filter. */
    static final LuaScript BLOOM_ADD = load("bloom_add.lua", "bloom.lua");
    /** Asks an activity's Bloom filter about users. */
    static final LuaScript BLOOM_CHECK = load("bloom_check.lua", "bloom.lua");
    /** Starts an activity's Bloom filter, or keeps one of the same size. */
    static final LuaScript BLOOM_INIT = load("bloom_init.lua");
    /** Marks an activity's Bloom filter ready for readers. */
    static final LuaScript BLOOM_READY = load("bloom_ready.lua");

    private Scripts() {
    }

    /** A script, with the shared functions of the preludes put in front of it. */
    private static LuaScript load(String file, String... preludes) {
        StringBuilder text = new StringBuilder();
        for (String p : preludes) {
            text.append(read(p));
        }
        return LuaScript.of(file, text.append(read(file)).toString());
    }

    private static String read(String file) {
        try (InputStream in = Scripts.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("missing script " + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
