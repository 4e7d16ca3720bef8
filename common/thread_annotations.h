// Which lock guards which data, stated where the data is declared (Abseil's
// ABSL_GUARDED_BY). Clang's -Wthread-safety checks them; GCC reads them as documentation.
#pragma once

#if defined(__clang__)
#define TP_GUARDED_BY(mutex) __attribute__((guarded_by(mutex)))
#else
#define TP_GUARDED_BY(mutex)
#endif
