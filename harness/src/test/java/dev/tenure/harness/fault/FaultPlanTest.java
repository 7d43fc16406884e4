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
package dev.tenure.harness.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FaultPlanTest {
    private static final List<FaultKind> ALL = Arrays.asList(FaultKind.values());

    @Test
    void theFirstFaultsAreEveryKindOnceForAnySeed() {
        for (long seed = 0; seed < 200; seed++) {
            List<FaultPlan.Fault> first = new FaultPlan(seed, ALL, FaultPlan.Target.ANY).first(ALL.size());
            Set<FaultKind> kinds = first.stream()
                    .map(FaultPlan.Fault::kind)
                    .collect(Collectors.toCollection(() -> EnumSet.noneOf(FaultKind.class)));
            assertEquals(EnumSet.allOf(FaultKind.class), kinds, "seed " + seed);
        }
    }

    @Test
    void theSameSeedGivesTheSamePlanAndAnotherSeedAnotherOne() {
        List<FaultPlan.Fault> a = new FaultPlan(42, ALL, FaultPlan.Target.ANY).first(50);
        List<FaultPlan.Fault> b = new FaultPlan(42, ALL, FaultPlan.Target.ANY).first(50);
        List<FaultPlan.Fault> c = new FaultPlan(43, ALL, FaultPlan.Target.ANY).first(50);
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void aTargetIsHonouredAndAnyMixesLeaderAndFollower() {
        assertTrue(new FaultPlan(1, ALL, FaultPlan.Target.LEADER)
                .first(40).stream().allMatch(FaultPlan.Fault::onLeader));
        assertTrue(new FaultPlan(1, ALL, FaultPlan.Target.FOLLOWER)
                .first(40).stream().noneMatch(FaultPlan.Fault::onLeader));
        List<FaultPlan.Fault> any = new FaultPlan(1, ALL, FaultPlan.Target.ANY).first(40);
        assertTrue(any.stream().anyMatch(FaultPlan.Fault::onLeader));
        assertTrue(any.stream().anyMatch(f -> !f.onLeader()));
    }

    @Test
    void onlyTheChosenKindsAreInjected() {
        List<FaultKind> two = List.of(FaultKind.PAUSE_LEADER, FaultKind.KILL_ZK_LEADER);
        assertTrue(
                new FaultPlan(5, two, FaultPlan.Target.ANY).first(30).stream().allMatch(f -> two.contains(f.kind())));
        assertThrows(IllegalArgumentException.class, () -> new FaultPlan(5, List.of(), FaultPlan.Target.ANY));
    }

    @Test
    void theStandardKindsAreEveryKindButTheSuspicionPausesAndTheControllerModeFaultsInDeclarationOrder() {
        List<FaultKind> standard = FaultKind.standard();
        assertEquals(FaultKind.values().length - 7, standard.size());
        assertTrue(!standard.contains(FaultKind.RESTART_REPLICA), "restart-replica is injected only when named");
        for (FaultKind k : FaultKind.controller()) {
            assertTrue(!standard.contains(k) && k.onController() && !k.targeted(), k.wireName());
        }
        assertEquals(
                List.of("kill-controller", "pause-controller", "cut-controller-from-zookeeper"),
                FaultKind.controller().stream().map(FaultKind::wireName).toList());
        assertTrue(standard.stream().noneMatch(FaultKind::onController));
        assertTrue(standard.stream().noneMatch(FaultKind::needsController));
        assertEquals(
                List.of("kill-controller", "pause-controller", "cut-controller-from-zookeeper", "reassign-partition"),
                FaultKind.controllerMode().stream().map(FaultKind::wireName).toList());
        assertTrue(FaultKind.REASSIGN_PARTITION.needsController() && !FaultKind.REASSIGN_PARTITION.onController());
        assertTrue(FaultKind.controller().stream().allMatch(FaultKind::needsController));
        assertTrue(!standard.contains(FaultKind.PAUSE_LEADER_BELOW_SUSPICION));
        assertTrue(!standard.contains(FaultKind.PAUSE_LEADER_ABOVE_SUSPICION));
        assertEquals(FaultKind.KILL_REPLICA, standard.get(0));
        assertEquals(FaultKind.REPLACE_REPLICA, standard.get(standard.size() - 1));
        assertEquals(FaultKind.PAUSE_LEADER_ABOVE_SUSPICION, FaultKind.parse("pause-leader-above-suspicion"));
    }

    @Test
    void faultNamesRoundTripAndUnknownNamesAreRefusedWithTheValidOnes() {
        for (FaultKind k : FaultKind.values()) {
            assertEquals(k, FaultKind.parse(k.wireName()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FaultKind.parse("reboot"));
        assertTrue(e.getMessage().contains("kill-replica"), e.getMessage());
    }
}
