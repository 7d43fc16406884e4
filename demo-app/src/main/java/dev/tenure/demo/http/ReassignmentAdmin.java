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
package dev.tenure.demo.http;

import dev.tenure.controller.core.PartitionState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A node's access to the controller's reassignments (docs/controller.md, "Reassignment"), for the routes {@code
 * /admin/reassign}: on the active controller it starts one and reads the partitions' states; on another node it names
 * the controller's HTTP URL to redirect to. Implementations are thread-safe.
 */
public interface ReassignmentAdmin {
    /** Whether this node is the active controller now. */
    boolean isController();

    /** The HTTP URL the active controller published, as this node knows it; empty if none is known. */
    Optional<String> controllerUrl();

    /**
     * On the controller: starts moving {@code partition} to {@code target} ({@code dev.tenure.controller.Controller
     * #reassign}); fails with {@link IllegalArgumentException} for bad input and {@link IllegalStateException} if this
     * node is not the controller.
     */
    CompletableFuture<PartitionState> reassign(String partition, List<String> target);

    /** On the controller: every partition's state as it holds it; empty elsewhere. */
    Map<String, PartitionState> states();
}
