import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Checks the POM that `mvn install` published for org.panmax:panmax, as a consumer's Maven reads it:
 * {@code java CheckPom.java INSTALLED_POM LIBRARY_POM} (run.sh runs it; the JDK is the only tool it needs).
 *
 * <p>It fails (exit 1, one line per problem) when the installed POM lists a test-scope dependency, lists an artifact
 * that the shade plugin puts into the jar (the artifactSet includes of LIBRARY_POM, the repository's pom.xml, so the
 * list is not repeated here), or carries what only the library's own build uses: a build or reporting section,
 * profiles, a parent, or an uninterpolated {@code ${...}}.
 */
public class CheckPom {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java CheckPom.java INSTALLED_POM LIBRARY_POM");
            System.exit(2);
        }
        Path installed = Path.of(args[0]);
        Element pom = parse(installed);
        Element library = parse(Path.of(args[1]));
        List<String> shaded = shadedArtifacts(library);
        if (shaded.isEmpty()) {
            fail(List.of(args[1] + ": no maven-shade-plugin artifactSet includes found, so the shaded-dependency "
                    + "check would check nothing; update CheckPom.java"));
        }
        List<String> problems = new ArrayList<>();
        if (!"org.panmax".equals(text(pom, "groupId")) || !"panmax".equals(text(pom, "artifactId"))) {
            problems.add("not the POM of org.panmax:panmax (" + text(pom, "groupId") + ":" + text(pom, "artifactId") + ")");
        }
        for (String section : List.of("build", "reporting", "profiles", "parent")) {
            if (child(pom, section) != null) {
                problems.add("has a <" + section + "> section, which only the library's own build uses");
            }
        }
        if (Files.readString(installed).contains("${")) {
            problems.add("has an uninterpolated ${...} expression");
        }
        for (Element dep : elements(pom, "dependency")) {
            String ga = text(dep, "groupId") + ":" + text(dep, "artifactId");
            if ("test".equals(text(dep, "scope"))) {
                problems.add("lists the test-scope dependency " + ga);
            }
            for (String pattern : shaded) {
                if (matches(pattern, ga)) {
                    problems.add("lists " + ga + ", which the shade plugin puts into the jar (" + pattern + ")");
                }
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.stream().map(p -> installed + ": " + p).toList());
        }
        System.out.println("installed POM ok: no test-scope dependency, none of " + shaded
                + " (shaded into the jar), no build section");
    }

    private static void fail(List<String> problems) {
        problems.forEach(System.err::println);
        System.exit(1);
    }

    private static Element parse(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        Document d = f.newDocumentBuilder().parse(file.toFile());
        return d.getDocumentElement();
    }

    /** The groupId:artifactId patterns of the shade plugin's artifactSet includes. */
    private static List<String> shadedArtifacts(Element pom) {
        List<String> out = new ArrayList<>();
        for (Element plugin : elements(pom, "plugin")) {
            if ("maven-shade-plugin".equals(text(plugin, "artifactId"))) {
                for (Element set : elements(plugin, "artifactSet")) {
                    Element includes = child(set, "includes");
                    if (includes != null) {
                        for (Element include : elements(includes, "include")) {
                            out.add(include.getTextContent().trim());
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Shade's include syntax for what a POM can list: groupId[:artifactId], either with * wildcards. */
    private static boolean matches(String pattern, String ga) {
        String[] p = pattern.split(":");
        String[] a = ga.split(":");
        return glob(p[0], a[0]) && (p.length < 2 || glob(p[1], a[1]));
    }

    private static boolean glob(String pattern, String s) {
        return s.matches(("\\Q" + pattern + "\\E").replace("*", "\\E.*\\Q"));
    }

    private static List<Element> elements(Element root, String name) {
        List<Element> out = new ArrayList<>();
        var nodes = root.getElementsByTagName(name);
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    private static Element child(Element e, String name) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) {
                return c;
            }
        }
        return null;
    }

    private static String text(Element e, String name) {
        Element c = child(e, name);
        return c == null ? null : c.getTextContent().trim();
    }
}
