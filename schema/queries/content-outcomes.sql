-- The most-used FAQ and tool contents, and how each partner's use of them goes with its
-- deals. One row per FAQ/tool content (content_type faq or tool, or tagged faq or tool in
-- contents) used in the period: sessions, people and partners that used it, then, across
-- every partner of the tenant (partners table, plus any seen in use or deals), the
-- Pearson correlation between the partner's sessions on this content and its won deal
-- amount closed in the period (NULL when undefined), and the average won amount of the
-- partners that used it and of those that did not. Reads partner_content_daily.
-- @param tenant
-- @param from = 1970-01-01: first day (UTC) of use and of deal closing
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
kinds AS
(
    SELECT content_id, title,
           multiIf(content_type IN ('faq', 'tool'), toString(content_type), has(tags, 'faq'), 'faq', has(tags, 'tool'), 'tool', '') AS kind
    FROM {db}.contents FINAL
    WHERE tenant = {tenant:String}
),
usage AS
(
    SELECT partner_id, content_id, max(content_type) AS content_type,
           uniqMergeState(sessions) AS sessions_state, uniqMergeState(viewers) AS viewers_state
    FROM {db}.partner_content_daily
    WHERE tenant = {tenant:String}
      AND day BETWEEN toDate({from:String}) AND toDate({to:String})
    GROUP BY partner_id, content_id
),
tracked AS
(
    SELECT u.partner_id AS partner_id, u.content_id AS content_id,
           if(k.kind != '', k.kind, toString(u.content_type)) AS kind, k.title AS title,
           u.sessions_state AS sessions_state, u.viewers_state AS viewers_state
    FROM usage AS u
    LEFT JOIN kinds AS k ON k.content_id = u.content_id
    WHERE kind IN ('faq', 'tool')
),
won AS
(
    SELECT partner_id, sumIf(amount, stage = 'won') AS won_amount
    FROM {db}.deals FINAL
    WHERE tenant = {tenant:String} AND closed_on BETWEEN toDate({from:String}) AND toDate({to:String})
    GROUP BY partner_id
),
all_partners AS
(
    SELECT partner_id FROM {db}.partners FINAL WHERE tenant = {tenant:String}
    UNION DISTINCT SELECT partner_id FROM won
    UNION DISTINCT SELECT partner_id FROM tracked WHERE partner_id != ''
),
totals AS
(
    SELECT content_id, any(kind) AS kind, any(title) AS title,
           uniqMerge(sessions_state) AS sessions, uniqMerge(viewers_state) AS people,
           uniqIf(partner_id, partner_id != '') AS partners
    FROM tracked
    GROUP BY content_id
),
per_partner AS
(
    SELECT t.content_id AS content_id, ap.partner_id AS partner_id,
           ifNull(s.sessions, 0) AS sessions, toFloat64(ifNull(w.won_amount, 0)) AS won_amount
    FROM totals AS t
    CROSS JOIN all_partners AS ap
    LEFT JOIN
    (
        SELECT content_id, partner_id, uniqMerge(sessions_state) AS sessions
        FROM tracked WHERE partner_id != '' GROUP BY content_id, partner_id
    ) AS s ON s.content_id = t.content_id AND s.partner_id = ap.partner_id
    LEFT JOIN won AS w ON w.partner_id = ap.partner_id
),
outcomes AS
(
    SELECT content_id,
           corr(toFloat64(sessions), won_amount) AS c,
           avgIf(won_amount, sessions > 0) AS won_avg_users,
           avgIf(won_amount, sessions = 0) AS won_avg_others
    FROM per_partner
    GROUP BY content_id
)
SELECT
    t.content_id AS content_id,
    t.title AS title,
    t.kind AS kind,
    t.sessions AS sessions,
    t.people AS people,
    t.partners AS partners,
    if(isFinite(o.c), round(o.c, 4), NULL) AS deal_correlation,
    if(isFinite(o.won_avg_users), round(o.won_avg_users, 2), NULL) AS won_avg_using_partners,
    if(isFinite(o.won_avg_others), round(o.won_avg_others, 2), NULL) AS won_avg_other_partners
FROM totals AS t
LEFT JOIN outcomes AS o ON o.content_id = t.content_id
ORDER BY sessions DESC, content_id
