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
