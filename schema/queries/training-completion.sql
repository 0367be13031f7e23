-- Completion rate per course and partner, and the assigned people who have not completed.
-- One row per (course, partner) of course_assignments: how many people are assigned, how
-- many completed (a complete event on the course, by that person, on any device), the
-- rate, and the ids of those who have not, sorted. Completions by people not assigned are
-- not counted. A completion on a device without a token counts for the person the device
-- is stitched to on that day (identity stitching, schema/README.md: the person whose
-- verified token the device carried next, within lookback days). Reads the
-- course_progress rollup and stitch_claims (0021).
-- @param tenant
-- @param course = : a course content_id; empty for every course
-- @param partner = : a partner_id; empty for every partner
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
assigned AS
(
    SELECT course_id, partner_user_id, partner_id
    FROM {db}.course_assignments FINAL
    WHERE tenant = {tenant:String}
      AND ({course:String} = '' OR course_id = {course:String})
      AND ({partner:String} = '' OR partner_id = {partner:String})
),
-- the claims of the devices stitched to an assigned person
claims AS
(
    SELECT viewer, person, lo, hi
    FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE person IN (SELECT partner_user_id FROM assigned)
      -- only devices that completed an assigned course without a token
      AND visitor_id IN (SELECT substring(viewer, 3) FROM {db}.course_progress
                         WHERE tenant = {tenant:String} AND content_id IN (SELECT course_id FROM assigned)
                           AND startsWith(viewer, 'v:') AND completed_at IS NOT NULL)
),
completed AS
(
    SELECT course_id, partner_user_id, min(completed_at) AS completed_at FROM
    (
        SELECT content_id AS course_id, substring(viewer, 3) AS partner_user_id, cp.completed_at AS completed_at
        FROM {db}.course_progress AS cp
        -- rows without a completion out first (most rows are people who only started)
        WHERE cp.completed_at IS NOT NULL AND tenant = {tenant:String}
          AND content_id IN (SELECT course_id FROM assigned)
          AND viewer IN (SELECT concat('u:', partner_user_id) FROM assigned)
        UNION ALL
        -- a stitched device's first completion, on a day its claim covers
        SELECT d.course_id, cl.person, d.done_at FROM
        (
            SELECT content_id AS course_id, viewer, min(completed_at) AS done_at
            FROM {db}.course_progress
            WHERE completed_at IS NOT NULL AND tenant = {tenant:String}
              AND content_id IN (SELECT course_id FROM assigned)
              AND startsWith(viewer, 'v:')
            GROUP BY course_id, viewer
        ) AS d
        INNER JOIN claims AS cl ON cl.viewer = d.viewer
        WHERE toDate(d.done_at) BETWEEN cl.lo AND cl.hi
    )
    GROUP BY course_id, partner_user_id
    HAVING completed_at IS NOT NULL
)
SELECT
    a.course_id AS course_id,
    any(c2.title) AS course_title,
    a.partner_id AS partner_id,
    any(p.name) AS partner_name,
    count() AS assigned,
    countIf(c.completed_at IS NOT NULL) AS completed,
    round(completed / assigned, 4) AS completion_rate,
    arraySort(groupArrayIf(a.partner_user_id, c.completed_at IS NULL)) AS not_completed
FROM assigned AS a
LEFT JOIN completed AS c ON c.course_id = a.course_id AND c.partner_user_id = a.partner_user_id
LEFT JOIN (SELECT content_id, title FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c2 ON c2.content_id = a.course_id
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = a.partner_id
GROUP BY a.course_id, a.partner_id
ORDER BY course_id, completion_rate DESC, partner_id
