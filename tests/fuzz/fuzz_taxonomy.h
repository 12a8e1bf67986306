/*
 * The fixed taxonomy of the fuzz harnesses: every code of
 * schema/taxonomy-unama.json except the gazetteer, which is cut to the
 * country and four provinces with one or two districts each. Each list is
 * sorted by code in byte order, as taxonomy_find()'s binary search needs;
 * fuzz_taxonomy_check() aborts at start-up if an edit broke that.
 *
 * Fields: code, group (parties: party group; areas: parent), region (areas),
 * level (areas), name, order.
 */
#ifndef CIVCAS_FUZZ_TAXONOMY_H
#define CIVCAS_FUZZ_TAXONOMY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/taxonomy.h"

/* clang-format off */
static struct tx_code fz_party_groups[] = {
    {"age", NULL, NULL, 0, "Anti-Government Elements", 0},
    {"crossfire", NULL, NULL, 0, "Crossfire / joint", 2},
    {"other", NULL, NULL, 0, "Other / unattributed", 3},
    {"pgf", NULL, NULL, 0, "Pro-Government Forces", 1},
};
static struct tx_code fz_parties[] = {
    {"ansf_air_force", "pgf", NULL, 0, "Afghan Air Force", 7},
    {"ansf_alp", "pgf", NULL, 0, "Afghan Local Police", 6},
    {"ansf_army", "pgf", NULL, 0, "Afghan National Army", 3},
    {"ansf_nds", "pgf", NULL, 0, "National Directorate of Security", 5},
    {"ansf_police", "pgf", NULL, 0, "Afghan National Police", 4},
    {"cross_border", "other", NULL, 0, "Cross-border forces", 14},
    {"crossfire_age_pgf", "crossfire", NULL, 0, "Crossfire (Anti-Government Elements and Pro-Government Forces)", 12},
    {"erw_unattributed", "other", NULL, 0, "Unattributed explosive remnants of war", 13},
    {"international_forces", "pgf", NULL, 0, "International military forces", 9},
    {"isil_kp", "age", NULL, 0, "ISIL-Khorasan Province", 1},
    {"multiple_pgf", "pgf", NULL, 0, "Multiple Pro-Government Forces", 11},
    {"pro_government_armed_groups", "pgf", NULL, 0, "Pro-Government armed groups", 8},
    {"taliban", "age", NULL, 0, "Taliban", 0},
    {"undetermined_age", "age", NULL, 0, "Undetermined Anti-Government Elements", 2},
    {"undetermined_pgf", "pgf", NULL, 0, "Undetermined Pro-Government Forces", 10},
    {"unknown", "other", NULL, 0, "Unknown", 15},
};
static struct tx_code fz_tactics[] = {
    {"abduction", NULL, NULL, 0, "Abductions", 8},
    {"aerial_operation", NULL, NULL, 0, "Aerial operations", 4},
    {"cross_border_shelling", NULL, NULL, 0, "Cross-border shelling", 10},
    {"erw", NULL, NULL, 0, "Explosive remnants of war", 5},
    {"escalation_of_force", NULL, NULL, 0, "Escalation of force", 7},
    {"ground_engagement", NULL, NULL, 0, "Ground engagement", 0},
    {"ied_non_suicide", NULL, NULL, 0, "IEDs (non-suicide)", 1},
    {"ied_suicide", NULL, NULL, 0, "Suicide and complex attacks", 2},
    {"other", NULL, NULL, 0, "Other", 11},
    {"search_operation", NULL, NULL, 0, "Search operations", 6},
    {"summary_execution", NULL, NULL, 0, "Summary executions", 9},
    {"targeted_killing", NULL, NULL, 0, "Targeted and deliberate killings", 3},
};
static struct tx_code fz_weapons[] = {
    {"cbrn", NULL, NULL, 0, "Chemical, biological, radiological and nuclear weapons", 4},
    {"conflict_accident", NULL, NULL, 0, "Conflict-related accidents", 8},
    {"denial_of_objects", NULL, NULL, 0, "Denial of objects indispensable to survival", 7},
    {"electromagnetic", NULL, NULL, 0, "Electromagnetic weapons", 5},
    {"heavy_explosive", NULL, NULL, 0, "Heavy weapons and explosive munitions", 0},
    {"incendiary", NULL, NULL, 0, "Incendiary weapons", 3},
    {"less_lethal", NULL, NULL, 0, "Less-lethal weapons", 6},
    {"other", NULL, NULL, 0, "Other means", 9},
    {"planted_explosive_uxo", NULL, NULL, 0, "Planted explosives and unexploded ordnance", 1},
    {"small_arms", NULL, NULL, 0, "Small arms and light weapons", 2},
    {"unknown", NULL, NULL, 0, "Unknown", 10},
};
static struct tx_code fz_source_types[] = {
    {"community_leader", NULL, NULL, 0, "Community leader", 5},
    {"local_authority", NULL, NULL, 0, "Local authority", 3},
    {"media", NULL, NULL, 0, "Media", 6},
    {"medical", NULL, NULL, 0, "Medical facility", 2},
    {"other", NULL, NULL, 0, "Other", 8},
    {"party_to_conflict", NULL, NULL, 0, "Party to the conflict", 4},
    {"un_ngo", NULL, NULL, 0, "UN or NGO", 7},
    {"victim", NULL, NULL, 0, "Victim", 0},
    {"witness", NULL, NULL, 0, "Witness", 1},
};
static struct tx_code fz_regions[] = {
    {"central", NULL, NULL, 0, "Central", 0},
    {"central_highlands", NULL, NULL, 0, "Central Highlands", 7},
    {"eastern", NULL, NULL, 0, "Eastern", 1},
    {"north_eastern", NULL, NULL, 0, "North Eastern", 5},
    {"northern", NULL, NULL, 0, "Northern", 6},
    {"south_eastern", NULL, NULL, 0, "South Eastern", 2},
    {"southern", NULL, NULL, 0, "Southern", 3},
    {"western", NULL, NULL, 0, "Western", 4},
};
static struct tx_code fz_areas[] = {
    {"AF", NULL, NULL, 0, "Afghanistan", 0},
    {"AF01", "AF", "central", 1, "Kabul", 1},
    {"AF0101", "AF01", "central", 2, "Kabul", 2},
    {"AF0102", "AF01", "central", 2, "Paghman", 3},
    {"AF06", "AF", "eastern", 1, "Nangarhar", 4},
    {"AF0601", "AF06", "eastern", 2, "Jalalabad", 5},
    {"AF27", "AF", "southern", 1, "Kandahar", 6},
    {"AF2701", "AF27", "southern", 2, "Kandahar", 7},
    {"AF30", "AF", "southern", 1, "Helmand", 8},
    {"AF3001", "AF30", "southern", 2, "Lashkargah", 9},
};
/* clang-format on */

#define FZ_LIST(a)                                                                                 \
    {                                                                                              \
        a, sizeof a / sizeof a[0]                                                                  \
    }

static const struct taxonomy fz_taxonomy = {
    .revision = 1,
    .refs = 1,
    .party_groups = FZ_LIST(fz_party_groups),
    .parties = FZ_LIST(fz_parties),
    .tactics = FZ_LIST(fz_tactics),
    .weapons = FZ_LIST(fz_weapons),
    .source_types = FZ_LIST(fz_source_types),
    .regions = FZ_LIST(fz_regions),
    .areas = FZ_LIST(fz_areas),
};

/* Aborts unless every list is strictly ascending and each code is found. */
static inline void fuzz_taxonomy_check(void)
{
    const struct tx_list *lists[] = {
        &fz_taxonomy.party_groups, &fz_taxonomy.parties, &fz_taxonomy.tactics, &fz_taxonomy.weapons,
        &fz_taxonomy.source_types, &fz_taxonomy.regions, &fz_taxonomy.areas};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *code = lists[l]->items[i].code;
            if ((i > 0 && strcmp(lists[l]->items[i - 1].code, code) >= 0) ||
                taxonomy_find(lists[l], code) != &lists[l]->items[i]) {
                fprintf(stderr, "fuzz_taxonomy.h: list %zu is not sorted at %s\n", l, code);
                abort();
            }
        }
    }
}

#endif
