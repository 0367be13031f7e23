-- Flat views of the 0018 rollups for BI tools that cannot pass parameters. Tools that can
-- should use q_search_gaps, q_content_versions and q_training_scores, which answer exactly
-- like `beacon query`.

-- One row per search (a re-delivered event once): who searched what, when, how many
-- results, and opened: whether it named a clicked result or the same viewer opened a
-- content at most 30 minutes after it (as search-gaps judges it). Top queries, zero-result
-- and unanswered queries per partner are GROUP BYs of it.
CREATE OR REPLACE VIEW {db}.bi_searches AS
SELECT
    s.tenant AS tenant, s.day AS day, s.partner_id AS partner_id, s.viewer AS viewer,
    s.query_key AS query, s.event_id AS event_id, s.at AS at, s.results AS results,
    s.clicked AS clicked, s.flags AS flags,
    s.clicked != '' OR (o.viewer != '' AND (o.last_open >= s.at OR o.next_open <= s.at + toIntervalMinute(30))) AS opened
FROM
(
    SELECT tenant, day, partner_id, query_key, viewer, event_id,
           min(at) AS at, max(results) AS results, max(clicked) AS clicked, max(flags) AS flags
    FROM {db}.searches
    GROUP BY tenant, day, partner_id, query_key, viewer, event_id
) AS s
LEFT JOIN
(
    SELECT tenant, viewer, bucket, max(last_open) AS last_open, min(next_open) AS next_open
    FROM {db}.open_marks
    GROUP BY tenant, viewer, bucket
) AS o ON o.tenant = s.tenant AND o.viewer = s.viewer AND o.bucket = intDiv(toUInt32(toUnixTimestamp(s.at)), 1800);

-- One row per content, version and partner ('' = anonymous use), with latest: whether the
-- version is the content's latest (first seen last), and current: whether it is the
-- version the partner used last (a row with current = 1 and latest = 0 is a partner still
-- on an outdated version).
CREATE OR REPLACE VIEW {db}.bi_content_versions AS
SELECT
    u.tenant AS tenant, u.content_id AS content_id, u.version AS version, u.partner_id AS partner_id,
    u.content_type AS content_type, u.first_at AS first_at, u.last_at AS last_at,
    u.events AS events, u.opens AS opens, u.viewers AS viewers, u.sessions AS sessions,
    u.version = l.latest_version AS latest,
    u.partner_id != '' AND u.version = argMax(u.version, (u.last_at, u.version)) OVER (PARTITION BY u.tenant, u.content_id, u.partner_id) AS current
FROM
(
    SELECT tenant, content_id, version, partner_id,
           max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
           uniqMerge(events) AS events, uniqMerge(opens) AS opens, uniqMerge(viewers) AS viewers, uniqMerge(sessions) AS sessions
    FROM {db}.content_version_use
    GROUP BY tenant, content_id, version, partner_id
) AS u
INNER JOIN
(
    SELECT tenant, content_id, argMax(version, (first_at, version)) AS latest_version
    FROM (SELECT tenant, content_id, version, min(first_at) AS first_at FROM {db}.content_version_use GROUP BY tenant, content_id, version)
    GROUP BY tenant, content_id
) AS l ON l.tenant = u.tenant AND l.content_id = u.content_id;

-- One row per course and person with a scored attempt: the partner (partner_users, else
-- the events'), attempts, the average and lowest score, and latest_passed: the passed of
-- the latest attempt that carried one (NULL when none did).
CREATE OR REPLACE VIEW {db}.bi_training_scores AS
SELECT
    a.tenant AS tenant, a.content_id AS course_id, a.person AS partner_user_id,
    if(pu.partner_id != '', pu.partner_id, a.seen_partner) AS partner_id,
    length(a.attempts) AS attempts,
    arrayMap(x -> assumeNotNull(x.3), arrayFilter(x -> x.3 IS NOT NULL, a.attempts)) AS scores,
    if(empty(scores), NULL, round(arrayAvg(scores), 2)) AS avg_score,
    if(empty(scores), NULL, arrayMin(scores)) AS min_score,
    arrayLast(x -> x.4 IS NOT NULL, a.attempts).4 AS latest_passed
FROM
(
    SELECT tenant, content_id, person, max(partner_id) AS seen_partner, arraySort(groupUniqArrayMerge(attempts)) AS attempts
    FROM {db}.course_attempts
    GROUP BY tenant, content_id, person
) AS a
LEFT JOIN (SELECT tenant, partner_user_id, partner_id FROM {db}.partner_users FINAL) AS pu
    ON pu.tenant = a.tenant AND pu.partner_user_id = a.person;
