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
package dev.tenure.demo.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KeysTest {
    @Test
    void unreservedCharactersPassThrough() {
        String unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        assertEquals(unreserved, Keys.encode(unreserved));
    }

    @Test
    void slashIsEncodedSoAKeyIsOnePathSegment() {
        assertEquals("a%2Fb%2F%2Fc", Keys.encode("a/b//c"));
    }

    @Test
    void spaceIsPercent20NeverPlus() {
        assertEquals("a%20b%2Bc", Keys.encode("a b+c"));
    }

    @Test
    void reservedAndPercentAreEncoded() {
        assertEquals("%25%3F%23%26%3D%3A%40%21%24%27%28%29%2A%2C%3B", Keys.encode("%?#&=:@!$'()*,;"));
    }

    @Test
    void unicodeIsEncodedAsUtf8BytesInUpperCaseHex() {
        assertEquals("%D0%BA%D0%BB%D1%8E%D1%87", Keys.encode("ключ"));
        assertEquals("%F0%9F%98%80", Keys.encode("😀"));
        assertEquals("caf%C3%A9", Keys.encode("café"));
    }

    @Test
    void keysOfOneTo1024Utf8BytesAreAccepted() {
        assertEquals("x", Keys.encode("x"));
        Keys.encode("é".repeat(512)); // 1024 bytes
    }

    @Test
    void emptyAndOverlongKeysAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Keys.encode(""));
        assertThrows(IllegalArgumentException.class, () -> Keys.encode("é".repeat(512) + "x"));
    }

    @Test
    void anUnpairedSurrogateIsRejectedRatherThanSentAsQuestionMark() {
        assertThrows(IllegalArgumentException.class, () -> Keys.encode("a\uD800b"));
    }
}
