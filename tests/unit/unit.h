/* The unit test suites. */
#ifndef CIVCAS_UNIT_H
#define CIVCAS_UNIT_H

#include <check.h>

Suite *suite_jsonv(void);
Suite *suite_dates(void);
Suite *suite_crypto(void);
Suite *suite_incident(void);
Suite *suite_period(void);
Suite *suite_buf(void);
Suite *suite_csv(void);
Suite *suite_duplicate(void);
Suite *suite_lang(void);
Suite *suite_replicas(void);

#endif
