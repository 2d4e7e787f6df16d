package org.panmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The inference commands: {@code sample} and {@code topk}, from arguments and standard input, and their rejections. */
class SampleCliTest {

    @SuppressWarnings("unchecked")
    static List<Number> list(Map<String, Object> j, String key) {
        return (List<Number>) j.get(key);
    }

    @Test
    void topkGivesTheBestIndicesAndTheirProbabilities() throws Exception {
        Map<String, Object> j = CliTest.run("topk", "--k", "2", "1", "3", "2").json();
        assertEquals(List.of(1L, 2L), list(j, "indices").stream().map(Number::longValue).toList());
        double z = Math.exp(1) + Math.exp(3) + Math.exp(2);
        assertEquals(Math.exp(3) / z, list(j, "probabilities").get(0).doubleValue(), 1e-6);
        assertEquals(Math.exp(2) / z, list(j, "probabilities").get(1).doubleValue(), 1e-6);
    }

    @Test
    void greedySamplingTakesTheBestTokenOfEveryRow() throws Exception {
        Map<String, Object> j = CliTest.run("1 2 3\n3 2 1\n".getBytes(StandardCharsets.UTF_8),
                "sample", "--input", "-", "--temperature", "0", "--draws", "3").json();
        @SuppressWarnings("unchecked")
        List<List<Number>> t = (List<List<Number>>) j.get("tokens");
        assertEquals(List.of(List.of(2L, 2L, 2L), List.of(0L, 0L, 0L)),
                t.stream().map(r -> r.stream().map(Number::longValue).toList()).toList());
    }

    @Test
    void drawsFollowTheDistributionAndTheSeed() throws Exception {
        // p = (1/3, 2/3): over 6000 draws the share of token 1 is 2/3 within 5 standard deviations (0.030)
        Map<String, Object> j = CliTest.run("sample", "--seed", "11", "--draws", "6000", "0", "0.6931471805599453").json();
        List<Number> t = list(j, "tokens");
        double share = t.stream().mapToLong(Number::longValue).sum() / 6000.0;
        assertEquals(2.0 / 3, share, 0.03);
        assertEquals(t, list(CliTest.run("sample", "--seed", "11", "--draws", "6000", "0", "0.6931471805599453").json(),
                "tokens"), "same seed, same tokens");
        // top-k 1 keeps only the best token, whatever the seed
        List<Number> k1 = list(CliTest.run("sample", "--top-k", "1", "--draws", "50", "0", "0.69").json(), "tokens");
        assertTrue(k1.stream().allMatch(v -> v.longValue() == 1), "top-k 1 keeps token 1 only: " + k1);
    }

    @Test
    void badOptionsAreOneLineAndStatus2() {
        assertTrue(CliTest.rejected(CliTest.run("sample", "--top-p", "1.5", "1", "2")).contains("--top-p must be in (0, 1]"));
        assertTrue(CliTest.rejected(CliTest.run("sample", "--min-p", "-0.1", "1", "2")).contains("--min-p must be in [0, 1]"));
        assertTrue(CliTest.rejected(CliTest.run("sample", "--top-k", "0", "1", "2")).contains("--top-k must be >= 1"));
        assertTrue(CliTest.rejected(CliTest.run("sample", "--temperature", "-1", "1", "2")).contains("--temperature"));
        assertTrue(CliTest.rejected(CliTest.run("sample", "--draws", "0", "1", "2")).contains("--draws"));
        assertTrue(CliTest.rejected(CliTest.run("topk", "--k", "3", "1", "2")).contains("--k must be in [1, 2]"));
        assertTrue(CliTest.rejected(CliTest.run("topk", "1", "2")).contains("--k"));
    }
}
