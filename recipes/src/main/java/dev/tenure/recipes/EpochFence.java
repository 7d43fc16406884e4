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

import com.google.common.base.Preconditions;
import java.io.IOException;

/**
 * The receiving side of fencing: a resource (a storage service, a follower, any downstream system) embeds
 * a fence and admits each request's token before acting on it. A token is admitted only if its epoch is at
 * least the highest epoch admitted so far; a higher epoch is stored durably <em>before</em> it is admitted,
 * so a restart never forgets it. A deposed or paused leader's lower epoch is refused with a {@link
 * FencedException}.
 *
 * <pre>{@code
 * EpochFence fence = EpochFence.open(new FileEpochStore(dataDir.resolve("epoch")));
 * void write(LeadershipToken token, Record r) throws FencedException, IOException {
 *     synchronized (storage) {          // admit and act under one lock, so a newer epoch
 *         fence.admit(token);           // cannot slip in between
 *         storage.write(r);
 *     }
 * }
 * }</pre>
 *
 * <p>One fence guards one election path; if constructed with {@link #open(EpochStore, String)} it refuses
 * tokens of other paths. Thread-safe: admissions are serialised.
 */
public final class EpochFence {
    private final EpochStore store;
    private final String electionPath;
    private long highest;

    private EpochFence(EpochStore store, String electionPath) throws IOException {
        this.store = Preconditions.checkNotNull(store, "store must not be null");
        this.electionPath = electionPath;
        this.highest = store.load();
    }

    /**
     * A fence over {@code store}, starting from the epoch it holds.
     *
     * @throws IOException if the store cannot be read (for a file store: also if the file is corrupt)
     */
    public static EpochFence open(EpochStore store) throws IOException {
        return new EpochFence(store, null);
    }

    /** As {@link #open(EpochStore)}, refusing tokens of election paths other than {@code electionPath}. */
    public static EpochFence open(EpochStore store, String electionPath) throws IOException {
        return new EpochFence(store, ElectionPaths.of(electionPath).base);
    }

    /**
     * Admits {@code token} if its epoch is at least the highest admitted; stores a higher epoch durably
     * first.
     *
     * @throws FencedException if a higher epoch was admitted before; nothing changes
     * @throws IllegalArgumentException if the token belongs to another election path
     * @throws IOException if a higher epoch could not be stored; it is not admitted
     */
    public void admit(LeadershipToken token) throws FencedException, IOException {
        Preconditions.checkNotNull(token, "token must not be null");
        Preconditions.checkArgument(
                electionPath == null || electionPath.equals(token.electionPath()),
                "%s belongs to another election than %s",
                token,
                electionPath);
        admit(token.epoch());
    }

    /** As {@link #admit(LeadershipToken)} for a bare epoch. */
    public synchronized void admit(long epoch) throws FencedException, IOException {
        Preconditions.checkArgument(epoch > 0, "epoch must be > 0, was %s", epoch);
        if (epoch < highest) {
            throw new FencedException(
                    epoch, highest, "epoch " + epoch + " is fenced: epoch " + highest + " was admitted");
        }
        if (epoch > highest) {
            store.store(epoch);
            highest = epoch;
        }
    }

    /** Whether {@code epoch} would be admitted now; changes nothing. */
    public synchronized boolean wouldAdmit(long epoch) {
        return epoch >= highest;
    }

    /** The highest epoch admitted (0 if none). */
    public synchronized long highestEpoch() {
        return highest;
    }
}
