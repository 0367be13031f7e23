-- Synthetic raw events for the query scenario, generated server-side for numbers
-- {start}..{start}+{count}-1. The shape follows bench/internal/load/mix.go (what the load
-- generator sends through the collector): Zipf-like skew of visitors (a few heavy users) and of
-- contents (a few popular documents and videos), 60% of visitors attributed to one of 5000
-- partner people in 200 partners and 20 campaigns, 2% bots, every event type with its own fields,
-- events over the last 90 days. For the contact questions: one attributed visitor in ten
-- (vis % 10 = 3) was anonymous until 45 days ago (its older events carry no token, so
-- identity stitching has devices to claim), and the people of partners p190-p199 stopped
-- 10 days ago (their events are 10 to 90 days old: silent partners). For the wire v1
-- additions: 3% of FAQ events are searches (0.3% of all: 300 queries, Zipf-skewed; one in
-- five finds nothing, one in three names a clicked result); documents and tools carry a
-- content_version by age (v1 over 60 days old, v2 30-60, v3 newer) except that visitors
-- with vis % 20 = 0 stay on v2 (partners still on an outdated version); four completions in
-- five carry a score 0..100, passed from 60. The materialized views fill the rollups as on
-- any insert.
INSERT INTO {db}.events
(event_id, tenant, site_key, received_at, event_time, client_time, type, visitor_id, session_id,
 partner_id, partner_user_id, campaign_id, attribution, content_id, content_type, content_title,
 url, referrer, page, page_count, dwell_ms, scroll_depth, engaged_ms, action, position, duration,
 rate, watched_start, watched_end, target_url, name, props, device, is_bot, bot_reason, ip_prefix,
 user_agent, content_version, search_query, search_results, search_clicked, search_flags, score, passed)
SELECT
    generateUUIDv4(n) AS event_id,
    'bench' AS tenant,
    'bench' AS site_key,
    et + toIntervalMillisecond(200 + h4 % 800) AS received_at,
    et AS event_time,
    et AS client_time,
    typ AS type,
    concat('v_', lower(hex(vis))) AS visitor_id,
    concat('s_', lower(hex(vis)), '_', toString(intDiv(toUnixTimestamp(et), 1800))) AS session_id,
    if(attr, concat('p', toString(usr % 200)), '') AS partner_id,
    if(attr, concat('u', toString(usr), '@partner.example'), '') AS partner_user_id,
    if(attr, concat('cmp-', toString(usr % 20)), '') AS campaign_id,
    if(attr, 'token', 'none') AS attribution,
    cid AS content_id,
    ctype AS content_type,
    if(typ = 'view', concat(prefix, ' title ', toString(ci)), '') AS content_title,
    concat('https://partners.example.com/', prefix, '/', cid, '?utm_source=email') AS url,
    'https://mail.example.com/' AS referrer,
    if(typ = 'page', toUInt32(1 + h4 % pc), 0) AS page,
    if(typ IN ('view', 'page'), toUInt32(pc), 0) AS page_count,
    if(typ = 'page', toUInt32(500 + h4 % 30000), 0) AS dwell_ms,
    if(typ = 'scroll', toUInt8(h4 % 101), 0) AS scroll_depth,
    if(typ = 'engage', toUInt32(1000 + h4 % 60000), 0) AS engaged_ms,
    multiIf(typ = 'video', ['play', 'progress', 'progress', 'progress', 'pause', 'ended'][1 + h4 % 6],
            typ = 'click', 'download', '') AS action,
    if(typ = 'video', wend, 0) AS position,
    if(typ = 'video', dur, 0) AS duration,
    if(typ = 'video', 1, 0) AS rate,
    if(typ = 'video', [wstart], []) AS watched_start,
    if(typ = 'video', [wend], []) AS watched_end,
    if(typ = 'click', concat('https://partners.example.com/files/', cid, '.pdf'), '') AS target_url,
    multiIf(typ = 'click', 'Download', typ = 'custom', 'signup', '') AS name,
    if(typ = 'custom', map('plan', 'pro', 'seats', toString(1 + h4 % 50)), map()) AS props,
    if(bot, 'bot', ['desktop', 'desktop', 'mobile', 'tablet', 'desktop', 'mobile'][1 + vis % 6]) AS device,
    toUInt8(bot) AS is_bot,
    if(bot, 'ua:googlebot', '') AS bot_reason,
    concat('203.0.', toString(vis % 256), '.0') AS ip_prefix,
    if(bot, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
       ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'][1 + vis % 2]) AS user_agent,
    if(kind IN (0, 4), if(vis % 20 = 0 AND age < 30, 'v2', ['v3', 'v2', 'v1'][1 + least(2, intDiv(age, 30))]), '') AS content_version,
    if(typ = 'search', concat(['pricing', 'setup', 'api', 'warranty', 'roi', 'brochure', 'onboarding', 'discount', 'training', 'integration'][1 + qn % 10],
                              ' ', toString(intDiv(qn, 10))), '') AS search_query,
    if(typ = 'search' AND h6 % 5 > 0, toUInt32(1 + h6 % 20), 0) AS search_results,
    if(typ = 'search' AND h6 % 3 = 0, concat('faq-', toString(h6 % 200)), '') AS search_clicked,
    toUInt8(0) AS search_flags,
    if(typ = 'complete' AND h6 % 5 > 0, toNullable(toFloat32(h6 % 101)), NULL) AS score,
    if(typ = 'complete' AND h6 % 5 > 0, toNullable(toUInt8(h6 % 101 >= 60)), NULL) AS passed
FROM
(
    SELECT
        number AS n,
        cityHash64(number, 1) AS h1,
        cityHash64(number, 2) AS h2,
        cityHash64(number, 3) AS h3,
        cityHash64(number, 4) AS h4,
        cityHash64(number, 5) AS h5,
        cityHash64(number, 6) AS h6,
        toUInt32(floor(100000 * pow((h1 % 1000000) / 1e6, 3))) AS vis,
        vis % 1000 < 600 AS attr0,
        attr0 AND NOT (vis % 10 = 3 AND et < now64(3, 'UTC') - toIntervalDay(45)) AS attr,
        vis % 5000 AS usr,
        h2 % 100 AS kr,
        multiIf(kr < 40, 0, kr < 65, 1, kr < 75, 2, kr < 85, 3, kr < 92, 4, 5) AS kind,
        ['doc', 'vid', 'course', 'faq', 'tool', 'page'][kind + 1] AS prefix,
        ['document', 'video', 'course', 'faq', 'tool', 'page'][kind + 1] AS ctype,
        toUInt32(floor(200 * pow((h3 % 1000000) / 1e6, 2.5))) AS ci,
        concat(prefix, '-', toString(ci)) AS cid,
        4 + ci % 37 AS pc,
        toFloat32(60 + (ci % 20) * 30) AS dur,
        bitShiftRight(h4, 32) % 100 AS tr,
        multiIf(tr < 12, 'view',
                kind = 0 AND tr < 75, 'page',
                kind = 1 AND tr < 80, 'video',
                kind = 2 AND tr < 30, 'complete',
                kind = 3 AND tr >= 88 AND tr < 91, 'search',
                tr < 55, 'scroll', tr < 75, 'engage', tr < 88, 'click', 'custom') AS typ,
        toFloat32(intDiv(h5 % toUInt64(dur), 10) * 10) AS wstart,
        least(wstart + 10, dur) AS wend,
        now64(3, 'UTC') - toIntervalMillisecond(if(attr0 AND usr % 200 >= 190, 864000000 + h6 % 6912000000, h6 % 7776000000)) AS et,
        bitShiftRight(h5, 40) % 50 = 0 AS bot,
        dateDiff('day', et, now64(3, 'UTC')) AS age,
        toUInt32(floor(300 * pow((bitShiftRight(h3, 32) % 1000000) / 1e6, 2))) AS qn
    FROM numbers({start}, {count})
)
-- One block per chunk for the views (fewer, fuller rollup rows per insert), and the views
-- run in parallel (1M rows with every view: 13.4 s instead of 19.4 s with the defaults,
-- on the 2-core bench machine, 2026-11-23).
SETTINGS max_insert_threads = 2, max_threads = 2, parallel_view_processing = 1,
         min_insert_block_size_rows = {count}, min_insert_block_size_bytes = 0
