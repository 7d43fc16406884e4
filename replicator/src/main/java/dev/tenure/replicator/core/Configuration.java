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
package dev.tenure.replicator.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The replica set of one replicated log at one version: who votes, who voted before a change in progress, and who
 * only listens. ZooKeeper holds the current one (the configuration master, as in Vertical Paxos); each epoch's
 * leader uses the configuration it read after its epoch was minted, and every change of the voters mints an epoch,
 * so a configuration is tied to the epochs that use it (docs/replication.md, "Membership change").
 *
 * <p>While a change is in progress ({@link #joint()}), every quorum — the promise round, log adoption, commits,
 * read barriers, check-quorum — needs a majority of {@link #voters()} <em>and</em> a majority of {@link
 * #previousVoters()}. The change is activated (the previous voters dropped) once a leader's epoch-start entry is
 * committed under the joint rule: its log, which holds every committed entry, is then on a majority of the new
 * voters.
 *
 * <p>Immutable and thread-safe: the lists are copied. The constructor throws {@link IllegalArgumentException} for an
 * invalid configuration (no voter, a negative version, an empty or repeated id).
 *
 * @param version increases with every change; 0 for the configuration a log was created with
 * @param voters the replicas whose majorities promise, adopt and commit
 * @param previousVoters the voters before the change in progress; empty when none is (the configuration is
 *     activated)
 * @param learners replicas that receive the log (or a snapshot) but never count in a quorum nor lead; disjoint from
 *     the voters and the previous voters
 */
public record Configuration(long version, List<String> voters, List<String> previousVoters, List<String> learners) {

    /** Copies the lists and checks them. */
    public Configuration {
        voters = List.copyOf(voters);
        previousVoters = List.copyOf(previousVoters);
        learners = List.copyOf(learners);
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0, was " + version);
        }
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("a configuration needs at least one voter");
        }
        requireDistinct("voters", voters);
        requireDistinct("previous voters", previousVoters);
        requireDistinct("learners", learners);
        for (String l : learners) {
            if (voters.contains(l) || previousVoters.contains(l)) {
                throw new IllegalArgumentException(
                        "learner " + l + " is also a voter: " + voters + " / " + previousVoters);
            }
        }
        for (String id : members(voters, previousVoters, learners)) {
            if (id.isEmpty()) {
                throw new IllegalArgumentException("a replica id must not be empty");
            }
        }
    }

    /** The configuration a log is created with: version 0, these voters, no change in progress, no learners. */
    public static Configuration initial(List<String> voters) {
        return new Configuration(0, voters, List.of(), List.of());
    }

    /** Whether a change is in progress: quorums need majorities of both the voters and the previous voters. */
    public boolean joint() {
        return !previousVoters.isEmpty();
    }

    /** Every replica of this configuration: voters, previous voters, learners; in that order, without repeats. */
    public List<String> members() {
        return members(voters, previousVoters, learners);
    }

    /** Whether {@code id} is a member of this configuration in any role. */
    public boolean contains(String id) {
        return voters.contains(id) || previousVoters.contains(id) || learners.contains(id);
    }

    /** Whether {@code id} counts in a quorum: a voter or, during a change, a previous voter. */
    public boolean counts(String id) {
        return voters.contains(id) || previousVoters.contains(id);
    }

    /** Whether the replicas that {@code has} accepts form a majority of the voters and, if joint, of the previous. */
    public boolean hasQuorum(Predicate<String> has) {
        return majorityOf(voters, has) && (previousVoters.isEmpty() || majorityOf(previousVoters, has));
    }

    /**
     * The highest offset that a quorum holds, given each replica's offset ({@code matches}; a replica missing from
     * it holds nothing): the majority-th highest among the voters, and during a change the lower of that and the
     * same among the previous voters.
     */
    public long quorumOffset(Map<String, Long> matches) {
        long v = majorityOffset(voters, matches);
        return previousVoters.isEmpty() ? v : Math.min(v, majorityOffset(previousVoters, matches));
    }

    /** This configuration with the change activated: the previous voters dropped, the version one higher. */
    public Configuration activated() {
        if (!joint()) {
            throw new IllegalStateException("no change in progress in " + this);
        }
        return new Configuration(version + 1, voters, List.of(), learners);
    }

    /** Whether {@code next} differs from this one only in its learners, or is this change activated. */
    boolean sameQuorumsOrActivated(Configuration next) {
        return next.voters.equals(voters)
                && (next.previousVoters.equals(previousVoters) || next.previousVoters.isEmpty());
    }

    /** For logs and messages: {@code version 3, voters [a, b, d] (changing from [a, b, c]), learners [e]}. */
    @Override
    public String toString() {
        return "version " + version + ", voters " + voters
                + (previousVoters.isEmpty() ? "" : " (changing from " + previousVoters + ")")
                + (learners.isEmpty() ? "" : ", learners " + learners);
    }

    private static boolean majorityOf(List<String> set, Predicate<String> has) {
        int n = 0;
        for (String id : set) {
            if (has.test(id)) {
                n++;
            }
        }
        return n >= set.size() / 2 + 1;
    }

    private static long majorityOffset(List<String> set, Map<String, Long> matches) {
        long[] m = new long[set.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = matches.getOrDefault(set.get(i), 0L);
        }
        Arrays.sort(m);
        return m[m.length - (m.length / 2 + 1)];
    }

    private static List<String> members(List<String> voters, List<String> previous, List<String> learners) {
        Set<String> all = new LinkedHashSet<>(voters);
        all.addAll(previous);
        all.addAll(learners);
        return new ArrayList<>(all);
    }

    private static void requireDistinct(String what, List<String> ids) {
        if (new LinkedHashSet<>(ids).size() != ids.size()) {
            throw new IllegalArgumentException(what + " must be distinct: " + ids);
        }
    }
}
