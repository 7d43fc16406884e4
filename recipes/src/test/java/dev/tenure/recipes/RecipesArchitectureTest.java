package dev.tenure.recipes;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasName;
import com.tngtech.archunit.core.domain.properties.HasOwner;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The recipes stand alone (docs/architecture.md): nothing of the replicator or the demo, no JUnit in main code. */
class RecipesArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tenure.recipes");

    @Test
    void recipesImportNothingOfTheReplicatorOrTheDemo() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.tenure.replicator..", "dev.tenure.demo..", "dev.tenure.harness..")
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

    /** Only the harness starts processes (docs/architecture.md): no {@code ProcessBuilder}, no {@code Runtime.exec}. */
    @Test
    void startsNoProcess() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .areAssignableTo(ProcessBuilder.class)
                .orShould()
                .callMethodWhere(JavaCall.Predicates.target(HasName.Predicates.name("exec"))
                        .and(JavaCall.Predicates.target(
                                HasOwner.Predicates.With.owner(JavaClass.Predicates.assignableTo(Runtime.class)))))
                .check(MAIN);
    }
}
