-- (c) Every measure by month and tactic over the five years 2021-2025,
-- verified incidents: GET /v1/trends?from=2021-01-01&to=2025-12-31
--                         &period=month&by=tactic
SELECT to_char(i.occurred_on, 'YYYY-MM') AS period,
       t.code AS tactic, t.name AS tactic_name,
       sum(i.killed) AS killed, sum(i.injured) AS injured,
       sum(i.killed + i.injured) AS casualties, count(*) AS incidents
  FROM incidents i
  JOIN tactics t ON t.code = i.tactic
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2021-01-01' AND date '2025-12-31'
 GROUP BY 1, t.code, t.name
 ORDER BY 1, 2;
