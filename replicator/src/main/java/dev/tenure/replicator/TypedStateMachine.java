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

/**
 * A state machine over typed commands and results: {@link #of} turns it into the {@link StateMachine} a replica
 * runs, decoding each entry's payload with its codec; {@link TypedProposer} proposes typed commands and returns typed
 * results. The bytes in the log are the codec's, so the log stays readable by any tool that knows the codec.
 *
 * <pre>{@code
 * TypedStateMachine<Long, Long> counter = (epoch, offset, delta) -> total += delta;   // the running total
 * Replica replica = Replica.builder()...stateMachine(TypedStateMachine.of(counter, PayloadCodec.int64())).build();
 * TypedProposer<Long, Long> add = TypedProposer.of(replica, PayloadCodec.int64(), Long.class);
 * long total = add.propose(5L).get().result();
 * }</pre>
 *
 * <p>The same rules as {@link StateMachine#apply} hold: deterministic, called on the apply thread only. A payload
 * the codec cannot decode was written by another program or version: it stops the replica (fail-stop), as any
 * throw from {@code apply} does, rather than being skipped on some replicas and not others.
 *
 * @param <C> the command type
 * @param <R> the result type
 */
@FunctionalInterface
public interface TypedStateMachine<C, R> {
    /** Applies one committed command; returns the proposer's result (or null). */
    R apply(long epoch, long offset, C command);

    /** This state machine as the replica's {@link StateMachine}, decoding payloads with {@code commands}. */
    static <C, R> StateMachine of(TypedStateMachine<C, R> machine, PayloadCodec<C> commands) {
        return new StateMachine() {
            @Override
            public Object apply(long epoch, long offset, byte[] payload) {
                C command;
                try {
                    command = commands.decode(payload);
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException(
                            "entry " + offset + " (epoch " + epoch + ") is not a command of this state machine: "
                                    + e.getMessage(),
                            e);
                }
                return machine.apply(epoch, offset, command);
            }

            @Override
            public String toString() {
                return "TypedStateMachine[" + machine + "]";
            }
        };
    }
}
