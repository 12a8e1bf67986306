-- (b) January-June of each year 2021-2025: killed, injured and casualties of
-- men, women, boys and girls, verified incidents. The same answer as the
-- five requests GET /v1/trends?from=Y-01-01&to=Y-06-30&period=half
--   &by=category&category=men,women,boys,girls&measures=killed,injured,casualties
-- in one query.
SELECT extract(year FROM i.occurred_on)::integer || '-H1' AS period,
       CASE WHEN c.age_group = 'adult' AND c.sex = 'male' THEN 'men'
            WHEN c.age_group = 'adult' THEN 'women'
            WHEN c.sex = 'male' THEN 'boys'
            ELSE 'girls' END AS category,
       coalesce(sum(c.count) FILTER (WHERE c.outcome = 'killed'), 0) AS killed,
       coalesce(sum(c.count) FILTER (WHERE c.outcome = 'injured'), 0) AS injured,
       sum(c.count) AS casualties
  FROM incidents i
  JOIN casualty_groups c ON c.incident_id = i.id
 WHERE i.status = 'verified'
   AND i.occurred_on BETWEEN date '2021-01-01' AND date '2025-12-31'
   AND extract(month FROM i.occurred_on) <= 6
   AND c.sex IN ('male', 'female')
   AND c.age_group IN ('adult', 'child')
 GROUP BY 1, 2
 ORDER BY 1, 2;
