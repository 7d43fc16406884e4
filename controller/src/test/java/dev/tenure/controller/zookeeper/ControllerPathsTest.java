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
package dev.tenure.controller.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The layout's paths, and the ids refused before they reach ZooKeeper. */
class ControllerPathsTest {
    @Test
    void everyPathIsUnderTheClusterPath() {
        assertEquals("/t/c/controller", ControllerPaths.controllerElection("/t/c"));
        assertEquals("/t/c/controller/epoch", ControllerPaths.controllerEpoch("/t/c"));
        assertEquals("/t/c/nodes", ControllerPaths.nodes("/t/c"));
        assertEquals("/t/c/nodes/n1", ControllerPaths.node("/t/c", "n1"));
        assertEquals("/t/c/partitions", ControllerPaths.partitions("/t/c"));
        assertEquals("/t/c/partitions/orders-7", ControllerPaths.partition("/t/c", "orders-7"));
        assertEquals("/t/c/partitions/orders-7/state", ControllerPaths.partitionState("/t/c", "orders-7"));
    }

    @Test
    void idsThatAreNotSingleValidNodeNamesAreRefused() {
        for (String bad : List.of("", ".", "..", "a/b", "a b", "a,b", "a=b", "a\u0000", "x".repeat(256), "\ud800")) {
            assertThrows(IllegalArgumentException.class, () -> ControllerPaths.partitionState("/c", bad), bad);
            assertThrows(IllegalArgumentException.class, () -> ControllerPaths.node("/c", bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> ControllerPaths.partitionState("/c", null));
        for (String bad : List.of("", "c", "/c/", "/c//d")) {
            assertThrows(IllegalArgumentException.class, () -> ControllerPaths.nodes(bad), bad);
        }
    }
}
