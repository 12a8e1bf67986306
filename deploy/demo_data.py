#!/usr/bin/python3
"""Load a few hundred plausible, clearly fictitious incidents through the API.

Usage:
    demo_data.py --url http://127.0.0.1:8080 --key-file var/admin.key
                 [--count 400] [--seed 20260101]
                 [--taxonomy schema/taxonomy-unama.json]
                 [--end-date YYYY-MM-DD] [--resume]

The key is read from a file (- for standard input), never taken as an
argument: every user of the machine can read a process's arguments (ps).

Everything goes through the HTTP API (POST /v1/incidents, then
POST /v1/incidents/{id}/status and PATCH), so the demo data passes the same
validation as real submissions and fills the rollups the same way.

The data is generated from random.Random(seed) alone: the same seed and end
date give the same incidents. No names or other personal details are made up;
narratives and references say "demo" plainly.

It uses the whole record (docs/recording.md): an attribution basis on most
incidents, impacts on about one in five (schools, clinics, mosques, aid
workers, journalists, elections around a demo election day), a few that
harmed no one (a school burnt at night), low and high estimates where
sources disagree on a count, victims' roles that fit the impacts, and
abductions with the persons abducted.

Safe to run twice: when any incident exists already it prints
"demo data already present, skipping" and exits 0. An interrupted load is
finished with --resume (same --seed, --end-date and key as the first run):
every POST carries an Idempotency-Key derived from the seed and the index, so
incidents created before the interruption are returned, not created again,
and status changes or amendments already made are recognised.

Exit status: 0 done (or skipped), 1 the server refused a request or could not
be reached, 2 usage error.

Standard library only; run it with /usr/bin/python3.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

# The dates cover this many days, ending yesterday (or --end-date).
DAYS = 730

# --- distributions ---------------------------------------------------------
# Shares roughly as in UNAMA Protection of Civilians reports 2014-2020. They
# are plausible, not real statistics.

TACTIC_WEIGHTS = {
    "ground_engagement": 30,
    "ied_non_suicide": 18,
    "ied_suicide": 8,
    "targeted_killing": 10,
    "aerial_operation": 8,
    "erw": 8,
    "search_operation": 4,
    "escalation_of_force": 3,
    "cross_border_shelling": 3,
    "abduction": 2,
    "summary_execution": 2,
    "other": 4,
}

# Perpetrator by tactic. The unknown and undetermined answers (unknown,
# undetermined_age, undetermined_pgf) come to about 40% overall; aerial
# operations are always attributable to an air force, unexploded ordnance
# almost never to anyone.
PERPETRATOR_WEIGHTS = {
    "ground_engagement": {"crossfire_age_pgf": 35, "taliban": 18,
                          "undetermined_age": 14, "ansf_army": 7,
                          "ansf_police": 4, "pro_government_armed_groups": 2,
                          "undetermined_pgf": 7, "unknown": 13},
    "ied_non_suicide": {"undetermined_age": 45, "taliban": 15, "isil_kp": 5,
                        "unknown": 35},
    "ied_suicide": {"isil_kp": 35, "taliban": 25, "undetermined_age": 30,
                    "unknown": 10},
    "targeted_killing": {"taliban": 25, "isil_kp": 10, "ansf_nds": 5,
                         "undetermined_age": 25, "unknown": 35},
    "aerial_operation": {"ansf_air_force": 55, "international_forces": 45},
    "erw": {"erw_unattributed": 100},
    "search_operation": {"ansf_nds": 30, "ansf_army": 25,
                         "international_forces": 15,
                         "pro_government_armed_groups": 10,
                         "multiple_pgf": 10, "undetermined_pgf": 10},
    "escalation_of_force": {"ansf_police": 40, "ansf_army": 30,
                            "international_forces": 15,
                            "undetermined_pgf": 15},
    "cross_border_shelling": {"cross_border": 100},
    "abduction": {"taliban": 40, "undetermined_age": 30, "unknown": 30},
    "summary_execution": {"taliban": 50, "isil_kp": 20,
                          "undetermined_age": 30},
    "other": {"unknown": 60, "undetermined_age": 20, "undetermined_pgf": 20},
}

# Weapon (SDG 16.1.2 cause) by tactic; "unknown" sometimes, as in real data.
WEAPON_WEIGHTS = {
    "ground_engagement": {"small_arms": 62, "heavy_explosive": 28,
                          "unknown": 10},
    "ied_non_suicide": {"planted_explosive_uxo": 90, "unknown": 10},
    "ied_suicide": {"heavy_explosive": 92, "unknown": 8},
    "targeted_killing": {"small_arms": 70, "planted_explosive_uxo": 20,
                         "unknown": 10},
    "aerial_operation": {"heavy_explosive": 95, "unknown": 5},
    "erw": {"planted_explosive_uxo": 100},
    "search_operation": {"small_arms": 80, "heavy_explosive": 10,
                         "unknown": 10},
    "escalation_of_force": {"small_arms": 88, "less_lethal": 6, "unknown": 6},
    "cross_border_shelling": {"heavy_explosive": 95, "unknown": 5},
    "abduction": {"small_arms": 45, "other": 20, "unknown": 35},
    "summary_execution": {"small_arms": 85, "unknown": 15},
    "other": {"unknown": 40, "conflict_accident": 20, "other": 20,
              "incendiary": 10, "denial_of_objects": 10},
}

# (sex, age_group) of a casualty group. Explosive remnants of war mostly harm
# children (scrap collecting, playing); targeted killings adult men.
DEMOGRAPHY_DEFAULT = {("male", "adult"): 52, ("female", "adult"): 11,
                      ("male", "child"): 15, ("female", "child"): 9,
                      ("unknown", "adult"): 4, ("unknown", "child"): 3,
                      ("unknown", "unknown"): 6}
DEMOGRAPHY = {
    "erw": {("male", "child"): 55, ("female", "child"): 20,
            ("unknown", "child"): 5, ("male", "adult"): 15,
            ("female", "adult"): 5},
    "targeted_killing": {("male", "adult"): 84, ("female", "adult"): 9,
                         ("male", "child"): 3, ("unknown", "adult"): 4},
    "summary_execution": {("male", "adult"): 85, ("female", "adult"): 10,
                          ("male", "child"): 5},
    "escalation_of_force": {("male", "adult"): 70, ("female", "adult"): 10,
                            ("male", "child"): 12, ("female", "child"): 8},
}

# Probability that a casualty group is of killed people (the rest injured);
# overall about one killed for two injured, as in UNAMA's figures.
KILLED_SHARE = {"targeted_killing": 0.75, "summary_execution": 1.0,
                "aerial_operation": 0.55, "abduction": 0.6,
                "ied_suicide": 0.3, "ground_engagement": 0.3}
KILLED_SHARE_DEFAULT = 0.4

# How many casualty groups (1..6) an incident has.
GROUPS_DEFAULT = [40, 28, 15, 9, 5, 3]
GROUPS = {"targeted_killing": [70, 20, 7, 3, 0, 0],
          "summary_execution": [60, 25, 10, 5, 0, 0],
          "escalation_of_force": [60, 25, 10, 5, 0, 0],
          "ied_suicide": [3, 7, 15, 25, 25, 25]}

# Count of one group, except suicide attacks (see casualty_count).
COUNT_WEIGHTS = {1: 45, 2: 22, 3: 13, 4: 8, 5: 6, 6: 2, 7: 1.5, 8: 1,
                 10: 1, 12: 0.5}
SUICIDE_COUNT_MAX = 60

# Seasonal weight by month: the fighting season runs spring to autumn.
MONTH_WEIGHT = {1: 0.55, 2: 0.55, 3: 0.75, 4: 1.0, 5: 1.3, 6: 1.4, 7: 1.45,
                8: 1.35, 9: 1.2, 10: 1.0, 11: 0.8, 12: 0.6}

# Provinces are weighted by region (the south and east saw most harm), then
# scaled: up for the provinces UNAMA reports usually rank highest, down for
# thinly populated ones. Unlisted regions or provinces weigh 1.
REGION_WEIGHT = {"southern": 3.0, "eastern": 2.5, "south_eastern": 2.0,
                 "central": 1.2, "north_eastern": 1.2, "northern": 1.0,
                 "western": 1.0, "central_highlands": 0.3}
PROVINCE_BOOST = {"AF30": 2.0, "AF27": 2.0, "AF06": 2.0, "AF01": 1.5,
                  "AF11": 1.5, "AF19": 1.5, "AF29": 1.3, "AF15": 1.2,
                  "AF34": 0.4, "AF16": 0.5, "AF26": 0.7, "AF08": 0.5}
# Suicide and complex attacks hit cities, Kabul above all.
SUICIDE_PROVINCE_BOOST = {"AF01": 8.0, "AF06": 2.0, "AF27": 1.5, "AF21": 1.5,
                          "AF32": 1.5}
# Cross-border shelling only along the eastern border.
BORDER_PROVINCES = ["AF15", "AF06", "AF14", "AF12", "AF16"]
ADMIN2_SHARE = 0.7

SOURCE_TYPE_WEIGHTS = {"witness": 30, "medical": 22, "local_authority": 18,
                       "community_leader": 14, "victim": 12, "media": 10,
                       "un_ngo": 8, "party_to_conflict": 5, "other": 2}
# 1, 2, 3 or 4 distinct source types.
SOURCE_COUNT_WEIGHTS = [14, 22, 38, 26]

NARRATIVES = {
    "ground_engagement": ["exchange of fire between parties near homes",
                          "mortar round landed on a house during fighting",
                          "civilians caught in fighting on a village road"],
    "ied_non_suicide": ["IED detonation near a market",
                        "roadside IED struck a passenger vehicle",
                        "pressure-plate IED detonated on a rural road"],
    "ied_suicide": ["suicide attack near a government compound",
                    "complex attack on a public gathering",
                    "vehicle-borne suicide attack on a main road"],
    "targeted_killing": ["targeted shooting of a shopkeeper",
                         "magnetic IED attached to a civilian vehicle",
                         "deliberate shooting of a farmer at his home"],
    "aerial_operation": ["air strike hit a residential compound",
                         "aerial operation in a farming area",
                         "drone strike near a village"],
    "erw": ["children handled unexploded ordnance while collecting scrap",
            "unexploded mortar round detonated near a house",
            "old ordnance exploded in a field during ploughing"],
    "search_operation": ["night search operation in a village"],
    "escalation_of_force": ["shots fired at a vehicle near a checkpoint"],
    "cross_border_shelling": ["cross-border shelling hit a village"],
    "abduction": ["passengers abducted from a highway and later harmed"],
    "summary_execution": ["civilians executed after abduction"],
    "other": ["incident of uncertain type reported by local sources"],
}

# --- the widened record: attribution, impacts, roles, ranges, abductions -----

# Attribution basis by perpetrator: how the mission knows who did it. AGE
# groups claim some attacks (ISIL-KP most of its suicide attacks); forces
# acknowledge some operations (air strikes above all); most attributions
# are the mission's own determination; some rest on allegations. Nobody
# answers for unexploded ordnance, and an unknown perpetrator has no basis.
ATTRIBUTION_WEIGHTS = {
    "taliban": {"claimed": 30, "acknowledged": 5, "determined": 42,
                "alleged": 18, "unknown": 5},
    "isil_kp": {"claimed": 55, "determined": 30, "alleged": 10, "unknown": 5},
    "undetermined_age": {"determined": 60, "alleged": 25, "unknown": 15},
    "crossfire_age_pgf": {"determined": 80, "alleged": 10, "unknown": 10},
    "ansf_air_force": {"acknowledged": 25, "determined": 55, "alleged": 20},
    "international_forces": {"acknowledged": 40, "determined": 45,
                             "alleged": 15},
    "pro_government_armed_groups": {"determined": 50, "alleged": 45,
                                    "unknown": 5},
    "cross_border": {"determined": 40, "alleged": 50, "unknown": 10},
    "erw_unattributed": {"unknown": 100},
    "unknown": {"unknown": 100},
}
# Other parties (the security forces, undetermined and multiple PGF).
ATTRIBUTION_DEFAULT = {"acknowledged": 15, "determined": 55, "alleged": 25,
                       "unknown": 5}


def role_rule(code, share, ages=("adult",), sexes=None, max_count=None,
         target=False):
    """A rule giving casualty groups a victim role: groups of one of ages
    (and sexes), of at most max_count people, get it with probability
    share; with target, the first such group always does (the person the
    attack was aimed at)."""
    return {"code": code, "share": share, "ages": ages, "sexes": sexes,
            "max_count": max_count, "target": target}


# What an attack was aimed at or harmed besides people: the themes of the
# thematic sections of UNAMA's reports (education, health care, places of
# worship, humanitarian workers, media, elections, ...). Each theme names
# the impacts it records, the roles of its victims, and per tactic a weight
# (against NO_THEME's) and a narrative.
THEMES = {
    "school": {
        "impacts": ["education"],
        "roles": [role_rule("child_in_school", 0.8, ages=("child",)),
                  role_rule("teacher", 0.4, max_count=4)],
        "tactics": {
            "ground_engagement": (5, "mortar round landed in a school "
                                     "compound during fighting"),
            "ied_non_suicide": (4, "IED detonated at a school gate as "
                                   "pupils arrived"),
            "aerial_operation": (3, "air strike damaged a school during "
                                    "lessons"),
            "erw": (12, "pupils handled unexploded ordnance on the way "
                        "to school"),
            "search_operation": (4, "search operation inside a school "
                                    "during lessons"),
        },
    },
    "teacher": {
        "impacts": ["education"],
        "roles": [role_rule("teacher", 0.9, target=True)],
        "tactics": {
            "targeted_killing": (6, "teacher shot on the way to school"),
            "abduction": (10, "teachers taken from a school; some later "
                              "harmed"),
        },
    },
    "university": {
        "impacts": ["education"],
        "roles": [role_rule("student", 0.9),
                  role_rule("teacher", 0.2, max_count=2)],
        "tactics": {
            "ied_suicide": (5, "complex attack on a university campus"),
        },
    },
    "clinic": {
        "impacts": ["health_care"],
        "roles": [role_rule("health_worker", 0.5, max_count=5)],
        "tactics": {
            "ground_engagement": (3, "rocket hit the ward of a district "
                                     "clinic during fighting"),
            "ied_non_suicide": (3, "IED detonated outside a health centre"),
            "ied_suicide": (3, "complex attack on a hospital"),
            "aerial_operation": (4, "air strike hit a health facility"),
            "search_operation": (8, "search operation inside a clinic; "
                                    "staff and patients harmed"),
        },
    },
    "vaccinators": {
        "impacts": ["health_care"],
        "roles": [role_rule("health_worker", 1.0, target=True)],
        "tactics": {
            "targeted_killing": (5, "vaccination workers shot during a "
                                    "polio campaign"),
        },
    },
    "mosque": {
        "impacts": ["place_of_worship"],
        "roles": [role_rule("religious_figure", 0.5, sexes=("male",),
                            max_count=1)],
        "tactics": {
            "ground_engagement": (2, "mortar round struck a mosque during "
                                     "fighting"),
            "ied_non_suicide": (3, "IED detonated inside a mosque during "
                                   "prayers"),
            "ied_suicide": (12, "suicide attack on worshippers at Friday "
                                "prayers"),
            "aerial_operation": (4, "air strike hit a mosque compound"),
        },
    },
    "cleric": {
        "impacts": ["place_of_worship"],
        "roles": [role_rule("religious_figure", 1.0, sexes=("male",),
                            target=True)],
        "tactics": {
            "targeted_killing": (8, "religious scholar shot as he left a "
                                    "mosque"),
        },
    },
    "shrine": {
        "impacts": ["cultural_property", "place_of_worship"],
        "roles": [],
        "tactics": {
            "ied_non_suicide": (1, "explosion at a shrine during a "
                                   "religious festival"),
            "ied_suicide": (4, "suicide attack on pilgrims at a historic "
                               "shrine"),
        },
    },
    "aid": {
        "impacts": ["humanitarian"],
        "roles": [role_rule("humanitarian_worker", 0.9, target=True)],
        "tactics": {
            "ground_engagement": (1, "deminers caught in fighting while "
                                     "clearing a field"),
            "ied_non_suicide": (2, "IED struck a vehicle of an aid "
                                   "organisation"),
            "targeted_killing": (3, "aid workers shot at a checkpoint set "
                                    "up by armed men"),
            "abduction": (20, "staff of an aid organisation abducted; some "
                              "later harmed"),
        },
    },
    "journalist": {
        "impacts": ["media"],
        "roles": [role_rule("journalist", 1.0, target=True)],
        "tactics": {
            "targeted_killing": (6, "journalist shot outside his home"),
            "ied_suicide": (5, "second blast hit reporters who came to "
                               "cover a first"),
        },
    },
    # Election themes occur only around the demo's election day.
    "election": {
        "impacts": ["election"],
        "roles": [role_rule("election_worker", 0.4, max_count=3)],
        "tactics": {
            "ground_engagement": (1, "rockets fired at a district centre "
                                     "on election day"),
            "ied_non_suicide": (3, "IED detonated near a polling centre"),
            "ied_suicide": (8, "suicide attack at a voter registration "
                               "centre"),
            "targeted_killing": (3, "election worker shot on the way home"),
            "abduction": (10, "election workers taken on the road to "
                              "polling centres; some later harmed"),
        },
    },
    "polling_school": {
        "impacts": ["education", "election"],
        "roles": [role_rule("election_worker", 0.5, max_count=3)],
        "tactics": {
            "ied_non_suicide": (2, "IED at a polling centre housed in a "
                                   "school"),
        },
    },
    "official": {
        "impacts": ["civilian_government"],
        "roles": [role_rule("government_employee", 0.7, target=True)],
        "tactics": {
            "ied_non_suicide": (4, "IED struck a bus carrying government "
                                   "employees"),
            "ied_suicide": (10, "suicide attack on a provincial council "
                                "office"),
            "targeted_killing": (18, "targeted shooting of a civilian "
                                     "official"),
            "abduction": (15, "civil servants taken from a bus; some "
                              "later harmed"),
            "summary_execution": (10, "government employee executed after "
                                      "being taken from a bus"),
        },
    },
    "detention": {
        "impacts": ["detention"],
        "roles": [],
        "tactics": {
            "ground_engagement": (1, "detainees harmed when fighting "
                                     "reached a prison"),
            "search_operation": (6, "civilians harmed in detention after a "
                                    "search operation"),
            "summary_execution": (20, "detained civilians executed"),
        },
    },
    "elder": {
        "impacts": [],
        "roles": [role_rule("tribal_elder", 1.0, sexes=("male",),
                            target=True)],
        "tactics": {
            "targeted_killing": (18, "deliberate shooting of a community "
                                     "elder"),
        },
    },
    "rights_defender": {
        "impacts": [],
        "roles": [role_rule("human_rights_defender", 1.0, target=True)],
        "tactics": {
            "targeted_killing": (4, "human rights defender shot in the "
                                    "street"),
        },
    },
}
# Weight of "no theme" per tactic, against the weights in THEMES: about
# one incident in five ends up with an impact, one in four with a theme.
NO_THEME = {"ground_engagement": 90, "ied_non_suicide": 80,
            "ied_suicide": 50, "targeted_killing": 30,
            "aerial_operation": 90, "erw": 88, "search_operation": 82,
            "abduction": 45, "summary_execution": 70}

# A demo election day, so that election-related incidents cluster before it
# (registration, campaign) and on it, as they do: the last 20 October (an
# autumn vote, in the fighting season) up to the end of the range.
ELECTION_DAY = (10, 20)
ELECTION_WINDOW = (75, 2)       # days before and after the election day
ELECTION_BOOST = 15             # election themes' weights inside the window
ELECTION_THEMES = ("election", "polling_school")

# Incidents that killed or injured no one, recorded for what they harmed (a
# school burnt at night) or for the persons abducted. Share of all
# incidents; each scenario: weight, tactic, weapons, perpetrators, impacts,
# narrative, and whether persons were abducted.
UNHARMED_SHARE = 0.05
UNHARMED = {
    "school_burnt": {
        "weight": 25, "tactic": "other", "weapons": {"incendiary": 100},
        "perpetrators": {"taliban": 20, "undetermined_age": 45,
                         "unknown": 35},
        "impacts": ["education"],
        "narrative": "a girls' school was set on fire at night; no one was "
                     "inside"},
    "clinic_searched": {
        "weight": 10, "tactic": "search_operation", "weapons": {"other": 100},
        "perpetrators": {"ansf_nds": 40, "ansf_army": 30,
                         "international_forces": 30},
        "impacts": ["health_care"],
        "narrative": "forces searched a clinic at night and closed it for "
                     "a week; no one was harmed"},
    "clinic_looted": {
        "weight": 8, "tactic": "other", "weapons": {"other": 100},
        "perpetrators": {"taliban": 30, "undetermined_age": 40,
                         "unknown": 30},
        "impacts": ["health_care"],
        "narrative": "armed men took a clinic's medicines and equipment; no "
                     "one was harmed"},
    "polling_centre_burnt": {
        "weight": 10, "tactic": "other", "weapons": {"incendiary": 100},
        "perpetrators": {"taliban": 40, "undetermined_age": 40,
                         "unknown": 20},
        "impacts": ["education", "election"],
        "narrative": "a school due to serve as a polling centre was burnt "
                     "the night before the vote"},
    "convoy_burnt": {
        "weight": 8, "tactic": "other", "weapons": {"incendiary": 100},
        "perpetrators": {"taliban": 30, "undetermined_age": 40,
                         "unknown": 30},
        "impacts": ["humanitarian"],
        "narrative": "trucks of a food aid convoy were burnt on a highway; "
                     "the drivers were let go"},
    "shrine_damaged": {
        "weight": 6, "tactic": "ied_non_suicide",
        "weapons": {"planted_explosive_uxo": 100},
        "perpetrators": {"isil_kp": 40, "undetermined_age": 40,
                         "unknown": 20},
        "impacts": ["cultural_property", "place_of_worship"],
        "narrative": "an explosive device damaged a historic shrine at "
                     "night; no one was hurt"},
    "radio_burnt": {
        "weight": 5, "tactic": "other", "weapons": {"incendiary": 100},
        "perpetrators": {"taliban": 30, "undetermined_age": 40,
                         "unknown": 30},
        "impacts": ["media"],
        "narrative": "a local radio station was set on fire after threats "
                     "to its staff; no one was hurt"},
    "passengers_abducted": {
        "weight": 20, "tactic": "abduction", "abducted": True,
        "impacts": [],
        "narrative": "passengers taken from a bus at an illegal checkpoint; "
                     "released after some days"},
    "aid_workers_abducted": {
        "weight": 8, "tactic": "abduction", "abducted": True,
        "impacts": ["humanitarian"],
        "narrative": "aid workers abducted and released after mediation by "
                     "elders"},
    "teachers_abducted": {
        "weight": 5, "tactic": "abduction", "abducted": True,
        "impacts": ["education"],
        "narrative": "teachers taken from a school and released the next "
                     "day with a warning"},
}

# Persons abducted: 1 to 3 groups, mostly men; a bus may lose dozens.
ABDUCTED_GROUPS = [60, 30, 10]
ABDUCTED_DEMOGRAPHY = {("male", "adult"): 70, ("female", "adult"): 8,
                       ("male", "child"): 12, ("female", "child"): 3,
                       ("unknown", "unknown"): 7}
ABDUCTED_COUNT = {1: 30, 2: 18, 3: 14, 4: 9, 5: 8, 7: 6, 10: 6, 15: 4,
                  20: 3, 30: 2}

# Where sources disagree on a group's count (the count is the mission's
# best figure), it gets a low and a high estimate: more often in mass
# casualty attacks and air strikes, whose tolls sources dispute. A group
# with a known person (an age) is certain.
RANGE_SHARE = {"ied_suicide": 0.3, "aerial_operation": 0.25,
               "cross_border_shelling": 0.15, "ground_engagement": 0.1}
RANGE_SHARE_DEFAULT = 0.05
# Which ends a range has: both, the high only ("up to"), the low only.
RANGE_ENDS = {"both": 60, "max": 30, "min": 10}

# Kinds of amendment (see Generator.amendment).
AMEND_KINDS = {"died_of_wounds": 45, "hospital_records": 40, "claimed": 15}

# Share of incidents given each final status; the rest stay "reported".
VERIFIED_SHARE = 0.75
REJECTED_SHARE = 0.05
DUPLICATE_SHARE = 0.02
# Applied to incidents neither rejected nor duplicate: about 5% overall.
AMEND_SHARE = 0.055

REJECT_REASONS = ["demo: rejected, the victims were not civilians",
                  "demo: rejected, harm not confirmed by any source"]


def weighted(rng, table):
    """One key of a {value: weight} table."""
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


# --- the taxonomy ------------------------------------------------------------

# Code lists a taxonomy file may leave out: the server then loads its
# defaults, which GET /v1/taxonomy lists.
OPTIONAL_LISTS = ("impacts", "attributions", "victim_roles")


class Taxonomy:
    """Codes and the gazetteer, read from the file the server loaded."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.codes = {k: {e["code"] for e in doc[k]}
                      for k in ("parties", "tactics", "weapons",
                                "source_types") + OPTIONAL_LISTS
                      if k in doc}
        self.abduction_tactics = {t["code"] for t in doc["tactics"]
                                  if t.get("abduction") is True}
        self.provinces = []          # [(pcode, region)], file order
        self.districts = {}          # province pcode -> [pcode], file order
        for area in doc["admin_areas"]:
            if area["level"] == 1:
                self.provinces.append((area["pcode"], area.get("region")))
            elif area["level"] == 2:
                self.districts.setdefault(area["parent"], []).append(
                    area["pcode"])

    def lacks_lists(self):
        return any(k not in self.codes for k in OPTIONAL_LISTS)

    def add_served_lists(self, served):
        """The lists the file left out, from GET /v1/taxonomy."""
        for k in OPTIONAL_LISTS:
            if k not in self.codes:
                self.codes[k] = {e["code"] for e in served.get(k) or []}

    def check(self):
        """The loader's tables use UNAMA-style codes: say which are missing."""
        themes = list(THEMES.values()) + list(UNHARMED.values())
        used = {
            "tactics": set(TACTIC_WEIGHTS),
            "parties": {p for t in PERPETRATOR_WEIGHTS.values() for p in t}
            | set(ATTRIBUTION_WEIGHTS),
            "weapons": {w for t in WEAPON_WEIGHTS.values() for w in t},
            "source_types": set(SOURCE_TYPE_WEIGHTS),
            "impacts": {i for t in themes for i in t["impacts"]},
            "attributions": {a for t in ATTRIBUTION_WEIGHTS.values()
                             for a in t} | set(ATTRIBUTION_DEFAULT),
            "victim_roles": {r["code"] for t in THEMES.values()
                             for r in t["roles"]},
        }
        missing = ["%s %s" % (kind, code)
                   for kind, codes in used.items()
                   for code in sorted(codes - self.codes.get(kind, set()))]
        if "abduction" not in self.abduction_tactics:
            missing.append('tactics abduction with "abduction": true')
        if not self.provinces:
            missing.append("admin_areas of level 1")
        return missing


# --- generating incidents ------------------------------------------------------

class Generator:
    def __init__(self, rng, taxonomy):
        self.rng = rng
        self.tax = taxonomy
        base = {p: REGION_WEIGHT.get(r, 1.0) * PROVINCE_BOOST.get(p, 1.0)
                for p, r in taxonomy.provinces}
        self.province_weights = base
        self.suicide_weights = {p: w * SUICIDE_PROVINCE_BOOST.get(p, 1.0)
                                for p, w in base.items()}
        # A gazetteer without the Afghan border provinces falls back to all.
        border = [p for p in BORDER_PROVINCES if p in base]
        self.border_weights = {p: 1 for p in border} if border else base
        self.first_day = None        # set by dates()
        self.election = None         # (first, last) day of the campaign

    def dates(self, count, end):
        """count dates in the DAYS days ending at end, oldest first."""
        days = [end - datetime.timedelta(days=n) for n in range(DAYS)]
        self.first_day = days[-1]
        vote = datetime.date(end.year, *ELECTION_DAY)
        if vote > end:
            vote = vote.replace(year=end.year - 1)
        self.election = (vote - datetime.timedelta(days=ELECTION_WINDOW[0]),
                         vote + datetime.timedelta(days=ELECTION_WINDOW[1]))
        weights = [MONTH_WEIGHT[d.month] for d in days]
        return sorted(self.rng.choices(days, weights=weights, k=count))

    def in_campaign(self, day):
        return self.election[0] <= day <= self.election[1]

    def location(self, tactic):
        rng = self.rng
        if tactic == "ied_suicide":
            table = self.suicide_weights
        elif tactic == "cross_border_shelling":
            table = self.border_weights
        else:
            table = self.province_weights
        admin1 = weighted(rng, table)
        districts = self.tax.districts.get(admin1, [])
        loc = {"admin1": admin1}
        # Suicide attacks are urban: the provincial capital district (listed
        # first) is then known almost always.
        share = 0.9 if tactic == "ied_suicide" else ADMIN2_SHARE
        if districts and rng.random() < share:
            if tactic == "ied_suicide":
                loc["admin2"] = districts[0]
            else:
                # The capital district twice as likely as any other.
                loc["admin2"] = rng.choices(
                    districts, weights=[2] + [1] * (len(districts) - 1))[0]
            loc["precision"] = "admin2"
        else:
            loc["precision"] = "admin1"
        return loc

    def theme(self, tactic, day):
        """A THEMES key or None."""
        table = {None: NO_THEME.get(tactic, 100)}
        for name, theme in THEMES.items():
            if tactic in theme["tactics"]:
                weight = theme["tactics"][tactic][0]
                if name in ELECTION_THEMES:
                    weight *= ELECTION_BOOST if self.in_campaign(day) else 0
                table[name] = weight
        return weighted(self.rng, table)

    def attribution(self, perpetrator):
        return weighted(self.rng, ATTRIBUTION_WEIGHTS.get(
            perpetrator, ATTRIBUTION_DEFAULT))

    def casualty_count(self, tactic):
        rng = self.rng
        if tactic == "ied_suicide":
            # Pareto tail: median about 2 a group, a few groups in the tens.
            n = 1 + int((rng.paretovariate(1.3) - 1) * 2)
            return min(n, SUICIDE_COUNT_MAX)
        return weighted(rng, COUNT_WEIGHTS)

    def abducted(self):
        """Persons abducted: groups of distinct sex and age group."""
        rng = self.rng
        n = rng.choices(range(1, 4), weights=ABDUCTED_GROUPS)[0]
        groups, seen = [], set()
        for _ in range(n * 3):
            if len(groups) == n:
                break
            sex, age_group = weighted(rng, ABDUCTED_DEMOGRAPHY)
            if (sex, age_group) not in seen:
                seen.add((sex, age_group))
                groups.append({"sex": sex, "age_group": age_group,
                               "count": weighted(rng, ABDUCTED_COUNT)})
        return groups

    def casualties(self, tactic, theme=None, abducted=None):
        """Casualty groups, one per (outcome, sex, age_group); with
        abducted, some of those abducted, later killed or injured."""
        rng = self.rng
        killed_share = KILLED_SHARE.get(tactic, KILLED_SHARE_DEFAULT)
        if abducted:
            draws = [(g["sex"], g["age_group"], g["count"]) for g in abducted]
            ngroups = rng.randint(1, len(draws))
        else:
            demography = DEMOGRAPHY.get(tactic, DEMOGRAPHY_DEFAULT)
            ngroups = rng.choices(
                range(1, 7), weights=GROUPS.get(tactic, GROUPS_DEFAULT))[0]
        groups, seen = [], set()
        # A few tries avoid repeats, so an incident may end up with fewer
        # groups than drawn.
        for _ in range(ngroups * 3):
            if len(groups) == ngroups:
                break
            outcome = "killed" if rng.random() < killed_share else "injured"
            if abducted:
                sex, age_group, most = rng.choice(draws)
                count = rng.randint(1, min(most, 4))
            else:
                sex, age_group = weighted(rng, demography)
                count = self.casualty_count(tactic)
            if (outcome, sex, age_group) in seen:
                continue
            seen.add((outcome, sex, age_group))
            groups.append({"outcome": outcome, "sex": sex,
                           "age_group": age_group, "count": count})
        if theme:
            self.give_roles(groups, THEMES[theme]["roles"])
        for group in groups:
            # An exact age only on single-person groups whose age group is
            # known, and only sometimes: most records stop at the group.
            if group["count"] == 1 and group["age_group"] != "unknown" \
                    and rng.random() < 0.3:
                group["age"] = self.age(group)
            elif rng.random() < RANGE_SHARE.get(tactic, RANGE_SHARE_DEFAULT):
                self.give_range(group)
        return groups

    def give_roles(self, groups, rules):
        """Roles by the theme's rules; a target rule always finds its
        victim in the first group that fits."""
        rng = self.rng
        for rule in rules:
            fits = [g for g in groups if "role" not in g
                    and g["age_group"] in rule["ages"]
                    and (rule["sexes"] is None or g["sex"] in rule["sexes"])
                    and (rule["max_count"] is None
                         or g["count"] <= rule["max_count"])]
            for k, g in enumerate(fits):
                if (rule["target"] and k == 0) or rng.random() < rule["share"]:
                    g["role"] = rule["code"]

    def age(self, group):
        """An age that agrees with the age group (and the role: a child in
        school is 6 or older, a student 18 to 30)."""
        if group["age_group"] == "child":
            low = 6 if group.get("role") == "child_in_school" else 1
            return self.rng.randint(low, 17)
        high = 30 if group.get("role") == "student" else 75
        return self.rng.randint(18, high)

    def give_range(self, group):
        """count_min and/or count_max around the count: sources disagree by
        up to half the count (at least one person)."""
        rng = self.rng
        count = group["count"]
        spread = max(1, count // 2)
        ends = weighted(rng, RANGE_ENDS) if count > 1 else "max"
        if ends in ("both", "min"):
            group["count_min"] = count - rng.randint(1, min(spread, count - 1))
        if ends in ("both", "max"):
            group["count_max"] = count + rng.randint(1, spread)

    def sources(self, index):
        rng = self.rng
        n = rng.choices(range(1, 5), weights=SOURCE_COUNT_WEIGHTS)[0]
        types = []
        while len(types) < n:
            t = weighted(rng, SOURCE_TYPE_WEIGHTS)
            if t not in types:
                types.append(t)
        out = []
        for k, t in enumerate(types, 1):
            src = {"type": t}
            # Some references, to exercise the confidential field; they
            # identify nobody.
            if rng.random() < 0.3:
                src["reference"] = "demo source note %04d-%d" % (index + 1, k)
            out.append(src)
        return out

    def date_fields(self, day):
        """occurred_on, date_precision and sometimes time_of_day. A date
        known only to the week or month is recorded as that period's first
        day (the ISO week's Monday), never later than the event, so never in
        the future; when that day falls before the range, to the day."""
        rng = self.rng
        r = rng.random()
        monday = day - datetime.timedelta(days=day.weekday())
        if r < 0.04 and monday >= self.first_day:
            return {"occurred_on": monday.isoformat(),
                    "date_precision": "week"}
        if 0.04 <= r < 0.05 and day.replace(day=1) >= self.first_day:
            return {"occurred_on": day.replace(day=1).isoformat(),
                    "date_precision": "month"}
        out = {"occurred_on": day.isoformat(), "date_precision": "day"}
        if rng.random() < 0.4:
            out["time_of_day"] = "%02d:%02d" % (rng.randint(5, 21),
                                                rng.randrange(0, 60, 5))
        return out

    def incident(self, index, day):
        """(document, theme): theme is a THEMES key, an UNHARMED key or
        None."""
        rng = self.rng
        if rng.random() < UNHARMED_SHARE:
            return self.unharmed_incident(index, day)
        tactic = weighted(rng, TACTIC_WEIGHTS)
        theme = self.theme(tactic, day)
        doc = self.date_fields(day)
        doc["location"] = self.location(tactic)
        doc["tactic"] = tactic
        doc["weapon"] = weighted(rng, WEAPON_WEIGHTS[tactic])
        doc["perpetrator"] = weighted(rng, PERPETRATOR_WEIGHTS[tactic])
        doc["attribution"] = self.attribution(doc["perpetrator"])
        if theme:
            doc["impacts"] = list(THEMES[theme]["impacts"])
        self.harm(doc, theme)
        doc["sources"] = self.sources(index)
        if theme:
            text = THEMES[theme]["tactics"][tactic][1]
        else:
            text = rng.choice(NARRATIVES[tactic])
        doc["narrative"] = "Illustrative demo incident: %s." % text
        return doc, theme

    def harm(self, doc, theme):
        """casualties, and abducted where the tactic is an abduction."""
        tactic = doc["tactic"]
        abducted = None
        if tactic in self.tax.abduction_tactics:
            abducted = doc["abducted"] = self.abducted()
        doc["casualties"] = self.casualties(tactic, theme, abducted)

    def unharmed_incident(self, index, day):
        """An incident that killed and injured no one: damage to a school,
        a clinic, ..., or persons abducted and released."""
        rng = self.rng
        table = {name: s["weight"] for name, s in UNHARMED.items()
                 if "election" not in s["impacts"] or self.in_campaign(day)}
        name = weighted(rng, table)
        s = UNHARMED[name]
        tactic = s["tactic"]
        doc = self.date_fields(day)
        doc["location"] = self.location(tactic)
        doc["tactic"] = tactic
        doc["weapon"] = weighted(rng, s.get("weapons", WEAPON_WEIGHTS[tactic]))
        doc["perpetrator"] = weighted(
            rng, s.get("perpetrators", PERPETRATOR_WEIGHTS[tactic]))
        doc["attribution"] = self.attribution(doc["perpetrator"])
        doc["impacts"] = list(s["impacts"])
        if s.get("abducted"):
            doc["abducted"] = self.abducted()
        doc["casualties"] = []
        doc["sources"] = self.sources(index)
        doc["narrative"] = "Illustrative demo incident: %s." % s["narrative"]
        return doc, name

    def duplicate_of(self, index, original, theme):
        """A second report of an earlier incident: the same event (date,
        place, tactic, weapon, perpetrator, attribution, impacts) with its
        own figures and sources, as when two monitors report one attack."""
        doc = {k: json.loads(json.dumps(original[k]))
               for k in ("occurred_on", "date_precision", "time_of_day",
                         "location", "tactic", "weapon", "perpetrator",
                         "attribution", "impacts")
               if k in original}
        if original["casualties"]:
            self.harm(doc, theme if theme in THEMES else None)
        else:
            doc["casualties"] = []
            if "abducted" in original:
                doc["abducted"] = self.abducted()
        doc["sources"] = self.sources(index)
        doc["narrative"] = ("Illustrative demo incident: a second report of an"
                            " event already recorded.")
        return doc

    def amendment(self, doc):
        """The fields a PATCH changes and its reason, computed from doc
        alone so that re-sending it after an interruption changes nothing;
        None when the kind drawn does not apply to doc."""
        rng = self.rng
        kind = weighted(rng, AMEND_KINDS)
        if kind == "claimed":
            # A claim of responsibility published after the report.
            if doc["perpetrator"] not in ("taliban", "isil_kp") \
                    or doc["attribution"] == "claimed":
                return None
            return ({"attribution": "claimed"},
                    "demo: the party claimed the attack in a statement")
        groups = json.loads(json.dumps(doc["casualties"]))
        injured = [g for g in groups if g["outcome"] == "injured"]
        # No casualties to revise; more victims than persons abducted.
        if not groups or (doc.get("abducted") and not injured):
            return None
        if injured and (kind == "died_of_wounds" or doc.get("abducted")):
            # One injured person later died of the wounds. Only a group of
            # one carries an age, and that group disappears: the age moves
            # with the person; so does a role.
            src = rng.choice(injured)
            src["count"] -= 1
            if src["count"] == 0:
                groups.remove(src)
            fit_range(src)
            key = ("killed", src["sex"], src["age_group"], src.get("role"))
            for g in groups:
                if (g["outcome"], g["sex"], g["age_group"],
                        g.get("role")) == key:
                    g["count"] += 1
                    g.pop("age", None)        # no longer a single person
                    fit_range(g)
                    break
            else:
                moved = {k: src[k] for k in ("sex", "age_group", "role",
                                             "age") if k in src}
                moved.update(outcome="killed", count=1)
                groups.append(moved)
            reason = "demo: an injured victim later died of the wounds"
        else:
            # Hospital records added people to one group, and settled what
            # sources disputed about it.
            g = rng.choice(groups)
            g["count"] += rng.randint(1, 3)
            for k in ("age", "count_min", "count_max"):
                g.pop(k, None)                # no longer a single person
            reason = "demo: revised casualty count from hospital records"
        return {"casualties": groups}, reason


def fit_range(group):
    """Keeps count_min <= count <= count_max after the count moved by one;
    an end that meets the count is dropped (the range is gone)."""
    count = group["count"]
    if group.get("count_min", 0) >= count:
        group.pop("count_min", None)
    if group.get("count_max", count + 1) <= count:
        group.pop("count_max", None)


def build_plan(rng, taxonomy, count, end):
    """The incidents and what happens to each: a list of dicts with doc,
    theme, status, duplicate_of (index) and amendment (fields, reason)."""
    gen = Generator(rng, taxonomy)
    plan = []
    for i, day in enumerate(gen.dates(count, end)):
        r = rng.random()
        status = "reported"
        if r < VERIFIED_SHARE:
            status = "verified"
        elif r < VERIFIED_SHARE + REJECTED_SHARE:
            status = "rejected"
        elif r < VERIFIED_SHARE + REJECTED_SHARE + DUPLICATE_SHARE:
            status = "duplicate"
        item = {"status": status, "duplicate_of": None, "amendment": None,
                "theme": None}
        if status == "duplicate":
            # The original must be earlier, verified, and so never a
            # duplicate itself (the API refuses a duplicate of a duplicate);
            # one second report per original is enough for a demo.
            taken = {p["duplicate_of"] for p in plan}
            earlier = [j for j, p in enumerate(plan)
                       if p["status"] == "verified" and j not in taken]
            if earlier:
                item["duplicate_of"] = j = rng.choice(earlier)
                original = plan[j]
                item["theme"] = original["theme"]
                item["doc"] = gen.duplicate_of(i, original["doc"],
                                               original["theme"])
            else:
                item["status"] = status = "reported"
        if "doc" not in item:
            item["doc"], item["theme"] = gen.incident(i, day)
        if status in ("verified", "reported") and rng.random() < AMEND_SHARE:
            item["amendment"] = gen.amendment(item["doc"])
        plan.append(item)
    # The monitor's own reference: DEMO-<year>-<sequence in that year>.
    per_year = {}
    for item in plan:
        year = item["doc"]["occurred_on"][:4]
        per_year[year] = per_year.get(year, 0) + 1
        item["doc"]["external_ref"] = "DEMO-%s-%04d" % (year, per_year[year])
    return plan


# --- the HTTP client -------------------------------------------------------------

class Failure(Exception):
    """A request the server refused, or a server that could not be reached."""


class Api:
    """One persistent connection, reopened after a network failure."""

    ATTEMPTS = 6
    PACED_WAITS = 120   # 429 answers one request may wait out

    def __init__(self, url, key, timeout=30):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("--url must be http://HOST[:PORT] or https://...")
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port
        self.prefix = u.path.rstrip("/")   # when behind a proxy at a subpath
        self.key = key
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        cls = (http.client.HTTPSConnection if self.https
               else http.client.HTTPConnection)
        self.conn = cls(self.host, self.port, timeout=self.timeout)

    def _drop(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, parsed body or None, resent). resent is true
        when an earlier attempt failed on the network and so may have reached
        the server: the caller decides whether a conflict then means done.
        503 (nothing done) and 429 (rate limited, nothing done) are retried
        after Retry-After; network errors after a backoff. Waits for the
        rate limit do not use up attempts: a server's limit paces a load
        larger than its burst, it does not end it."""
        hdrs = {"Authorization": "Bearer " + self.key,
                "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        resent = False
        last = None
        attempt = 0
        paced = 0
        while attempt < self.ATTEMPTS:
            attempt += 1
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, self.prefix + path, body=data,
                                  headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as e:
                # Includes a keep-alive connection the server closed while
                # idle (RemoteDisconnected, BrokenPipe): reconnect and retry.
                last = "%s: %s" % (type(e).__name__, e)
                self._drop()
                resent = True
                time.sleep(min(0.25 * 2 ** (attempt - 1), 4.0))
                continue
            limited = resp.status == 429 and paced < self.PACED_WAITS
            if limited or (resp.status == 503 and attempt < self.ATTEMPTS):
                # Nothing was done (rate limit, pool exhausted, database
                # away): wait as told.
                last = "%d %s" % (resp.status, raw.decode("utf-8", "replace"))
                if limited:
                    paced += 1
                    attempt -= 1
                try:
                    wait = float(resp.getheader("Retry-After", "1"))
                except ValueError:
                    wait = 1.0
                time.sleep(max(0.1, min(wait, 10.0)))
                continue
            try:
                doc = json.loads(raw) if raw else None
            except ValueError:
                doc = None
            if doc is None and raw:
                doc = raw.decode("utf-8", "replace")
            return resp.status, resp, doc, resent
        raise Failure("%s %s: no answer after %d attempts (%s)"
                      % (method, path, self.ATTEMPTS, last))

    def expect(self, method, path, body=None, headers=None, ok=(200, 201)):
        """request(), raising Failure on any status not in ok."""
        status, resp, doc, resent = self.request(method, path, body, headers)
        if status not in ok:
            raise refused(method, path, status, doc)
        return doc

    def close(self):
        self._drop()


def refused(method, path, status, doc):
    body = doc if isinstance(doc, str) else json.dumps(doc)
    return Failure("%s %s -> %d %s" % (method, path, status, body))


# --- the load --------------------------------------------------------------------

def post_incidents(api, plan, seed):
    """Creates the incidents; returns [(id, meets_standard)] in plan order."""
    out = []
    for i, item in enumerate(plan):
        # Scoped to the calling key by the server; the same seed and index
        # give the same key, so a resumed load gets the first answer back.
        key = "civcas-demo-%d-%05d" % (seed, i)
        status, _, doc, _ = api.request("POST", "/v1/incidents", item["doc"],
                                        {"Idempotency-Key": key})
        if status == 409:
            raise Failure(
                "POST /v1/incidents -> 409 %s\n(Idempotency-Key %s was used "
                "with another body: resume with the --seed and --end-date of "
                "the interrupted run)" % (json.dumps(doc), key))
        if status != 201:
            raise refused("POST", "/v1/incidents", status, doc)
        verification = doc.get("verification") or {}
        meets = verification.get("meets_standard")
        if meets is None:
            meets = len({s["type"] for s in item["doc"]["sources"]}) >= 3
        out.append((str(doc["id"]), meets))
    return out


def set_status(api, incident_id, body):
    """POST .../status; a 409 because the incident already has that status
    (an earlier run or a resent request did it) counts as done."""
    path = "/v1/incidents/%s/status" % incident_id
    status, _, doc, _ = api.request("POST", path, body)
    if status == 200:
        return
    if status == 409:
        current = api.expect("GET", "/v1/incidents/%s" % incident_id)
        if current.get("status") == body["status"] and (
                body["status"] != "duplicate"
                or str(current.get("duplicate_of")) == body["duplicate_of"]):
            return
    raise refused("POST", path, status, doc)


def amend(api, incident_id, fields, reason):
    """PATCH with If-Match of the current version. The new values depend on
    the plan alone, so sending them again changes nothing (200, no
    revision); that makes a retry after a lost answer (412) safe."""
    path = "/v1/incidents/%s" % incident_id
    for _ in range(3):
        current = api.expect("GET", path)
        status, _, doc, resent = api.request(
            "PATCH", path, dict(fields, reason=reason),
            {"If-Match": '"%d"' % current["version"]})
        if status == 200:
            return
        if status != 412 or not resent:
            break
    raise refused("PATCH", path, status, doc)


def run(args):
    taxonomy = Taxonomy(args.taxonomy)
    api = Api(args.url, read_key(args.key_file))
    try:
        if taxonomy.lacks_lists():
            taxonomy.add_served_lists(
                api.expect("GET", "/v1/taxonomy", ok=(200,)))
        missing = taxonomy.check()
        if missing:
            raise Failure("taxonomy %s lacks codes this loader uses: %s"
                          % (args.taxonomy, ", ".join(missing)))
        if not args.resume:
            doc = api.expect("GET", "/v1/incidents?limit=1", ok=(200,))
            if doc.get("items"):
                print("demo data already present, skipping")
                print("(to finish an interrupted load, run again with "
                      "--resume)", file=sys.stderr)
                return 0
        plan = build_plan(random.Random(args.seed), taxonomy, args.count,
                          args.end_date)
        created = post_incidents(api, plan, args.seed)

        counts = {"verified": 0, "rejected": 0, "duplicate": 0}
        for i, item in enumerate(plan):
            incident_id, meets = created[i]
            if item["status"] == "reported":
                continue
            body = {"status": item["status"]}
            if item["status"] == "verified":
                if meets:
                    body["reason"] = "demo: verified, sources meet the standard"
                else:
                    body["reason"] = "demo: verified by override"
                    body["override"] = True
            elif item["status"] == "rejected":
                body["reason"] = REJECT_REASONS[i % len(REJECT_REASONS)]
            else:
                body["reason"] = "demo: duplicate of an earlier report"
                body["duplicate_of"] = created[item["duplicate_of"]][0]
            set_status(api, incident_id, body)
            counts[item["status"]] += 1

        amended = 0
        for i, item in enumerate(plan):
            if item["amendment"]:
                amend(api, created[i][0], *item["amendment"])
                amended += 1
    finally:
        api.close()
    print("loaded %d incidents (%d verified, %d rejected, %d duplicate, "
          "%d amended)" % (len(created), counts["verified"],
                           counts["rejected"], counts["duplicate"], amended))
    return 0


def read_key(path):
    """The first line of the file (standard input for -), stripped."""
    if path == "-":
        line = sys.stdin.readline()
    else:
        with open(path, encoding="utf-8") as f:
            line = f.readline()
    key = line.strip()
    if not key:
        raise ValueError("%s holds no key on its first line" % path)
    return key


def find_taxonomy(path):
    """A relative path is tried from the working directory, then from the
    checkout this script lives in, so the default works from anywhere."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidate = os.path.join(root, path)
    return candidate if os.path.exists(candidate) else path


def parse_args(argv):
    # No abbreviations: the old --key option must be refused, not taken
    # for --key-file with the key as a file name.
    p = argparse.ArgumentParser(
        description="Load plausible, fictitious demo incidents into civcas "
                    "through its HTTP API.", allow_abbrev=False)
    p.add_argument("--url", required=True,
                   help="base URL of civcasd, e.g. http://127.0.0.1:8080")
    p.add_argument("--key-file", required=True,
                   help="file whose first line is an admin API key "
                        "(reviewer works too), e.g. var/admin.key; - reads "
                        "standard input")
    p.add_argument("--count", type=int, default=400,
                   help="incidents to create (default 400)")
    p.add_argument("--seed", type=int, default=20260101,
                   help="random seed; the same seed gives the same data")
    p.add_argument("--taxonomy", default="schema/taxonomy-unama.json",
                   help="the taxonomy file the server loaded "
                        "(default schema/taxonomy-unama.json)")
    p.add_argument("--end-date", type=datetime.date.fromisoformat,
                   default=datetime.date.today() - datetime.timedelta(days=1),
                   help="last day of the %d-day range (default yesterday); "
                        "give the first run's when resuming on another day"
                        % DAYS)
    p.add_argument("--resume", action="store_true",
                   help="finish an interrupted load: skip the 'already "
                        "present' check; repeats are recognised")
    args = p.parse_args(argv)
    if not 1 <= args.count <= 100000:
        p.error("--count must be 1 to 100000")
    if args.seed < 0:
        p.error("--seed must not be negative")
    if args.end_date >= datetime.date.today() + datetime.timedelta(days=1):
        p.error("--end-date may not be in the future")
    args.taxonomy = find_taxonomy(args.taxonomy)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except Failure as e:
        print("demo_data: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as e:
        print("demo_data: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo_data: interrupted; run again with --resume to finish",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
