package dev.riscvrelay.relay.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run of some parts ({@code relay bench --parts cluster}) merged into the BENCHMARKS.md of an earlier run: the
 * parts it ran replace their target rows and sections, every other part stays as it was (and so does a section no
 * part writes), and the header says which run each part comes from.
 */
final class ReportMerge {

    /** Each part's sections by the start of their headings, in the report's order. */
    private static final List<Map.Entry<String, BenchCommand.Part>> SECTIONS = List.of(
            Map.entry("## P1 ", BenchCommand.Part.switching), Map.entry("## P2 ", BenchCommand.Part.nat),
            Map.entry("## Field", BenchCommand.Part.field), Map.entry("## Cluster", BenchCommand.Part.cluster),
            Map.entry("## P3 scale: memory", BenchCommand.Part.scale),
            Map.entry("## P3 scale: CPU", BenchCommand.Part.switching),
            Map.entry("## Workers", BenchCommand.Part.workers),
            Map.entry("## Micro", BenchCommand.Part.micro), Map.entry("## Profile", BenchCommand.Part.switching));

    /** Each part's target rows by the start of their target, in the report's order. */
    private static final List<Map.Entry<String, BenchCommand.Part>> TARGETS = List.of(
            Map.entry("| P1 ", BenchCommand.Part.switching), Map.entry("| P2 ", BenchCommand.Part.nat),
            Map.entry("| Field ", BenchCommand.Part.field), Map.entry("| Cluster ", BenchCommand.Part.cluster),
            Map.entry("| P3 ", BenchCommand.Part.scale), Map.entry("| Micro ", BenchCommand.Part.micro));

    private static final String TARGETS_HEADING = "## Targets";
    private static final String WHOLE_RUN = "Every figure below comes from one run of `";
    private static final String EXCEPT = " (but the parts listed below, each from a run of its own)";
    private static final String TABLE_HEAD = "| target | measured | same-run baseline | met |\n|---|---|---|---|\n";

    private ReportMerge() {
    }

    static String merge(String old, String fresh, Set<BenchCommand.Part> parts, BenchReport.Inputs in) {
        Doc before = Doc.parse(old);
        Doc now = Doc.parse(fresh);
        StringBuilder md = new StringBuilder();
        for (String line : before.preamble.stripTrailing().split("\n", -1)) {
            if (parts.stream().anyMatch(part -> line.startsWith(partLine(part)))) {
                continue; // an earlier run of a part this run replaces
            }
            if (line.startsWith(WHOLE_RUN) && !line.contains(EXCEPT)) {
                int end = line.indexOf('`', WHOLE_RUN.length()) + 1;
                md.append(line, 0, end).append(EXCEPT).append(line.substring(end)).append('\n');
                continue;
            }
            md.append(line).append('\n');
        }
        for (BenchCommand.Part part : parts) {
            md.append(partLine(part)).append(" from `").append(in.command()).append("`, started ")
                    .append(in.startedAt()).append(", took ").append(in.elapsedSeconds()).append(" s; ")
                    .append(in.machine()).append('\n');
        }
        md.append('\n');
        md.append(TARGETS_HEADING).append("\n\n").append(TABLE_HEAD);
        for (Map.Entry<String, BenchCommand.Part> target : TARGETS) {
            Doc from = parts.contains(target.getValue()) ? now : before;
            from.rows.stream().filter(row -> row.startsWith(target.getKey())).forEach(row -> md.append(row).append('\n'));
        }
        before.rows.stream().filter(row -> TARGETS.stream().noneMatch(t -> row.startsWith(t.getKey())))
                .forEach(row -> md.append(row).append('\n'));
        md.append('\n');
        // Sections no part writes (notes kept by hand, such as reruns of the targets) stay, just after the targets.
        before.sections.forEach((heading, body) -> {
            if (SECTIONS.stream().noneMatch(section -> heading.startsWith(section.getKey()))) {
                md.append(body);
            }
        });
        for (Map.Entry<String, BenchCommand.Part> section : SECTIONS) {
            Doc from = parts.contains(section.getValue()) ? now : before;
            from.sections.forEach((heading, body) -> {
                if (heading.startsWith(section.getKey())) {
                    md.append(body);
                }
            });
        }
        return md.toString();
    }

    /** The header line that says where {@code part}'s figures come from. */
    static String partLine(BenchCommand.Part part) {
        return "- The " + part + " part:";
    }

    /** A report cut into its header, its target rows and its sections (each with its heading line). */
    private record Doc(String preamble, List<String> rows, Map<String, String> sections) {
        static Doc parse(String md) {
            int targets = md.indexOf(TARGETS_HEADING + "\n");
            String preamble = targets < 0 ? md : md.substring(0, targets);
            List<String> rows = new ArrayList<>();
            Map<String, String> sections = new LinkedHashMap<>();
            if (targets < 0) {
                return new Doc(preamble, rows, sections);
            }
            String rest = md.substring(targets + TARGETS_HEADING.length() + 1);
            int firstSection = rest.indexOf("\n## ");
            String table = firstSection < 0 ? rest : rest.substring(0, firstSection);
            for (String line : table.split("\n")) {
                if (line.startsWith("| ") && !line.startsWith("| target |")) {
                    rows.add(line);
                }
            }
            if (firstSection >= 0) {
                String body = rest.substring(firstSection + 1);
                int at = 0;
                while (at < body.length()) {
                    int next = body.indexOf("\n## ", at);
                    int end = next < 0 ? body.length() : next + 1;
                    String section = body.substring(at, end);
                    sections.put(section.substring(0, section.indexOf('\n') < 0 ? section.length()
                            : section.indexOf('\n')), section);
                    at = end;
                }
            }
            return new Doc(preamble, rows, sections);
        }
    }
}
