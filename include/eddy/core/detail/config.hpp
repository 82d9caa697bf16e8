// eddy/core/detail/config.hpp - compiler workarounds, each named after what it works around.
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
