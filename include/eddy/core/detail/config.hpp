// eddy/core/detail/config.hpp - compiler workarounds and sanitizer detection.
#pragma once

// clang before 19 may use the coroutine frame as scratch space after an inlined await_suspend
// has published the coroutine handle to another thread, racing with the resumed coroutine
// (llvm/llvm-project#56301, #65018, #65054, #72006). Keeping await_suspend out of line avoids
// it. Every await_suspend that hands its coroutine to another party carries this.
#if defined(__clang__) && __clang_major__ < 19
#define EDDY_AWAIT_SUSPEND_NOINLINE [[gnu::noinline]]
#else
#define EDDY_AWAIT_SUSPEND_NOINLINE
#endif

// Recycling coroutine frames would hide a use-after-free of a frame from AddressSanitizer.
#if defined(__SANITIZE_ADDRESS__)
#define EDDY_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDDY_FRAME_CACHE 0
#endif
#endif
#ifndef EDDY_FRAME_CACHE
#define EDDY_FRAME_CACHE 1
#endif
