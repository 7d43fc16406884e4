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
package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/** The shipped jar is an application: it carries no test framework. */
class PackagedJarIT {
    @Test
    void thePackagedJarContainsNoJUnitClasses() throws Exception {
        String jar = System.getProperty("demo.jar");
        try (JarFile file = new JarFile(jar)) {
            assertTrue(file.getEntry("dev/tenure/demo/Main.class") != null, "not the demo's jar: " + jar);
            List<String> junit = file.stream()
                    .map(ZipEntry::getName)
                    .filter(n ->
                            n.startsWith("org/junit/") || n.startsWith("junit/") || n.startsWith("org/opentest4j/"))
                    .limit(10)
                    .toList();
            assertEquals(List.of(), junit, "JUnit classes in " + jar);
        }
    }
}
