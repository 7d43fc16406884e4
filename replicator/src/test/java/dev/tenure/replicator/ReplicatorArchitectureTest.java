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
package dev.tenure.replicator;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasName;
import com.tngtech.archunit.core.domain.properties.HasOwner;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The replicator's boundaries (docs/architecture.md): a pure core, Netty only behind the transport, ZooKeeper and
 * the recipes only in the assembly, no package cycles, no JUnit in main code.
 */
class ReplicatorArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.tenure.replicator");
    }

    @Test
    void theCoreImportsNoIoNettyCuratorClockOrThreads() {
        noClasses()
                .that()
                .resideInAPackage("dev.tenure.replicator.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.netty..",
                        "org.apache.curator..",
                        "org.apache.zookeeper..",
                        "dev.tenure.recipes..",
                        "java.net..",
                        "java.nio.channels..",
                        "java.nio.file..",
                        "java.util.concurrent..",
                        "java.time.Clock",
                        "dev.tenure.replicator.storage..",
                        "dev.tenure.replicator.transport..",
                        "dev.tenure.replicator.zookeeper..")
                .orShould()
                .callMethod(System.class, "currentTimeMillis")
                .orShould()
                .callMethod(System.class, "nanoTime")
                .orShould()
                .dependOnClassesThat()
                .areAssignableTo(Thread.class)
                .check(main);
    }

    @Test
    void onlyTheNettyTransportImportsNetty() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.tenure.replicator.transport.netty..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.netty..")
                .check(main);
    }

    @Test
    void onlyTheZooKeeperAssemblyImportsCuratorZooKeeperAndTheRecipes() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.tenure.replicator.zookeeper..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.apache.curator..", "org.apache.zookeeper..", "dev.tenure.recipes..")
                .check(main);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.tenure.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void mainCodeImportsNoJUnit() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.junit..")
                .check(main);
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
                .check(main);
    }
}
