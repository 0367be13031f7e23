-- A video's play rate, second-by-second retention curve and drop-off points. One row per
-- second of the video: how many viewers played that second, that as a share of the viewers
-- who started, the fall from the previous second, and drop_rank 1..5 on the five largest
-- falls (0 elsewhere). loads, plays and play_rate (plays / loads) repeat on every row.
-- Reads the video_seconds and video_reach rollups (a row per second, a row per video).
-- @param tenant
-- @param content: the video's content_id
WITH
-- (loads, plays, duration), one scalar so the audience sets are merged once
(
    SELECT (uniqCombinedMerge(14)(loaders), uniqCombinedMerge(14)(players), max(duration))
    FROM {db}.video_reach
    WHERE tenant = {tenant:String} AND content_id = {content:String}
) AS audience,
curve AS
(
    SELECT second, uniqCombinedMerge(12)(viewers) AS viewers
    FROM {db}.video_seconds
    WHERE tenant = {tenant:String} AND content_id = {content:String}
    GROUP BY second
),
seconds AS
(
    SELECT arrayJoin(range(greatest(toUInt32(ceil(audience.3)), toUInt32((SELECT if(count() = 0, 0, max(second) + 1) FROM curve))))) AS second
),
filled AS
(
    SELECT s.second AS second, c.viewers AS viewers
    FROM seconds AS s
    LEFT JOIN curve AS c ON c.second = s.second
),
drops AS
(
    SELECT
        second,
        viewers,
        toInt64(lagInFrame(viewers, 1, viewers) OVER (ORDER BY second ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) - toInt64(viewers) AS drop
    FROM filled
),
ranked AS
(
    SELECT second, viewers, drop, row_number() OVER (ORDER BY drop DESC, second) AS n
    FROM drops
)
SELECT
    second,
    viewers,
    round(viewers / greatest(audience.2, 1), 4) AS retention,
    drop,
    if(drop > 0 AND n <= 5, n, 0) AS drop_rank,
    audience.1 AS loads,
    audience.2 AS plays,
    round(audience.2 / greatest(audience.1, 1), 4) AS play_rate
FROM ranked
ORDER BY second
