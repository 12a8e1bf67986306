/*
 * The fixed taxonomy of the fuzz harnesses: every code of
 * schema/taxonomy-unama.json (impacts, attribution bases and victims' roles
 * included) except the gazetteer, which is cut to the
 * country and four provinces with one or two districts each. Each list is
 * sorted by code in byte order, as taxonomy_find()'s binary search needs;
 * fuzz_taxonomy_check() aborts at start-up if an edit broke that.
 *
 * Fields: code, group (parties: party group; areas: parent), region (areas),
 * level (areas), name, order, abduction (tactics: persons abducted may be
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
    {"age", NULL, NULL, 0, "Anti-Government Elements", 0, false},
    {"crossfire", NULL, NULL, 0, "Crossfire / joint", 2, false},
    {"other", NULL, NULL, 0, "Other / unattributed", 3, false},
    {"pgf", NULL, NULL, 0, "Pro-Government Forces", 1, false},
};
static struct tx_code fz_parties[] = {
    {"ansf_air_force", "pgf", NULL, 0, "Afghan Air Force", 7, false},
    {"ansf_alp", "pgf", NULL, 0, "Afghan Local Police", 6, false},
    {"ansf_army", "pgf", NULL, 0, "Afghan National Army", 3, false},
    {"ansf_nds", "pgf", NULL, 0, "National Directorate of Security", 5, false},
    {"ansf_police", "pgf", NULL, 0, "Afghan National Police", 4, false},
    {"cross_border", "other", NULL, 0, "Cross-border forces", 14, false},
    {"crossfire_age_pgf", "crossfire", NULL, 0, "Crossfire (Anti-Government Elements and Pro-Government Forces)", 12, false},
    {"erw_unattributed", "other", NULL, 0, "Unattributed explosive remnants of war", 13, false},
    {"international_forces", "pgf", NULL, 0, "International military forces", 9, false},
    {"isil_kp", "age", NULL, 0, "ISIL-Khorasan Province", 1, false},
    {"multiple_pgf", "pgf", NULL, 0, "Multiple Pro-Government Forces", 11, false},
    {"pro_government_armed_groups", "pgf", NULL, 0, "Pro-Government armed groups", 8, false},
    {"taliban", "age", NULL, 0, "Taliban", 0, false},
    {"undetermined_age", "age", NULL, 0, "Undetermined Anti-Government Elements", 2, false},
    {"undetermined_pgf", "pgf", NULL, 0, "Undetermined Pro-Government Forces", 10, false},
    {"unknown", "other", NULL, 0, "Unknown", 15, false},
};
static struct tx_code fz_tactics[] = {
    {"abduction", NULL, NULL, 0, "Abductions", 8, true},
    {"aerial_operation", NULL, NULL, 0, "Aerial operations", 4, false},
    {"cross_border_shelling", NULL, NULL, 0, "Cross-border shelling", 10, false},
    {"erw", NULL, NULL, 0, "Explosive remnants of war", 5, false},
    {"escalation_of_force", NULL, NULL, 0, "Escalation of force", 7, false},
    {"ground_engagement", NULL, NULL, 0, "Ground engagement", 0, false},
    {"ied_non_suicide", NULL, NULL, 0, "IEDs (non-suicide)", 1, false},
    {"ied_suicide", NULL, NULL, 0, "Suicide and complex attacks", 2, false},
    {"other", NULL, NULL, 0, "Other", 11, false},
    {"search_operation", NULL, NULL, 0, "Search operations", 6, false},
    {"summary_execution", NULL, NULL, 0, "Summary executions", 9, false},
    {"targeted_killing", NULL, NULL, 0, "Targeted and deliberate killings", 3, false},
};
static struct tx_code fz_weapons[] = {
    {"cbrn", NULL, NULL, 0, "Chemical, biological, radiological and nuclear weapons", 4, false},
    {"conflict_accident", NULL, NULL, 0, "Conflict-related accidents", 8, false},
    {"denial_of_objects", NULL, NULL, 0, "Denial of objects indispensable to survival", 7, false},
    {"electromagnetic", NULL, NULL, 0, "Electromagnetic weapons", 5, false},
    {"heavy_explosive", NULL, NULL, 0, "Heavy weapons and explosive munitions", 0, false},
    {"incendiary", NULL, NULL, 0, "Incendiary weapons", 3, false},
    {"less_lethal", NULL, NULL, 0, "Less-lethal weapons", 6, false},
    {"other", NULL, NULL, 0, "Other means", 9, false},
    {"planted_explosive_uxo", NULL, NULL, 0, "Planted explosives and unexploded ordnance", 1, false},
    {"small_arms", NULL, NULL, 0, "Small arms and light weapons", 2, false},
    {"unknown", NULL, NULL, 0, "Unknown", 10, false},
};
static struct tx_code fz_source_types[] = {
    {"community_leader", NULL, NULL, 0, "Community leader", 5, false},
    {"local_authority", NULL, NULL, 0, "Local authority", 3, false},
    {"media", NULL, NULL, 0, "Media", 6, false},
    {"medical", NULL, NULL, 0, "Medical facility", 2, false},
    {"other", NULL, NULL, 0, "Other", 8, false},
    {"party_to_conflict", NULL, NULL, 0, "Party to the conflict", 4, false},
    {"un_ngo", NULL, NULL, 0, "UN or NGO", 7, false},
    {"victim", NULL, NULL, 0, "Victim", 0, false},
    {"witness", NULL, NULL, 0, "Witness", 1, false},
};
static struct tx_code fz_regions[] = {
    {"central", NULL, NULL, 0, "Central", 0, false},
    {"central_highlands", NULL, NULL, 0, "Central Highlands", 7, false},
    {"eastern", NULL, NULL, 0, "Eastern", 1, false},
    {"north_eastern", NULL, NULL, 0, "North Eastern", 5, false},
    {"northern", NULL, NULL, 0, "Northern", 6, false},
    {"south_eastern", NULL, NULL, 0, "South Eastern", 2, false},
    {"southern", NULL, NULL, 0, "Southern", 3, false},
    {"western", NULL, NULL, 0, "Western", 4, false},
};
static struct tx_code fz_areas[] = {
    {"AF", NULL, NULL, 0, "Afghanistan", 0, false},
    {"AF01", "AF", "central", 1, "Kabul", 1, false},
    {"AF0101", "AF01", "central", 2, "Kabul", 2, false},
    {"AF0102", "AF01", "central", 2, "Paghman", 3, false},
    {"AF06", "AF", "eastern", 1, "Nangarhar", 4, false},
    {"AF0601", "AF06", "eastern", 2, "Jalalabad", 5, false},
    {"AF27", "AF", "southern", 1, "Kandahar", 6, false},
    {"AF2701", "AF27", "southern", 2, "Kandahar", 7, false},
    {"AF30", "AF", "southern", 1, "Helmand", 8, false},
    {"AF3001", "AF30", "southern", 2, "Lashkargah", 9, false},
};
static struct tx_code fz_impacts[] = {
    {"civilian_government", NULL, NULL, 0, "Civilian government", 7, false},
    {"cultural_property", NULL, NULL, 0, "Cultural property", 6, false},
    {"detention", NULL, NULL, 0, "Detention", 8, false},
    {"education", NULL, NULL, 0, "Education", 0, false},
    {"election", NULL, NULL, 0, "Election-related", 5, false},
    {"health_care", NULL, NULL, 0, "Health care", 1, false},
    {"humanitarian", NULL, NULL, 0, "Humanitarian personnel or assets", 3, false},
    {"media", NULL, NULL, 0, "Media", 4, false},
    {"place_of_worship", NULL, NULL, 0, "Places of worship", 2, false},
};
static struct tx_code fz_attributions[] = {
    {"acknowledged", NULL, NULL, 0, "Acknowledged by the party", 1, false},
    {"alleged", NULL, NULL, 0, "Alleged", 3, false},
    {"claimed", NULL, NULL, 0, "Claimed by the party", 0, false},
    {"determined", NULL, NULL, 0, "Determined by the mission", 2, false},
    {"unknown", NULL, NULL, 0, "Unknown", 4, false},
};
static struct tx_code fz_roles[] = {
    {"child_in_school", NULL, NULL, 0, "Child in school", 10, false},
    {"election_worker", NULL, NULL, 0, "Election worker", 9, false},
    {"government_employee", NULL, NULL, 0, "Government employee", 7, false},
    {"health_worker", NULL, NULL, 0, "Health worker", 2, false},
    {"human_rights_defender", NULL, NULL, 0, "Human rights defender", 8, false},
    {"humanitarian_worker", NULL, NULL, 0, "Humanitarian worker", 3, false},
    {"journalist", NULL, NULL, 0, "Journalist or media worker", 4, false},
    {"religious_figure", NULL, NULL, 0, "Religious figure", 5, false},
    {"student", NULL, NULL, 0, "Student", 1, false},
    {"teacher", NULL, NULL, 0, "Teacher", 0, false},
    {"tribal_elder", NULL, NULL, 0, "Tribal elder", 6, false},
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
