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

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public top-level type of the libraries states its thread-safety in its class Javadoc, in a small agreed
 * vocabulary, so that a new type without it breaks the build.
 */
class LibraryJavadocTest {
    private static final Path ROOT = Path.of("..");
    private static final List<String> LIBRARIES =
            List.of("recipes", "replicator", "controller", "testkit", "checker", "harness");

    /** A public top-level type declaration: at the start of a line, after any modifiers. */
    private static final Pattern DECLARATION = Pattern.compile(
            "^public\\s+(?:(?:final|abstract|sealed|non-sealed|static|strictfp)\\s+)*(?:class|interface|enum|record|@interface)\\s",
            Pattern.MULTILINE);

    private static final Pattern JAVADOC = Pattern.compile("/\\*\\*(.*?)\\*/", Pattern.DOTALL);

    /** The agreed thread-safety vocabulary. */
    private static final Pattern THREAD_SAFETY = Pattern.compile(
            "thread-safe|immutable|thread-confined|confine[ds]? to|any thread|one thread|single thread"
                    + "|\\b(?:on|from) (?:the|its|their|a|one) (?:[\\w'-]+ ){0,3}threads?\\b",
            Pattern.CASE_INSENSITIVE);

    @Test
    void everyPublicLibraryTypeStatesItsThreadSafety() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (String library : LIBRARIES) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(library).resolve("src/main/java"))) {
                files.filter(f -> f.toString().endsWith(".java"))
                        .filter(f -> !f.getFileName().toString().equals("package-info.java"))
                        .sorted()
                        .forEach(sources::add);
            }
        }
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Path source : sources) {
            String text = Files.readString(source);
            Matcher declaration = DECLARATION.matcher(text);
            if (!declaration.find()) {
                continue;
            }
            checked++;
            String javadoc = classJavadoc(text.substring(0, declaration.start()));
            if (!THREAD_SAFETY
                    .matcher(javadoc.replaceAll("\\s*\\n\\s*\\*?\\s*", " "))
                    .find()) {
                missing.add(ROOT.relativize(source).toString());
            }
        }
        assertTrue(checked >= 100, "found the libraries' public types; checked " + checked);
        assertTrue(
                missing.isEmpty(),
                "these public types do not state their thread-safety in their class Javadoc (say thread-safe, not"
                        + " thread-safe, immutable, thread-confined, any thread or on the ... thread):\n  "
                        + String.join("\n  ", missing));
    }

    /** The last Javadoc comment before the declaration, or "" when none precedes it. */
    private static String classJavadoc(String beforeDeclaration) {
        Matcher m = JAVADOC.matcher(beforeDeclaration);
        String last = "";
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }
}
