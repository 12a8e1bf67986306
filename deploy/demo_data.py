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
    "targeted_killing": ["targeted shooting of a civilian official",
                         "magnetic IED attached to a civilian vehicle",
                         "deliberate shooting of a community elder"],
    "aerial_operation": ["air strike hit a residential compound",
                         "aerial operation in a farming area",
                         "drone strike near a village"],
    "erw": ["children handled unexploded ordnance while collecting scrap",
            "unexploded mortar round detonated near a school",
            "old ordnance exploded in a field during ploughing"],
    "search_operation": ["night search operation in a village"],
    "escalation_of_force": ["shots fired at a vehicle near a checkpoint"],
    "cross_border_shelling": ["cross-border shelling hit a village"],
    "abduction": ["passengers abducted from a highway and later harmed"],
    "summary_execution": ["civilians executed after abduction"],
    "other": ["incident of uncertain type reported by local sources"],
}

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

class Taxonomy:
    """Codes and the gazetteer, read from the file the server loaded."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.codes = {k: {e["code"] for e in doc[k]}
                      for k in ("parties", "tactics", "weapons",
                                "source_types")}
        self.provinces = []          # [(pcode, region)], file order
        self.districts = {}          # province pcode -> [pcode], file order
        for area in doc["admin_areas"]:
            if area["level"] == 1:
                self.provinces.append((area["pcode"], area.get("region")))
            elif area["level"] == 2:
                self.districts.setdefault(area["parent"], []).append(
                    area["pcode"])

    def check(self):
        """The loader's tables use UNAMA-style codes: say which are missing."""
        used = {
            "tactics": set(TACTIC_WEIGHTS),
            "parties": {p for t in PERPETRATOR_WEIGHTS.values() for p in t},
            "weapons": {w for t in WEAPON_WEIGHTS.values() for w in t},
            "source_types": set(SOURCE_TYPE_WEIGHTS),
        }
        missing = ["%s %s" % (kind, code)
                   for kind, codes in used.items()
                   for code in sorted(codes - self.codes[kind])]
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

    def dates(self, count, end):
        """count dates in the DAYS days ending at end, oldest first."""
        days = [end - datetime.timedelta(days=n) for n in range(DAYS)]
        self.first_day = days[-1]
        weights = [MONTH_WEIGHT[d.month] for d in days]
        return sorted(self.rng.choices(days, weights=weights, k=count))

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

    def casualty_count(self, tactic):
        rng = self.rng
        if tactic == "ied_suicide":
            # Pareto tail: median about 2 a group, a few groups in the tens.
            n = 1 + int((rng.paretovariate(1.3) - 1) * 2)
            return min(n, SUICIDE_COUNT_MAX)
        return weighted(rng, COUNT_WEIGHTS)

    def casualties(self, tactic):
        rng = self.rng
        ngroups = rng.choices(range(1, 7),
                              weights=GROUPS.get(tactic, GROUPS_DEFAULT))[0]
        demography = DEMOGRAPHY.get(tactic, DEMOGRAPHY_DEFAULT)
        killed_share = KILLED_SHARE.get(tactic, KILLED_SHARE_DEFAULT)
        groups, seen = [], set()
        # One group per (outcome, sex, age_group); a few tries avoid
        # repeats, so an incident may end up with fewer groups than drawn.
        for _ in range(ngroups * 3):
            if len(groups) == ngroups:
                break
            outcome = "killed" if rng.random() < killed_share else "injured"
            sex, age_group = weighted(rng, demography)
            if (outcome, sex, age_group) in seen:
                continue
            seen.add((outcome, sex, age_group))
            group = {"outcome": outcome, "sex": sex, "age_group": age_group,
                     "count": self.casualty_count(tactic)}
            # An exact age only on single-person groups whose age group is
            # known, and only sometimes: most records stop at the group.
            if group["count"] == 1 and age_group != "unknown" \
                    and rng.random() < 0.3:
                group["age"] = (rng.randint(18, 75) if age_group == "adult"
                                else rng.randint(1, 17))
            groups.append(group)
        return groups

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
        rng = self.rng
        tactic = weighted(rng, TACTIC_WEIGHTS)
        doc = self.date_fields(day)
        doc["location"] = self.location(tactic)
        doc["tactic"] = tactic
        doc["weapon"] = weighted(rng, WEAPON_WEIGHTS[tactic])
        doc["perpetrator"] = weighted(rng, PERPETRATOR_WEIGHTS[tactic])
        doc["casualties"] = self.casualties(tactic)
        doc["sources"] = self.sources(index)
        doc["narrative"] = ("Illustrative demo incident: %s."
                            % rng.choice(NARRATIVES[tactic]))
        return doc

    def duplicate_of(self, index, original):
        """A second report of an earlier incident: the same event (date,
        place, tactic, weapon, perpetrator) with its own figures and
        sources, as when two monitors report one attack."""
        doc = {k: json.loads(json.dumps(original[k]))
               for k in ("occurred_on", "date_precision", "time_of_day",
                         "location", "tactic", "weapon", "perpetrator")
               if k in original}
        doc["casualties"] = self.casualties(original["tactic"])
        doc["sources"] = self.sources(index)
        doc["narrative"] = ("Illustrative demo incident: a second report of an"
                            " event already recorded.")
        return doc

    def amendment(self, doc):
        """A revised casualty list and the reason, computed from doc alone
        so that re-sending it after an interruption changes nothing."""
        rng = self.rng
        groups = json.loads(json.dumps(doc["casualties"]))
        injured = [g for g in groups if g["outcome"] == "injured"]
        if injured and rng.random() < 0.5:
            # One injured person later died of the wounds. Only a group of
            # one carries an age, and that group disappears: the age moves
            # with the person.
            src = rng.choice(injured)
            src["count"] -= 1
            if src["count"] == 0:
                groups.remove(src)
            key = ("killed", src["sex"], src["age_group"])
            for g in groups:
                if (g["outcome"], g["sex"], g["age_group"]) == key:
                    g["count"] += 1
                    g.pop("age", None)        # no longer a single person
                    break
            else:
                moved = {"outcome": "killed", "sex": src["sex"],
                         "age_group": src["age_group"], "count": 1}
                if "age" in src:
                    moved["age"] = src["age"]
                groups.append(moved)
            reason = "demo: an injured victim later died of the wounds"
        else:
            # Hospital records added people to one group.
            g = rng.choice(groups)
            g["count"] += rng.randint(1, 3)
            g.pop("age", None)                # no longer a single person
            reason = "demo: revised casualty count from hospital records"
        return groups, reason


def build_plan(rng, taxonomy, count, end):
    """The incidents and what happens to each: a list of dicts with doc,
    status, duplicate_of (index) and amendment (casualties, reason)."""
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
        item = {"status": status, "duplicate_of": None, "amendment": None}
        if status == "duplicate":
            # The original must be earlier, verified, and so never a
            # duplicate itself (the API refuses a duplicate of a duplicate);
            # one second report per original is enough for a demo.
            taken = {p["duplicate_of"] for p in plan}
            earlier = [j for j, p in enumerate(plan)
                       if p["status"] == "verified" and j not in taken]
            if earlier:
                item["duplicate_of"] = rng.choice(earlier)
                item["doc"] = gen.duplicate_of(
                    i, plan[item["duplicate_of"]]["doc"])
            else:
                item["status"] = status = "reported"
        if "doc" not in item:
            item["doc"] = gen.incident(i, day)
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


def amend(api, incident_id, casualties, reason):
    """PATCH with If-Match of the current version. The new values depend on
    the plan alone, so sending them again changes nothing (200, no
    revision); that makes a retry after a lost answer (412) safe."""
    path = "/v1/incidents/%s" % incident_id
    for _ in range(3):
        current = api.expect("GET", path)
        status, _, doc, resent = api.request(
            "PATCH", path, {"casualties": casualties, "reason": reason},
            {"If-Match": '"%d"' % current["version"]})
        if status == 200:
            return
        if status != 412 or not resent:
            break
    raise refused("PATCH", path, status, doc)


def run(args):
    taxonomy = Taxonomy(args.taxonomy)
    missing = taxonomy.check()
    if missing:
        raise Failure("taxonomy %s lacks codes this loader uses: %s"
                      % (args.taxonomy, ", ".join(missing)))
    api = Api(args.url, read_key(args.key_file))
    try:
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
