-- The most-used FAQ and tool contents, and how each partner's use of them goes with its
-- deals. Use is counted in days: a partner used a content on a day when any of its people
-- (or devices carrying its token) produced a non-bot event on it that day. One row per
-- FAQ/tool content (content_type faq or tool in contents or in events, or tagged faq or
-- tool in contents; the contents table wins where they disagree) used in the period:
-- partner_days (the days each partner used it, summed over partners) and partners; then,
-- across every partner of the tenant (partners table, plus any seen in deals or in this
-- use), the Pearson correlation between the partner's days of use of this content (0 if
-- none) and its won deal amount closed in the period (NULL when undefined), and the
-- average won amount of the partners that used it and of the others. Reads
-- content_partner_use, one row per (content, partner) of the FAQ/tool contents with the
-- bitmap of its days; the correlation is computed from sums, so partners that did not use
-- a content cost nothing.
-- @param tenant
-- @param from = 1970-01-01: first day (UTC) of use and of deal closing
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
kinds AS
(
    SELECT content_id, argMax(title, prio) AS title, argMax(kind, prio) AS kind
    FROM
    (
        SELECT content_id, title, 1 AS prio,
               multiIf(content_type IN ('faq', 'tool'), toString(content_type), has(tags, 'faq'), 'faq', 'tool') AS kind
        FROM {db}.contents FINAL
        WHERE tenant = {tenant:String} AND (content_type IN ('faq', 'tool') OR has(tags, 'faq') OR has(tags, 'tool'))
        UNION ALL
        SELECT DISTINCT toString(content_id), '', 0, toString(content_type)
        FROM {db}.content_kinds
        WHERE tenant = {tenant:String} AND content_type IN ('faq', 'tool')
          AND content_id NOT IN (SELECT content_id FROM {db}.contents FINAL WHERE tenant = {tenant:String})
    )
    GROUP BY content_id
),
won AS
(
    SELECT partner_id, toFloat64(sumIf(amount, stage = 'won')) AS y
    FROM {db}.deals FINAL
    WHERE tenant = {tenant:String} AND closed_on BETWEEN toDate({from:String}) AND toDate({to:String})
    GROUP BY partner_id
),
used AS
(
    SELECT content_id, partner_id, x
    FROM
    (
        SELECT toString(content_id) AS content_id, toString(partner_id) AS partner_id,
               bitmapCardinality(bitmapSubsetInRange(groupBitmapMergeState(days),
                   toUInt32(toDate({from:String})), toUInt32(toDate({to:String})) + 1)) AS x
        FROM {db}.content_partner_use
        WHERE tenant = {tenant:String} AND content_id IN (SELECT content_id FROM kinds)
          AND last_day >= toDate({from:String}) AND first_day <= toDate({to:String})
        GROUP BY content_id, partner_id
    )
    WHERE x > 0
),
universe AS
(
    SELECT count() AS n, sum(w.y) AS sy, sum(w.y * w.y) AS syy
    FROM
    (
        SELECT partner_id FROM {db}.partners FINAL WHERE tenant = {tenant:String}
        UNION DISTINCT SELECT partner_id FROM won
        UNION DISTINCT SELECT partner_id FROM used
    ) AS ap
    LEFT JOIN won AS w ON w.partner_id = ap.partner_id
),
per_content AS
(
    SELECT
        u.content_id AS content_id,
        sum(u.x) AS partner_days,
        count() AS partners,
        sum(toFloat64(u.x)) AS sx,
        sum(toFloat64(u.x) * u.x) AS sxx,
        sum(u.x * w.y) AS sxy,
        sum(w.y) AS sy_users
    FROM used AS u
    LEFT JOIN won AS w ON w.partner_id = u.partner_id
    GROUP BY u.content_id
)
SELECT * EXCEPT (r) FROM
(
    SELECT
        c.content_id AS content_id,
        k.title AS title,
        k.kind AS kind,
        c.partner_days AS partner_days,
        c.partners AS partners,
        (n * c.sxy - c.sx * sy) / sqrt((n * c.sxx - c.sx * c.sx) * (n * syy - sy * sy)) AS r,
        if(isFinite(r), round(r, 4), NULL) AS deal_correlation,
        round(c.sy_users / c.partners, 2) AS won_avg_using_partners,
        if(n > c.partners, round((sy - c.sy_users) / (n - c.partners), 2), NULL) AS won_avg_other_partners
    FROM per_content AS c
    CROSS JOIN universe
    INNER JOIN kinds AS k ON k.content_id = c.content_id
)
ORDER BY partner_days DESC, content_id
