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
/**
 * The controller's decisions without input or output: the states it keeps per partition, the node registrations it
 * sees, the writes and the requests it makes, and {@code ControllerCore}, which decides
 * them. No thread, socket, disk or ZooKeeper here; {@code dev.tenure.controller.zookeeper} and the node agent do the
 * input and output.
 *
 * <p>Thread-safety: the records are immutable; {@code ControllerCore} is confined to the controller's thread.
 */
package dev.tenure.controller.core;
