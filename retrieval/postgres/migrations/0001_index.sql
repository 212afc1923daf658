-- The index in PostgreSQL: every row names the version it appeared in (added_in) and the one it left in
-- (removed_in), so one update is one transaction and a reader of version V sees exactly V's rows.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE index_versions (
    id bigint PRIMARY KEY,
    built_at timestamptz NOT NULL DEFAULT now(),
    embedding_model text NOT NULL,
    dim integer NOT NULL,
    chunker integer NOT NULL,
    articles integer NOT NULL,
    chunks integer NOT NULL,
    sentences integer NOT NULL
);

-- One row: the live version. Replaced in the same transaction that writes the version's rows.
CREATE TABLE live_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL REFERENCES index_versions (id)
);

-- One column per StoredArticle field (retrieval/index/records.py): a new field is one new migration.
CREATE TABLE articles (
    id bigserial PRIMARY KEY,
    source text NOT NULL,
    title text,
    publisher text,
    date text,
    url text,
    content_hash text NOT NULL,
    text text NOT NULL,
    body_hash text NOT NULL,
    added_in bigint NOT NULL,
    removed_in bigint
);
CREATE INDEX articles_live_source ON articles (source) WHERE removed_in IS NULL;
CREATE INDEX articles_live_body ON articles (body_hash) WHERE removed_in IS NULL;
CREATE INDEX articles_removed ON articles (removed_in) WHERE removed_in IS NOT NULL;

-- Sentence and chunk rows point into their article by ordinal; the offsets index articles.text.
CREATE TABLE sentences (
    id bigserial PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ord integer NOT NULL,
    start_at integer NOT NULL,
    end_at integer NOT NULL,
    quotable boolean NOT NULL,
    embedding vector NOT NULL,
    UNIQUE (article_id, ord)
);

-- added_in/removed_in are copied from the article so that a vector search filters on this table alone.
CREATE TABLE chunks (
    id bigserial PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    start_at integer NOT NULL,
    end_at integer NOT NULL,
    first_sentence integer NOT NULL,
    end_sentence integer NOT NULL,
    -- usru's own BM25 tokens of the indexed text (each as often as it occurs), for the lexical side.
    terms text[] NOT NULL,
    dim integer NOT NULL,
    embedding vector NOT NULL,
    added_in bigint NOT NULL,
    removed_in bigint
);
CREATE INDEX chunks_article ON chunks (article_id);

-- Files holding the same article as another one, per version (a small table, copied whole each time).
CREATE TABLE aliases (
    version bigint NOT NULL,
    source text NOT NULL,
    primary_source text NOT NULL,
    content_hash text NOT NULL,
    PRIMARY KEY (version, source)
);

-- Size and mtime of each file read, so an unchanged file is not read again (like filecache.sqlite).
CREATE TABLE file_cache (
    source text PRIMARY KEY,
    mtime_ns bigint NOT NULL,
    size bigint NOT NULL,
    content_hash text NOT NULL
);
