"""The questions of the migration drift test: (path, key name) pairs covering
every trend dimension, filter, period, measure, comparison and format, the
report in every format, the published and public reports and public trends.
The demo data of the fixture spans 2024-01-01 to 2025-12-31.

Used by tests/migration/make_fixture.py (to record the answers of an old
binary) and tests/http/test_migration_drift.py (to ask today's binary).
"""

from urllib.parse import urlencode

BY = ['', 'party_group', 'party', 'tactic', 'weapon', 'admin1', 'admin2', 'region', 'sex',
      'age_group', 'outcome', 'category', 'party_group,tactic', 'region,category',
      'admin1,sex', 'party,weapon', 'admin2,party_group', 'tactic,outcome,sex']
FILTERS = [{}, {'admin1': 'AF01'}, {'sex': 'female', 'age_group': 'child'},
           {'tactic': 'ground_engagement,ied_non_suicide'}, {'party_group': 'age'},
           {'region': 'central'}, {'category': 'women,girls'}, {'outcome': 'killed'}]
RANGES = [('2024-01-01', '2025-12-31', 'month'), ('2025-01-01', '2025-06-30', 'quarter'),
          ('2024-01-01', '2025-12-31', 'year'), ('2025-01-01', '2025-06-30', 'half'),
          ('2025-03-01', '2025-05-20', 'week'), ('2025-06-01', '2025-06-30', 'day'),
          ('2024-02-10', '2024-11-19', 'month')]
TABLES = ['headline', 'same_period_by_year', 'by_month', 'by_quarter', 'by_party', 'by_tactic',
          'by_category', 'women_children_by_party_group', 'women_children_by_tactic',
          'by_region', 'by_province']


def _q(path, **params):
    return path + '?' + urlencode(params)


def trend_questions():
    out = []
    for i, by in enumerate(BY):
        for j, (frm, to, period) in enumerate(RANGES):
            params = {'from': frm, 'to': to, 'period': period}
            if by:
                params['by'] = by
            # Every filter with some dimensions; the rest with the first.
            filters = FILTERS if (i + j) % 3 == 0 else FILTERS[:2]
            for f in filters:
                p = dict(params, **f)
                victims = any(d in ('sex', 'age_group', 'outcome', 'category')
                              for d in list(f) + by.split(','))
                out.append((_q('/v1/trends', **p), 'analyst'))
                if not victims:
                    out.append((_q('/v1/trends', measures='incidents,casualties', **p),
                                'analyst'))
            out.append((_q('/v1/trends', compare='previous_year', **params), 'analyst'))
            out.append((_q('/v1/trends', compare='previous_period', measures='killed', **params),
                        'analyst'))
            out.append((_q('/v1/trends', format='csv', **params), 'analyst'))
            out.append((_q('/v1/trends', format='hxl', **params), 'analyst'))
            out.append((_q('/v1/trends', status='reported,verified,rejected,duplicate,retracted',
                           **params), 'admin'))
    return out


def report_questions(report_id):
    out = []
    for frm, to, years in [('2025-01-01', '2025-06-30', 5), ('2024-01-01', '2024-12-31', 2),
                           ('2025-04-01', '2025-09-30', 1)]:
        for fmt in ['json', 'html']:
            out.append((_q('/v1/reports/poc', **{'from': frm, 'to': to, 'years': years,
                                                 'format': fmt}), 'analyst'))
        for table in TABLES:
            for fmt in ['csv', 'hxl']:
                out.append((_q('/v1/reports/poc', **{'from': frm, 'to': to, 'years': years,
                                                     'format': fmt, 'table': table}),
                            'analyst'))
        out.append((_q('/v1/reports/poc', **{'from': frm, 'to': to,
                                             'status': 'reported,verified'}), 'admin'))
    out.append(('/v1/reports/%s' % report_id, 'analyst'))
    out.append(('/v1/reports', 'analyst'))
    return out


def public_questions(report_id):
    out = [('/v1/public/reports/%s' % report_id, None)]
    for by in ['', 'region', 'admin1', 'party_group', 'tactic', 'category']:
        for frm, to, period in [('2024-01-01', '2024-12-31', 'quarter'),
                                ('2025-01-01', '2025-12-31', 'half'),
                                ('2024-01-01', '2025-12-31', 'year'),
                                ('2025-01-01', '2025-12-31', 'month')]:
            params = {'from': frm, 'to': to, 'period': period}
            if by:
                params['by'] = by
            out.append((_q('/v1/public/trends', **params), None))
            out.append((_q('/v1/public/trends', measures='casualties', **params), None))
    return out


def questions(report_id):
    return trend_questions() + report_questions(report_id) + public_questions(report_id)
