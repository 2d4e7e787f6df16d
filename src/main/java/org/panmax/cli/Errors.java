package org.panmax.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** picocli's parse errors as one line each, with the suggestions it has and a pointer to --help. */
final class Errors {
    private Errors() {}

    private static final Pattern NEGATIVE_WORD = Pattern.compile("(?i)-(inf|infinity|nan)");

    /**
     * picocli takes {@code -inf} for a cluster of short options; {@code -Infinity} and {@code -NaN} it
     * leaves alone, as they parse as numbers. The number reader accepts both spellings.
     */
    static String[] protectNegativeWords(String[] args) {
        String[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals("--")) {
                break;
            }
            if (NEGATIVE_WORD.matcher(a[i]).matches()) {
                a[i] = a[i].toLowerCase(Locale.ROOT).equals("-nan") ? "-NaN" : "-Infinity";
            }
        }
        return a;
    }

    static String describe(CommandLine.ParameterException e) {
        CommandLine c = e.getCommandLine();
        String help = c.getParent() == null ? "panmax --help" : "panmax " + c.getCommandName() + " --help";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().get(0);
            List<String> suggestions = u.getSuggestions();
            String hint = suggestions.isEmpty() ? "" : "; did you mean " + String.join(" or ", suggestions) + "?";
            if (c.getParent() == null && !first.startsWith("-")) {
                return "unknown command '" + first + "'" + hint + " (" + help + " lists the commands)";
            }
            if (first.startsWith("-")) {
                String name = first.contains("=") ? first.substring(0, first.indexOf('=')) : first;
                String owner = ownerOf(c, name);
                return "unknown option '" + name + "'" + (owner == null ? "" : " (it belongs to " + owner + ")") + hint
                        + " (" + help + ")";
            }
            return "unexpected argument '" + first + "' (" + help + ")";
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        return msg + " (" + help + ")";
    }

    /** The sibling commands that have an option called {@code name}, e.g. "crossentropy" for --target. */
    private static String ownerOf(CommandLine c, String name) {
        CommandLine root = c.getParent();
        if (root == null) {
            return null;
        }
        List<String> owners = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            if (sub == c || owners.contains(sub.getCommandName())) {
                continue;
            }
            for (OptionSpec o : sub.getCommandSpec().options()) {
                for (String n : o.names()) {
                    if (n.equals(name) && !owners.contains(sub.getCommandName())) {
                        owners.add(sub.getCommandName());
                    }
                }
            }
        }
        return owners.isEmpty() ? null : String.join(", ", owners);
    }
}
