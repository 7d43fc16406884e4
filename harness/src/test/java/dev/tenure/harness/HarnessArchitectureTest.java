package dev.tenure.harness;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The harness depends on no Tenure module (docs/architecture.md): it starts processes and proxies bytes, and what
 * it must know of the demo or the protocol is passed in. No JUnit in main code.
 */
class HarnessArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tenure.harness");

    @Test
    void theHarnessImportsNoOtherTenureModule() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "dev.tenure.recipes..",
                        "dev.tenure.replicator..",
                        "dev.tenure.demo..",
                        "dev.tenure.bench..",
                        "dev.tenure.checker..",
                        "dev.tenure.testkit..")
                .check(MAIN);
    }

    @Test
    void mainCodeImportsNoJUnit() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.junit..")
                .check(MAIN);
    }
}
