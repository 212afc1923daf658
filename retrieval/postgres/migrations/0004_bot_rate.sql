-- Questions per user in the last minute, counted across every bot worker (the per-user rate limit).
CREATE TABLE bot_rate (
    user_id bigint NOT NULL,
    asked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX bot_rate_user ON bot_rate (user_id, asked_at);
-- Users told to slow down in their current burst, so a flood gets one notice from all workers together.
CREATE TABLE bot_rate_warned (
    user_id bigint PRIMARY KEY
);
