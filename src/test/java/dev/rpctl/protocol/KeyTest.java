package dev.rpctl.protocol;

import dev.rpctl.config.ConfigLoader;
import dev.rpctl.config.MappingSettings;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KeyTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"rp:claim:<activity>:<user>", "<user>/<activity>", "a<activity>x<user>z",
            "<activity>-<user>-<activity>", "x:<user>:y:<activity>:"})
    void the_protocol_names_a_claim_exactly_as_the_template_says(String template) {
        MappingSettings m = new ConfigLoader(Map.of("RPCTL_MAPPING_KEY_TEMPLATE", template), dir)
                .load(null, Map.of()).mapping();
        CacheProtocol p = new CacheProtocol(m);
        for (long[] au : new long[][] {{1, 2}, {987654321012L, 7}, {0, Long.MAX_VALUE}}) {
            assertEquals(m.claimKey(au[0], au[1]), p.key(au[0], au[1]), template);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rp:claim:<activity>:<user>", "<user>/<activity>", "<activity>-<user>-<activity>",
            "x:<user>:y:<activity>:", "a*[b]?:<activity>:<user>"})
    void a_claim_key_reads_back_to_its_ids_and_the_scan_pattern_matches_it(String template) {
        MappingSettings m = new ConfigLoader(Map.of("RPCTL_MAPPING_KEY_TEMPLATE", template), dir)
                .load(null, Map.of()).mapping();
        CacheProtocol p = new CacheProtocol(m);
        String key = p.key(12, 345);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {12, 345}, p.ids(key), template);
        assertEquals(null, p.ids(p.blooms().key(12)), "the Bloom filter's key is no claim key");
        assertEquals(null, p.ids("other:" + key));
        String glob = p.scanPattern(12);
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '\\') {
                regex.append(java.util.regex.Pattern.quote(String.valueOf(glob.charAt(++i))));
            } else {
                regex.append(c == '*' ? ".*" : java.util.regex.Pattern.quote(String.valueOf(c)));
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(key.matches(regex.toString()), glob + " matches " + key);
    }
}
