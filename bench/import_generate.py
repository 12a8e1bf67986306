#!/usr/bin/env python3
"""Deterministic input for bench/import.sh: N incidents (about three
casualty groups each) as the CSV `civcasd import` reads, and the same rows
pre-shaped for PostgreSQL's COPY into incidents and casualty_groups.

Usage: import_generate.py N OUTDIR   (writes incidents.csv,
copy_incidents.csv, copy_groups.csv; the same N gives the same bytes)
"""
import csv
import os
import random
import sys

CATEGORIES = (('men', 'male', 'adult'), ('women', 'female', 'adult'),
              ('boys', 'male', 'child'), ('girls', 'female', 'child'),
              ('adult_unknown_sex', 'unknown', 'adult'),
              ('child_unknown_sex', 'unknown', 'child'),
              ('unknown', 'unknown', 'unknown'))
COUNTS = [(o, c) for o in ('killed', 'injured') for c in CATEGORIES]
TACTICS = ('ground_engagement', 'ied_non_suicide', 'ied_suicide',
           'targeted_killing', 'aerial_operation', 'erw')
WEAPONS = ('heavy_explosive', 'small_arms', 'unknown')
PARTIES = ('taliban', 'isil_kp', 'unknown', 'undetermined_age')
PLACES = (('AF01', 'AF0101'), ('AF01', ''), ('AF02', ''), ('AF03', ''))


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(20261204)
    header = (['occurred_on', 'admin1', 'admin2', 'tactic', 'weapon',
               'perpetrator', 'sources', 'external_ref']
              + ['%s_%s' % (o, c[0]) for o, c in COUNTS])
    with open(os.path.join(out, 'incidents.csv'), 'w', newline='') as f, \
            open(os.path.join(out, 'copy_incidents.csv'), 'w', newline='') as fi, \
            open(os.path.join(out, 'copy_groups.csv'), 'w', newline='') as fg:
        w, wi, wg = csv.writer(f), csv.writer(fi), csv.writer(fg)
        w.writerow(header)
        for i in range(1, n + 1):
            date = '%d-%02d-%02d' % (rnd.randint(2009, 2025), rnd.randint(1, 12),
                                     rnd.randint(1, 28))
            admin1, admin2 = rnd.choice(PLACES)
            tactic, weapon, party = (rnd.choice(TACTICS), rnd.choice(WEAPONS),
                                     rnd.choice(PARTIES))
            groups = sorted(rnd.sample(range(len(COUNTS)), 3))
            counts = {g: rnd.randint(1, 6) for g in groups}
            ref = 'B-%d' % i
            w.writerow([date, admin1, admin2, tactic, weapon, party,
                        'witness;medical;local_authority', ref]
                       + [counts.get(g, '') for g in range(len(COUNTS))])
            killed = sum(v for g, v in counts.items() if COUNTS[g][0] == 'killed')
            injured = sum(counts.values()) - killed
            wi.writerow([i, date, 'day', admin1, admin2 or None, tactic, weapon,
                         party, 'unknown', ref, killed, injured, 3, 1])
            for ordinal, g in enumerate(groups):
                o, (_, sex, age) = COUNTS[g]
                wg.writerow([i, ordinal, o, sex, age, counts[g]])


if __name__ == '__main__':
    main()
