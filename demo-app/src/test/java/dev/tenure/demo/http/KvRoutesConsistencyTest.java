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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How a GET's query chooses between a local and a linearizable read. */
class KvRoutesConsistencyTest {
    @Test
    void onlyConsistencyLocalAsksForALocalRead() {
        assertTrue(KvRoutes.localRead("consistency=local"));
        assertTrue(KvRoutes.localRead("pretty=1&consistency=local"));
        assertTrue(KvRoutes.localRead("consistenc%79=loca%6C"), "percent-encoded name and value");
        assertFalse(KvRoutes.localRead(null));
        assertFalse(KvRoutes.localRead(""));
        assertFalse(KvRoutes.localRead("consistency=linearizable"));
        assertFalse(
                KvRoutes.localRead("xconsistency=local"),
                "another parameter whose name ends in consistency is not the consistency");
    }

    @Test
    void anUnknownOrContradictoryConsistencyIsABadRequestNotALocalRead() {
        HttpError unknown = assertThrows(HttpError.class, () -> KvRoutes.localRead("consistency=localX"));
        assertEquals(400, unknown.status);
        assertEquals("consistency is local or linearizable, not 'localX'", unknown.detail);
        HttpError empty = assertThrows(HttpError.class, () -> KvRoutes.localRead("consistency"));
        assertEquals(400, empty.status);
        HttpError twice =
                assertThrows(HttpError.class, () -> KvRoutes.localRead("consistency=local&consistency=linearizable"));
        assertEquals("consistency given twice: local and linearizable", twice.detail);
        assertTrue(KvRoutes.localRead("consistency=local&consistency=local"), "the same value twice is fine");
        HttpError malformed = assertThrows(HttpError.class, () -> KvRoutes.localRead("consistency=%zz"));
        assertEquals(400, malformed.status);
    }
}
