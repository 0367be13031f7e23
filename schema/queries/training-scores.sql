-- Test scores per course and partner. A row per course and partner (the person's partner in
-- partner_users, else the one its events carried): people with a scored attempt, attempts
-- (complete events with a score or a passed, each counted once), the average and lowest
-- score over the attempts with a score, people whose latest attempt with a passed value
-- passed, and failed, and failed_people: those whose latest such attempt failed, sorted (a
-- person who failed, then passed, has passed). Only people are counted: events with a
-- verified partner token, and the attempts of a device without a token on a day it is
-- stitched to a person (identity stitching, schema/README.md: the person whose verified
-- token the device carried next, within lookback days), each attempt by its own day. Reads
-- the course_attempts rollup (a row per course and person), and device_attempts (a row per
-- course and anonymous device, 0024) with stitch_claims for those devices.
-- @param tenant
-- @param course = : a course content_id; empty for every course
-- @param partner = : a partner_id; empty for every partner
-- @param lookback = 30: days before a device's first verified token whose anonymous attempts count for that person
WITH
-- each stitched device's attempts on the days of each of its claims, for that person
stitched AS
(
    SELECT d.content_id AS content_id, cl.person AS person, cl.partner_id AS partner_id,
           arrayFilter(x -> toDate(x.1) BETWEEN cl.lo AND cl.hi, d.attempts) AS attempts
    FROM
    (
        SELECT content_id, viewer, groupUniqArrayMerge(attempts) AS attempts
        FROM {db}.device_attempts
        WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String})
        GROUP BY content_id, viewer
    ) AS d
    INNER JOIN
    (
        -- the claims of the devices with anonymous attempts only
        SELECT viewer, person, partner_id, lo, hi
        FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
        WHERE visitor_id IN (SELECT substring(viewer, 3) FROM {db}.device_attempts
                             WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String}))
    ) AS cl ON cl.viewer = d.viewer
    WHERE notEmpty(attempts)
),
people AS
(
    SELECT
        a.content_id AS content_id,
        a.person AS person,
        if(pu.partner_id != '', pu.partner_id, a.seen_partner) AS partner_id,
        arraySort(a.attempts) AS attempts,
        arrayMap(x -> assumeNotNull(x.3), arrayFilter(x -> x.3 IS NOT NULL, attempts)) AS scores,
        arrayLast(x -> x.4 IS NOT NULL, attempts).4 AS latest_passed
    FROM
    (
        SELECT content_id, person, max(seen) AS seen_partner, groupUniqArrayArray(tried) AS attempts
        FROM
        (
            SELECT content_id, person, max(partner_id) AS seen, groupUniqArrayMerge(attempts) AS tried
            FROM {db}.course_attempts
            WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String})
            GROUP BY content_id, person
            UNION ALL
            SELECT content_id, person, partner_id, attempts FROM stitched
        )
        GROUP BY content_id, person
    ) AS a
    LEFT JOIN (SELECT partner_user_id, partner_id FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS pu
        ON pu.partner_user_id = a.person
)
SELECT
    p.content_id AS course_id,
    any(c.title) AS course_title,
    p.partner_id AS partner_id,
    any(n.name) AS partner_name,
    count() AS people,
    sum(length(p.attempts)) AS attempts,
    if(sum(length(p.scores)) = 0, NULL, round(sum(arraySum(p.scores)) / sum(length(p.scores)), 2)) AS avg_score,
    if(sum(length(p.scores)) = 0, NULL, round(minIf(arrayMin(p.scores), notEmpty(p.scores)), 2)) AS min_score,
    countIf(p.latest_passed = 1) AS passed,
    countIf(p.latest_passed = 0) AS failed,
    arraySort(groupArrayIf(p.person, p.latest_passed = 0)) AS failed_people
FROM people AS p
LEFT JOIN (SELECT content_id, title FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = p.content_id
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS n ON n.partner_id = p.partner_id
WHERE {partner:String} = '' OR p.partner_id = {partner:String}
GROUP BY p.content_id, p.partner_id
ORDER BY course_id, partner_id
