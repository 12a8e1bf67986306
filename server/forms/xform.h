/*
 * The incident form as an ODK XForm (getodk.github.io/xforms-spec), built
 * from a taxonomy snapshot: its choice lists are the taxonomy's code
 * lists, in the deployment's display order, so the form always offers
 * exactly the codes the API accepts. docs/forms.md lists its fields.
 */
#ifndef CIVCAS_XFORM_H
#define CIVCAS_XFORM_H

#include "domain/taxonomy.h"
#include "util/buf.h"

/* Hex digits of the form's version. */
#define XFORM_VERSION_LEN 16

/* Appends the form to out; version gets its version attribute, a digest
 * of everything else in it (so a changed taxonomy gives a new version). */
void xform_build(const struct taxonomy *t, struct buf *out, char version[XFORM_VERSION_LEN + 1]);

#endif
