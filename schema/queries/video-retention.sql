-- A video's play rate, second-by-second retention curve and drop-off points. One row per
-- second of the video: how many viewers played that second, that as a share of the viewers
-- who started, the fall from the previous second, and drop_rank 1..5 on the five largest
-- falls (0 elsewhere). loads, plays and play_rate (plays / loads) repeat on every row.
-- Reads the video_seconds and video_reach rollups (a row per second, a row per video).
-- A viewer is a person (all its devices) or an anonymous device. A device's use without a
-- token counts for the person it is stitched to (identity stitching, schema/README.md)
-- when all of its use of this video lies on days its claim covers: the rollups count the
-- device and the person as two viewers, so for each such person the viewers counted
-- twice are taken off (read from video_viewer_coverage for the stitched devices and
-- their people only, by key).
-- @param tenant
-- @param content: the video's content_id
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
-- (device viewer, 'u:<person>') of the devices stitched to a person for this video
(
    SELECT groupArray((cv.viewer, concat('u:', cl.person))) FROM
    (
        SELECT viewer, min(first_seen) AS f, max(last_seen) AS l
        FROM {db}.video_viewer_coverage
        WHERE tenant = {tenant:String} AND content_id = {content:String} AND startsWith(viewer, 'v:')
        GROUP BY viewer
    ) AS cv
    INNER JOIN
    (
        -- the claims of this video's anonymous viewers only
        SELECT viewer, person, lo, hi
        FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
        WHERE visitor_id IN (SELECT substring(viewer, 3) FROM {db}.video_viewer_coverage
                             WHERE tenant = {tenant:String} AND content_id = {content:String} AND startsWith(viewer, 'v:'))
    ) AS cl ON cl.viewer = cv.viewer
    WHERE toDate(cv.f) >= cl.lo AND toDate(cv.l) <= cl.hi
) AS stitched,
-- per stitched person, its viewers (its own and its stitched devices): (person, viewer,
-- loaded, played, the seconds watched); one scalar, so it is computed once for the two
-- corrections below
(
    SELECT groupArray((person, viewer, loaded, played, secs)) FROM
    (
        SELECT m.2 AS person, c.viewer AS viewer, max(c.loaded) OR max(c.played) AS loaded, max(c.played) AS played,
               bitmapToArray(groupBitmapMergeState(c.seconds)) AS secs
        FROM {db}.video_viewer_coverage AS c
        INNER JOIN (SELECT arrayJoin(arrayConcat(stitched, arrayMap(p -> (p, p), arrayDistinct(arrayMap(s -> s.2, stitched))))) AS m) AS x ON x.m.1 = c.viewer
        WHERE c.tenant = {tenant:String} AND c.content_id = {content:String}
          AND c.viewer IN (SELECT arrayJoin(arrayConcat(arrayMap(s -> s.1, stitched), arrayMap(s -> s.2, stitched))))
        GROUP BY person, viewer
    )
) AS members,
-- the viewers counted twice: per person, its viewers that loaded (played) less one
(
    SELECT (toInt64(sum(l - (l > 0))), toInt64(sum(p - (p > 0)))) FROM
    (
        SELECT m.1 AS person, countIf(m.3) AS l, countIf(m.4) AS p FROM (SELECT arrayJoin(members) AS m) GROUP BY person
    )
) AS twice,
-- (loads, plays, duration), one scalar so the audience sets are merged once
(
    SELECT (uniqCombinedMerge(14)(loaders) - twice.1, uniqCombinedMerge(14)(players) - twice.2, max(duration))
    FROM {db}.video_reach
    WHERE tenant = {tenant:String} AND content_id = {content:String}
) AS audience,
-- (second, viewers) of every second watched, one scalar read by both uses below
(
    SELECT groupArray((second, viewers)) FROM
    (
        SELECT c.second AS second, toUInt64(c.viewers - ifNull(d.dup, 0)) AS viewers FROM
        (
            SELECT second, uniqCombinedMerge(12)(viewers) AS viewers
            FROM {db}.video_seconds
            WHERE tenant = {tenant:String} AND content_id = {content:String}
            GROUP BY second
        ) AS c
        LEFT JOIN
        (
            -- per second, the viewers counted twice: per person, those of its viewers that
            -- watched it less one
            SELECT second, sum(n - 1) AS dup FROM
            (
                SELECT m.1 AS person, second, count() AS n FROM (SELECT arrayJoin(members) AS m) ARRAY JOIN m.5 AS second GROUP BY person, second
            )
            GROUP BY second
        ) AS d ON d.second = c.second
    )
) AS curve,
seconds AS
(
    SELECT arrayJoin(range(greatest(toUInt32(ceil(audience.3)), toUInt32(if(empty(curve), 0, arrayMax(c -> c.1, curve) + 1))))) AS second
),
filled AS
(
    SELECT second, toUInt64(transform(second, arrayMap(c -> c.1, curve), arrayMap(c -> c.2, curve), toUInt64(0))) AS viewers
    FROM seconds
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
