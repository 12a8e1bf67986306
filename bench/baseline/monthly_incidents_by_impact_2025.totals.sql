-- The period totals of (e) (monthly_incidents_by_impact_2025.sql): each
-- incident with an impact once, however many impacts it has. Checked
-- against the answer's period_totals and total, not timed.
SELECT to_char(i.occurred_on, 'YYYY-MM') AS period,
       count(*) AS incidents
  FROM incidents i
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2025-01-01' AND date '2025-12-31'
   AND EXISTS (SELECT 1 FROM incident_impacts m WHERE m.incident_id = i.id)
 GROUP BY 1
 ORDER BY 1;
