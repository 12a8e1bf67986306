-- (f) Killed in January-June 2025 by party group, low, best and high
-- estimates, verified incidents:
-- GET /v1/trends?from=2025-01-01&to=2025-06-30&period=half
--                 &by=party_group&measures=killed&range=true
-- killed is the best estimate (the counts, as without range=true);
-- killed_low and killed_high add up count_min and count_max where a group
-- has them and its count where not (the columns of the API's CSV with
-- range=true). Only killed groups are read.
SELECT to_char(i.occurred_on, 'YYYY') || '-H'
       || ((extract(month FROM i.occurred_on)::integer + 5) / 6) AS period,
       g.code AS party_group, g.name AS party_group_name,
       sum(c.count) AS killed,
       sum(coalesce(c.count_min, c.count)) AS killed_low,
       sum(coalesce(c.count_max, c.count)) AS killed_high
  FROM incidents i
  JOIN parties p ON p.code = i.perpetrator
  JOIN party_groups g ON g.code = p.group_code
  JOIN casualty_groups c ON c.incident_id = i.id
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2025-01-01' AND date '2025-06-30'
   AND c.outcome = 'killed'
 GROUP BY 1, g.code, g.name
 ORDER BY 1, 2;
