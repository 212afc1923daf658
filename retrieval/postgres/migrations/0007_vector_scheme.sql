-- How each version's vectors were made (USRU_VECTORS, retrieval/index/vectors.py), as the folder store's
-- manifest records it: an update with another scheme embeds every article again. NULL: a version built
-- before this was recorded, read as 'two-passes' (the scheme of those releases), as the folder store reads
-- a manifest without the key.
ALTER TABLE index_versions ADD COLUMN vectors text;
