-- The outlet's leaning as the article's front matter states it (compare and timeline group by it);
-- NULL: not stated, so the mapping file or "unrated" decides.
ALTER TABLE articles ADD COLUMN leaning text;
