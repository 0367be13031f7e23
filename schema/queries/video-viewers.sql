-- Who watched a video: a row per viewer who loaded or played it (at most limit, latest
-- first): partner and person (names from partners and partner_users, where known), the
-- viewer key ('u:<partner_user_id>', else 'v:<visitor_id>' for an anonymous device, the
-- key viewer-seconds takes), first and last event, seconds watched (distinct seconds,
-- every device), furthest point reached, completion (seconds watched of the duration;
-- NULL when the duration is not known), played and ended. Non-bot events only. Reads
-- video_viewer_coverage: the video's key range, twice (the latest viewers, then the
-- bitmaps of those only).
-- @param tenant
-- @param content: the video's content_id
-- @param limit = 1000: at most this many viewers, latest first
WITH
top AS
(
    SELECT viewer, max(last_seen) AS last
    FROM {db}.video_viewer_coverage
    WHERE tenant = {tenant:String} AND content_id = {content:String}
    GROUP BY viewer
    ORDER BY last DESC, viewer
    LIMIT {limit:UInt32}
),
rows AS
(
    SELECT viewer,
           max(partner_id) AS partner_id,
           max(partner_user_id) AS partner_user_id,
           min(first_seen) AS first_seen,
           max(last_seen) AS last_seen,
           max(duration) AS duration,
           max(furthest) AS furthest,
           max(played) AS played,
           max(ended) AS ended,
           groupBitmapMerge(seconds) AS seconds_watched
    FROM {db}.video_viewer_coverage
    WHERE tenant = {tenant:String} AND content_id = {content:String} AND viewer IN (SELECT viewer FROM top)
    GROUP BY viewer
)
SELECT
    r.partner_id AS partner_id,
    p.name AS partner_name,
    r.partner_user_id AS partner_user_id,
    u.name AS user_name,
    r.viewer AS viewer,
    r.first_seen AS first_seen,
    r.last_seen AS last_seen,
    r.seconds_watched AS seconds_watched,
    round(r.furthest, 1) AS furthest,
    if(r.duration > 0, round(least(r.seconds_watched / r.duration, 1), 4), NULL) AS completion,
    r.played AS played,
    r.ended AS ended
FROM rows AS r
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = r.partner_id
LEFT JOIN (SELECT partner_user_id, name FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}) AS u ON u.partner_user_id = r.partner_user_id
ORDER BY last_seen DESC, viewer
