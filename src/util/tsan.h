/* DV_TSAN is 1 in a ThreadSanitizer build (gcc's -fsanitize=thread defines
 * __SANITIZE_THREAD__, clang's says so through __has_feature), else 0. */
#ifndef DV_UTIL_TSAN_H
#define DV_UTIL_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define DV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DV_TSAN 1
#endif
#endif
#ifndef DV_TSAN
#define DV_TSAN 0
#endif

#endif
