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

    private Scripts() {
    }

    private static LuaScript load(String file) {
        try (InputStream in = Scripts.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("missing script " + file);
            }
            return LuaScript.of(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
