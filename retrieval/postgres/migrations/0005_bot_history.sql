-- The last few turns of each Telegram chat, shared by every bot worker, so that a follow-up question
-- reaching another worker is still read in the light of the turns before it.
CREATE TABLE bot_history (
    seq bigserial PRIMARY KEY,
    chat_id bigint NOT NULL,
    question text NOT NULL,
    answer text NOT NULL
);
CREATE INDEX bot_history_chat ON bot_history (chat_id, seq);
