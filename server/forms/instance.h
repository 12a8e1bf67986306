/*
 * Filled forms as they arrive, made into the flat tree forms/form.h maps
 * to an incident: an OpenRosa submission's XML instance, or the JSON of a
 * KoboToolbox REST Services push. Both are refused, with the form path at
 * fault, when they hold anything the form does not.
 *
 * XML is parsed by libxml2 under strict limits: no network, no DTD
 * (a DOCTYPE or entity declaration refuses the document, so no entity is
 * ever expanded or fetched), UTF-8 only, bounded depth and node count.
 */
#ifndef CIVCAS_INSTANCE_H
#define CIVCAS_INSTANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

/* The most elements (and text nodes) a submission may hold, and how deep
 * they may nest: the form's instance is four deep (data, a group, a
 * repeat, a field). */
#define INSTANCE_MAX_NODES 20000
#define INSTANCE_MAX_DEPTH 8

/* Once, before threads parse (libxml2's global state). */
void instance_init(void);

/* The flat tree of an XML instance of the civcas_incident form (new
 * reference in *tree), or false with e set (400; field the form path). */
bool instance_from_xml(const char *data, size_t len, json_t **tree, struct api_error *e);

/* The flat tree of a Kobo push (its form fields; Kobo's own metadata,
 * the "_"-prefixed keys, formhub/uuid and meta/rootUuid, are dropped).
 * New reference in *tree, or false with e set. */
bool instance_from_kobo(json_t *push, json_t **tree, struct api_error *e);

#endif
