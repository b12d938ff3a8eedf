"""Write BlazingText training files: short product and movie reviews in English and Korean.

Each line is `__label__positive <tokens>` or `__label__negative <tokens>`, the supervised
format BlazingText reads. Text is lower-cased and punctuation is split off into its own
token (`great, thanks!` -> `great , thanks !`), because BlazingText splits on spaces only;
the API's Lambda prepares what people type in the same way. Some reviews mix praise and
complaint ("... but ..."), labelled by their conclusion. The seed is fixed, so running this
again writes the same files; the tests draw unseen reviews with another seed.

    python data/make_reviews.py           # rewrites data/reviews.train.txt and data/reviews.validation.txt
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ENGLISH = {
    "subjects": [
        "the headphones",
        "this blender",
        "the jacket",
        "this phone case",
        "the movie",
        "this book",
        "the coffee maker",
        "these shoes",
        "the hotel room",
        "this game",
    ],
    "positive": [
        "absolutely loved it",
        "works perfectly",
        "great quality",
        "arrived fast",
        "highly recommend it",
        "exceeded my expectations",
        "best purchase this year",
        "very comfortable",
        "beautiful design",
        "will buy again",
        "worth every penny",
        "my kids love it",
        "a wonderful surprise",
    ],
    "negative": [
        "broke after two days",
        "terrible quality",
        "a waste of money",
        "arrived damaged",
        "would not recommend it",
        "very disappointed",
        "stopped working",
        "cheap and flimsy",
        "the seller was rude",
        "returning it",
        "boring from start to finish",
        "smells awful",
    ],
    "openers": ["", "honestly,", "wow,", "well,", "so", "overall"],
    "but": "but",
    "ends": ["", "!", ".", "!!", " :)"],
}
KOREAN = {
    "subjects": [
        "이 헤드폰",
        "이 영화",
        "배송",
        "이 책",
        "이 신발",
        "커피 머신",
        "이 자켓",
        "호텔 방",
        "이 게임",
        "포장",
    ],
    "positive": [
        "정말 좋아요",
        "최고예요",
        "강력 추천합니다",
        "품질이 훌륭해요",
        "배송이 빨라요",
        "또 살게요",
        "기대 이상이에요",
        "너무 만족합니다",
        "디자인이 예뻐요",
        "재미있어요",
        "가격 대비 훌륭해요",
        "아이들이 좋아해요",
    ],
    "negative": [
        "최악이에요",
        "돈 아까워요",
        "실망했어요",
        "추천하지 않아요",
        "품질이 별로예요",
        "이틀 만에 고장났어요",
        "배송이 너무 늦어요",
        "다시는 안 사요",
        "환불하고 싶어요",
        "지루해요",
        "냄새가 심해요",
        "판매자가 불친절해요",
    ],
    "openers": ["", "솔직히", "와", "음", "전체적으로", "진짜"],
    "but": "하지만",
    "ends": ["", "!", ".", "!!", " ㅎㅎ"],
}
LANGUAGES = {"en": ENGLISH, "ko": KOREAN}


def tokenize(text: str) -> str:
    """Lower-case words and punctuation as separate space-separated tokens (Unicode-aware, so Korean works)."""
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


def one_review(words: dict, rng: random.Random) -> tuple[str, str]:
    """A review and its label, `positive` or `negative`."""
    label = rng.choice(["positive", "negative"])
    other = "negative" if label == "positive" else "positive"
    opener, subject = rng.choice(words["openers"]), rng.choice(words["subjects"])
    shape = rng.random()
    if shape < 0.45:
        body = f"{subject} {rng.choice(words[label])}"
    elif shape < 0.8:
        first, second = rng.sample(words[label], 2)
        body = f"{subject} {first}, {second}"
    else:  # a mixed review: the clause after "but" decides
        body = f"{subject} {rng.choice(words[other])} {words['but']} {rng.choice(words[label])}"
    text = f"{opener} {body}{rng.choice(words['ends'])}".strip()
    return text, label


def make_reviews(count: int, seed: int, language: str) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [one_review(LANGUAGES[language], rng) for _ in range(count)]


def write(path: Path, reviews: list[tuple[str, str]]) -> None:
    path.write_text("".join(f"__label__{label} {tokenize(text)}\n" for text, label in reviews), encoding="utf-8")
    print(f"wrote {path} ({len(reviews)} reviews)")


def main() -> None:
    rng = random.Random(7)
    reviews = make_reviews(300, seed=1, language="en") + make_reviews(300, seed=2, language="ko")
    rng.shuffle(reviews)
    split = int(len(reviews) * 0.8)
    here = Path(__file__).parent
    write(here / "reviews.train.txt", reviews[:split])
    write(here / "reviews.validation.txt", reviews[split:])


if __name__ == "__main__":
    main()
