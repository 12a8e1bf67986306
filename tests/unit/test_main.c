/* Unit test runner: every suite of tests/unit in one Check runner. */
#include <check.h>
#include <stdlib.h>

#include "unit.h"
#include "util/mem.h"

int main(void)
{
    mem_init();
    SRunner *sr = srunner_create(suite_jsonv());
    srunner_add_suite(sr, suite_dates());
    srunner_add_suite(sr, suite_crypto());
    srunner_add_suite(sr, suite_incident());
    srunner_add_suite(sr, suite_period());
    srunner_add_suite(sr, suite_buf());
    srunner_add_suite(sr, suite_csv());
    srunner_add_suite(sr, suite_duplicate());
    srunner_add_suite(sr, suite_lang());
    srunner_add_suite(sr, suite_replicas());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
