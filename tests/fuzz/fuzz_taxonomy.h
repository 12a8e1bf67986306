/*
 * The fixed taxonomy of the fuzz harnesses: every code of
 * schema/taxonomy-unama.json (impacts, attribution bases and victims' roles
 * included) except the gazetteer, which is cut to the
 * country and four provinces with one or two districts each. Each list is
 * sorted by code in byte order, as taxonomy_find()'s binary search needs;
 * fuzz_taxonomy_check() aborts at start-up if an edit broke that.
 *
 * Fields: code, group (parties: party group; areas: parent), region (areas),
 * level (areas), name, labels (none here), order, abduction (tactics: persons abducted may be
 * recorded).
 */
#ifndef CIVCAS_FUZZ_TAXONOMY_H
#define CIVCAS_FUZZ_TAXONOMY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/taxonomy.h"

/* clang-format off */
static struct tx_code fz_party_groups[] = {
    {"age", NULL, NULL, 0, "Anti-Government Elements", NULL, 0, false},
    {"crossfire", NULL, NULL, 0, "Crossfire / joint", NULL, 2, false},
    {"other", NULL, NULL, 0, "Other / unattributed", NULL, 3, false},
    {"pgf", NULL, NULL, 0, "Pro-Government Forces", NULL, 1, false},
};
static struct tx_code fz_parties[] = {
    {"ansf_air_force", "pgf", NULL, 0, "Afghan Air Force", NULL, 7, false},
    {"ansf_alp", "pgf", NULL, 0, "Afghan Local Police", NULL, 6, false},
    {"ansf_army", "pgf", NULL, 0, "Afghan National Army", NULL, 3, false},
    {"ansf_nds", "pgf", NULL, 0, "National Directorate of Security", NULL, 5, false},
    {"ansf_police", "pgf", NULL, 0, "Afghan National Police", NULL, 4, false},
    {"cross_border", "other", NULL, 0, "Cross-border forces", NULL, 14, false},
    {"crossfire_age_pgf", "crossfire", NULL, 0, "Crossfire (Anti-Government Elements and Pro-Government Forces)", NULL, 12, false},
    {"erw_unattributed", "other", NULL, 0, "Unattributed explosive remnants of war", NULL, 13, false},
    {"international_forces", "pgf", NULL, 0, "International military forces", NULL, 9, false},
    {"isil_kp", "age", NULL, 0, "ISIL-Khorasan Province", NULL, 1, false},
    {"multiple_pgf", "pgf", NULL, 0, "Multiple Pro-Government Forces", NULL, 11, false},
    {"pro_government_armed_groups", "pgf", NULL, 0, "Pro-Government armed groups", NULL, 8, false},
    {"taliban", "age", NULL, 0, "Taliban", NULL, 0, false},
    {"undetermined_age", "age", NULL, 0, "Undetermined Anti-Government Elements", NULL, 2, false},
    {"undetermined_pgf", "pgf", NULL, 0, "Undetermined Pro-Government Forces", NULL, 10, false},
    {"unknown", "other", NULL, 0, "Unknown", NULL, 15, false},
};
static struct tx_code fz_tactics[] = {
    {"abduction", NULL, NULL, 0, "Abductions", NULL, 8, true},
    {"aerial_operation", NULL, NULL, 0, "Aerial operations", NULL, 4, false},
    {"cross_border_shelling", NULL, NULL, 0, "Cross-border shelling", NULL, 10, false},
    {"erw", NULL, NULL, 0, "Explosive remnants of war", NULL, 5, false},
    {"escalation_of_force", NULL, NULL, 0, "Escalation of force", NULL, 7, false},
    {"ground_engagement", NULL, NULL, 0, "Ground engagement", NULL, 0, false},
    {"ied_non_suicide", NULL, NULL, 0, "IEDs (non-suicide)", NULL, 1, false},
    {"ied_suicide", NULL, NULL, 0, "Suicide and complex attacks", NULL, 2, false},
    {"other", NULL, NULL, 0, "Other", NULL, 11, false},
    {"search_operation", NULL, NULL, 0, "Search operations", NULL, 6, false},
    {"summary_execution", NULL, NULL, 0, "Summary executions", NULL, 9, false},
    {"targeted_killing", NULL, NULL, 0, "Targeted and deliberate killings", NULL, 3, false},
};
static struct tx_code fz_weapons[] = {
    {"cbrn", NULL, NULL, 0, "Chemical, biological, radiological and nuclear weapons", NULL, 4, false},
    {"conflict_accident", NULL, NULL, 0, "Conflict-related accidents", NULL, 8, false},
    {"denial_of_objects", NULL, NULL, 0, "Denial of objects indispensable to survival", NULL, 7, false},
    {"electromagnetic", NULL, NULL, 0, "Electromagnetic weapons", NULL, 5, false},
    {"heavy_explosive", NULL, NULL, 0, "Heavy weapons and explosive munitions", NULL, 0, false},
    {"incendiary", NULL, NULL, 0, "Incendiary weapons", NULL, 3, false},
    {"less_lethal", NULL, NULL, 0, "Less-lethal weapons", NULL, 6, false},
    {"other", NULL, NULL, 0, "Other means", NULL, 9, false},
    {"planted_explosive_uxo", NULL, NULL, 0, "Planted explosives and unexploded ordnance", NULL, 1, false},
    {"small_arms", NULL, NULL, 0, "Small arms and light weapons", NULL, 2, false},
    {"unknown", NULL, NULL, 0, "Unknown", NULL, 10, false},
};
static struct tx_code fz_source_types[] = {
    {"community_leader", NULL, NULL, 0, "Community leader", NULL, 5, false},
    {"local_authority", NULL, NULL, 0, "Local authority", NULL, 3, false},
    {"media", NULL, NULL, 0, "Media", NULL, 6, false},
    {"medical", NULL, NULL, 0, "Medical facility", NULL, 2, false},
    {"other", NULL, NULL, 0, "Other", NULL, 8, false},
    {"party_to_conflict", NULL, NULL, 0, "Party to the conflict", NULL, 4, false},
    {"un_ngo", NULL, NULL, 0, "UN or NGO", NULL, 7, false},
    {"victim", NULL, NULL, 0, "Victim", NULL, 0, false},
    {"witness", NULL, NULL, 0, "Witness", NULL, 1, false},
};
static struct tx_code fz_regions[] = {
    {"central", NULL, NULL, 0, "Central", NULL, 0, false},
    {"central_highlands", NULL, NULL, 0, "Central Highlands", NULL, 7, false},
    {"eastern", NULL, NULL, 0, "Eastern", NULL, 1, false},
    {"north_eastern", NULL, NULL, 0, "North Eastern", NULL, 5, false},
    {"northern", NULL, NULL, 0, "Northern", NULL, 6, false},
    {"south_eastern", NULL, NULL, 0, "South Eastern", NULL, 2, false},
    {"southern", NULL, NULL, 0, "Southern", NULL, 3, false},
    {"western", NULL, NULL, 0, "Western", NULL, 4, false},
};
static struct tx_code fz_areas[] = {
    {"AF", NULL, NULL, 0, "Afghanistan", NULL, 0, false},
    {"AF01", "AF", "central", 1, "Kabul", NULL, 1, false},
    {"AF0101", "AF01", "central", 2, "Kabul", NULL, 2, false},
    {"AF0102", "AF01", "central", 2, "Paghman", NULL, 3, false},
    {"AF06", "AF", "eastern", 1, "Nangarhar", NULL, 4, false},
    {"AF0601", "AF06", "eastern", 2, "Jalalabad", NULL, 5, false},
    {"AF27", "AF", "southern", 1, "Kandahar", NULL, 6, false},
    {"AF2701", "AF27", "southern", 2, "Kandahar", NULL, 7, false},
    {"AF30", "AF", "southern", 1, "Helmand", NULL, 8, false},
    {"AF3001", "AF30", "southern", 2, "Lashkargah", NULL, 9, false},
};
static struct tx_code fz_impacts[] = {
    {"civilian_government", NULL, NULL, 0, "Civilian government", NULL, 7, false},
    {"cultural_property", NULL, NULL, 0, "Cultural property", NULL, 6, false},
    {"detention", NULL, NULL, 0, "Detention", NULL, 8, false},
    {"education", NULL, NULL, 0, "Education", NULL, 0, false},
    {"election", NULL, NULL, 0, "Election-related", NULL, 5, false},
    {"health_care", NULL, NULL, 0, "Health care", NULL, 1, false},
    {"humanitarian", NULL, NULL, 0, "Humanitarian personnel or assets", NULL, 3, false},
    {"media", NULL, NULL, 0, "Media", NULL, 4, false},
    {"place_of_worship", NULL, NULL, 0, "Places of worship", NULL, 2, false},
};
static struct tx_code fz_attributions[] = {
    {"acknowledged", NULL, NULL, 0, "Acknowledged by the party", NULL, 1, false},
    {"alleged", NULL, NULL, 0, "Alleged", NULL, 3, false},
    {"claimed", NULL, NULL, 0, "Claimed by the party", NULL, 0, false},
    {"determined", NULL, NULL, 0, "Determined by the mission", NULL, 2, false},
    {"unknown", NULL, NULL, 0, "Unknown", NULL, 4, false},
};
static struct tx_code fz_roles[] = {
    {"child_in_school", NULL, NULL, 0, "Child in school", NULL, 10, false},
    {"election_worker", NULL, NULL, 0, "Election worker", NULL, 9, false},
    {"government_employee", NULL, NULL, 0, "Government employee", NULL, 7, false},
    {"health_worker", NULL, NULL, 0, "Health worker", NULL, 2, false},
    {"human_rights_defender", NULL, NULL, 0, "Human rights defender", NULL, 8, false},
    {"humanitarian_worker", NULL, NULL, 0, "Humanitarian worker", NULL, 3, false},
    {"journalist", NULL, NULL, 0, "Journalist or media worker", NULL, 4, false},
    {"religious_figure", NULL, NULL, 0, "Religious figure", NULL, 5, false},
    {"student", NULL, NULL, 0, "Student", NULL, 1, false},
    {"teacher", NULL, NULL, 0, "Teacher", NULL, 0, false},
    {"tribal_elder", NULL, NULL, 0, "Tribal elder", NULL, 6, false},
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
    .impacts = FZ_LIST(fz_impacts),
    .attributions = FZ_LIST(fz_attributions),
    .roles = FZ_LIST(fz_roles),
};

/* Aborts unless every list is strictly ascending and each code is found. */
static inline void fuzz_taxonomy_check(void)
{
    const struct tx_list *lists[] = {
        &fz_taxonomy.party_groups, &fz_taxonomy.parties, &fz_taxonomy.tactics, &fz_taxonomy.weapons,
        &fz_taxonomy.source_types, &fz_taxonomy.regions, &fz_taxonomy.areas,
        &fz_taxonomy.impacts, &fz_taxonomy.attributions, &fz_taxonomy.roles};
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
