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
package dev.tenure.demo;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.base.DescribedPredicate.or;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasName;
import com.tngtech.archunit.core.domain.properties.HasOwner;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.tenure.demo.http.NodeObservations;
import dev.tenure.demo.kv.KvStateMachine;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.transport.netty.NettyChannels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo's boundaries (docs/architecture.md): the HTTP layer sees a replica only through the key-value service's
 * interfaces, the key routes only through {@link dev.tenure.demo.kv.KvService}, and the packages form no cycle.
 */
class DemoArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.tenure.demo");
    }

    /**
     * Of the replicator and the recipes, the HTTP layer uses only what {@link dev.tenure.demo.kv.KvService} exposes
     * (its status, commit and failure types, the leader's address, a snapshot's id) and Netty's channel choice for its own server:
     * not the node assembly, not the replica, ZooKeeper, Curator or the metrics library.
     */
    @Test
    void httpDependsOnlyOnTheServiceInterfaces() {
        classes()
                .that()
                .resideInAPackage("dev.tenure.demo.http..")
                .should()
                .onlyDependOnClassesThat(or(
                        resideInAnyPackage(
                                "dev.tenure.demo.http..",
                                "dev.tenure.demo.kv..",
                                "java..",
                                "javax.net.ssl..",
                                "javax.security.auth.x500..",
                                "io.netty..",
                                "com.fasterxml.jackson..",
                                "com.google.common..",
                                "org.slf4j.."),
                        belongToAnyOf(
                                LeaderInfo.class,
                                Committed.class,
                                Replica.Status.class,
                                Replica.FollowerStatus.class,
                                Replica.SnapshotStatus.class,
                                Replica.InstallStatus.class,
                                dev.tenure.replicator.core.Configuration.class,
                                // a partition's state as the controller holds it: an immutable value, read for
                                // the reassignment routes' answers
                                dev.tenure.controller.core.PartitionState.class,
                                Role.class,
                                SnapshotId.class,
                                NettyChannels.class,
                                dev.tenure.replicator.transport.netty.tls.TlsContext.class),
                        assignableTo(ReplicationException.class)))
                .check(main);
    }

    @Test
    void httpReadsNoStateMachineButItsResults() {
        noClasses()
                .that()
                .resideInAPackage("dev.tenure.demo.http..")
                .should()
                .dependOnClassesThat()
                .haveFullyQualifiedName(KvStateMachine.class.getName())
                .check(main);
    }

    @Test
    void theKeyRoutesSeeOnlyTheService() {
        noClasses()
                .that()
                .haveNameMatching("dev\\.tenure\\.demo\\.http\\.KvRoutes(\\$.*)?")
                .should()
                .dependOnClassesThat()
                .belongToAnyOf(NodeObservations.class)
                .orShould()
                .dependOnClassesThat()
                .haveNameMatching("dev\\.tenure\\.demo\\.http\\.StatusRoutes(\\$.*)?")
                .check(main);
    }

    @Test
    void theServiceDependsOnNoOtherPartOfTheDemo() {
        noClasses()
                .that()
                .resideInAPackage("dev.tenure.demo.kv..")
                .should()
                .dependOnClassesThat(
                        resideInAPackage("dev.tenure.demo..").and(not(resideInAPackage("dev.tenure.demo.kv.."))))
                .check(main);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.tenure.demo.(*)..").should().beFreeOfCycles().check(main);
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
