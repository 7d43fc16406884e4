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
package dev.tenure.recipes;

import java.util.OptionalLong;

/**
 * A request carried a leadership token whose epoch is no longer current: a newer term exists (or the term
 * has ended), so the request was refused and had no effect. Thrown by the fences ({@link EpochFence}, {@link
 * JdbcFence}) and by fenced operations of a {@link LeaderTerm} or {@link FencedLeaderElection}. Immutable.
 */
public final class FencedException extends Exception {
    /** The refused epoch. */
    private final long presentedEpoch;
    /** The current epoch, or -1 if unknown. */
    private final long currentEpoch;

    /**
     * @param presentedEpoch the refused epoch
     * @param currentEpoch the current (highest) epoch if known, otherwise -1
     * @param message what was refused
     */
    public FencedException(long presentedEpoch, long currentEpoch, String message) {
        super(message);
        this.presentedEpoch = presentedEpoch;
        this.currentEpoch = currentEpoch;
    }

    /** The epoch of the refused request. */
    public long presentedEpoch() {
        return presentedEpoch;
    }

    /** The current epoch, when the refusing side knows it. */
    public OptionalLong currentEpoch() {
        return currentEpoch < 0 ? OptionalLong.empty() : OptionalLong.of(currentEpoch);
    }
}
