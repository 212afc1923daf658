-- The Telegram bot's answers behind buttons, shared by every bot worker on this database, so that a
-- button pressed after a restart or handled by another worker still finds its answer (JSON, never pickle).
CREATE TABLE bot_answers (
    seq bigserial PRIMARY KEY,
    chat_id bigint NOT NULL,
    key text NOT NULL,
    entry text NOT NULL,
    UNIQUE (chat_id, key)
);
CREATE INDEX bot_answers_chat ON bot_answers (chat_id, seq);
