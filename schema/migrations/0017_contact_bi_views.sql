-- Flat views of the contact rollups (0016) for BI tools that cannot pass parameters. Tools
-- that can should use q_contact_timeline, q_partner_activity and q_content_reach, which
-- answer exactly like `beacon query`. These views stitch anonymous devices with the
-- default look-back of 30 days (schema/README.md, "Identity stitching").

-- The stitching claims: the anonymous touches of device viewer on days first_day ..
-- last_day count for person (of partner_id, the largest its token carried on that device).
CREATE OR REPLACE VIEW {db}.bi_stitch_claims AS
SELECT tenant, concat('v:', visitor_id) AS viewer, c.1 AS person, c.2 AS partner_id, c.3 AS first_day, c.4 AS last_day
FROM
(
    SELECT tenant, visitor_id,
           arraySort(groupArrayIf((first_at, partner_user_id, partner_id), partner_user_id != '')) AS ps,
           minIf(first_at, partner_user_id = '') AS anon_first,
           countIf(partner_user_id = '') AS anon,
           arrayMap(i -> (ps[i].2, ps[i].3,
                          toDate(greatest(toDate(ps[i].1) - 30, if(i = 1, toDate(0), toDate(ps[i - 1].1) + 1))),
                          toDate(ps[i].1)), arrayEnumerate(ps)) AS cs
    FROM
    (
        SELECT tenant, visitor_id, partner_user_id, max(partner_id) AS partner_id, min(first_at) AS first_at
        FROM {db}.visitor_people
        GROUP BY tenant, visitor_id, partner_user_id
    )
    GROUP BY tenant, visitor_id
    HAVING anon > 0 AND notEmpty(ps)
)
ARRAY JOIN cs AS c
WHERE c.3 <= c.4 AND toDate(anon_first) <= c.4;

-- One row per touch (a viewer's use of a content on a day), with the person it counts for:
-- the partner user, the stitched person of an anonymous device, or '' (anonymous).
-- Content reach is a GROUP BY content_id, partner_id, person of it.
CREATE OR REPLACE VIEW {db}.bi_touches AS
SELECT
    t.tenant AS tenant, t.day AS day, t.viewer AS viewer,
    multiIf(startsWith(t.viewer, 'u:'), substring(t.viewer, 3), c.person != '' AND t.day >= c.first_day, c.person, '') AS person,
    if(startsWith(t.viewer, 'u:') OR person = '', t.partner_id, c.partner_id) AS partner_id,
    NOT startsWith(t.viewer, 'u:') AND person != '' AS stitched,
    t.content_id AS content_id, t.content_type AS content_type, t.title AS title,
    t.first_at AS first_at, t.last_at AS last_at, t.sessions AS sessions,
    t.pages_seen AS pages_seen, t.page_count AS page_count, t.dwell_ms AS dwell_ms,
    t.seconds_watched AS seconds_watched, t.duration AS duration, t.completed AS completed,
    t.clicks AS clicks, t.devices AS devices, t.campaigns AS campaigns, t.via_link AS via_link
FROM
(
    SELECT
        tenant, viewer, day, content_id,
        max(partner_id) AS partner_id,
        max(content_type) AS content_type,
        max(title) AS title,
        min(first_at) AS first_at,
        max(last_at) AS last_at,
        uniqMerge(sessions) AS sessions,
        groupBitmapMerge(pages) AS pages_seen,
        max(page_count) AS page_count,
        arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayMerge(dwell))) AS dwell_ms,
        groupBitmapMerge(seconds) AS seconds_watched,
        max(duration) AS duration,
        max(completed) AS completed,
        uniqMerge(clicks) AS clicks,
        arraySort(groupUniqArrayArray(devices)) AS devices,
        arraySort(groupUniqArrayArray(campaigns)) AS campaigns,
        max(via_link) AS via_link
    FROM {db}.touches
    GROUP BY tenant, viewer, day, content_id
) AS t
ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = t.tenant AND c.viewer = t.viewer AND t.day <= c.last_day;

-- One row per person and active day (own and stitched touches): touches that day (the
-- contents touched) and the last event; the partner is the person's in partner_users, else
-- the one its events carried. Activity charts and dormancy per partner are GROUP BYs of it.
CREATE OR REPLACE VIEW {db}.bi_person_days AS
SELECT
    d.tenant AS tenant, d.person AS person,
    if(u.partner_id != '', u.partner_id, d.seen_partner) AS partner_id,
    d.day AS day, d.touches AS touches, d.last_at AS last_at
FROM
(
    SELECT tenant, person, day, max(partner) AS seen_partner, uniqMerge(contents) AS touches, max(last) AS last_at
    FROM
    (
        SELECT
            v.tenant AS tenant, v.day AS day, v.contents AS contents, v.last_at AS last,
            multiIf(startsWith(v.viewer, 'u:'), substring(v.viewer, 3), c.person != '' AND v.day >= c.first_day, c.person, '') AS person,
            if(startsWith(v.viewer, 'u:'), v.partner_id, c.partner_id) AS partner
        FROM {db}.viewer_days AS v
        ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = v.tenant AND c.viewer = v.viewer AND v.day <= c.last_day
    )
    WHERE person != ''
    GROUP BY tenant, person, day
) AS d
LEFT JOIN (SELECT tenant, partner_user_id, partner_id FROM {db}.partner_users FINAL) AS u
    ON u.tenant = d.tenant AND u.partner_user_id = d.person;
