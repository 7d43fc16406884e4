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

import com.google.common.base.Preconditions;
import java.util.concurrent.CompletableFuture;

/**
 * Proposes typed commands to a {@link Replica} whose state machine is a {@link TypedStateMachine}, and hands back
 * typed results. Thread-safe; the outcomes are {@link Replica#propose}'s (a {@link ReplicationException} tells
 * whether the command was definitely not applied).
 *
 * @param <C> the command type
 * @param <R> the result type
 */
public final class TypedProposer<C, R> {
    private final Replica replica;
    private final PayloadCodec<C> commands;
    private final Class<R> resultType;

    private TypedProposer(Replica replica, PayloadCodec<C> commands, Class<R> resultType) {
        this.replica = Preconditions.checkNotNull(replica, "replica");
        this.commands = Preconditions.checkNotNull(commands, "commands");
        this.resultType = Preconditions.checkNotNull(resultType, "resultType");
    }

    /** A proposer to {@code replica}, encoding commands with {@code commands}; results are {@code resultType}. */
    public static <C, R> TypedProposer<C, R> of(Replica replica, PayloadCodec<C> commands, Class<R> resultType) {
        return new TypedProposer<>(replica, commands, resultType);
    }

    /** A typed commit: where the command went and what the state machine returned for it. */
    public record Result<R>(long epoch, long offset, R result) {}

    /**
     * Proposes {@code command}; completes when it is committed and applied here, with the state machine's result.
     *
     * @throws IllegalArgumentException at once if the command's encoding is larger than the replica accepts
     */
    public CompletableFuture<Result<R>> propose(C command) {
        byte[] payload = commands.encode(command);
        return replica.propose(payload).thenApply(c -> {
            Object r = c.result();
            if (r != null && !resultType.isInstance(r)) {
                throw new ClassCastException("the state machine returned a "
                        + r.getClass().getName() + " for entry " + c.offset() + ", not a " + resultType.getName());
            }
            return new Result<>(c.epoch(), c.offset(), resultType.cast(r));
        });
    }
}
