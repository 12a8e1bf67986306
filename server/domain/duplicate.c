/* How alike two incidents are: the weights of the evidence, ranking, JSON. */
#include "domain/duplicate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/crypto.h"
#include "util/dates.h"
#include "util/ids.h"
#include "util/jsonv.h"
#include "util/params.h"

/* The weights. Each kind of evidence counts once, at its strongest, and
 * the strongest of every kind add up to 1. Place and date weigh most: two
 * monitors rarely agree on anything else of an attack, but always on where
 * and (within what they know of it) when. Counts come next: partners
 * report the same figures, or figures a victim or two apart while the
 * toll is still moving. A party group alone, a province alone, a count
 * range that merely overlaps are weaker and weigh less. */
#define W_SAME_DATE 0.20
#define W_DATE_WINDOW 0.12
#define W_SAME_ADMIN2 0.20
#define W_NEAR 0.20
#define W_SAME_ADMIN1 0.08
#define W_SAME_TACTIC 0.15
#define W_SAME_PERPETRATOR 0.10
#define W_SAME_PARTY_GROUP 0.04
#define W_SAME_COUNTS 0.15
#define W_COUNTS_CLOSE 0.10
#define W_COUNT_RANGES 0.06
#define W_SAME_EXTERNAL_REF 0.10
#define W_SIMILAR_NARRATIVE 0.10
#define W_LIKE_NARRATIVE 0.05

/* pg_trgm similarities: reworded accounts of one attack score around 0.4
 * to 0.7; unrelated ones of the same kind of attack below 0.3. */
#define NARRATIVE_SIMILAR 0.5
#define NARRATIVE_LIKE DUPLICATE_NARRATIVE_MIN

/* The party nobody could be held responsible for: two incidents both
 * "unknown" share ignorance, not a perpetrator. */
#define UNKNOWN_PARTY "unknown"

void duplicate_facts_free(struct duplicate_facts *f)
{
    free(f->admin1);
    free(f->admin2);
    free(f->tactic);
    free(f->perpetrator);
    free(f->party_group);
    memset(f, 0, sizeof *f);
}

int duplicate_date_window(const char *date_precision)
{
    if (strcmp(date_precision, "week") == 0)
        return 7;
    if (strcmp(date_precision, "month") == 0)
        return DUPLICATE_WINDOW_DAYS;
    return 1;
}

static bool same_text(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Great-circle distance in km. */
static double distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* Two counts of one outcome agree within a victim or two, or a tenth of
 * the larger for a large attack. */
static bool count_close(long a, long b)
{
    long larger = a > b ? a : b;
    long tolerance = larger / 10 > 2 ? larger / 10 : 2;
    return labs(a - b) <= tolerance;
}

static bool ranges_overlap(long low1, long high1, long low2, long high2)
{
    return low1 <= high2 && low2 <= high1;
}

static void add(struct duplicate_candidate *c, const char *code, const char *fields, double weight)
{
    if (c->nreasons < DUPLICATE_MAX_REASONS)
        c->reasons[c->nreasons++] = (struct duplicate_reason){code, fields, weight};
}

static void score_date(const struct duplicate_facts *me, struct duplicate_candidate *c)
{
    const struct duplicate_facts *o = &c->facts;
    long apart = labs(me->occurred_on - o->occurred_on);
    int w1 = duplicate_date_window(me->date_precision),
        w2 = duplicate_date_window(o->date_precision);
    if (apart == 0)
        add(c, "same_date", "occurred_on", W_SAME_DATE);
    else if (apart <= (w1 > w2 ? w1 : w2))
        add(c, "date_within_precision", "occurred_on", W_DATE_WINDOW);
}

static void score_place(const struct duplicate_facts *me, struct duplicate_candidate *c)
{
    const struct duplicate_facts *o = &c->facts;
    if (me->has_coords && o->has_coords &&
        distance_km(me->lat, me->lon, o->lat, o->lon) <= DUPLICATE_NEAR_KM)
        add(c, "near", "location.lat,location.lon", W_NEAR);
    else if (same_text(me->admin2, o->admin2))
        add(c, "same_admin2", "location.admin2", W_SAME_ADMIN2);
    else if (same_text(me->admin1, o->admin1))
        add(c, "same_admin1", "location.admin1", W_SAME_ADMIN1);
}

static void score_party(const struct duplicate_facts *me, struct duplicate_candidate *c)
{
    const struct duplicate_facts *o = &c->facts;
    if (same_text(me->perpetrator, UNKNOWN_PARTY) || same_text(o->perpetrator, UNKNOWN_PARTY))
        return;
    if (same_text(me->perpetrator, o->perpetrator))
        add(c, "same_perpetrator", "perpetrator", W_SAME_PERPETRATOR);
    else if (same_text(me->party_group, o->party_group))
        add(c, "same_party_group", "party_group", W_SAME_PARTY_GROUP);
}

static void score_counts(const struct duplicate_facts *me, struct duplicate_candidate *c)
{
    const struct duplicate_facts *o = &c->facts;
    if (me->killed == o->killed && me->injured == o->injured)
        add(c, "same_counts", "killed,injured", W_SAME_COUNTS);
    else if (count_close(me->killed, o->killed) && count_close(me->injured, o->injured))
        add(c, "counts_close", "killed,injured", W_COUNTS_CLOSE);
    else if (ranges_overlap(me->killed_low, me->killed_high, o->killed_low, o->killed_high) &&
             ranges_overlap(me->injured_low, me->injured_high, o->injured_low, o->injured_high))
        add(c, "count_ranges_overlap", "casualties", W_COUNT_RANGES);
}

void duplicate_score(const struct duplicate_facts *me, struct duplicate_candidate *c)
{
    const struct duplicate_facts *o = &c->facts;
    c->nreasons = 0;
    score_date(me, c);
    score_place(me, c);
    if (same_text(me->tactic, o->tactic))
        add(c, "same_tactic", "tactic", W_SAME_TACTIC);
    score_party(me, c);
    score_counts(me, c);
    if (o->same_external_ref)
        add(c, "same_external_ref", "external_ref", W_SAME_EXTERNAL_REF);
    if (o->narrative_similarity >= NARRATIVE_SIMILAR)
        add(c, "similar_narrative", "narrative", W_SIMILAR_NARRATIVE);
    else if (o->narrative_similarity >= NARRATIVE_LIKE)
        add(c, "like_narrative", "narrative", W_LIKE_NARRATIVE);
    double sum = 0;
    for (int i = 0; i < c->nreasons; i++)
        sum += c->reasons[i].weight;
    /* Rounded, so equal evidence ranks equal and reads the same. */
    c->score = round((sum > 1 ? 1 : sum) * 1000) / 1000;
}

/* qsort has no context argument: the incident ranked against, per thread. */
static _Thread_local const struct duplicate_facts *rank_me;

static int by_rank(const void *pa, const void *pb)
{
    const struct duplicate_candidate *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    long da = labs(a->facts.occurred_on - rank_me->occurred_on),
         db = labs(b->facts.occurred_on - rank_me->occurred_on);
    if (da != db)
        return da < db ? -1 : 1;
    return a->facts.id > b->facts.id ? -1 : a->facts.id < b->facts.id;
}

void duplicate_rank(const struct duplicate_facts *me, struct duplicate_candidate *c, size_t n)
{
    rank_me = me;
    qsort(c, n, sizeof *c, by_rank);
    rank_me = NULL;
}

json_t *duplicate_reasons_json(const struct duplicate_candidate *c)
{
    json_t *list = json_array();
    for (int i = 0; i < c->nreasons; i++)
        json_array_append_new(list, json_pack("{s:s, s:o, s:f}", "code", c->reasons[i].code,
                                              "fields", comma_list_json(c->reasons[i].fields),
                                              "weight", c->reasons[i].weight));
    return list;
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *duplicate_summary_to_json(const struct duplicate_facts *f)
{
    char id[24], date[16];
    snprintf(id, sizeof id, "%lld", f->id);
    date_format(f->occurred_on, date);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "status", json_string(f->status));
    json_object_set_new(out, "occurred_on", json_string(date));
    json_object_set_new(out, "date_precision", json_string(f->date_precision));
    json_object_set_new(out, "admin1", json_string(f->admin1));
    json_object_set_new(out, "admin2", string_or_null(f->admin2));
    json_object_set_new(out, "tactic", json_string(f->tactic));
    json_object_set_new(out, "perpetrator", json_string(f->perpetrator));
    json_object_set_new(out, "party_group", json_string(f->party_group));
    json_object_set_new(out, "killed", json_integer(f->killed));
    json_object_set_new(out, "injured", json_integer(f->injured));
    return out;
}

json_t *duplicate_candidate_to_json(const struct duplicate_candidate *c)
{
    json_t *out = duplicate_summary_to_json(&c->facts);
    json_object_set_new(out, "score", json_real(c->score));
    json_object_set_new(out, "reasons", duplicate_reasons_json(c));
    json_object_set_new(out, "dismissed", json_boolean(c->facts.dismissal != 0));
    json_object_set_new(out, "dismissal", id_json_or_null(c->facts.dismissal));
    return out;
}

void duplicate_pair_free(struct duplicate_pair *p)
{
    duplicate_facts_free(&p->a);
    duplicate_facts_free(&p->b);
    json_decref(p->reasons);
    p->reasons = NULL;
}

json_t *duplicate_pair_to_json(const struct duplicate_pair *p)
{
    json_t *out = json_object();
    json_object_set_new(
        out, "incidents",
        json_pack("[o, o]", duplicate_summary_to_json(&p->a), duplicate_summary_to_json(&p->b)));
    json_object_set_new(out, "score", json_real(p->score));
    json_object_set_new(out, "reasons", json_incref(p->reasons));
    json_object_set_new(out, "found_at", json_string(p->found_at));
    return out;
}

/* Cursors are opaque to clients: base64url of "q|b|a", the later id first
 * as the queue is ordered. */
void duplicate_queue_cursor_encode(long long a, long long b, char *out, size_t size)
{
    char plain[64], encoded[96];
    int n = snprintf(plain, sizeof plain, "q|%lld|%lld", b, a);
    base64url_encode((const unsigned char *)plain, (size_t)n, encoded);
    snprintf(out, size, "%s", encoded);
}

bool duplicate_queue_cursor_decode(const char *text, long long *a, long long *b)
{
    char s[64];
    if (!base64url_decode_text(text, s, sizeof s, 5))
        return false;
    if (strncmp(s, "q|", 2) != 0)
        return false;
    const char *bar = strchr(s + 2, '|');
    char first[24];
    if (!bar || (size_t)(bar - (s + 2)) >= sizeof first)
        return false;
    memcpy(first, s + 2, (size_t)(bar - (s + 2)));
    first[bar - (s + 2)] = '\0';
    return id_parse(first, b) && id_parse(bar + 1, a) && *a < *b;
}

bool duplicate_dismissal_from_json(json_t *doc, long long *a, long long *b, const char **reason,
                                   bool *swapped, struct api_error *e)
{
    static const char *const allowed[] = {"incidents", "reason", NULL};
    json_t *list;
    if (!jv_only_keys(doc, allowed, "", e) ||
        !jv_string(doc, "reason", "", true, 1, INCIDENT_MAX_REASON, reason, NULL, e))
        return false;
    if (jv_get(doc, "incidents", &list) == JV_ABSENT)
        return err_missing(e, "incidents");
    if (!json_is_array(list) || json_array_size(list) != 2)
        return err_invalid(e, "incidents", "incidents must be an array of two incident ids");
    long long ids[2];
    for (size_t i = 0; i < 2; i++) {
        char path[32];
        jv_path_index(path, sizeof path, "incidents", i);
        const char *text = json_string_value(json_array_get(list, i));
        if (!text || !id_parse(text, &ids[i]))
            return err_invalid(e, path, "%s must be an incident id string", path);
    }
    if (ids[0] == ids[1])
        return err_invalid(e, "incidents[1]", "an incident is no duplicate of itself");
    *swapped = ids[0] > ids[1];
    *a = *swapped ? ids[1] : ids[0];
    *b = *swapped ? ids[0] : ids[1];
    return true;
}

bool duplicate_dismissal_undo_from_json(json_t *doc, const char **reason, struct api_error *e)
{
    static const char *const allowed[] = {"reason", NULL};
    return jv_only_keys(doc, allowed, "", e) &&
           jv_string(doc, "reason", "", true, 1, INCIDENT_MAX_REASON, reason, NULL, e);
}
