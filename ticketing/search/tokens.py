"""Text → search tokens, the same way for what is indexed and for what is asked.

Chinese (and other scripts written without spaces) is cut into overlapping character
bigrams, plus the last character of each run, so that every character starts some token
and a one-character query can match by prefix. Everything else is cut into words. Tokens
are lowercase and contain no quote, operator or punctuation, so a query built from them
cannot carry FTS or SQL syntax. Pure Python: no Flask, no database."""
import re
import unicodedata

MAX_TOKEN = 60  # characters; longer words are cut (PostgreSQL refuses lexemes > 2 KB)
MAX_QUERY = 200  # characters of a query; longer ones are refused
MAX_QUERY_TOKENS = 64

# Han (CJK unified ideographs and extensions, compatibility ideographs), kana, hangul.
_CJK = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
        "\U00020000-\U0002ffff")
_RUNS = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")


def _runs(text: str):
    """(is_cjk, run) pairs of the normalised text."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    for match in _RUNS.finditer(text):
        cjk, word = match.groups()
        yield (True, cjk) if cjk else (False, word[:MAX_TOKEN])


def index_tokens(text: str) -> list[str]:
    """Tokens of a text to index: bigrams and the run's last character, words."""
    tokens: list[str] = []
    for cjk, run in _runs(text):
        if cjk:
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
            tokens.append(run[-1])
        else:
            tokens.append(run)
    return tokens


def index_text(*texts: str) -> str:
    """The space-separated tokens of the given texts: what the index stores."""
    return " ".join(token for text in texts if text for token in index_tokens(text))


_BIGRAM = re.compile(f"[{_CJK}]{{2}}")


def with_characters(tokens: str) -> str:
    """`tokens` (of index_text) and each Chinese character alone: the first of each bigram
    (a run's last character is a token already). PostgreSQL's index stores these, so that a
    one-character query is one GIN key there, not a prefix merged over every token that
    starts with it (20–30 ms for a common character at 1,000,000 tickets)."""
    characters = {token[0] for token in tokens.split() if _BIGRAM.fullmatch(token)}
    return f"{tokens} {' '.join(sorted(characters))}" if characters else tokens


def query_terms(text: str) -> list[tuple[str, bool]]:
    """(token, is_prefix) terms a query asks for, all of which must match; duplicates
    dropped. A one-character Chinese run is a prefix; longer runs are their bigrams."""
    terms: dict[tuple[str, bool], None] = {}
    for cjk, run in _runs(text):
        if cjk and len(run) == 1:
            terms[(run, True)] = None
        elif cjk:
            for i in range(len(run) - 1):
                terms[(run[i:i + 2], False)] = None
        else:
            terms[(run, False)] = None
    return list(terms)[:MAX_QUERY_TOKENS]
