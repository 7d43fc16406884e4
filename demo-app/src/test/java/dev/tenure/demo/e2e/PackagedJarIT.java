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
