-- (a) Killed and injured by month and party, January-June 2025, verified
-- incidents: GET /v1/trends?from=2025-01-01&to=2025-06-30&period=month
--                 &by=party&measures=killed,injured
-- The incident rows carry their victims' totals (killed, injured), so no
-- casualty group is read.
SELECT to_char(i.occurred_on, 'YYYY-MM') AS period,
       p.code AS party, p.name AS party_name,
       sum(i.killed) AS killed, sum(i.injured) AS injured
  FROM incidents i
  JOIN parties p ON p.code = i.perpetrator
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2025-01-01' AND date '2025-06-30'
 GROUP BY 1, p.code, p.name
 ORDER BY 1, 2;
