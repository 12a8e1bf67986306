/* Duplicate scoring, queue cursors, dismissals, merged sources. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/duplicate.h"
#include "domain/incident.h"
#include "unit.h"
#include "util/jsonv.h"
#include "util/mem.h"

static const char *const precisions[] = {"day", "week", "month"};
static const char *const admin2s[] = {"AF0101", "AF0102", NULL};
static const char *const tactics[] = {"ied_suicide", "ground_engagement"};
static const char *const parties[][2] = {
    {"taliban", "age"}, {"isil_kp", "age"}, {"ansf_army", "pgf"}, {"unknown", "other"}};

/* Facts drawn from r: every field takes one of a few values, so that
 * pairs agree on some fields and not others. */
static void facts_draw(struct duplicate_facts *f, unsigned *r, long long id)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    f->status = "reported";
    f->occurred_on = 20000 + rand_r(r) % 40;
    f->date_precision = precisions[rand_r(r) % 3];
    f->admin1 = xstrdup("AF01");
    const char *a2 = admin2s[rand_r(r) % 3];
    f->admin2 = a2 ? xstrdup(a2) : NULL;
    f->has_coords = rand_r(r) % 2;
    f->lat = 34.5 + (rand_r(r) % 3) * 0.01;
    f->lon = 69.1 + (rand_r(r) % 3) * 0.01;
    f->tactic = xstrdup(tactics[rand_r(r) % 2]);
    int p = rand_r(r) % 4;
    f->perpetrator = xstrdup(parties[p][0]);
    f->party_group = xstrdup(parties[p][1]);
    f->killed = rand_r(r) % 6;
    f->injured = rand_r(r) % 30;
    f->killed_low = f->killed - (f->killed > 0);
    f->killed_high = f->killed + rand_r(r) % 3;
    f->injured_low = f->injured / 2;
    f->injured_high = f->injured + rand_r(r) % 5;
    f->narrative_similarity = -1;
}

START_TEST(score_is_symmetric_and_bounded)
{
    unsigned r = 7;
    for (int i = 0; i < 20000; i++) {
        struct duplicate_facts a, b;
        facts_draw(&a, &r, 1);
        facts_draw(&b, &r, 2);
        /* What the store compares for both sides alike. */
        b.same_external_ref = rand_r(&r) % 4 == 0;
        b.narrative_similarity = (rand_r(&r) % 5) * 0.2 - (rand_r(&r) % 2);
        struct duplicate_candidate ab = {.facts = b}, ba = {.facts = a};
        ba.facts.same_external_ref = b.same_external_ref;
        ba.facts.narrative_similarity = b.narrative_similarity;
        duplicate_score(&a, &ab);
        duplicate_score(&b, &ba);
        ck_assert_msg(ab.score == ba.score, "round %d: %.3f != %.3f", i, ab.score, ba.score);
        ck_assert(ab.score >= 0 && ab.score <= 1);
        ck_assert_int_eq(ab.nreasons, ba.nreasons);
        double sum = 0;
        for (int k = 0; k < ab.nreasons; k++)
            sum += ab.reasons[k].weight;
        ck_assert(fabs((sum > 1 ? 1 : sum) - ab.score) < 0.0006);
        duplicate_facts_free(&a);
        duplicate_facts_free(&b);
    }
}
END_TEST

START_TEST(identical_incidents_score_every_kind)
{
    unsigned r = 3;
    struct duplicate_facts a;
    facts_draw(&a, &r, 1);
    free(a.perpetrator);
    a.perpetrator = xstrdup("taliban");
    a.has_coords = true;
    struct duplicate_candidate c = {.facts = a};
    c.facts.same_external_ref = true;
    c.facts.narrative_similarity = 1;
    duplicate_score(&a, &c);
    ck_assert(fabs(c.score - 1.0) < 1e-9);
    ck_assert_int_eq(c.nreasons, 7);
    duplicate_facts_free(&a);
}
END_TEST

START_TEST(date_windows)
{
    ck_assert_int_eq(duplicate_date_window("day"), 1);
    ck_assert_int_eq(duplicate_date_window("week"), 7);
    ck_assert_int_eq(duplicate_date_window("month"), DUPLICATE_WINDOW_DAYS);
}
END_TEST

START_TEST(queue_cursors_round_trip_and_refuse_forgeries)
{
    char text[128];
    long long a, b;
    duplicate_queue_cursor_encode(12, 345, text, sizeof text);
    ck_assert(duplicate_queue_cursor_decode(text, &a, &b));
    ck_assert(a == 12 && b == 345);
    /* base64url of "q|3|12" (a > b), "d|2026-01-01|5", "q|x|1", "q|1" */
    const char *forged[] = {"cXwzfDEy", "ZHwyMDI2LTAxLTAxfDU", "cXx4fDE", "cXwx", "",
                            "%%",       "cXwxMnwzNDU="};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++)
        ck_assert_msg(!duplicate_queue_cursor_decode(forged[i], &a, &b), "%s", forged[i]);
}
END_TEST

static bool dismissal(const char *text, long long *a, long long *b, struct api_error *e)
{
    json_t *doc;
    const char *reason;
    bool swapped;
    ck_assert(json_parse_strict(text, strlen(text), &doc, e));
    bool ok = duplicate_dismissal_from_json(doc, a, b, &reason, &swapped, e);
    json_decref(doc);
    return ok;
}

START_TEST(dismissal_bodies)
{
    long long a, b;
    struct api_error e;
    ck_assert(dismissal("{\"incidents\": [\"9\", \"3\"], \"reason\": \"x\"}", &a, &b, &e));
    ck_assert(a == 3 && b == 9);
    const char *bad[][2] = {
        {"{\"reason\": \"x\"}", "incidents"},
        {"{\"incidents\": [\"1\", \"2\"]}", "reason"},
        {"{\"incidents\": [\"1\"], \"reason\": \"x\"}", "incidents"},
        {"{\"incidents\": [\"1\", 2], \"reason\": \"x\"}", "incidents[1]"},
        {"{\"incidents\": [\"01\", \"2\"], \"reason\": \"x\"}", "incidents[0]"},
        {"{\"incidents\": [\"2\", \"2\"], \"reason\": \"x\"}", "incidents[1]"},
        {"{\"incidents\": [\"1\", \"2\"], \"reason\": \"x\", \"by\": 1}", "by"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!dismissal(bad[i][0], &a, &b, &e), "%s", bad[i][0]);
        ck_assert_str_eq(e.field, bad[i][1]);
    }
}
END_TEST

START_TEST(merge_and_unmerge_sources)
{
    struct incident kept = {0}, dup = {0};
    kept.id = 1;
    kept.nsources = 1;
    kept.sources = xcalloc(1, sizeof *kept.sources);
    kept.sources[0].type = xstrdup("witness");
    dup.id = 2;
    dup.nsources = 2;
    dup.sources = xcalloc(2, sizeof *dup.sources);
    dup.sources[0].type = xstrdup("medical");
    dup.sources[0].reference = xstrdup("clinic");
    dup.sources[1].type = xstrdup("media");
    struct api_error e;
    ck_assert(incident_sources_merge(&kept, &dup, &e));
    ck_assert_int_eq(kept.nsources, 3);
    ck_assert_str_eq(kept.sources[1].reference, "clinic");
    ck_assert(kept.sources[1].merged_from == 2 && kept.sources[0].merged_from == 0);
    ck_assert_int_eq(incident_sources_unmerge(&kept, 5), 0);
    ck_assert_int_eq(incident_sources_unmerge(&kept, 2), 2);
    ck_assert_int_eq(kept.nsources, 1);
    ck_assert_str_eq(kept.sources[0].type, "witness");
    /* Past the limit: refused, kept unchanged. */
    kept.sources = xrealloc(kept.sources, INCIDENT_MAX_SOURCES * sizeof *kept.sources);
    for (size_t i = 1; i < INCIDENT_MAX_SOURCES - 1; i++)
        kept.sources[kept.nsources++] = (struct source){xstrdup("witness"), NULL, 0};
    ck_assert(!incident_sources_merge(&kept, &dup, &e));
    ck_assert_int_eq(e.status, 422);
    ck_assert_str_eq(e.field, "merge_sources");
    ck_assert_int_eq(kept.nsources, INCIDENT_MAX_SOURCES - 1);
    incident_free(&kept);
    incident_free(&dup);
}
END_TEST

Suite *suite_duplicate(void)
{
    Suite *s = suite_create("duplicate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, score_is_symmetric_and_bounded);
    tcase_add_test(tc, identical_incidents_score_every_kind);
    tcase_add_test(tc, date_windows);
    tcase_add_test(tc, queue_cursors_round_trip_and_refuse_forgeries);
    tcase_add_test(tc, dismissal_bodies);
    tcase_add_test(tc, merge_and_unmerge_sources);
    suite_add_tcase(s, tc);
    return s;
}
