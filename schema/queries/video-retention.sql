-- A video's play rate, second-by-second retention curve and drop-off points. One row per
-- second of the video: how many viewers played that second, that as a share of the viewers
-- who started, the fall from the previous second, and drop_rank 1..5 on the five largest
-- falls (0 elsewhere). loads, plays and play_rate (plays / loads) repeat on every row.
-- Reads the video_second_viewers and video_viewer_coverage rollups.
-- @param tenant
-- @param content: the video's content_id
WITH
cov AS
(
    SELECT
        countIf(loaded OR played) AS loads,
        countIf(played) AS plays,
        max(duration) AS duration
    FROM
    (
        SELECT viewer, max(loaded) AS loaded, max(played) AS played, max(duration) AS duration
        FROM {db}.video_viewer_coverage
        WHERE tenant = {tenant:String} AND content_id = {content:String}
        GROUP BY viewer
    )
),
curve AS
(
    SELECT second, uniqCombinedMerge(12)(viewers) AS viewers
    FROM {db}.video_second_viewers
    WHERE tenant = {tenant:String} AND content_id = {content:String}
    GROUP BY second
),
seconds AS
(
    SELECT arrayJoin(range(greatest(toUInt32(ceil((SELECT duration FROM cov))), toUInt32((SELECT if(count() = 0, 0, max(second) + 1) FROM curve))))) AS second
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
    round(viewers / greatest((SELECT plays FROM cov), 1), 4) AS retention,
    drop,
    if(drop > 0 AND n <= 5, n, 0) AS drop_rank,
    (SELECT loads FROM cov) AS loads,
    (SELECT plays FROM cov) AS plays,
    round((SELECT plays FROM cov) / greatest((SELECT loads FROM cov), 1), 4) AS play_rate
FROM ranked
ORDER BY second
