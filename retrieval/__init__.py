"""The answering core: articles, index, retrieval and answers (knows nothing of Telegram or terminals)."""

import logging

# faiss tries its AVX-512 and AVX2 builds first and logs each miss ("Could not load library with AVX2
# support") at INFO, which reads like an error to anyone running the bot at INFO; the outcome is enough.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
