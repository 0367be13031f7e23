-- The most-used FAQ and tool contents, and how each partner's use of them goes with its
-- deals. One row per FAQ/tool content (content_type faq or tool, or tagged faq or tool in
-- contents) used in the period: sessions, people and partners that used it, then, across
-- every partner of the tenant (partners table, plus any seen in deals or in this use),
-- the Pearson correlation between the partner's sessions on this content (0 if none) and
-- its won deal amount closed in the period (NULL when undefined), and the average won
-- amount of the partners that used it and of the others. Reads partner_content_daily,
-- only the rows of FAQ/tool contents; the correlation is computed from sums, so partners
-- that did not use a content cost nothing.
-- @param tenant
-- @param from = 1970-01-01: first day (UTC) of use and of deal closing
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
kinds AS
(
    SELECT content_id, title, content_type IN ('faq', 'tool') AS by_type,
           multiIf(by_type, toString(content_type), has(tags, 'faq'), 'faq', 'tool') AS kind
    FROM {db}.contents FINAL
    WHERE tenant = {tenant:String} AND (content_type IN ('faq', 'tool') OR has(tags, 'faq') OR has(tags, 'tool'))
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
    -- two branches so each reads by the table's key: FAQ/tool content types, then other
    -- contents tagged faq or tool; the sessions states are merged once, x counts the merge
    SELECT content_type, content_id, partner_id, finalizeAggregation(ss) AS x, ss, vs
    FROM
    (
        SELECT content_type, content_id, partner_id,
               uniqMergeState(sessions) AS ss, uniqMergeState(viewers) AS vs
        FROM {db}.partner_content_daily
        WHERE tenant = {tenant:String} AND content_type IN ('faq', 'tool')
          AND day BETWEEN toDate({from:String}) AND toDate({to:String})
        GROUP BY content_type, content_id, partner_id
        UNION ALL
        SELECT content_type, content_id, partner_id,
               uniqMergeState(sessions) AS ss, uniqMergeState(viewers) AS vs
        FROM {db}.partner_content_daily
        WHERE tenant = {tenant:String} AND content_type NOT IN ('faq', 'tool')
          AND content_id IN (SELECT content_id FROM kinds WHERE NOT by_type)
          AND day BETWEEN toDate({from:String}) AND toDate({to:String})
        GROUP BY content_type, content_id, partner_id
    )
),
universe AS
(
    SELECT count() AS n, sum(w.y) AS sy, sum(w.y * w.y) AS syy
    FROM
    (
        SELECT partner_id FROM {db}.partners FINAL WHERE tenant = {tenant:String}
        UNION DISTINCT SELECT partner_id FROM won
        UNION DISTINCT SELECT DISTINCT partner_id FROM {db}.partner_content_daily
        WHERE tenant = {tenant:String} AND partner_id != '' AND content_type IN ('faq', 'tool')
          AND day BETWEEN toDate({from:String}) AND toDate({to:String})
        UNION DISTINCT SELECT DISTINCT partner_id FROM {db}.partner_content_daily
        WHERE tenant = {tenant:String} AND partner_id != '' AND content_type NOT IN ('faq', 'tool')
          AND content_id IN (SELECT content_id FROM kinds WHERE NOT by_type)
          AND day BETWEEN toDate({from:String}) AND toDate({to:String})
    ) AS ap
    LEFT JOIN won AS w ON w.partner_id = ap.partner_id
),
per_content AS
(
    SELECT
        u.content_id AS content_id,
        any(u.content_type) AS content_type,
        uniqMerge(u.ss) AS sessions,
        uniqMerge(u.vs) AS people,
        countIf(u.partner_id != '') AS partners,
        sumIf(toFloat64(u.x), u.partner_id != '') AS sx,
        sumIf(toFloat64(u.x) * u.x, u.partner_id != '') AS sxx,
        sumIf(u.x * w.y, u.partner_id != '') AS sxy,
        sumIf(w.y, u.partner_id != '') AS sy_users
    FROM used AS u
    LEFT JOIN won AS w ON w.partner_id = u.partner_id
    GROUP BY u.content_id
)
SELECT * EXCEPT (r) FROM
(
    SELECT
        c.content_id AS content_id,
        k.title AS title,
        if(k.kind != '', k.kind, toString(c.content_type)) AS kind,
        c.sessions AS sessions,
        c.people AS people,
        c.partners AS partners,
        (n * c.sxy - c.sx * sy) / sqrt((n * c.sxx - c.sx * c.sx) * (n * syy - sy * sy)) AS r,
        if(isFinite(r), round(r, 4), NULL) AS deal_correlation,
        if(c.partners > 0, round(c.sy_users / c.partners, 2), NULL) AS won_avg_using_partners,
        if(n > c.partners, round((sy - c.sy_users) / (n - c.partners), 2), NULL) AS won_avg_other_partners
    FROM per_content AS c
    CROSS JOIN universe
    LEFT JOIN kinds AS k ON k.content_id = c.content_id
    WHERE kind IN ('faq', 'tool')
)
ORDER BY sessions DESC, content_id
