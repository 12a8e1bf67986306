-- (e) Incidents by month and impact during 2025, verified incidents:
-- GET /v1/trends?from=2025-01-01&to=2025-12-31&period=month&by=impact
--                 &measures=incidents
-- An incident with several impacts counts once in each of them, so the
-- rows overlap; incidents without an impact are in none. The answer's
-- period totals and total count each incident once:
-- monthly_incidents_by_impact_2025.totals.sql.
SELECT to_char(i.occurred_on, 'YYYY-MM') AS period,
       m.impact, t.name AS impact_name,
       count(*) AS incidents
  FROM incidents i
  JOIN incident_impacts m ON m.incident_id = i.id
  JOIN impacts t ON t.code = m.impact
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2025-01-01' AND date '2025-12-31'
 GROUP BY 1, m.impact, t.name
 ORDER BY 1, 2;
