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
package dev.tenure.controller;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The controller's layers (docs/architecture.md): its decisions do no input or output. */
class ControllerArchitectureTest {
    private static final JavaClasses CONTROLLER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tenure.controller");

    @Test
    void theCoreDependsOnNoZooKeeperNettyFilesOrNetwork() {
        noClasses()
                .that()
                .resideInAPackage("dev.tenure.controller.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.apache.curator..", "org.apache.zookeeper..", "io.netty..", "java.nio.file..", "java.net..")
                .check(CONTROLLER);
    }
}
