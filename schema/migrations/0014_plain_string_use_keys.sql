-- content_partner_blocks keys its rows by plain String ids instead of LowCardinality.
--
-- content-outcomes reads the table with FINAL. When the table has more than one part,
-- FINAL merges the rows of every part in key order. Merging compares the keys row by
-- row, and LowCardinality keys from parts with different dictionaries compare slower than
-- plain strings. Measured by hand on 100M synthetic events (server-side elapsed, 20 runs
-- each), content-outcomes over a copy of the table:
--   - LowCardinality, 1 part: 49-53 ms; 2 parts: 61-78 ms; 8 parts: 68-82 ms.
--   - String, 1 part: 44-54 ms; 2 parts: 53-61 ms; 8 parts: 56-66 ms.
-- Same answer (md5 of the TSV output). campaign-ranking, the other reader, took 39-55 ms
-- with either. The table grew from 2.83 to 2.95 MiB.
--
-- ALTER MODIFY COLUMN rewrites the two columns of every part in the background (a
-- mutation); parts not yet rewritten are converted when read. Applying it again changes
-- nothing.
ALTER TABLE {db}.content_partner_blocks
    MODIFY COLUMN content_id String,
    MODIFY COLUMN partner_id String;
