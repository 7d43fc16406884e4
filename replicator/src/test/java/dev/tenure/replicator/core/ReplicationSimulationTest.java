package dev.tenure.replicator.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Seeded random schedules over an in-memory network with drops, duplicates, reordering, partitions,
 * crashes that lose unsynced data, restarts and overlapping leaders; invariants checked after every step
 * (see {@link Simulation}). A failure names its seed: rerun it with {@code -Dsim.seed=SEED}.
 */
class ReplicationSimulationTest {
    private static final long BASE_SEED = Long.getLong("sim.seed", 20261126L);
    private static final int SCHEDULES = Integer.getInteger("sim.schedules", 5000);

    @Test
    void randomSchedulesKeepEveryInvariantAndConverge() {
        long start = System.nanoTime();
        long committed = 0;
        long acknowledged = 0;
        long quorumLosses = 0;
        int schedules = Long.getLong("sim.seed") != null ? 1 : SCHEDULES;
        for (int i = 0; i < schedules; i++) {
            long seed = BASE_SEED + i;
            Simulation sim = new Simulation(seed, i % 4 == 3 ? 5 : 3, Simulation.Faults.DEFAULT);
            sim.run(1500);
            sim.converge(20_000);
            committed += sim.committed.size();
            acknowledged += sim.acknowledged.size();
            quorumLosses += sim.quorumLosses;
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf(
                "simulation: %d schedules from seed %d in %d ms; %d entries committed, %d proposals acknowledged,"
                        + " %d check-quorum step-downs%n",
                schedules, BASE_SEED, ms, committed, acknowledged, quorumLosses);
        assertTrue(acknowledged > 0, "the schedules acknowledged nothing: they test nothing");
        assertTrue(quorumLosses > 0, "no leader ever lost its quorum: the check-quorum path went untested");
    }

    /** The unsafe mode the verification harness's tests use (commit on the leader's own append) breaks safety. */
    @Test
    void unsafeCommitOnLocalAppendIsCaughtWithinAHundredSchedules() {
        int caught = -1;
        for (int i = 0; i < 100 && caught < 0; i++) {
            Simulation sim = new Simulation(BASE_SEED + i, 3, Simulation.Faults.DEFAULT, true);
            try {
                sim.run(1500);
                sim.converge(20_000);
            } catch (AssertionError expected) {
                caught = i;
                System.out.println("unsafe mode caught by schedule " + i + ": "
                        + expected.getMessage().lines().findFirst().orElse(""));
            }
        }
        assertTrue(caught >= 0, "100 schedules did not notice acknowledgements without a majority");
    }
}
