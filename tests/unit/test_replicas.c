/* Read replicas: WAL positions as PostgreSQL writes them, and the
 * per-key record of writes that keeps a caller's reads on its writes. */
#include <check.h>
#include <stdint.h>

#include "store/replicas.h"
#include "unit.h"

START_TEST(lsn_text)
{
    uint64_t v = 1;
    ck_assert(replicas_parse_lsn("0/0", &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(replicas_parse_lsn("16/B374D848", &v));
    ck_assert_uint_eq(v, ((uint64_t)0x16 << 32) | 0xB374D848u);
    ck_assert(replicas_parse_lsn("FFFFFFFF/FFFFFFFF", &v));
    ck_assert_uint_eq(v, UINT64_MAX);
    /* Ordering follows the numbers, not the text. */
    uint64_t a, b;
    ck_assert(replicas_parse_lsn("0/9000000", &a));
    ck_assert(replicas_parse_lsn("0/10000000", &b));
    ck_assert(a < b);
    static const char *const bad[] = {"", "0", "0/", "/0", "0/0 ", "0/0x", "G/0", NULL};
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(!replicas_parse_lsn(bad[i], &v), "accepted %s", bad[i]);
    ck_assert(!replicas_parse_lsn(NULL, &v));
}
END_TEST

START_TEST(writes_only_move_forward)
{
    ck_assert_uint_eq(replicas_written(424242), 0);
    replicas_note_write(424242, 500);
    replicas_note_write(424242, 300); /* an older position never wins */
    ck_assert_uint_ge(replicas_written(424242), 500);
    replicas_note_write(424242, 900);
    ck_assert_uint_ge(replicas_written(424242), 900);
}
END_TEST

Suite *suite_replicas(void)
{
    Suite *s = suite_create("replicas");
    TCase *tc = tcase_create("positions");
    tcase_add_test(tc, lsn_text);
    tcase_add_test(tc, writes_only_move_forward);
    suite_add_tcase(s, tc);
    return s;
}
