// Sixteen bytes at a time for ClientResponseParser's fast path (SSE2). Swift's SIMD16 compiles to a loop of
// scalar steps here, so the tests are written with the intrinsics, as static inline functions that Swift's
// compiler inlines into the callers' loops. Each returns one bit a byte (bit k for p[k]) set where the byte
// matched, for the caller's trailing-zero count; it reads exactly p[0..15], so callers keep 16 bytes before `end`.
// SSE2 is part of x86_64 itself; other architectures use the eight-byte tests of Word.swift instead.
#ifndef LL_HTTPSCAN_H
#define LL_HTTPSCAN_H

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>

// Bytes other than ASCII letters and '-'. x|0x20 lowers letters and maps no other byte into 'a'..'z' (bytes from
// 0x80 stay at 0xA0 or above); adding 0x1F moves 'a'..'z' to 0x80..0x99, the 26 lowest signed bytes, which one
// signed compare picks out (SSE2 has no unsigned one).
static inline uint32_t ll_scan16_not_letter_or_dash(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i shifted = _mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8(0x1F));
    __m128i letters = _mm_cmplt_epi8(shifted, _mm_set1_epi8((char)0x9A));
    __m128i dashes = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x2D));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(letters, dashes)) ^ 0xFFFFu;
}

// Bytes below 0x20 (controls, the tab among them) and DEL, the bytes that end a header value. min(x, 0x1F) == x
// is an unsigned x <= 0x1F, so bytes from 0x80 (allowed in values) are not flagged.
static inline uint32_t ll_scan16_controls(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(low, del));
}
#endif

#endif
