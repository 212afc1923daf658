-- Telegram updates some bot worker has taken, so that an update delivered twice (a webhook retry, a
-- second worker, a restart before the offset was confirmed) is handled once. Old rows are pruned.
CREATE TABLE bot_updates (
    update_id bigint PRIMARY KEY,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_updates_claimed_at ON bot_updates (claimed_at);
