-- The tables and indicators of `sustrack report --year 2021`, written by hand
-- as a competent analyst would for the sqlite3 shell: one query per table.
-- benches/run.sh times this against the program on the same file.
-- Period: 2021-01-01 .. 2021-12-31 (run.sh substitutes other years).

CREATE TEMP VIEW active AS
  SELECT * FROM enrolment
  WHERE start_date <= '2021-12-31' AND (exit_date IS NULL OR exit_date >= '2021-01-01');
CREATE TEMP VIEW exited AS
  SELECT * FROM active WHERE exit_date <= '2021-12-31';

-- participation
SELECT intervention, count(*) AS active,
       sum(start_date >= '2021-01-01') AS new,
       sum(exit_date IS NOT NULL AND exit_date <= '2021-12-31') AS exited,
       count(DISTINCT coalesce(person_id, 'anon:' || id)) AS unique_persons
FROM active GROUP BY intervention ORDER BY intervention;
SELECT count(*), sum(start_date >= '2021-01-01'), sum(exit_date <= '2021-12-31'),
       count(DISTINCT coalesce(person_id, 'anon:' || id)) FROM active;

-- volume
SELECT intervention, sum(women), sum(men), sum(women + men) FROM volume
WHERE month BETWEEN '2021-01' AND '2021-12' GROUP BY intervention;

-- municipality
SELECT coalesce(municipality, 'unknown'), sum(gender = 'woman'), sum(gender = 'man'), count(*)
FROM active GROUP BY 1 ORDER BY 1;

-- age
SELECT CASE
         WHEN birth_year IS NULL THEN 'unknown'
         WHEN CAST(substr(start_date, 1, 4) AS INTEGER) - birth_year BETWEEN 15 AND 29 THEN '15-29'
         WHEN CAST(substr(start_date, 1, 4) AS INTEGER) - birth_year BETWEEN 30 AND 44 THEN '30-44'
         WHEN CAST(substr(start_date, 1, 4) AS INTEGER) - birth_year BETWEEN 45 AND 59 THEN '45-59'
         WHEN CAST(substr(start_date, 1, 4) AS INTEGER) - birth_year BETWEEN 60 AND 74 THEN '60-74'
         ELSE 'other' END AS band,
       sum(gender = 'woman'), sum(gender = 'man'), count(*)
FROM active GROUP BY band ORDER BY band;

-- months (bands of 6)
SELECT (max(1, CAST(ceil((julianday(exit_date) - julianday(start_date)) / 30.4375) AS INTEGER)) - 1) / 6 AS band,
       sum(gender = 'woman'), sum(gender = 'man'), count(*)
FROM exited GROUP BY band ORDER BY band;

-- years_in_support with shares
SELECT coalesce(years_in_support, 'unknown') AS k, sum(gender = 'woman'), sum(gender = 'man'), count(*),
       round(100.0 * count(*) / (SELECT count(*) FROM active), 1)
FROM active GROUP BY k ORDER BY k;

-- education
SELECT coalesce(education, 'none_or_unknown'), sum(gender = 'woman'), sum(gender = 'man'), count(*)
FROM active GROUP BY 1 ORDER BY 1;

-- referrer (new in the period)
SELECT coalesce(referrer, 'unknown'), sum(gender = 'woman'), sum(gender = 'man'), count(*)
FROM active WHERE start_date >= '2021-01-01' GROUP BY 1 ORDER BY 1;

-- support before and after
SELECT s, sum(bw), sum(bm), sum(bw + bm), sum(aw), sum(am), sum(aw + am) FROM (
  SELECT coalesce(support, 'unknown') AS s, gender = 'woman' AS bw, gender = 'man' AS bm, 0 AS aw, 0 AS am FROM exited
  UNION ALL
  SELECT coalesce(support_after, 'unknown'), 0, 0, gender = 'woman', gender = 'man' FROM exited
) GROUP BY s ORDER BY s;

-- support transition
SELECT coalesce(support, 'unknown'), coalesce(support_after, 'unknown'), count(*)
FROM exited GROUP BY 1, 2 ORDER BY 1, 2;

-- outcome
SELECT outcome, sum(gender = 'woman'), sum(gender = 'man'), count(*) FROM exited GROUP BY 1 ORDER BY 1;

-- indicators, per intervention and in total
SELECT intervention,
       sum(outcome IN ('work', 'studies')), count(*),
       sum(step_progress = 'yes'), sum(step_progress IN ('yes', 'no')),
       sum(quality_of_life = 'improved'), sum(quality_of_life IN ('improved', 'unchanged', 'worse'))
FROM exited GROUP BY intervention ORDER BY intervention;
SELECT sum(outcome IN ('work', 'studies')), count(*),
       sum(step_progress = 'yes'), sum(step_progress IN ('yes', 'no')),
       sum(quality_of_life = 'improved'), sum(quality_of_life IN ('improved', 'unchanged', 'worse'))
FROM exited;
