package dev.rpctl.kafka;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ForeignFormatsTest {

    @ParameterizedTest
    @ValueSource(strings = {"debezium", "maxwell", "canal"})
    void every_golden_fixture_reads_as_the_changes_it_carries(String format) throws Exception {
        MessageFormat f = FormatFixtures.format(format);
        Map<String, String> expected = FormatFixtures.expected(format);
        assertEquals(expected.size(), FormatFixtures.dir(format).toFile().list((d, n) -> n.endsWith(".json")).length,
                "every fixture file has its line in expected.txt");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), FormatFixtures.render(f.decode(FormatFixtures.value(format, e.getKey()))),
                    format + "/" + e.getKey());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"debezium", "maxwell", "canal"})
    void a_row_without_the_version_column_is_a_bad_message_naming_it(String format) {
        String value = switch (format) {
            case "debezium" -> "{'before':null,'after':{'activity_id':1,'user_id':2,'amount':3},'source':{'table':'rp_claim'},'op':'c'}";
            case "maxwell" -> "{'database':'rpctl','table':'rp_claim','type':'insert','data':{'activity_id':1,'user_id':2,'amount':3}}";
            default -> "{'data':[{'activity_id':'1','user_id':'2','amount':'3'}],'isDdl':false,'table':'rp_claim','type':'INSERT'}";
        };
        BadMessageException e = assertThrows(BadMessageException.class, () -> FormatFixtures.format(format)
                .decode(value.replace('\'', '"').getBytes(StandardCharsets.UTF_8)));
        assertEquals(true, e.getMessage().endsWith("row has no version"), e.getMessage());
    }
}
