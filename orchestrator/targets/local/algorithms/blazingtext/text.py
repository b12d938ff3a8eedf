"""Tokens and word n-grams for the BlazingText stand-in, shared by training and inference.

Tokenising: Unicode NFKC, lower case, split on whitespace, punctuation stripped from the ends of
each token. That keeps Hangul syllables (and any other script) intact, so Korean and English
sentences tokenise the same way.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

LABEL_PREFIX = "__label__"


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def tokenize(sentence: str) -> list[str]:
    tokens = []
    for raw in unicodedata.normalize("NFKC", sentence).lower().split():
        start, end = 0, len(raw)
        while start < end and _is_punctuation(raw[start]):
            start += 1
        while end > start and _is_punctuation(raw[end - 1]):
            end -= 1
        if start < end:
            tokens.append(raw[start:end])
    return tokens


def split_labelled_line(line: str) -> tuple[list[str], str]:
    """`__label__pos great movie` -> (["__label__pos"], "great movie"); labels may sit anywhere."""
    words = line.split()
    labels = [word for word in words if word.startswith(LABEL_PREFIX) and len(word) > len(LABEL_PREFIX)]
    return labels, " ".join(word for word in words if not word.startswith(LABEL_PREFIX))


@dataclass
class WordNgrams:
    """Features of a sentence: its known words (seen min_count times in training) and its word n-grams.

    As in fastText, n-grams are formed over all the sentence's words, known or not, and a
    min_count applies to single words only.
    """

    max_n: int
    vocabulary: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def fitted(cls, sentences: Iterable[str], max_n: int, min_count: int) -> WordNgrams:
        counts = Counter(token for sentence in sentences for token in tokenize(sentence))
        return cls(max_n, frozenset(word for word, count in counts.items() if count >= min_count))

    def __call__(self, sentence: str) -> list[str]:
        tokens = tokenize(sentence)
        features = [token for token in tokens if token in self.vocabulary]
        for n in range(2, self.max_n + 1):
            features += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return features
