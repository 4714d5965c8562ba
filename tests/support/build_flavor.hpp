// build_flavor.hpp — what kind of build the tests run in. Under AddressSanitizer, peak RSS
// includes shadow memory and the allocator's quarantine by design, so memory thresholds
// (which guard the product's bounded-memory promise) are asserted only in normal builds;
// the functional checks of the same tests run everywhere.
#pragma once

namespace qfp8::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace qfp8::test
