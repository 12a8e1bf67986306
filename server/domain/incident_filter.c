/* The incident listing's filter and cursors. */
#include "domain/incident_filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/crypto.h"
#include "util/dates.h"
#include "util/ids.h"

#define CODE_LIST_MAX 2000

const char *const incident_filter_params[] = {"from",   "to",          "admin1", "admin2",
                                              "tactic", "perpetrator", "status", "changed_since",
                                              "limit",  "cursor",      NULL};

/* Cursors are opaque to clients: base64url of "d|date|id" (by date) or
 * "c|xid|id" (by change). */
void incident_cursor_encode(bool by_change, const char *position, long long id, char *out,
                            size_t size)
{
    char plain[64];
    int n = snprintf(plain, sizeof plain, "%c|%s|%lld", by_change ? 'c' : 'd', position, id);
    char encoded[96];
    base64url_encode((const unsigned char *)plain, (size_t)n, encoded);
    snprintf(out, size, "%s", encoded);
}

static bool cursor_decode(const char *text, char mode, struct incident_filter *f)
{
    char s[64];
    if (!base64url_decode_text(text, s, sizeof s, 5))
        return false;
    if (s[0] != mode || s[1] != '|')
        return false;
    const char *bar = strchr(s + 2, '|');
    if (!bar || (size_t)(bar - (s + 2)) >= sizeof f->cursor_a)
        return false;
    memcpy(f->cursor_a, s + 2, (size_t)(bar - (s + 2)));
    f->cursor_a[bar - (s + 2)] = '\0';
    if (!id_parse(bar + 1, &f->cursor_id))
        return false;
    if (mode == 'd') {
        long days;
        return date_parse(f->cursor_a, &days);
    }
    /* A transaction id (xid8) as the listing writes it: decimal digits,
     * no leading zero, at most 2^64 - 1; anything else would reach the
     * database's xid8 input as a forged value. */
    if (!f->cursor_a[0] || (f->cursor_a[0] == '0' && f->cursor_a[1]))
        return false;
    for (const char *p = f->cursor_a; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    (void)strtoull(f->cursor_a, NULL, 10);
    return errno == 0;
}

struct code_walk {
    const struct tx_list *list;
    bool empty_item; /* ",," or a comma at either end */
    bool unknown;
};

static bool known_code(const char *item, size_t len, void *ctx)
{
    struct code_walk *w = ctx;
    char code[80];
    if (len == 0) {
        w->empty_item = true;
        return true;
    }
    if (len < sizeof code) {
        memcpy(code, item, len);
        code[len] = '\0';
    }
    w->unknown = len >= sizeof code || !taxonomy_find(w->list, code);
    return !w->unknown;
}

/* A comma-separated list of codes, each in list. */
static bool check_code_list(const char *param, const char *value, const struct tx_list *list,
                            struct api_error *e)
{
    if (!value)
        return true;
    struct code_walk w = {list, false, false};
    if (!value[0] || strlen(value) > CODE_LIST_MAX)
        return err_invalid(e, param, "%s must be a comma-separated list of codes", param);
    comma_list_each(value, known_code, &w);
    if (w.unknown)
        return api_error_set(e, 400, ERR_UNKNOWN_CODE, param,
                             "%s lists a code that is not in the taxonomy", param);
    if (w.empty_item)
        return err_invalid(e, param, "%s must be a comma-separated list of codes", param);
    return true;
}

bool incident_filter_parse_scalars(param_fn get, void *ctx, long long owner,
                                   struct incident_filter *f, struct api_error *e)
{
    memset(f, 0, sizeof *f);
    f->owner = owner;
    if (!param_limit(get, ctx, "limit", INCIDENT_LIST_DEFAULT, INCIDENT_LIST_MAX, &f->limit, e))
        return false;
    long from_days = 0, to_days = 0;
    f->from = get(ctx, "from");
    f->to = get(ctx, "to");
    if (f->from && !date_parse(f->from, &from_days))
        return err_invalid(e, "from", "from must be a date YYYY-MM-DD");
    if (f->to && !date_parse(f->to, &to_days))
        return err_invalid(e, "to", "to must be a date YYYY-MM-DD");
    if (f->from && f->to && from_days > to_days)
        return err_invalid(e, "to", "to may not be before from");
    f->changed_since = get(ctx, "changed_since");
    if (f->changed_since && !timestamp_valid(f->changed_since))
        return err_invalid(
            e, "changed_since",
            "changed_since must be an RFC 3339 timestamp such as 2026-03-14T09:00:00Z");
    return true;
}

bool incident_filter_parse_codes(param_fn get, void *ctx, const struct taxonomy *t,
                                 struct incident_filter *f, struct api_error *e)
{
    f->admin1 = get(ctx, "admin1");
    f->admin2 = get(ctx, "admin2");
    f->tactic = get(ctx, "tactic");
    f->perpetrator = get(ctx, "perpetrator");
    f->status = get(ctx, "status");
    if (!check_code_list("admin1", f->admin1, &t->areas, e) ||
        !check_code_list("admin2", f->admin2, &t->areas, e) ||
        !check_code_list("tactic", f->tactic, &t->tactics, e) ||
        !check_code_list("perpetrator", f->perpetrator, &t->parties, e))
        return false;
    if (f->status && !incident_status_list_valid(f->status))
        return err_invalid(e, "status",
                           "status must be a comma list of reported, verified, rejected, "
                           "duplicate, retracted");
    const char *cursor = get(ctx, "cursor");
    if (cursor) {
        if (!cursor_decode(cursor, f->changed_since ? 'c' : 'd', f))
            return err_invalid(e, "cursor", "cursor is not one this listing gave out");
        f->has_cursor = true;
    }
    return true;
}

bool incident_filter_parse(param_fn get, void *ctx, const struct taxonomy *t, long long owner,
                           struct incident_filter *f, struct api_error *e)
{
    return incident_filter_parse_scalars(get, ctx, owner, f, e) &&
           incident_filter_parse_codes(get, ctx, t, f, e);
}
