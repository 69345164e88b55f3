/* Minimal helpers for C unit tests.  Each CHECK that fails prints where and
 * why and marks the test failed; main() returns test_exit_status(). */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H 1

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(COND)                                                         \
    do {                                                                    \
        test_checks++;                                                      \
        if (!(COND)) {                                                      \
            test_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,          \
                    __LINE__, #COND);                                       \
        }                                                                   \
    } while (0)

#define CHECK_INT(A, B)                                                     \
    do {                                                                    \
        long long a_ = (long long) (A), b_ = (long long) (B);               \
        test_checks++;                                                      \
        if (a_ != b_) {                                                     \
            test_failures++;                                                \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",     \
                    __FILE__, __LINE__, #A, a_, #B, b_);                    \
        }                                                                   \
    } while (0)

#define CHECK_STR(A, B)                                                     \
    do {                                                                    \
        const char *a_ = (A), *b_ = (B);                                    \
        test_checks++;                                                      \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                 \
            test_failures++;                                                \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",       \
                    __FILE__, __LINE__, #A, a_ ? a_ : "(null)",             \
                    b_ ? b_ : "(null)");                                    \
        }                                                                   \
    } while (0)

#define RUN_TEST(FN)                                                        \
    do {                                                                    \
        int before_ = test_failures;                                        \
        FN();                                                               \
        printf("%s %s\n", test_failures == before_ ? "ok" : "FAIL", #FN);   \
    } while (0)

static inline int
test_exit_status(void)
{
    printf("%d checks, %d failed\n", test_checks, test_failures);
    return test_failures ? 1 : (test_checks ? 0 : 99);
}

#endif /* TEST_UTIL_H */
