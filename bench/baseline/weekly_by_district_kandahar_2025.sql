-- (d) Incidents by ISO week and district in Kandahar (AF27) during 2025,
-- verified incidents: GET /v1/trends?from=2025-01-01&to=2025-12-31
--                         &period=week&by=admin2&admin1=AF27&measures=incidents
-- Incidents recorded without a district form their own row (admin2 empty).
SELECT to_char(i.occurred_on, 'IYYY-"W"IW') AS period,
       i.admin2, a.name AS admin2_name,
       count(*) AS incidents
  FROM incidents i
  LEFT JOIN admin_areas a ON a.pcode = i.admin2
 WHERE i.status = 'verified'
   AND i.admin1 = 'AF27'
   AND i.occurred_on BETWEEN date '2025-01-01' AND date '2025-12-31'
 GROUP BY 1, i.admin2, a.name
 ORDER BY 1, 2;
