-- Test scores per course and partner. A row per course and partner (the person's partner in
-- partner_users, else the one its events carried): people with a scored attempt, attempts
-- (complete events with a score or a passed, each counted once), the average and lowest
-- score over the attempts with a score, people whose latest attempt with a passed value
-- passed, and failed, and failed_people: those whose latest such attempt failed, sorted (a
-- person who failed, then passed, has passed). Only people are counted: events with a
-- verified partner token, and the attempts of a device without a token on a day it is
-- stitched to a person (identity stitching, schema/README.md: the person whose verified
-- token the device carried next, within lookback days), each attempt by its own day. Reads
-- attempt_rows (a row per scored attempt, 0027) of the people and, with stitch_claims, of
-- the claimed devices.
-- @param tenant
-- @param course = : a course content_id; empty for every course
-- @param partner = : a partner_id; empty for every partner
-- @param lookback = 30: days before a device's first verified token whose anonymous attempts count for that person
WITH
-- the claims of the devices with anonymous attempts, read once, as a constant (viewer,
-- person, partner, lo, hi)
(
    SELECT groupArray((viewer, person, partner_id, lo, hi))
    FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE viewer IN (SELECT viewer FROM {db}.attempt_rows
                     WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String})
                       AND startsWith(viewer, 'v:'))
) AS claims,
-- per course and person: attempts (own, and a stitched device's on the days of its claim
-- for that person), the sum, count and least of their scores, and the passed of the
-- latest attempt that carried one
people AS
(
    SELECT
        a.content_id AS content_id,
        a.person AS person,
        if(pu.partner_id != '', pu.partner_id, a.seen_partner) AS partner_id,
        a.attempts AS attempts, a.score_sum AS score_sum, a.scores AS scores, a.score_min AS score_min,
        a.latest_passed AS latest_passed
    FROM
    (
        SELECT content_id, person, max(partner_id) AS seen_partner, count() AS attempts,
               sum(score) AS score_sum, count(score) AS scores, min(score) AS score_min,
               -- the latest by (time, event id): the passed bit of the greatest of one number
               -- per attempt, (milliseconds, event id as UInt128, passed) packed in a UInt256
               -- (event ids compare as their UInt128; a tuple argMax, or the greatest
               -- element of an array of tuples, cost more: schema/README.md)
               if(countIf(passed IS NOT NULL) = 0, NULL,
                  toUInt8(bitAnd(maxIf(bitShiftLeft(toUInt256(toUnixTimestamp64Milli(at)), 129)
                                       + bitShiftLeft(toUInt256(reinterpretAsUInt128(event_id)), 1) + passed,
                                       passed IS NOT NULL), 1))) AS latest_passed
        FROM
        (
            SELECT content_id, substring(viewer, 3) AS person, partner_id, at, event_id, score, passed
            FROM {db}.attempt_rows FINAL
            WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String})
              AND startsWith(viewer, 'u:')
            UNION ALL
            SELECT r.content_id AS content_id, cl.person AS person, cl.partner_id AS partner_id, r.at AS at,
                   r.event_id AS event_id, r.score AS score, r.passed AS passed
            FROM
            (
                SELECT content_id, viewer, at, event_id, score, passed
                FROM {db}.attempt_rows FINAL
                WHERE tenant = {tenant:String} AND ({course:String} = '' OR content_id = {course:String})
                  AND viewer IN (SELECT tupleElement(arrayJoin(claims), 1))
            ) AS r
            INNER JOIN (SELECT c.1 AS viewer, c.2 AS person, c.3 AS partner_id, c.4 AS lo, c.5 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl
                ON cl.viewer = r.viewer
            WHERE toDate(r.at) BETWEEN cl.lo AND cl.hi
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
    sum(p.attempts) AS attempts,
    if(sum(p.scores) = 0, NULL, round(sum(p.score_sum) / sum(p.scores), 2)) AS avg_score,
    if(sum(p.scores) = 0, NULL, round(min(p.score_min), 2)) AS min_score,
    countIf(p.latest_passed = 1) AS passed,
    countIf(p.latest_passed = 0) AS failed,
    arraySort(groupArrayIf(p.person, p.latest_passed = 0)) AS failed_people
FROM people AS p
LEFT JOIN (SELECT content_id, title FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = p.content_id
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS n ON n.partner_id = p.partner_id
WHERE {partner:String} = '' OR p.partner_id = {partner:String}
GROUP BY p.content_id, p.partner_id
ORDER BY course_id, partner_id
