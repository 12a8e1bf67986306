/* Which incidents a role may count: the rule trends and reports share. */
#include "handlers/handlers.h"

bool handler_count_allowed(struct http_request *r, bool custom_status, struct api_error *e)
{
    if (custom_status && r->who.role != ROLE_REVIEWER && r->who.role != ROLE_ADMIN)
        return api_error_set(e, 403, ERR_FORBIDDEN, "status",
                             "only reviewers and admins may count incidents that are not verified");
    return true;
}
