/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package dev.tenure.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's code comes from compiled, tested files: every block preceded by {@code <!-- snippet: FILE#NAME -->}
 * must equal the lines between {@code // snippet: NAME} and {@code // end snippet} in FILE (indentation removed), so
 * that a change to the API breaks the build, not the README.
 */
class ReadmeSnippetsTest {
    private static final Path ROOT = Path.of("..");
    private static final Pattern MARKER = Pattern.compile("<!-- snippet: (\\S+)#(\\S+) -->");

    @Test
    void everyMarkedReadmeSnippetIsTheCompiledCodeItNames() throws IOException {
        List<String> readme = Files.readAllLines(ROOT.resolve("README.md"));
        int checked = 0;
        for (int i = 0; i < readme.size(); i++) {
            Matcher m = MARKER.matcher(readme.get(i));
            if (!m.find()) {
                continue;
            }
            assertEquals("```java", readme.get(i + 1), "a ```java block follows the marker on README line " + (i + 1));
            List<String> block = new ArrayList<>();
            int j = i + 2;
            while (!readme.get(j).equals("```")) {
                block.add(readme.get(j++));
            }
            assertEquals(
                    String.join("\n", region(ROOT.resolve(m.group(1)), m.group(2))),
                    String.join("\n", block),
                    "README line " + (i + 1) + " shows " + m.group(1) + "#" + m.group(2) + " as it is");
            checked++;
        }
        assertTrue(checked >= 3, "the README marks its snippets; found " + checked);
    }

    @Test
    void theElectionEmbeddingIsAtMostTenLines() throws IOException {
        List<String> lines = region(
                ROOT.resolve("examples/src/main/java/dev/tenure/examples/invoices/InvoiceService.java"),
                "fenced-election");
        assertTrue(lines.size() <= 10, "the embedding has " + lines.size() + " lines");
    }

    /** The lines of region {@code name} in {@code file}, without their common indentation. */
    static List<String> region(Path file, String name) throws IOException {
        List<String> lines = Files.readAllLines(file);
        int start = lines.indexOf(lines.stream()
                .filter(l -> l.trim().equals("// snippet: " + name))
                .findFirst()
                .orElseThrow(() -> new AssertionError(file + " has no region " + name)));
        List<String> region = new ArrayList<>();
        for (int i = start + 1; !lines.get(i).trim().equals("// end snippet"); i++) {
            region.add(lines.get(i));
        }
        int indent = region.stream()
                .filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length())
                .min()
                .orElse(0);
        return region.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList();
    }
}
