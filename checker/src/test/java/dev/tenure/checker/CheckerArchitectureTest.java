package dev.tenure.checker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The checker is a library on its own (docs/architecture.md): it sees the JDK and Jackson, nothing else. */
class CheckerArchitectureTest {
    @Test
    void theCheckerDependsOnTheJdkAndJacksonOnly() {
        classes()
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage("java..", "com.fasterxml.jackson..", "dev.tenure.checker..")
                .check(new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("dev.tenure.checker"));
    }
}
