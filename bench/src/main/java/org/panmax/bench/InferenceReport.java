package org.panmax.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The inference section of the report (issue 14) from bench/run-inference.sh's JMH results: sampling against one
 * softmax pass of the same row and against the Java full-sort sampler, classifier heads against the OpenBLAS product
 * alone, and the Executor scaling, each with the target and a verdict. Medians of one run.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar org.panmax.bench.InferenceReport OUT.md RESULT.json... [-- LINE...]}
 */
public final class InferenceReport {
    private InferenceReport() {}

    public static void main(String[] args) throws IOException {
        List<Path> files = new ArrayList<>();
        List<String> header = new ArrayList<>();
        boolean lines = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--")) {
                lines = true;
            } else if (lines) {
                header.add(args[i]);
            } else if (Files.exists(Path.of(args[i]))) {
                files.add(Path.of(args[i]));
            }
        }
        List<Case> cases = new ArrayList<>();
        for (Report.Row r : Report.read(files)) { // every benchmark here reports microseconds
            cases.add(new Case(r.bench().replaceAll("\\..*", ""), r.params(), r.median(), r.error()));
        }
        Files.writeString(Path.of(args[0]), render(cases, header));
    }

    record Case(String bench, Map<String, String> params, double median, double error) {
        String p(String k) {
            return params.getOrDefault(k, "");
        }
    }

    static String render(List<Case> cases, List<String> header) {
        StringBuilder md = new StringBuilder("# panmax inference benchmarks (issue 14)\n\n");
        header.forEach(h -> md.append(h).append("  \n"));
        md.append("\nMedians of the measurement iterations of one JMH run (bench/run-inference.sh), µs per call.\n");
        sampling(md, cases);
        heads(md, cases);
        split(md, cases);
        return md.toString();
    }

    private static Map<String, Case> index(List<Case> cases, String bench, String... keys) {
        Map<String, Case> m = new LinkedHashMap<>();
        for (Case c : cases) {
            if (c.bench().equals(bench)) {
                StringBuilder k = new StringBuilder();
                for (String key : keys) {
                    k.append(c.p(key)).append('|');
                }
                m.put(k.toString(), c);
            }
        }
        return m;
    }

    static void sampling(StringBuilder md, List<Case> cases) {
        Map<String, Case> s = index(cases, "SamplingBenchmark", "rows", "v", "config", "contender");
        if (s.isEmpty()) {
            return;
        }
        md.append("\n## Sampling one token (`SamplingBenchmark`, float32, one row)\n\n")
                .append("| rows | V | config | panmax µs | ± | softmax pass µs | × softmax pass | java-scalar µs | "
                        + "java-fullsort µs | fullsort ÷ panmax | verdict |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        TreeSet<String> keys = new TreeSet<>();
        s.keySet().forEach(k -> keys.add(k.substring(0, k.lastIndexOf('|', k.length() - 2) + 1)));
        Map<String, Double> topp = new TreeMap<>();
        Map<String, Double> topk = new TreeMap<>();
        for (String k : keys) {
            Case p = s.get(k + "panmax|");
            if (p == null) {
                continue;
            }
            String[] f = k.split("\\|");
            Case soft = s.get(k + "softmax|");
            Case js = s.get(k + "java-scalar|");
            Case full = s.get(k + "java-fullsort|");
            double r = soft == null ? Double.NaN : p.median() / soft.median();
            double fs = full == null ? Double.NaN : full.median() / p.median();
            List<String> verdict = new ArrayList<>();
            if (f[2].startsWith("topp") && !Double.isNaN(r)) {
                verdict.add(r <= 1.5 ? "≤ 1.5× pass: holds" : "≤ 1.5× pass: missed");
            }
            if (!Double.isNaN(fs)) {
                verdict.add(fs >= 50 ? "≥ 50× full sort: holds" : "≥ 50× full sort: missed");
            }
            if (f[2].equals("topp")) {
                topp.put(f[0] + " V=" + f[1], p.median());
            } else if (f[2].equals("topp-topk40")) {
                topk.put(f[0] + " V=" + f[1], p.median());
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s | %s |%n", f[0], f[1],
                    f[2], p.median(), p.error(), us(soft), x(r), us(js), us(full), x(fs), String.join("; ", verdict)));
        }
        if (!topp.isEmpty()) {
            md.append("\nNo cliff with top-k off (top-p 0.9 alone ÷ top-p 0.9 with top-k 40): ");
            List<String> parts = new ArrayList<>();
            topp.forEach((k, v) -> {
                Double w = topk.get(k);
                if (w != null) {
                    parts.add(String.format(Locale.ROOT, "%s %.2f×", k, v / w));
                }
            });
            md.append(String.join(", ", parts)).append(".\n");
        }
    }

    static void heads(StringBuilder md, List<Case> cases) {
        Map<String, Case> h = index(cases, "HeadBenchmark", "b", "d", "k", "contender");
        if (h.isEmpty()) {
            return;
        }
        md.append("\n## Classifier heads (`HeadBenchmark`, float32, OpenBLAS on one thread)\n\n")
                .append("| B | d | K | gemm/gemv µs | head, probabilities µs | × gemm | head, top-5 only µs | × gemm | verdict |\n")
                .append("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        TreeMap<String, String> rows = new TreeMap<>();
        for (Case c : h.values()) {
            rows.put(String.format(Locale.ROOT, "%08d|%08d|%08d", Integer.parseInt(c.p("b")), Integer.parseInt(c.p("d")),
                    Integer.parseInt(c.p("k"))), c.p("b") + "|" + c.p("d") + "|" + c.p("k") + "|");
        }
        for (String k : rows.values()) {
            Case g = h.get(k + "gemm|");
            Case pr = h.get(k + "head-probs|");
            Case t5 = h.get(k + "head-top5|");
            String[] f = k.split("\\|");
            double rp = g == null || pr == null ? Double.NaN : pr.median() / g.median();
            double rt = g == null || t5 == null ? Double.NaN : t5.median() / g.median();
            List<String> verdict = new ArrayList<>();
            if (!Double.isNaN(rp)) {
                verdict.add(rp <= 1.10 ? "probs ≤ 1.10×: holds" : "probs ≤ 1.10×: missed");
            }
            if (!Double.isNaN(rt)) {
                verdict.add(rt <= 1.10 ? "top-5 ≤ 1.10×: holds" : "top-5 ≤ 1.10×: missed");
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", f[0], f[1], f[2], us(g),
                    us(pr), x(rp), us(t5), x(rt), String.join("; ", verdict)));
        }
    }

    static void split(StringBuilder md, List<Case> cases) {
        Map<String, Case> sp = index(cases, "SplitBenchmark", "op", "tasks");
        if (sp.isEmpty()) {
            return;
        }
        md.append("\n## Batched calls on an Executor (`SplitBenchmark`)\n\n| op | tasks | µs | speed-up over 1 task |\n")
                .append("|---|---:|---:|---:|\n");
        TreeMap<String, Case> sorted = new TreeMap<>();
        sp.values().forEach(c -> sorted.put(String.format(Locale.ROOT, "%s|%04d", c.p("op"), Integer.parseInt(c.p("tasks"))), c));
        for (Case c : sorted.values()) {
            Case one = sp.get(c.p("op") + "|1|");
            md.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s |%n", c.p("op"), c.p("tasks"), c.median(),
                    one == null ? "" : x(one.median() / c.median())));
        }
    }

    private static String us(Case c) {
        return c == null ? "" : String.format(Locale.ROOT, "%.2f", c.median());
    }

    private static String x(double r) {
        return Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.2f×", r);
    }
}
